"""The supervisor's side of S7 in the window: the live queue (F6) with the relationship
summary, deciding from the keyboard, a colleague's decision first, counter-offers,
rejections that need a comment, expiry, the availability heartbeat, the authority matrix
and single-user mode's switch between staff members.

Each test drives the real window (`window` fixture: a seeded database, SQL on the GUI
thread forbidden). What the agent does is done by the agent's own `AuthorityService`
(another acting user on the same database), called on a worker and not published on the
window's bridge: the supervisor's window hears of it through the change bus, as a second
Rapport would.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import Engine, func, select, update

from app.bootstrap import Services
from app.services.authority import ConcessionAsk, Denial, LimitRow, Outcome, Status, new_key
from models.authority import AuditEntry, Concession, OverrideDecision, OverrideRequest
from models.database import Database
from models.enums import ConcessionType, OverrideStatus, Role
from tests.conftest import LoopRunner, wait_for_change_feed, without_change_feed
from ui.features.approvals import words
from ui.features.approvals.matrix import LimitDialog, MatrixDialog
from ui.features.approvals.page import ApprovalsPage
from ui.features.approvals.switch_user import SwitchUserDialog
from ui.shell.main_window import MainWindow

pytestmark = pytest.mark.clock  # requests expire and count down on the real clock

FEE_CENTS = 35000  # S7: the early-upgrade fee (models/seed/story_customers.py)
REASON = "Customer since 1997, 4 services in one bundle: waive the early-upgrade fee"


# -- who acts where ----------------------------------------------------------------------


class Staff:
    """Staff members at their desks, on the window's database.

    The window becomes one of them (`become`): on SQLite through single-user mode's
    switch; on PostgreSQL by connecting as that person's own login (the rules there
    follow `session_user`), through the window's own "switch database" path. The others
    act at their own desks (`desk`): services acting as them, on SQLite on the window's
    engine, on PostgreSQL on an engine of their own login.

    On PostgreSQL the logins are real LOGIN roles made by `rapportctl user add`'s code
    after `provision-roles`, named with a prefix unique to the test (roles are
    cluster-wide) and dropped at the end; the seeded staff rows are renamed to match.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"
        self.prefix = f"t{uuid.uuid4().hex[:8]}_"
        self.made: list[str] = []
        self.engines: list[Engine] = []
        self.provisioned = False

    def login(self, name: str) -> str:
        """The database login of the seeded staff member `name` (agent01, super01, ...)."""
        return self.prefix + name if self.pg else name

    def url(self, name: str) -> str:
        return self.engine.url.set(
            drivername="postgresql", username=self.login(name), password=None
        ).render_as_string(hide_password=False)

    def _admin(self) -> Any:
        from app.provisioning import connect

        return connect(
            self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        )

    def ensure(self, name: str) -> None:
        """On PostgreSQL: the login of `name` exists, in its role's group (once)."""
        if not self.pg or self.login(name) in self.made:
            return
        from app.provisioning import add_user, provision_roles

        with self._admin() as conn:
            if not self.provisioned:
                provision_roles(conn)
                self.provisioned = True
            row = conn.execute("SELECT role FROM users WHERE login = %s", (name,)).fetchone()
            assert row is not None, f"no seeded staff member {name}"
            with conn.transaction():
                conn.execute(
                    "UPDATE users SET login = %s WHERE login = %s", (self.login(name), name)
                )
            add_user(conn, self.login(name), Role(row[0]), "a-test-password")
        self.made.append(self.login(name))

    def become(self, window: MainWindow, aloop: LoopRunner, guard: Any, name: str) -> Services:
        """The window acts as `name` from now."""
        if not self.pg:
            services = aloop.run(window.bridge.run(window.services.acting_as_login, name))  # type: ignore[union-attr]
            window.connection.act_as(services)
        else:
            self.ensure(name)
            aloop.run(window.connection.switch(self.url(name)))
            assert window.services is not None, window.connection.error
            guard.attach(window.services.engine)
            wait_for_change_feed(window, aloop)
        assert window.services is not None
        assert window.services.agent.login == self.login(name)
        return window.services

    def desk(self, window: MainWindow, aloop: LoopRunner, name: str) -> Services:
        """`name` at another desk: services acting as them (their own login on PG)."""
        if not self.pg:
            return aloop.run(window.bridge.run(window.services.acting_as_login, name))  # type: ignore[union-attr]
        self.ensure(name)
        from app.bootstrap import open_services
        from app.config import load_settings

        services = aloop.run(
            window.bridge.run(open_services, load_settings(cli={"db_url": self.url(name)}))
        )
        self.engines.append(services.engine)
        assert services.agent.login == self.login(name)
        return services

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()
        if not self.made:
            return
        import psycopg

        with self._admin() as conn:
            conn.autocommit = True
            for login in self.made:
                try:
                    conn.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                        (login,),
                    )
                    conn.execute(f'DROP ROLE IF EXISTS "{login}"')
                except psycopg.Error as exc:  # left for the cluster's owner; say so
                    print(f"could not drop the test login {login}: {exc}")


