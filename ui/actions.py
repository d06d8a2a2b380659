"""Every action the agent can take by key or menu, declared once.

Menus, QAction shortcuts, the tooltips that name a key and the F1 table
(`ui/shortcuts.py`) are all made from `ACTIONS`, so a tooltip cannot promise a key
that nothing binds, and the help cannot list a key that does nothing (the spirit of
Picard's `@add_action` and qutebrowser's command registry).

Each action says where its keys work (`Scope`):
- WINDOW: anywhere in the window that owns it (the main window, or a customer tab
  while it is the one shown);
- FOCUS: only while the keyboard focus is inside its widget (Ctrl+Enter saves the
  wrap-up when typing in the wrap-up, the note when typing in the note);
- NATIVE: keys a widget reads itself (the search box's arrows, Enter, Esc); listed
  here so the help and the tooltips name them, bound by that widget.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenuBar, QWidget


class Scope(enum.Enum):
    WINDOW = "window"
    FOCUS = "focus"
    NATIVE = "native"


# Sections of the F1 table, in the order shown.
SECTIONS = ("Find", "Customer", "Calls", "Approvals", "Tabs and window", "Help")
# Menus of the menu bar, in the order shown (menu title -> its actions, from `menu`).
MENUS = ("&File", "&Go", "&Call", "&Tools", "&Help")

_KEY_NAMES = {"Return": "Enter", "Up": "↑", "Down": "↓", "Escape": "Esc"}


@dataclass(frozen=True)
class ActionSpec:
    id: str
    text: str  # menu text, with its & mnemonic
    help: str  # what it does, as the F1 table says it
    section: str  # F1 table section, one of SECTIONS
    keys: tuple[str, ...] = ()  # portable QKeySequence strings; the first is the main one
    scope: Scope = Scope.WINDOW
    menu: str | None = None  # one of MENUS; only WINDOW actions of the main window
    tip: str | None = None  # tooltip of the button/menu item, without the keys

    @property
    def keys_text(self) -> str:
        """The keys as people read them: Ctrl+Enter (also for Ctrl+Return), ↑, Esc."""
        shown: list[str] = []
        for keys in self.keys:
            text = "+".join(_KEY_NAMES.get(part, part) for part in keys.split("+"))
            if text not in shown:
                shown.append(text)
        return ", ".join(shown)

    @property
    def tooltip(self) -> str:
        """E.g. "Save the wrap-up (Ctrl+Enter)"."""
        tip = self.tip or self.help
        return f"{tip} ({self.keys_text})" if self.keys else tip


def _sections() -> tuple[ActionSpec, ...]:
    names = (
        "Overview",
        "Orders",
        "Cases",
        "Timeline",
        "Household",
        "Notes",
        "Concessions",
        "Suggested",
    )
    return tuple(
        ActionSpec(
            f"customer.section.{name.lower()}",
            name,
            f"Show the customer's {name} section",
            "Customer",
            (f"Alt+{number}",),
        )
        for number, name in enumerate(names, start=1)
    )


ACTIONS: tuple[ActionSpec, ...] = (
    # -- Find
    ActionSpec(
        "search.focus",
        "&Search…",
        "Search: phone in any format, e-mail, order, case or name",
        "Find",
        ("Ctrl+K", "F3"),
        menu="&Go",
    ),
    ActionSpec(
        "search.move", "", "Move through the search results", "Find", ("Up", "Down"), Scope.NATIVE
    ),
    ActionSpec(
        "search.open", "", "Open the selected (or best) match", "Find", ("Return",), Scope.NATIVE
    ),
    ActionSpec("search.clear", "", "Clear the search", "Find", ("Escape",), Scope.NATIVE),
    ActionSpec(
        "customer.new",
        "&New customer…",
        "New customer, prefilled with what was searched",
        "Find",
        ("Ctrl+N",),
        menu="&File",
        tip="Create a customer from what you typed",
    ),
    ActionSpec(
        "products.lookup",
        "&Product lookup…",
        "Product lookup: price, stock per store, next delivery and launch dates",
        "Find",
        ("Ctrl+Shift+P",),
        menu="&Go",
        tip="Price, stock per store and launch dates of a product",
    ),
    # -- Customer
    *_sections(),
    ActionSpec(
        "customer.edit_contact",
        "Edit contact…",
        "Edit the customer's name and contact details",
        "Customer",
        ("F2",),
    ),
    ActionSpec(
        "authority.grant",
        "Make it right…",
        "Make it right: a goodwill gift, discount, credit, sample or fee waiver for the "
        "customer shown; above your authority, ask a supervisor while they wait",
        "Customer",
        ("Ctrl+G",),
        tip="Grant a concession, or ask a supervisor",
    ),
    # The Suggested section's keys, on the suggestion selected (ui/features/suggestions).
    ActionSpec(
        "suggestion.accept",
        "Accept",
        "In Suggested: the customer takes the suggestion selected",
        "Customer",
        ("Ctrl+Shift+A",),
        Scope.FOCUS,
        tip="The customer takes it",
    ),
    ActionSpec(
        "suggestion.decline",
        "Decline…",
        "In Suggested: the customer declines the suggestion selected (choose why)",
        "Customer",
        ("Ctrl+Shift+D",),
        Scope.FOCUS,
        tip="The customer declines it: choose why",
    ),
    ActionSpec(
        "suggestion.offer",
        "Offer discount or sample…",
        "In Suggested: offer a discount or a sample with the suggestion selected, or grant "
        "its retention or welcome offer (Make it right…, prefilled)",
        "Customer",
        ("Ctrl+Shift+O",),
        Scope.FOCUS,
        tip="Offer a discount or a sample, or grant the offer, within your authority",
    ),
    ActionSpec(
        "note.save",
        "Add note",
        "Save the note being written (typing in a customer's or a case's note)",
        "Customer",
        ("Ctrl+Return", "Ctrl+Enter"),
        Scope.FOCUS,
        tip="Add note",
    ),
    # -- Calls
    ActionSpec(
        "call_log.show",
        "Call &log",
        "Call log: this agent's and line's calls, missed ones with their callback",
        "Calls",
        ("Ctrl+L",),
        menu="&Call",
        tip="Calls of this agent and line, answered and missed",
    ),
    ActionSpec(
        "my_work.show",
        "&My work",
        "My work: your cases, tasks and promises, most urgent first",
        "Calls",
        ("F4",),
        menu="&Go",
        tip="Your cases, tasks and promises, broken and overdue first",
    ),
    ActionSpec(
        "call_log.dial",
        "Call",
        "In the call log: call the selected number back through the softphone",
        "Calls",
        ("Ctrl+D",),
        Scope.FOCUS,
        tip="Call this number through the softphone",
    ),
    ActionSpec(
        "call_log.refresh",
        "Refresh",
        "In the call log: reload it",
        "Calls",
        ("F5",),
        Scope.FOCUS,
        tip="Reload the call log",
    ),
    ActionSpec(
        "wrap_up.save",
        "Save wrap-up",
        "Save the wrap-up after a call (typing in the wrap-up)",
        "Calls",
        ("Ctrl+Return", "Ctrl+Enter"),
        Scope.FOCUS,
        tip="Save the wrap-up",
    ),
    # -- Approvals (supervisors and managers; the matrix for everyone, edited by admins)
    ActionSpec(
        "approvals.show",
        "&Approvals",
        "Approvals: override requests waiting for your decision (supervisors, managers)",
        "Approvals",
        ("F6",),
        menu="&Go",
        tip="Override requests waiting for your decision",
    ),
    ActionSpec(
        "approvals.approve",
        "Approve",
        "In Approvals: approve the selected request, after confirming its amount",
        "Approvals",
        ("Ctrl+Return", "Ctrl+Enter"),
        Scope.NATIVE,  # the page binds it (it exists for supervisors and managers only)
        tip="Approve the selected request (asks to confirm; also Alt+A)",
    ),
    ActionSpec(
        "approvals.reject",
        "Reject",
        "In Approvals: reject the selected request (needs a comment)",
        "Approvals",
        ("Alt+R",),
        Scope.NATIVE,
        tip="Reject the selected request (needs a comment)",
    ),
    ActionSpec(
        "approvals.counter",
        "Counter-offer",
        "In Approvals: offer the amount typed instead (needs a comment)",
        "Approvals",
        ("Alt+O",),
        Scope.NATIVE,
        tip="Offer the amount typed instead (needs a comment)",
    ),
    ActionSpec(
        "approvals.comment",
        "Comment",
        "In Approvals: write the comment for the agent (Alt+M: the counter-offer's amount)",
        "Approvals",
        ("Alt+E",),
        Scope.NATIVE,
    ),
    ActionSpec(
        "dashboards.show",
        "&Dashboards",
        "Dashboards: concessions, suggestions, cases, contact quality (supervisors, managers)",
        "Approvals",
        ("F7",),
        menu="&Go",
        tip="Figures beside the previous period, drill-down and export",
    ),
    ActionSpec(
        "authority.matrix",
        "Authority &matrix…",
        "The authority matrix: what each role may grant alone (admins edit it)",
        "Approvals",
        menu="&Tools",
        tip="What each role and person may grant alone, per concession type",
    ),
    ActionSpec(
        "duplicates.show",
        "&Duplicate customers…",
        "Duplicate customers: review the pairs, merge or dismiss, undo a recent merge",
        "Approvals",
        ("F8",),
        menu="&Tools",
        tip="Pairs of customers that may be one person, side by side",
    ),
    ActionSpec(
        "lists.show",
        "Marketing &lists",
        "Marketing lists: customers by purchase profile for a campaign (supervisors, managers)",
        "Approvals",
        ("Ctrl+Shift+M",),
        menu="&Tools",
        tip="Customers by what they bought, segment, tier, store and key dates",
    ),
    ActionSpec(
        "imports.wizard",
        "&Import customers…",
        "Import customers, orders or interactions from a legacy system's CSV or XLSX (admins)",
        "Imports",
        menu="&Tools",
        tip="Map the columns, preview the rejected rows, import with a progress bar",
    ),
    ActionSpec(
        "user.switch",
        "S&witch user…",
        "Single-user mode: act as another staff member (agent01, super01, …)",
        "Approvals",
        menu="&File",
        tip="The embedded database has no logins: act as an agent or a supervisor",
    ),
    # -- Tabs and window
    ActionSpec(
        "tab.close",
        "&Close tab",
        "Close the customer tab",
        "Tabs and window",
        ("Ctrl+W",),
        menu="&Go",
    ),
    ActionSpec("tab.next", "&Next tab", "Next tab", "Tabs and window", ("Ctrl+Tab",), menu="&Go"),
    ActionSpec(
        "tab.previous",
        "&Previous tab",
        "Previous tab",
        "Tabs and window",
        ("Ctrl+Shift+Tab",),
        menu="&Go",
    ),
    ActionSpec(
        "tab.reopen",
        "&Reopen closed customer",
        "Reopen the last closed customer",
        "Tabs and window",
        ("Ctrl+Shift+T",),
        menu="&Go",
    ),
    ActionSpec(
        "database.connection",
        "&Database connection…",
        "Change the database: server, database, user, TLS and password",
        "Tabs and window",
        menu="&File",
        tip="Server, database, user, TLS and password",
    ),
    ActionSpec("app.quit", "&Quit", "Quit Rapport", "Tabs and window", ("Ctrl+Q",), menu="&File"),
    # -- Help
    ActionSpec(
        "help.shortcuts",
        "&Keyboard shortcuts",
        "This list of keyboard shortcuts",
        "Help",
        ("F1", "Ctrl+/"),
        menu="&Help",
    ),
    ActionSpec("help.about", "&About Rapport", "Version and licences", "Help", menu="&Help"),
)

_BY_ID = {spec.id: spec for spec in ACTIONS}


def spec(action_id: str) -> ActionSpec:
    return _BY_ID[action_id]


def tooltip(action_id: str) -> str:
    return _BY_ID[action_id].tooltip


def bind(action_id: str, widget: QWidget, slot: Callable[[], object]) -> QAction:
    """Make the action, give it its keys and add it to `widget`, where they work.

    WINDOW actions work while `widget`'s window is active and `widget` is shown;
    FOCUS actions only while the focus is inside `widget`.
    """
    declared = _BY_ID[action_id]
    if declared.scope is Scope.NATIVE:
        raise ValueError(f"{action_id} is read by its widget, not bound as an action")
    action = QAction(declared.text, widget)
    action.setObjectName(declared.id)
    action.setShortcuts([QKeySequence(keys) for keys in declared.keys])
    action.setShortcutContext(
        Qt.ShortcutContext.WindowShortcut
        if declared.scope is Scope.WINDOW
        else Qt.ShortcutContext.WidgetWithChildrenShortcut
    )
    action.setToolTip(declared.tooltip)
    action.setStatusTip(declared.help)
    action.triggered.connect(lambda _checked=False: slot())
    widget.addAction(action)
    return action


def bind_menus(
    window: QWidget, menu_bar: QMenuBar, slots: dict[str, Callable[[], object]]
) -> dict[str, QAction]:
    """Bind the main window's actions (`slots`: id -> slot) and build MENUS from them, in
    the registry's order, Quit after a separator. Returns the actions by id."""
    bound = {name: bind(name, window, slot) for name, slot in slots.items()}
    for title in MENUS:
        menu = menu_bar.addMenu(title)
        for declared in ACTIONS:
            if declared.menu == title:
                if declared.id == "app.quit":
                    menu.addSeparator()
                menu.addAction(bound[declared.id])
    return bound
