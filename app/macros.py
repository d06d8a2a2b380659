"""Macros: canned replies and note templates with placeholders, rendered safely.

A macro body is a small Jinja2 template: `Dear {{ customer.first_name }}, your case
{{ case.reference }} ...`. Bodies are written by team leads, not developers, and are
stored in the shared database, so a body is treated as hostile input:

1. Before anything runs, the parsed template is checked against a whitelist: text,
   the known placeholders (`PLACEHOLDERS`), `{% if %}` and a few text filters. Loops,
   calls, `{% set %}`, imports, arithmetic, item access and any other attribute are
   refused with a sentence naming what is wrong. Without loops or calls rendering is
   linear in the template's size, which bounds its time; the size limits bound memory.
2. What passes is rendered in Jinja2's `ImmutableSandboxedEnvironment` with no globals
   (no `range`, `cycler`, `lipsum`, ...), so even a gap in the whitelist cannot reach
   Python internals (`__class__`, `__globals__`) or call code.
3. The context holds plain strings only (`MacroContext`), never ORM objects.

A placeholder whose value this case lacks (no open promise, say) is an error when
printed and false in `{% if %}`, so `{% if promise.due %}...{% endif %}` works.

Pure: no database, no Qt. `app/services/macros.py` fills the context from the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from app.errors import UserError

MAX_TEMPLATE_CHARS = 10_000
MAX_OUTPUT_CHARS = 20_000
MAX_NAME_CHARS = 80

# What a macro may refer to: object -> its fields, and what each means (the editor's help).
PLACEHOLDERS: dict[str, dict[str, str]] = {
    "customer": {"name": "full name", "first_name": "first name"},
    "case": {"reference": "case reference, e.g. CS-26-000123", "subject": "case subject"},
    "promise": {"due": "when the case's next open promise is due"},
    "agent": {"name": "your name"},
}

# Filters that only reshape a short text: none of them can grow it much.
ALLOWED_FILTERS = frozenset({"upper", "lower", "title", "capitalize", "trim", "default", "d"})

# The tests `{% if x is defined %}` and friends may use.
ALLOWED_TESTS = frozenset({"defined", "undefined", "none", "string"})

# Nodes a macro body may contain; anything else is refused by name (see `_refusal`).
_ALLOWED_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Const,
    nodes.If,
    nodes.CondExpr,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Compare,
    nodes.Operand,
    nodes.Concat,
)

_WHAT_IS_REFUSED: dict[type[nodes.Node], str] = {
    nodes.For: "loops ({% for %})",
    nodes.Call: "calling functions",
    nodes.Assign: "{% set %}",
    nodes.AssignBlock: "{% set %}",
    nodes.Macro: "{% macro %}",
    nodes.CallBlock: "{% call %}",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from ... import %}",
    nodes.Extends: "{% extends %}",
    nodes.Block: "{% block %}",
    nodes.With: "{% with %}",
    nodes.FilterBlock: "{% filter %} blocks",
    nodes.Getitem: "[...] lookups (write customer.name)",
    nodes.Slice: "slices",
    nodes.BinExpr: "arithmetic",
    nodes.UnaryExpr: "arithmetic",
    nodes.List: "lists",
    nodes.Tuple: "lists",
    nodes.Dict: "dictionaries",
}


class MacroError(UserError):
    """A macro body that cannot be used, in one sentence for the person who wrote it."""


@dataclass(frozen=True)
class MacroContext:
    """The values a macro's placeholders take; None: this case has none."""

    customer_name: str | None = None
    customer_first_name: str | None = None
    case_reference: str | None = None
    case_subject: str | None = None
    promise_due: str | None = None  # already formatted for the customer, e.g. "Fri 4 Dec"
    agent_name: str | None = None

    def as_template_values(self) -> dict[str, dict[str, Any]]:
        values: dict[str, dict[str, Any]] = {}
        for obj, fields in PLACEHOLDERS.items():
            values[obj] = {}
            for field in fields:
                value = getattr(self, f"{obj}_{field}")
                values[obj][field] = value if value is not None else _MissingValue(obj, field)
        return values


class _MissingValue(StrictUndefined):
    """A placeholder with no value for this case: false in `{% if %}`, an error when printed."""

    def __init__(self, obj: str, field: str) -> None:
        super().__init__(hint=f"{obj}.{field} has no value for this case")

    # StrictUndefined fails on bool(); a missing value is simply false in {% if %}.
    def __bool__(self) -> bool:  # type: ignore[override]
        return False