@pytest.fixture
def staff(engine: Engine, request: pytest.FixtureRequest) -> Iterator[Staff]:
    """Requested before `window`, so its logins go after the window has disconnected."""
    if engine.dialect.name == "postgresql" and request.config.getoption("--any-hour"):
        # The functions stamp and expire requests by the server's now(), which
        # --any-hour cannot move: the SQLite runs cover the UI at every instant.
        pytest.skip("PostgreSQL's clock does not travel with --any-hour")
    made = Staff(engine)
    yield made
    made.close()


# -- helpers -----------------------------------------------------------------------------


def on_worker(window: MainWindow, aloop: LoopRunner, fn: Any, *args: Any) -> Any:
    """Another desk's call: on a worker, and NOT published on this window's bridge."""
    return aloop.run(window.bridge.run(fn, *args))


def dorothy(window: MainWindow, aloop: LoopRunner) -> tuple[int, int]:
    """S7's customer and the early-upgrade fee policy: (customer id, policy id)."""
    assert window.services is not None
    hits = on_worker(window, aloop, window.services.search.search, "Dorothy Hargreaves")
    customer_id = hits[0].customer_id
    hints = on_worker(window, aloop, window.services.authority.policy_hints, customer_id)
    policy = next(h for h in hints if h.code == "EARLY_UPGRADE_FEE")
    return customer_id, policy.policy_id


def ask_fee_waiver(window: MainWindow, aloop: LoopRunner, agent: Services) -> Outcome:
    """The agent's request, made at the agent's desk: S7's early-upgrade fee waived."""
    customer_id, policy_id = dorothy(window, aloop)
    ask = ConcessionAsk(
        customer_id, ConcessionType.FEE_WAIVER, FEE_CENTS, REASON, policy_id=policy_id
    )
    outcome = on_worker(window, aloop, agent.authority.request_override, ask, new_key())
    assert outcome.status is Status.PENDING, outcome
    return outcome


def supervisor_page(
    window: MainWindow, aloop: LoopRunner, staff: Staff, guard: Any, name: str = "super01"
) -> ApprovalsPage:
    """The window acting as a supervisor, available (its first heartbeat answered), with
    Approvals open (F6)."""
    staff.become(window, aloop, guard, name)
    aloop.until(lambda: window.approvals.availability.beats >= 1)
    window.activateWindow()
    aloop.until(lambda: QApplication.activeWindow() is window)
    _press(window, "F6")
    page = window.approvals.page
    assert page is not None and window.tabs.currentWidget() is page
    aloop.until(lambda: window.approvals.loads >= 1 and window.bridge.running == 0)
    return page


def agent_asks(
    window: MainWindow, aloop: LoopRunner, staff: Staff, page: ApprovalsPage
) -> tuple[Services, Outcome]:
    """agent01 asks (at the agent's desk); the supervisor's queue shows it."""
    agent = staff.desk(window, aloop, "agent01")
    outcome = ask_fee_waiver(window, aloop, agent)
    aloop.until(lambda: page.model.rowCount() == 1, 5)
    return agent, outcome


