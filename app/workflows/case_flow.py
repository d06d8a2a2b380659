"""The life of a case: which status may follow which, in one table.

new -> open -> waiting on the customer / waiting on a department -> resolved -> closed,
and back to open from resolved or closed (a reopen, shown "Reopened" while
`cases.reopened_at` is set). Plain Python: no database, no services, no Qt. The
service (app/services/cases.py) asks `check_step` before it writes, so a step this
table does not allow never reaches the database.

Closing while tasks (hand-offs) are still open is allowed only with a reason, which
the service records (`cases.close_reason`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class CaseStatus(enum.StrEnum):
    """The statuses, spelt as `models.enums.CaseStatus` stores them (a test keeps the two
    equal); defined here because workflows import nothing of the database."""

    NEW = "new"
    OPEN = "open"
    WAITING_CUSTOMER = "waiting_customer"
    WAITING_INTERNAL = "waiting_internal"
    RESOLVED = "resolved"
    CLOSED = "closed"


S = CaseStatus

# Every allowed step, and the words the agent sees for it. Anything else is refused.
TRANSITIONS: dict[tuple[CaseStatus, CaseStatus], str] = {
    (S.NEW, S.OPEN): "Start work",
    (S.NEW, S.WAITING_CUSTOMER): "Wait on customer",
    (S.NEW, S.WAITING_INTERNAL): "Wait on department",
    (S.NEW, S.RESOLVED): "Resolve",
    (S.NEW, S.CLOSED): "Close",
    (S.OPEN, S.WAITING_CUSTOMER): "Wait on customer",
    (S.OPEN, S.WAITING_INTERNAL): "Wait on department",
    (S.OPEN, S.RESOLVED): "Resolve",
    (S.OPEN, S.CLOSED): "Close",
    (S.WAITING_CUSTOMER, S.OPEN): "Customer replied",
    (S.WAITING_CUSTOMER, S.WAITING_INTERNAL): "Wait on department",
    (S.WAITING_CUSTOMER, S.RESOLVED): "Resolve",
    (S.WAITING_CUSTOMER, S.CLOSED): "Close",
    (S.WAITING_INTERNAL, S.OPEN): "Department done",
    (S.WAITING_INTERNAL, S.WAITING_CUSTOMER): "Wait on customer",
    (S.WAITING_INTERNAL, S.RESOLVED): "Resolve",
    (S.WAITING_INTERNAL, S.CLOSED): "Close",
    (S.RESOLVED, S.CLOSED): "Close",
    (S.RESOLVED, S.OPEN): "Reopen",
    (S.CLOSED, S.OPEN): "Reopen",
}

STATUS_LABELS: dict[CaseStatus, str] = {
    S.NEW: "New",
    S.OPEN: "Open",
    S.WAITING_CUSTOMER: "Waiting on customer",
    S.WAITING_INTERNAL: "Waiting on department",
    S.RESOLVED: "Resolved",
    S.CLOSED: "Closed",
}
REOPENED_LABEL = "Reopened"


class InvalidCaseStep(ValueError):
    """A status change the case workflow does not allow; the message says why."""


@dataclass(frozen=True)
class Step:
    """What a status change does besides the status (the service writes these)."""

    to: CaseStatus
    is_reopen: bool
    is_close: bool
    is_resolve: bool


def status_label(status: str, reopened: bool = False) -> str:
    """The words for a status; an open case that was reopened reads "Reopened"."""
    state = CaseStatus(str(status))
    if reopened and state is S.OPEN:
        return REOPENED_LABEL
    return STATUS_LABELS[state]


def allowed_steps(status: str) -> list[tuple[CaseStatus, str]]:
    """The statuses a case in `status` may move to, with the words for each step."""
    state = CaseStatus(str(status))
    return [(to, words) for (frm, to), words in TRANSITIONS.items() if frm is state]


def check_step(current: str, to: str, open_tasks: int = 0, reason: str | None = None) -> Step:
    """The step from `current` to `to`, or InvalidCaseStep saying why not.

    Statuses may be given as `models.enums.CaseStatus` or plain strings (same values).
    """
    frm, dest = _status(current), _status(to)
    if frm is dest:
        raise InvalidCaseStep(f"The case is already {STATUS_LABELS[dest].lower()}.")
    if (frm, dest) not in TRANSITIONS:
        allowed = ", ".join(STATUS_LABELS[t].lower() for t, _ in allowed_steps(frm))
        raise InvalidCaseStep(
            f"A case that is {STATUS_LABELS[frm].lower()} cannot become "
            f"{STATUS_LABELS[dest].lower()}; it can become: {allowed or 'nothing'}."
        )
    if dest is S.CLOSED and open_tasks and not (reason and reason.strip()):
        raise InvalidCaseStep(
            f"The case still has {open_tasks} open task{'s' if open_tasks != 1 else ''}: "
            "say why you close it anyway."
        )
    return Step(
        to=dest,
        is_reopen=frm in (S.RESOLVED, S.CLOSED) and dest is S.OPEN,
        is_close=dest is S.CLOSED,
        is_resolve=dest is S.RESOLVED,
    )


def _status(value: str) -> CaseStatus:
    try:
        return CaseStatus(str(value))
    except ValueError:
        raise InvalidCaseStep(f"{value!r} is not a case status.") from None


__all__ = [
    "CaseStatus",
    "REOPENED_LABEL",
    "STATUS_LABELS",
    "TRANSITIONS",
    "InvalidCaseStep",
    "Step",
    "allowed_steps",
    "check_step",
    "status_label",
]
