"""S7 end to end: an agent and a supervisor, each in a Rapport window of their own, each
connected to one PostgreSQL as their own login.

The agent sees that Dorothy qualifies for the loyalty exception and asks, from the
keyboard, to waive the early-upgrade fee; the supervisor's window shows the request
within a second, beside her relationship; the supervisor approves from the keyboard;
the agent's waiting panel shows the answer within a second; the audit log holds every
step under the server's own record of who acted. S4's goodwill gift above the agent's
limit goes the same way. Nothing but the change bus tells either window.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from sqlalchemy import Engine, select

from models.authority import AuditEntry, Concession, OverrideRequest
from models.enums import ConcessionType, OverrideStatus
from tests.conftest import LoopRunner, running_window
from tests.test_approvals_ui import Staff, confirm
from tests.test_authority_ui import _ctrl_g, _open, _type_ask
from ui.shell.main_window import MainWindow

# Enough customers that Dorothy's A$2,600 ranks her among the top 10% by value, as in
# the demo (30 customers rank few buyers in her currency).
pytestmark = [pytest.mark.clock, pytest.mark.customers(2000)]

WITHIN_S = 1.0  # the issue: the request and the answer each within a second


@pytest.fixture
def engine(pg_engine: Engine) -> Engine:
    """This story is the shared database's: two logins, one PostgreSQL."""
    return pg_engine


@pytest.fixture
def staff(engine: Engine, request: pytest.FixtureRequest) -> Iterator[Staff]:
    if request.config.getoption("--any-hour"):
        pytest.skip("PostgreSQL's clock does not travel with --any-hour")
    made = Staff(engine)
    yield made
    made.close()


@pytest.fixture
def two_desks(
    staff: Staff, window: MainWindow, aloop: LoopRunner, gui_sql_guard: Any
) -> Iterator[tuple[MainWindow, MainWindow]]:
    """The window under test as agent01, and a second window as super01."""
    staff.become(window, aloop, gui_sql_guard, "agent01")
    staff.ensure("super01")
    with running_window(staff.url("super01"), aloop, gui_sql_guard) as other:
        assert other.services.agent.login == staff.login("super01")  # session_user
        yield window, other


def _approvals(supervisor: MainWindow, aloop: LoopRunner) -> Any:
    aloop.until(lambda: supervisor.approvals.availability.beats >= 1)
    supervisor.activateWindow()
    aloop.until(lambda: QApplication.activeWindow() is supervisor)
    QTest.keyClick(supervisor, Qt.Key.Key_F6)
    page = supervisor.approvals.page
    assert page is not None
    aloop.until(lambda: supervisor.approvals.loads >= 1 and supervisor.bridge.running == 0)
    return page


def _approve(supervisor: MainWindow, page: Any, aloop: LoopRunner, comment: str) -> None:
    """The selected (first) request, approved from the keyboard with a comment."""
    _focus(supervisor, aloop)
    page.comment.setFocus()
    QTest.keyClicks(page.comment, comment)
    QTest.keyClick(page.comment, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    box = confirm(aloop, page)
    QTest.keyClick(box, Qt.Key.Key_Return)


def _focus(window: MainWindow, aloop: LoopRunner) -> None:
    """The agent turns to their own screen (two windows here: keys go to the active one)."""
    window.activateWindow()
    aloop.until(lambda: QApplication.activeWindow() is window)


def _elapsed_until(aloop: LoopRunner, predicate: Any, since: float) -> float:
    aloop.until(predicate, 5)
    return time.monotonic() - since


def test_s7_and_s4_between_two_desks_on_postgresql(
    two_desks: tuple[MainWindow, MainWindow], staff: Staff, engine: Engine, aloop: LoopRunner
) -> None:
    agent, supervisor = two_desks
    page = _approvals(supervisor, aloop)
    assert page.model.rowCount() == 0

    # S7: the agent sees she qualifies, and asks to waive the fee while she waits.
    panel = _open(agent, aloop, "Dorothy Hargreaves")
    hints = [label.text() for label in panel.authority.strip_hints.qualifying]
    assert any(
        h.startswith(
            "Qualifies for a loyalty exception to Early upgrade fee: customer since 1997, "
            "4 services in one bundle"
        )
        for h in hints
    ), hints
    _focus(agent, aloop)
    dialog = _ctrl_g(agent, panel, aloop)
    dialog.choose_type(ConcessionType.FEE_WAIVER)
    assert dialog.amount.text() == "350.00"
    dialog.reason.setFocus()
    QTest.keyClicks(dialog.reason, "Customer since 1997, full bundle: waive the upgrade fee")
    aloop.until(lambda: dialog.main_button.accessibleName() == "Ask a supervisor")
    asked = time.monotonic()
    QTest.keyClick(dialog.reason, Qt.Key.Key_Return)
    reached = _elapsed_until(aloop, lambda: page.model.rowCount() == 1, asked)
    assert reached < WITHIN_S, f"the request reached the supervisor in {reached:.2f} s"
    aloop.until(lambda: "Customer since 1997" in page.relationship.text())
    assert "Home Complete" in page.relationship.text()

    aloop.until(lambda: bool(panel.authority.waiting))
    waiting = panel.authority.waiting[0]
    _approve(supervisor, page, aloop, "Loyalty exception: 29 years, full bundle")
    decided = time.monotonic()
    answered = _elapsed_until(
        aloop, lambda: waiting.view.status == OverrideStatus.APPROVED, decided
    )
    assert answered < WITHIN_S, f"the answer reached the agent in {answered:.2f} s"
    aloop.until(lambda: page.model.rowCount() == 0)

    # S4: a goodwill gift above the agent's $30 goes the same way.
    panel4 = _open(agent, aloop, "Priya Raman")
    _focus(agent, aloop)
    dialog = _ctrl_g(agent, panel4, aloop)
    dialog.choose_type(ConcessionType.GOODWILL_GIFT)
    dialog.amount.setFocus()
    dialog.amount.selectAll()
    _type_ask(dialog, "50", "Third failed delivery before her anniversary")
    aloop.until(lambda: dialog.main_button.accessibleName() == "Ask a supervisor")
    QTest.keyClick(dialog.reason, Qt.Key.Key_Return)
    aloop.until(lambda: page.model.rowCount() == 1, 5)
    aloop.until(lambda: bool(panel4.authority.waiting))
    _approve(supervisor, page, aloop, "Sorry about the deliveries")
    aloop.until(lambda: panel4.authority.waiting[0].view.status == OverrideStatus.APPROVED, 5)

    # Every step is in the audit log, under the login the server authenticated.
    asked_ids = [waiting.view.id, panel4.authority.waiting[0].view.id]
    agent_login, super_login = staff.login("agent01"), staff.login("super01")
    with engine.connect() as conn:
        requests = conn.execute(
            select(OverrideRequest.id, OverrideRequest.status).where(
                OverrideRequest.id.in_(asked_ids)
            )
        ).all()
        steps = conn.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.entity_id).where(
                AuditEntry.action.like("override.%") | AuditEntry.action.like("concession.%")
            )
        ).all()
        granted = conn.execute(
            select(Concession.override_request_id, Concession.amount_cents).where(
                Concession.override_request_id.in_(asked_ids)
            )
        ).all()
    assert {status for _id, status in requests} == {OverrideStatus.APPROVED}
    for request_id, _status in requests:
        assert (agent_login, "override.request") in {(a, s) for a, s, i in steps if i == request_id}
        assert (super_login, "override.approve") in {(a, s) for a, s, i in steps if i == request_id}
    assert len(requests) == 2
    assert sorted(amount for _rid, amount in granted) == [5000, 35000]