def _press(widget: Any, keys: str) -> None:
    combo = QKeySequence(keys)[0]
    QTest.keyClick(widget, combo.key(), combo.keyboardModifiers())


def count(engine: Engine, model: Any, *where: Any) -> int:
    """The test's own look at the database (as its owner)."""
    with Database(engine).read() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def confirm(aloop: LoopRunner, page: ApprovalsPage) -> QMessageBox:
    box = aloop.run(page.wait_confirmation(), 5)
    aloop.until(box.isVisible, 5)
    return box


# -- the queue ---------------------------------------------------------------------------

Desk = tuple[MainWindow, LoopRunner, Staff, Any]


@pytest.fixture
def desk(staff: Staff, window: MainWindow, aloop: LoopRunner, gui_sql_guard: Any) -> Desk:
    """The window, the loop, the staff and the GUI-thread guard, in the order they must go."""
    return window, aloop, staff, gui_sql_guard


def test_a_request_reaches_the_supervisor_live_with_the_relationship(desk: Desk) -> None:
    window, aloop, staff, guard = desk
    page = supervisor_page(window, aloop, staff, guard)
    assert page.model.rowCount() == 0
    assert "No request is waiting" in page.empty.text()
    assert window.approvals.toggle.isVisible() and window.approvals.toggle.isChecked()
    agent = staff.desk(window, aloop, "agent01")

    asked = time.monotonic()
    outcome = ask_fee_waiver(window, aloop, agent)
    aloop.until(lambda: page.model.rowCount() == 1, 5)
    assert time.monotonic() - asked < 1.0  # live: the change bus, no click
    view = page.model.rows[0]
    assert view.id == outcome.request_id
    assert page.model.index(0, 0).data() == "Dorothy Hargreaves"
    assert page.model.index(0, 1).data() == "Fee waiver $350.00 · Early upgrade fee"
    assert page.model.index(0, 2).data() == REASON
    assert page.model.index(0, 3).data() == agent.agent.display_name
    assert page.model.index(0, 4).data() == "just now"
    assert page.model.index(0, 5).data().endswith(" left")

    # Selected at once, with the relationship beside it (no click needed).
    assert page.selected() == view
    aloop.until(lambda: "Customer since 1997" in page.relationship.text())
    summary = page.relationship.text()
    assert "years)" in summary and "Lifetime value" in summary and "% by value" in summary
    assert "Bundle: Home Complete" in summary
    # The request's own policy first (on 30 customers she is no top-10% buyer).
    assert "exception to Early upgrade fee ($350.00)" in page.hints.text().splitlines()[0]
    assert page.customer.text() == "Dorothy Hargreaves"
    assert page.expires.text().startswith("Expires in ")

    # The badge and the notification (no system tray offscreen: the in-app toast).
    assert window.tabs.tabText(window.tabs.indexOf(page)) == "Approvals (1)"
    assert window.menu_actions["approvals.show"].text() == "&Approvals (1)"
    title, body = window.approvals.notifier.shown[-1]
    assert title == "Approval needed: Dorothy Hargreaves"
    assert "Fee waiver $350.00" in body and REASON[:40] in body
    assert window.calls.toast.isVisible()
    assert window.calls.toast.title.text() == title