class _Sandbox(ImmutableSandboxedEnvironment):
    """No globals at all: `range`, `cycler`, `joiner`, `lipsum`, `namespace` are gone."""

    def __init__(self) -> None:
        super().__init__(
            autoescape=False,  # plain text for e-mails and notes, not HTML
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
        self.globals.clear()


_SANDBOX = _Sandbox()


def check_template(body: str) -> None:
    """Refuse a body that is too long, does not parse or uses what macros may not."""
    for _ in _checked(body):
        pass


def placeholders_used(body: str) -> list[str]:
    """The placeholders a (valid) body refers to, e.g. ["customer.first_name"], in order."""
    return list(dict.fromkeys(_checked(body)))


def render(body: str, context: MacroContext) -> str:
    """The body with its placeholders filled in, or `MacroError` saying why not."""
    check_template(body)
    try:
        text = _SANDBOX.from_string(body).render(context.as_template_values())
    except UndefinedError as exc:
        raise MacroError(f"cannot fill the macro: {exc.message}") from None
    except SecurityError as exc:  # only reachable if the whitelist let something through
        raise MacroError(f"the macro was refused by the sandbox: {exc.message}") from None
    except TemplateError as exc:
        raise MacroError(f"cannot fill the macro: {exc.message}") from None
    if len(text) > MAX_OUTPUT_CHARS:
        raise MacroError(
            f"the filled-in macro is {len(text):,} characters; at most {MAX_OUTPUT_CHARS:,}"
        )
    return text


def _checked(body: str) -> Iterator[str]:
    """Check `body`; yield the placeholders it uses ("customer.name")."""
    if len(body) > MAX_TEMPLATE_CHARS:
        raise MacroError(
            f"the macro is {len(body):,} characters long; at most {MAX_TEMPLATE_CHARS:,}"
        )
    try:
        tree = _SANDBOX.parse(body)
    except TemplateSyntaxError as exc:
        raise MacroError(f"line {exc.lineno}: {exc.message}") from None
    yield from _walk(tree)


def _walk(node: nodes.Node) -> Iterator[str]:
    if isinstance(node, nodes.Getattr):
        yield _placeholder(node)
        return
    if isinstance(node, nodes.Name):
        _bare_name(node.name, node.lineno)
    if isinstance(node, nodes.Filter):
        if node.name not in ALLOWED_FILTERS:
            _refuse(node.lineno, f"the filter |{node.name} is not allowed")
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            _refuse(node.lineno, "filter arguments must be written out")
    elif isinstance(node, nodes.Test):
        if node.name not in ALLOWED_TESTS:
            _refuse(node.lineno, f"the test 'is {node.name}' is not allowed")
    elif isinstance(node, nodes.Keyword):
        pass  # a filter's keyword argument; its value is checked below
    elif not isinstance(node, _ALLOWED_NODES + (nodes.Name,)):
        _refuse(node.lineno, f"{_refusal(node)} cannot be used in a macro")
    for child in node.iter_child_nodes():
        yield from _walk(child)


def _placeholder(node: nodes.Getattr) -> str:
    """`obj.field` with a known object and field, else a refusal naming it."""
    target = node.node
    if node.attr.startswith("_"):
        _refuse(node.lineno, f"'{node.attr}' is a private name and cannot be used")
    if not isinstance(target, nodes.Name):
        if isinstance(target, nodes.Getattr):
            _refuse(
                node.lineno,
                f"unknown placeholder {_dotted(target)}.{node.attr}: "
                f"placeholders have one dot ({_known()})",
            )
        _refuse(node.lineno, f"'.{node.attr}' can only follow a placeholder object")
    fields = PLACEHOLDERS.get(target.name)
    if fields is None or node.attr not in fields:
        _refuse(node.lineno, f"unknown placeholder {target.name}.{node.attr} ({_known()})")
    return f"{target.name}.{node.attr}"


def _bare_name(name: str, lineno: int) -> None:
    if name.startswith("_"):
        _refuse(lineno, f"'{name}' is a private name and cannot be used")
    fields = PLACEHOLDERS.get(name)
    if fields is None:
        _refuse(lineno, f"unknown placeholder {name} ({_known()})")
    choices = ", ".join(f"{name}.{field}" for field in fields)
    _refuse(lineno, f"{name} needs a field: {choices}")


def _dotted(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_dotted(node.node)}.{node.attr}"
    return "..."


def _known() -> str:
    return "known: " + ", ".join(
        f"{obj}.{field}" for obj, fields in PLACEHOLDERS.items() for field in fields
    )


def _refusal(node: nodes.Node) -> str:
    for kind, words in _WHAT_IS_REFUSED.items():
        if isinstance(node, kind):
            return words
    return f"'{type(node).__name__}'"


def _refuse(lineno: int, message: str) -> NoReturn:
    raise MacroError(f"line {lineno}: {message}")
