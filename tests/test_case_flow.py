"""The case workflow: one table of allowed steps, anything else refused in words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.workflows import case_flow
from app.workflows.case_flow import (
    TRANSITIONS,
    CaseStatus,
    InvalidCaseStep,
    allowed_steps,
    check_step,
    status_label,
)
from models import enums

S = CaseStatus


def test_the_workflow_spells_the_statuses_as_the_database_stores_them() -> None:
    assert [s.value for s in S] == [s.value for s in enums.CaseStatus]
    assert set(case_flow.STATUS_LABELS) == set(S)


def test_reopen_and_waiting_on_department_read_as_agents_say_them() -> None:
    assert status_label(S.WAITING_INTERNAL) == "Waiting on department"
    assert status_label(S.OPEN, reopened=True) == "Reopened"
    assert status_label(enums.CaseStatus.OPEN) == "Open"
    assert check_step(S.CLOSED, S.OPEN).is_reopen
    assert check_step(enums.CaseStatus.RESOLVED, "open").is_reopen
    assert not check_step(S.NEW, S.OPEN).is_reopen


def test_a_step_outside_the_table_is_refused_with_what_is_allowed() -> None:
    with pytest.raises(InvalidCaseStep, match="closed cannot become waiting on customer"):
        check_step(S.CLOSED, S.WAITING_CUSTOMER)
    with pytest.raises(InvalidCaseStep, match="already open"):
        check_step(S.OPEN, S.OPEN)
    with pytest.raises(InvalidCaseStep, match="not a case status"):
        check_step(S.OPEN, "lost")


def test_closing_with_open_tasks_needs_a_reason() -> None:
    with pytest.raises(InvalidCaseStep, match="2 open tasks: say why"):
        check_step(S.OPEN, S.CLOSED, open_tasks=2)
    with pytest.raises(InvalidCaseStep, match="say why"):
        check_step(S.OPEN, S.CLOSED, open_tasks=1, reason="   ")
    assert check_step(S.OPEN, S.CLOSED, open_tasks=1, reason="Warehouse closes it").is_close
    assert check_step(S.OPEN, S.CLOSED).is_close


@given(
    steps=st.lists(
        st.tuples(st.sampled_from(list(S)), st.integers(0, 2), st.sampled_from([None, "why"])),
        max_size=40,
    )
)
def test_random_step_sequences_follow_the_table_and_nothing_else(
    steps: list[tuple[CaseStatus, int, str | None]],
) -> None:
    status = S.NEW
    for to, open_tasks, reason in steps:
        allowed = (status, to) in TRANSITIONS
        needs_reason = to is S.CLOSED and open_tasks > 0 and reason is None
        try:
            step = check_step(status, to, open_tasks, reason)
        except InvalidCaseStep as exc:
            assert not allowed or needs_reason
            assert str(exc)  # a sentence, never empty
            continue
        assert allowed and not needs_reason
        assert step.to is to
        assert (to, TRANSITIONS[(status, to)]) in allowed_steps(status)
        status = to
    # Wherever it got to, the case can be brought back to work: no status is a dead end.
    assert S.OPEN in _reachable(status) or status is S.OPEN


def _reachable(start: CaseStatus) -> set[CaseStatus]:
    seen: set[CaseStatus] = set()
    todo = [start]
    while todo:
        for to, _words in allowed_steps(todo.pop()):
            if to not in seen:
                seen.add(to)
                todo.append(to)
    return seen


def test_closed_is_reached_from_every_status_but_never_skips_to_waiting() -> None:
    assert all(S.CLOSED in _reachable(s) or s is S.CLOSED for s in S)
    assert [to for to, _ in allowed_steps(S.CLOSED)] == [S.OPEN]
