"""Everything an agent types is checked here, before a service touches the database.

One set of rules for both databases: SQLite would store a 5,000-character name or
a NUL that PostgreSQL refuses with a driver error, so the lengths (from
`models/limits.py`, the column sizes) and the characters are checked in Python and
a problem comes back as `InvalidInput`, a `UserError` whose message names the
field in one line (several problems: one line each).

Refused everywhere: NUL and other control characters (free text keeps newlines
and tabs), lone surrogates (they cannot be stored as UTF-8) and the bidirectional
embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which can make
a name or a note read differently from what is stored. One-line fields (names,
e-mail addresses, codes) also refuse line breaks and invisible format characters,
except the zero-width (non-)joiners that Persian, Indic scripts and emoji need.

No SQLAlchemy here: the UI reads `NOTE_MAX_CHARS` on the start-up path.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from app.errors import UserError
from models import limits

NOTE_MAX_CHARS = limits.NOTE_LENGTH
"""The longest customer note, in characters (the note editor counts down from it)."""
SUMMARY_MAX_CHARS = limits.SUMMARY_LENGTH

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Joiners shape text in Persian, Indic scripts and emoji sequences: not a disguise.
_ALLOWED_FORMAT = frozenset("\u200c\u200d")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{1,8})*", re.ASCII)
_COUNTRY = re.compile(r"[A-Z]{2}", re.ASCII)


@dataclass(frozen=True)
class Problem:
    field: str
    problem: str

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}"


class InvalidInput(UserError):
    """What the agent typed cannot be saved; one line per problem, each naming its field."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def one(cls, field: str, problem: str) -> InvalidInput:
        return cls([Problem(field, problem)])


def _character_problem(value: str, multiline: bool) -> str | None:
    for char in value:
        code = ord(char)
        if char in "\n\t" and multiline:
            continue
        if code == 0:
            return "contains a NUL character"
        if 0xD800 <= code <= 0xDFFF:
            return f"contains an invalid character (a lone surrogate, U+{code:04X})"
        if char in BIDI_CONTROLS:
            return f"contains a text-direction control (U+{code:04X}) that can disguise it"
        category = unicodedata.category(char)
        if char in "\n\u2028\u2029":
            return "must be one line"
        if category == "Cc":
            return f"contains the control character U+{code:04X}"
        if not multiline and category == "Cf" and char not in _ALLOWED_FORMAT:
            return f"contains the invisible character U+{code:04X}"
    return None


def check_text(
    value: object, field: str, limit: int, *, multiline: bool = False, required: bool = False
) -> str:
    """`value` stripped, with line ends made "\\n"; raises InvalidInput naming `field`."""
    if not isinstance(value, str):
        raise InvalidInput.one(field, f"must be text, not {type(value).__name__}")
    text = value.replace("\r\n", "\n").replace("\r", "\n") if multiline else value
    text = text.strip()
    # Length first: a pasted 5,000-character block gets the message that helps.
    if len(text) > limit:
        raise InvalidInput.one(field, f"is too long ({len(text)} characters, at most {limit})")
    problem = _character_problem(text, multiline)
    if problem is not None:
        raise InvalidInput.one(field, problem)
    if required and not text:
        raise InvalidInput.one(field, "is required")
    return text


class Checks:
    """Collects every problem of a form, so the agent fixes them all in one go."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def text(
        self,
        value: object,
        field: str,
        limit: int,
        *,
        multiline: bool = False,
        required: bool = False,
    ) -> str:
        try:
            return check_text(value, field, limit, multiline=multiline, required=required)
        except InvalidInput as exc:
            self.problems.extend(exc.problems)
            return ""

    def add(self, field: str, problem: str) -> None:
        self.problems.append(Problem(field, problem))

    def raise_if_any(self) -> None:
        if self.problems:
            raise InvalidInput(self.problems)


def check_client_key(value: object) -> str | None:
    """An idempotency key made by the client (a UUID); None or empty means none."""
    if value is None:
        return None
    return check_text(value, "client key", limits.CLIENT_KEY_LENGTH) or None


def check_language(value: object, checks: Checks) -> str:
    """A language tag such as "en" or "pt-br" (lower case); empty means English."""
    text = checks.text(value, "language", limits.LANGUAGE_LENGTH).lower()
    if not text:
        return "en"
    if not _LANGUAGE.fullmatch(text):
        checks.add("language", 'must be a language code such as "en" or "pt-br"')
    return text


@dataclass(frozen=True)
class Address:
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str | None
    country: str  # ISO 3166-1 alpha-2, upper case


def check_address(
    *,
    line1: object,
    line2: object,
    city: object,
    region: object,
    postal_code: object,
    country: object,
) -> Address:
    """A postal address as typed; every problem at once."""
    checks = Checks()
    checked_line1 = checks.text(line1, "address line 1", limits.ADDRESS_LINE_LENGTH, required=True)
    checked_line2 = checks.text(line2 or "", "address line 2", limits.ADDRESS_LINE_LENGTH)
    checked_city = checks.text(city, "city", limits.CITY_LENGTH, required=True)
    checked_region = checks.text(region or "", "region", limits.REGION_LENGTH)
    checked_postal = checks.text(postal_code or "", "postal code", limits.POSTAL_CODE_LENGTH)
    checked_country = checks.text(country, "country", limits.COUNTRY_LENGTH, required=True)
    checked_country = checked_country.upper()
    if checked_country and not _COUNTRY.fullmatch(checked_country):
        checks.add("country", 'must be a two-letter country code such as "US"')
    checks.raise_if_any()
    return Address(
        line1=checked_line1,
        line2=checked_line2 or None,
        city=checked_city,
        region=checked_region or None,
        postal_code=checked_postal or None,
        country=checked_country,
    )


__all__ = [
    "NOTE_MAX_CHARS",
    "SUMMARY_MAX_CHARS",
    "Address",
    "Checks",
    "InvalidInput",
    "Problem",
    "check_address",
    "check_client_key",
    "check_language",
    "check_text",
]