def test_own_requests_stay_out_of_the_queue(desk: Desk) -> None:
    window, aloop, staff, guard = desk
    admin = staff.desk(window, aloop, "admin")
    super01 = staff.desk(window, aloop, "super01")
    # super01's own credit limit is lowered (an adjustment), so super01 must ask too.
    limits = on_worker(window, aloop, admin.authority.matrix)
    base = next(r for r in limits if r.role is Role.SUPERVISOR and r.type is ConcessionType.CREDIT)
    assert super01.agent.user_id is not None
    mine = LimitRow(
        None, None, super01.agent.user_id, None, ConcessionType.CREDIT, True, 1000,
        None, None, base.period_days, None, None, None,
    )  # fmt: skip
    saved = on_worker(window, aloop, admin.authority.set_limit, mine, new_key())
    assert saved.status is Status.SAVED, saved
    super02 = staff.desk(window, aloop, "super02")
    on_worker(window, aloop, super02.authority.set_presence, True)  # someone to ask

    page = supervisor_page(window, aloop, staff, guard, "super01")
    assert window.services is not None
    customer_id, _policy = dorothy(window, aloop)
    credit = ConcessionAsk(customer_id, ConcessionType.CREDIT, 5000, "Billed twice in May")
    own = on_worker(window, aloop, window.services.authority.request_override, credit, new_key())
    assert own.status is Status.PENDING, own
    ask_fee_waiver(window, aloop, staff.desk(window, aloop, "agent01"))
    aloop.until(lambda: page.model.rowCount() >= 1, 5)
    aloop.run(asyncio.sleep(0.4))  # both requests were heard by now
    assert [v.requested_by_login for v in page.model.rows] == [staff.login("agent01")]
    theirs = on_worker(window, aloop, super02.authority.approval_queue)
    assert own.request_id in {v.id for v in theirs}
    assert all(
        t == "Approval needed: Dorothy Hargreaves" for t, _ in window.approvals.notifier.shown
    )


# -- deciding ----------------------------------------------------------------------------


def test_approve_from_the_keyboard_records_one_decision_and_one_concession(
    desk: Desk, engine: Engine, qtbot: Any
) -> None:
    window, aloop, staff, guard = desk
    page = supervisor_page(window, aloop, staff, guard)
    _agent, outcome = agent_asks(window, aloop, staff, page)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    box = confirm(aloop, page)
    assert box.text() == "Approve a $350.00 fee waiver for Dorothy Hargreaves?"
    qtbot.keyClick(box, Qt.Key.Key_Return)  # Enter confirms
    aloop.until(lambda: page.outcomes, 5)
    assert page.outcomes[-1].status is Status.APPROVED
    assert page.outcome.text() == "Dorothy Hargreaves: Approved — the agent sees it now."
    aloop.until(lambda: page.model.rowCount() == 0, 5)
    assert page.outcome.text().endswith("Approved — the agent sees it now.")  # still said
    request = outcome.request_id
    assert count(engine, OverrideDecision, OverrideDecision.request_id == request) == 1
    assert count(engine, Concession, Concession.override_request_id == request) == 1
    assert window.tabs.tabText(window.tabs.indexOf(page)) == "Approvals"


def test_what_is_typed_survives_a_new_request(desk: Desk, qtbot: Any) -> None:
    window, aloop, staff, guard = desk
    page = supervisor_page(window, aloop, staff, guard)
    _agent, outcome = agent_asks(window, aloop, staff, page)
    qtbot.keyClicks(page.comment, "Checking the contract first")
    page.counter_amount.setText("100")
    customer_id, _policy = dorothy(window, aloop)
    other = staff.desk(window, aloop, "agent02")
    gift = ConcessionAsk(customer_id, ConcessionType.GOODWILL_GIFT, 9000, "Late engineer")
    assert on_worker(window, aloop, other.authority.request_override, gift, new_key()).ok
    aloop.until(lambda: page.model.rowCount() == 2, 5)
    assert page.selected() is not None and page.selected().id == outcome.request_id
    assert page.comment.toPlainText() == "Checking the contract first"
    assert page.counter_amount.text() == "100"


def test_escape_cancels_the_approval(desk: Desk, engine: Engine, qtbot: Any) -> None:
    window, aloop, staff, guard = desk
    page = supervisor_page(window, aloop, staff, guard)
    _agent, outcome = agent_asks(window, aloop, staff, page)
    qtbot.keyClick(page.table, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)  # the mnemonic
    box = confirm(aloop, page)
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    aloop.until(lambda: page.confirmation is None)
    aloop.run(asyncio.sleep(0.2))
    assert page.outcomes == []
    assert count(engine, OverrideDecision, OverrideDecision.request_id == outcome.request_id) == 0


def test_a_second_supervisor_finds_it_already_decided(
    desk: Desk, engine: Engine, qtbot: Any
) -> None:
    window, aloop, staff, guard = desk
    page = supervisor_page(window, aloop, staff, guard)
    _agent, outcome = agent_asks(window, aloop, staff, page)
    # super02 decides first, at their desk; this window has not heard of it yet.
    without_change_feed(window, aloop)
    super02 = staff.desk(window, aloop, "super02")
    first = on_worker(
        window, aloop, super02.authority.decide, outcome.request_id, "approve", "OK", None
    )
    assert first.status is Status.APPROVED
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(confirm(aloop, page), Qt.Key.Key_Return)
    aloop.until(lambda: page.outcomes, 5)
    said = page.outcome.text()
    assert said.startswith(f"Dorothy Hargreaves: Already approved by {super02.agent.display_name}")
    assert said.endswith(": nothing changed.")
    req = outcome.request_id
    assert count(engine, OverrideDecision, OverrideDecision.request_id == req) == 1
    assert count(engine, Concession, Concession.override_request_id == req) == 1
    aloop.until(lambda: page.model.rowCount() == 0, 5)  # our own re-read after deciding


def test_counter_offer_with_amount_and_comment(desk: Desk, engine: Engine, qtbot: Any) -> None:
    window, aloop, staff, guard = desk
    page = supervisor_page(window, aloop, staff, guard)
    _agent, outcome = agent_asks(window, aloop, staff, page)
    qtbot.keyClick(page.table, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is page.counter_amount
    qtbot.keyClicks(page.counter_amount, "500")
    qtbot.keyClick(page.counter_amount, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
    # (a mnemonic clicks after a short animation)
    aloop.until(lambda: "less than the $350.00 asked" in page.outcome.text())  # more: refused
    page.counter_amount.clear()
    qtbot.keyClicks(page.counter_amount, "175")
    qtbot.keyClick(page.counter_amount, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
    aloop.until(lambda: "counter-offer needs a comment" in page.outcome.text())
    assert QApplication.focusWidget() is page.comment
    qtbot.keyClicks(page.comment, "Half the fee: the contract is only 2 months old")
    qtbot.keyClick(page.comment, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
    aloop.until(lambda: page.outcomes, 5)
    assert page.outcomes[-1].status is Status.COUNTERED
    assert page.outcome.text() == (
        "Dorothy Hargreaves: Counter-offer of $175.00 sent — the agent can accept it now."
    )
    req = outcome.request_id
    assert window.services is not None
    view = on_worker(window, aloop, window.services.authority.override, req)
    assert view.status is OverrideStatus.COUNTERED and view.counter_amount_cents == 17500
    assert view.comment == "Half the fee: the contract is only 2 months old"
    assert count(engine, Concession, Concession.override_request_id == req) == 0


def test_reject_needs_a_comment(desk: Desk, engine: Engine, qtbot: Any) -> None:
    window, aloop, staff, guard = desk
    page = supervisor_page(window, aloop, staff, guard)
    _agent, outcome = agent_asks(window, aloop, staff, page)
    qtbot.keyClick(page.table, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    aloop.until(lambda: page.outcome.text().startswith("Rejecting needs a comment"))
    assert QApplication.focusWidget() is page.comment
    req = outcome.request_id
    assert count(engine, OverrideDecision, OverrideDecision.request_id == req) == 0
    qtbot.keyClicks(page.comment, "Policy stands: offer the trade-in instead")
    qtbot.keyClick(page.comment, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    aloop.until(lambda: page.outcomes, 5)
    assert page.outcome.text() == "Dorothy Hargreaves: Rejected — the agent sees your comment now."
    assert count(engine, OverrideDecision, OverrideDecision.request_id == req) == 1
    aloop.until(lambda: page.model.rowCount() == 0, 5)


def test_an_expired_request_says_expired(desk: Desk, engine: Engine, qtbot: Any) -> None:
    window, aloop, staff, guard = desk
    page = supervisor_page(window, aloop, staff, guard)
    _agent, outcome = agent_asks(window, aloop, staff, page)
    without_change_feed(window, aloop)  # the window still shows it when its time is up
    req = outcome.request_id
    with Database(engine).write() as session:  # its time ran out (as the tables' owner)
        session.execute(
            update(OverrideRequest)
            .where(OverrideRequest.id == req)
            .values(expires_at=OverrideRequest.requested_at)
        )
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(confirm(aloop, page), Qt.Key.Key_Return)
    aloop.until(lambda: page.outcomes, 5)
    assert page.outcomes[-1].status is Status.EXPIRED
    assert page.outcome.text().startswith("Dorothy Hargreaves: Expired")
    assert count(engine, Concession, Concession.override_request_id == req) == 0
    assert count(engine, OverrideRequest, OverrideRequest.status == OverrideStatus.EXPIRED) == 1
    aloop.until(lambda: page.model.rowCount() == 0, 5)


def test_a_request_decided_elsewhere_leaves_the_queue_and_says_by_whom(desk: Desk) -> None:
    window, aloop, staff, guard = desk
    page = supervisor_page(window, aloop, staff, guard)
    _agent, outcome = agent_asks(window, aloop, staff, page)
    super02 = staff.desk(window, aloop, "super02")
    on_worker(
        window, aloop, super02.authority.decide, outcome.request_id, "reject", "No: policy", None
    )
    aloop.until(lambda: page.model.rowCount() == 0, 5)
    aloop.until(lambda: "Rejected by" in page.outcome.text(), 5)
    assert page.outcome.text().startswith("Dorothy Hargreaves's request (Fee waiver $350.00")
    assert super02.agent.display_name in page.outcome.text()


# -- availability ------------------------------------------------------------------------


def test_availability_heartbeats_and_away_means_no_approver(desk: Desk) -> None:
    window, aloop, staff, guard = desk
    page = supervisor_page(window, aloop, staff, guard)
    driver = window.approvals.availability
    assert driver.running and driver.timer.interval() == 10_000
    agent = staff.desk(window, aloop, "agent01")

    def approvers() -> int:
        return int(on_worker(window, aloop, agent.authority.approvers_available, Role.SUPERVISOR))

    assert approvers() == 1
    beats = driver.beats
    window.approvals.toggle.click()  # away
    aloop.until(lambda: driver.beats > beats)
    assert "away" in page.availability.text()
    assert approvers() == 0
    customer_id, policy_id = dorothy(window, aloop)
    ask = ConcessionAsk(
        customer_id, ConcessionType.FEE_WAIVER, FEE_CENTS, REASON, policy_id=policy_id
    )
    nobody = on_worker(window, aloop, agent.authority.request_override, ask, new_key())
    assert nobody.status is Status.NO_APPROVER
    window.approvals.toggle.click()  # back
    aloop.until(lambda: driver.beats > beats + 1)
    assert approvers() == 1

    # Someone else takes the window.
    supervisor = window.services.agent.display_name  # type: ignore[union-attr]
    staff.become(window, aloop, guard, "agent01")
    assert not window.approvals.toggle.isVisible()
    aloop.until(lambda: window.bridge.running == 0)
    if staff.pg:  # another person's login: super01's heartbeats stop, away at once
        assert not driver.running
        assert approvers() == 0
    else:  # single-user mode: super01 stays available for the demo's agent to ask
        assert driver.running and list(driver.background) == ["super01"]
        assert approvers() == 1
        assert window.approvals.mode_label.text().endswith(
            f"(agent) · available to approve: {supervisor}"
        )
        beats = driver.beats
        driver.beat()
        aloop.until(lambda: driver.beats > beats)
        staff.become(window, aloop, guard, "super01")  # back at the desk: no longer kept
        assert driver.background == {} and driver.running
    aloop.run(window.approvals.leave())  # quitting: away at once
    assert not driver.running
    assert approvers() == 0


def test_away_means_no_notification_but_the_queue_stays_live(desk: Desk) -> None:
    window, aloop, staff, guard = desk
    page = supervisor_page(window, aloop, staff, guard)
    super02 = staff.desk(window, aloop, "super02")
    on_worker(window, aloop, super02.authority.set_presence, True)  # someone else is in
    beats = window.approvals.availability.beats
    window.approvals.toggle.click()  # away
    aloop.until(lambda: window.approvals.availability.beats > beats)
    ask_fee_waiver(window, aloop, staff.desk(window, aloop, "agent01"))
    aloop.until(lambda: page.model.rowCount() == 1, 5)  # still listed, still decidable
    assert window.approvals.notifier.shown == []
    assert not window.calls.toast.isVisible()
    assert window.tabs.tabText(window.tabs.indexOf(page)) == "Approvals (1)"


def test_agents_have_no_queue_and_f6_says_why(desk: Desk) -> None:
    window, aloop, staff, guard = desk
    staff.become(window, aloop, guard, "agent01")
    window.activateWindow()
    aloop.until(lambda: QApplication.activeWindow() is window)
    _press(window, "F6")
    assert window.approvals.page is None
    assert "Approvals are for supervisors and managers" in window.statusBar().currentMessage()
    assert not window.approvals.toggle.isVisible()
    assert not window.approvals.availability.running


# -- the authority matrix ----------------------------------------------------------------


def _matrix(window: MainWindow, aloop: LoopRunner) -> MatrixDialog:
    window.menu_actions["authority.matrix"].trigger()
    dialog = window.approvals.matrix_dialog
    assert dialog is not None
    aloop.until(lambda: dialog.model.rowCount() > 0 and window.bridge.running == 0)
    return dialog


def test_an_admin_edits_the_matrix_and_the_change_is_audited(
    desk: Desk, engine: Engine, qtbot: Any
) -> None:
    window, aloop, staff, guard = desk
    staff.become(window, aloop, guard, "admin")
    dialog = _matrix(window, aloop)
    assert dialog.edit_button.isVisible() and dialog.add_button.isVisible()
    rows = dialog.model.rows
    target = next(
        n for n, r in enumerate(rows)
        if r.role is Role.AGENT and r.type is ConcessionType.GOODWILL_GIFT
    )  # fmt: skip
    assert dialog.model.index(target, 3).data() == "$30.00"
    dialog.table.setFocus()
    dialog.table.selectRow(target)
    qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    editor = dialog.editor
    assert isinstance(editor, LimitDialog)
    editor.max_amount.setText("abc")
    editor.valid_from.setDate(editor.valid_from.date().addYears(30))
    editor.valid_until.setDate(editor.valid_from.date().addDays(-1))
    editor.save()
    assert "Max per concession" in editor.problem.text()
    assert "Valid until" in editor.problem.text()
    editor.valid_from.setDate(editor.valid_from.minimumDate())
    editor.valid_until.setDate(editor.valid_until.minimumDate())
    editor.max_amount.setText("40")
    editor.save()
    aloop.until(lambda: dialog.outcomes, 5)
    assert dialog.outcomes[-1].status is Status.SAVED
    aloop.until(lambda: "saved" in dialog.message.text())
    assert dialog.message.text() == "Role: agent · Goodwill gift: saved."
    row = next(
        r for r in dialog.model.rows
        if r.role is Role.AGENT and r.type is ConcessionType.GOODWILL_GIFT
    )  # fmt: skip
    assert row.max_amount_cents == 4000

    with Database(engine).read() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "authority.limit")
        ).all()
        assert len(entries) == 1
        assert entries[0].actor == staff.login("admin")
        assert entries[0].before is not None and entries[0].after is not None
        assert entries[0].before["max_amount_cents"] == 3000
        assert entries[0].after["max_amount_cents"] == 4000
    dialog.close()


def test_an_agent_reads_the_matrix_but_cannot_change_it(
    desk: Desk, engine: Engine, qtbot: Any
) -> None:
    window, aloop, staff, guard = desk
    staff.become(window, aloop, guard, "agent01")
    dialog = _matrix(window, aloop)
    assert not dialog.edit_button.isVisible() and not dialog.add_button.isVisible()
    assert "Read only" in dialog.message.text()
    dialog.table.setFocus()
    dialog.table.selectRow(0)
    qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    assert dialog.editor is None
    assert dialog.message.text() == "Read only: only an admin changes the authority matrix."
    # Whatever the dialog shows, the agent's write is refused (and the refusal audited):
    # by the service on SQLite, by the database's function on PostgreSQL.
    from app.operations import authority as operations

    row = dialog.model.rows[0]
    outcome = aloop.run(
        window.bridge.perform(operations.set_limit, window.services, row, new_key())
    )
    assert outcome.status is Status.DENIED and outcome.reason is Denial.NOT_ADMIN
    assert words.save_outcome(outcome).startswith("Only an admin")
    with Database(engine).read() as session:
        assert not session.scalars(
            select(AuditEntry).where(AuditEntry.action == "authority.limit")
        ).all()
    dialog.close()


# -- single-user mode --------------------------------------------------------------------


def test_switch_user_on_sqlite_changes_who_acts(desk: Desk, qtbot: Any) -> None:
    window, aloop, _staff, _guard = desk
    assert window.services is not None
    single = window.services.backend == "sqlite"
    switch = window.menu_actions["user.switch"]
    assert switch.isVisible() is single
    assert window.approvals.mode_label.isVisible() is single
    if not single:
        return  # PostgreSQL: who acts is the login, and there is no switching
    assert window.approvals.mode_label.text().startswith("Single-user mode")
    switch.trigger()
    dialog = window.approvals.switch_dialog
    assert isinstance(dialog, SwitchUserDialog)
    aloop.until(lambda: dialog.list.count() > 0)
    logins = dialog.logins()
    assert {"agent01", "super01", "admin"} <= set(logins) and len(logins) <= 10
    dialog.choose("super01")
    qtbot.keyClick(dialog.list, Qt.Key.Key_Return)
    aloop.until(lambda: window.services is not None and window.services.agent.login == "super01")
    agent = window.services.agent
    assert agent.role is Role.SUPERVISOR
    assert window.windowTitle() == f"Rapport — {agent.display_name} (supervisor)"
    assert window.approvals.mode_label.text() == (
        f"Single-user mode · {agent.display_name} (supervisor)"
    )
    assert window.services.authority.agent.login == "super01"  # the acting services
    assert window.approvals.toggle.isVisible()
    window.activateWindow()  # the dialog had it
    aloop.until(lambda: QApplication.activeWindow() is window)
    _press(window, "F6")
    assert isinstance(window.tabs.currentWidget(), ApprovalsPage)
    assert window.tabs.currentWidget() is window.approvals.page


def test_single_user_mode_plays_s7_in_one_window(desk: Desk, engine: Engine, qtbot: Any) -> None:
    """The demo: super01 is in, the window switches to agent01 who asks, back to super01
    who approves; agent01 again sees it approved."""
    window, aloop, staff, guard = desk
    if staff.pg:
        pytest.skip("single-user mode is the embedded database's")
    page = supervisor_page(window, aloop, staff, guard, "super01")
    agent = staff.become(window, aloop, guard, "agent01")  # super01 stays available
    assert window.approvals.page is None  # the agent has no queue
    outcome = ask_fee_waiver(window, aloop, agent)  # the window's own services now
    assert outcome.approvers == 1
    page = supervisor_page(window, aloop, staff, guard, "super01")
    aloop.until(lambda: page.model.rowCount() == 1, 5)
    qtbot.keyClick(page.table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(confirm(aloop, page), Qt.Key.Key_Return)
    aloop.until(lambda: page.outcomes, 5)
    assert page.outcomes[-1].status is Status.APPROVED
    agent = staff.become(window, aloop, guard, "agent01")
    mine = on_worker(window, aloop, agent.authority.my_requests)
    assert mine[0].id == outcome.request_id and mine[0].status is OverrideStatus.APPROVED
    assert count(engine, Concession, Concession.override_request_id == outcome.request_id) == 1
