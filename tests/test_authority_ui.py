"""Authority from the agent's chair, in the running window (both databases, SQL on the GUI
thread forbidden): a concession granted from the keyboard lands once in the ledger; above
the limit the agent asks a supervisor and the answer (approved, counter-offered,
expired) reaches the waiting panel by itself; no supervisor means a message at once; the
product lookup says when a coming phone launches.

The supervisor is a second `AuthorityService` acting as super01 on the same database,
on an engine of its own (its own login on PostgreSQL), called from the test as another
desktop would: nothing tells the agent's window but the change bus.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import shiboken6
from psycopg import sql
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from sqlalchemy import Engine, func, select, update

from app.services.authority import (
    AuthorityService,
    ConcessionAsk,
    PolicyHint,
    TypeAuthority,
)
from models.authority import Concession, OverrideRequest
from models.database import Database, make_engine
from models.enums import ConcessionType, OverrideDecisionKind, OverrideStatus, Role
from models.people import User
from tests.conftest import LoopRunner
from tests.factories import agent_context
from ui import formatting as fmt
from ui.features.authority import words
from ui.features.authority.concessions import ConcessionsSection
from ui.features.authority.grant_dialog import GrantDialog
from ui.features.authority.products import ProductLookup, stock_words, store_text
from ui.features.authority.waiting import WaitingPanel
from ui.features.customer.panel import CONCESSIONS_INDEX, CustomerPanel
from ui.shell.main_window import MainWindow

pytestmark = pytest.mark.clock  # seeded relative to now; budgets are per day; countdowns

ANSWER_WITHIN_S = 1.0  # the promise: the decision reaches the agent within a second


# -- the words, without a window ------------------------------------------------------


def _authority(kind: ConcessionType, budget: int | None, spent: int = 0) -> TypeAuthority:
    return TypeAuthority(kind, True, 3000, None, budget, spent, 30, 30000)


def test_the_budget_line_says_what_is_left_today() -> None:
    rows = [
        _authority(ConcessionType.GOODWILL_GIFT, 10000, 2500),
        _authority(ConcessionType.DISCOUNT, 10000),
        TypeAuthority(ConcessionType.FEE_WAIVER, False, 0, None, None, 0, None, None),
    ]
    line = words.budget_line(rows)
    assert line.startswith(
        "Your budget today: goodwill $75.00 of $100.00 left · discount $100.00 left"
    )
    assert "ask a supervisor" in line and "fee waivers" in line
    assert words.within_text(rows[0]) == (
        "Within your authority (goodwill $30.00 each, $75.00 left today)"
    )


def test_money_and_percentages_as_agents_type_them() -> None:
    assert words.parse_money("25") == 2500
    assert words.parse_money("$1,200.5") == 120050
    assert words.parse_money(" 0.99 ") == 99
    assert words.parse_money("twelve") is None
    assert words.parse_money("1.234") is None
    assert words.parse_percent("12.5%") == words.parse_percent("12.50")
    assert words.percent_text(words.parse_percent("10") or 0) == "10%"


def test_hints_countdowns_and_stock_in_words() -> None:
    hint = PolicyHint(
        1,
        "EARLY_UPGRADE_FEE",
        "Early upgrade fee",
        "…",
        35000,
        "USD",
        Role.SUPERVISOR,
        True,
        ("customer since 1997", "4 services in one bundle", "top 5% by value"),
        (),
    )
    assert words.hint_text(hint) == (
        "Qualifies for a loyalty exception to Early upgrade fee: customer since 1997, "
        "4 services in one bundle, top 5% by value"
    )
    assert words.countdown(272.4) == "4:32 left"
    assert words.countdown(-1) == "time is up" and words.countdown(None) == ""
    assert store_text(("Sydney CBD", 3, None)) == "3 in Sydney CBD"
    assert store_text(("Parramatta", 0, dt.date(2026, 12, 9))) == (
        "0 in Parramatta, next delivery 9 Dec"
    )


# -- the window -------------------------------------------------------------------------


class Logins:
    """Staff who log in: the seeded ones on SQLite (one file, no logins: the service acts
    as whoever it is told), on PostgreSQL a login role of their own each, made with
    `rapportctl user add`'s code after `db provision-roles` (names unique to the test:
    roles belong to the whole cluster), dropped at the end of the session."""

    made: ClassVar[list[tuple[str, str]]] = []  # (the server's admin URL, login)

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"
        self.admin_url = engine.url.render_as_string(hide_password=False)
        self._provisioned = False

    def login(self, seeded: str, role: Role, name: str) -> str:
        """The login of a staff member in `role` (SQLite: the seeded `seeded`)."""
        if not self.pg:
            return seeded
        from app import provisioning

        login = f"t{uuid.uuid4().hex[:10]}_{role.value[:5]}"
        with provisioning.connect(self.admin_url.replace("+psycopg", "")) as conn:
            if not self._provisioned:
                provisioning.provision_roles(conn)
                self._provisioned = True
            provisioning.add_user(conn, login, role, "a-long-test-password", name)
        server = self.engine.url.set(database="postgres", drivername="postgresql")
        Logins.made.append((server.render_as_string(hide_password=False), login))
        return login

    def url(self, login: str) -> str:
        """The database as `login` connects to it (the test servers trust logins)."""
        if not self.pg:
            return self.admin_url
        return self.engine.url.set(username=login, password=None).render_as_string(False)

    def user_id(self, login: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(User.id).where(User.login == login)))

    def service(self, login: str) -> tuple[AuthorityService, Engine]:
        """`login`'s AuthorityService on an engine of its own (another desktop)."""
        other = make_engine(self.url(login))
        return AuthorityService(Database(other), agent=agent_context(self.engine, login)), other


@pytest.fixture(scope="session")
def _drop_test_logins() -> Iterator[None]:
    """At the end of the session (their databases are gone by then): drop the logins."""
    yield
    import psycopg

    for server, login in Logins.made:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(login)))
    Logins.made.clear()


class Supervisor:
    """A supervisor on another desktop: an AuthorityService on an engine of its own."""

    def __init__(self, logins: Logins) -> None:
        self.login = logins.login("super01", Role.SUPERVISOR, "Maria Lopez")
        self.user_id = logins.user_id(self.login)
        self.service, self.engine = logins.service(self.login)

    def available(self) -> None:
        self.service.set_presence(True)

    def decide(
        self, request_id: int, decision: OverrideDecisionKind, comment: str, amount: int | None
    ) -> None:
        outcome = self.service.decide(request_id, decision, comment, amount)
        assert outcome.ok, outcome.message

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def logins(engine: Engine, _drop_test_logins: None) -> Logins:
    return Logins(engine)


@pytest.fixture
def desk(
    window: MainWindow, logins: Logins, engine: Engine, aloop: LoopRunner, gui_sql_guard: Any
) -> Iterator[MainWindow]:
    """The window acting as a call-centre agent (goodwill up to $30 each, $100 a day):
    on SQLite the seeded agent01, on PostgreSQL a login of their own, connected as it."""
    assert window.services is not None
    login = logins.login("agent01", Role.AGENT, "Jordan Bennett")
    if logins.pg:
        aloop.run(window.connection.switch(logins.url(login)))
        assert window.services is not None, window.connection.error
        gui_sql_guard.attach(window.services.engine)
        assert window.services.agent.login == login  # session_user, not a claim
    else:
        window.connection.use(window.services.acting_as(agent_context(engine, login)))
    yield window


@pytest.fixture
def supervisor(logins: Logins) -> Iterator[Supervisor]:
    chosen = Supervisor(logins)
    yield chosen
    chosen.close()


def _open(window: MainWindow, aloop: LoopRunner, name: str) -> CustomerPanel:
    assert window.services is not None
    hits = aloop.run(window.bridge.run(window.services.search.search, name))
    panel = aloop.run(window.tabs.load_customer(hits[0].customer_id))
    assert isinstance(panel, CustomerPanel)
    aloop.until(lambda: panel._authority is not None and panel.authority.ready)
    return panel


def _money(panel: CustomerPanel) -> Any:
    return lambda cents: fmt.money(cents, panel.data.header.currency)


def _ctrl_g(window: MainWindow, panel: CustomerPanel, aloop: LoopRunner) -> GrantDialog:
    window.activateWindow()
    QTest.keyClick(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    aloop.until(lambda: panel.authority.dialog is not None)
    dialog = panel.authority.dialog
    assert isinstance(dialog, GrantDialog)
    aloop.until(lambda: QApplication.focusWidget() is dialog.amount)
    return dialog


def _type_ask(dialog: GrantDialog, amount: str, reason: str) -> None:
    """Amount, Tab to the reason, the reason: what the agent types after Ctrl+G."""
    QTest.keyClicks(dialog.amount, amount)
    QTest.keyClick(dialog.amount, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is dialog.reason
    QTest.keyClicks(dialog.reason, reason)


def _concessions(engine: Engine, customer_id: int) -> list[tuple[int, int | None]]:
    with engine.connect() as conn:
        return [
            (row.amount_cents, row.approved_by_id)
            for row in conn.execute(
                select(Concession.amount_cents, Concession.approved_by_id).where(
                    Concession.customer_id == customer_id
                )
            )
        ]


def _section(panel: CustomerPanel, aloop: LoopRunner) -> ConcessionsSection:
    panel.sections.setCurrentIndex(CONCESSIONS_INDEX)
    section = panel.concessions
    assert isinstance(section, ConcessionsSection)
    aloop.until(lambda: section.budget.text() != "Your budget today: …")
    return section


def test_a_goodwill_gift_within_authority_from_the_keyboard(
    desk: MainWindow, engine: Engine, aloop: LoopRunner
) -> None:
    panel = _open(desk, aloop, "Priya Raman")
    money = _money(panel)  # the limits count cents of the customer's currency
    section = _section(panel, aloop)
    assert f"goodwill {money(10000)} left" in section.budget.text()
    dialog = _ctrl_g(desk, panel, aloop)
    assert dialog.kind == ConcessionType.GOODWILL_GIFT  # the everyday one first
    _type_ask(dialog, "25", "Wrong names engraved; a gift before Kevin's birthday")
    aloop.until(lambda: dialog.check_line.text().startswith("Within your authority"))
    assert dialog.check_line.text() == (
        f"Within your authority (goodwill {money(3000)} each, {money(10000)} left today)"
    )
    assert dialog.main_button.text() == "&Grant"
    QTest.keyClick(dialog.reason, Qt.Key.Key_Return)
    aloop.until(lambda: dialog.outcome is not None)
    assert dialog.result.text().startswith(f"Granted: {money(2500)} goodwill gift.")
    assert f"{money(7500)} of today's goodwill budget left" in dialog.result.text()
    # Enter again closes: it grants nothing twice.
    QTest.keyClick(dialog.reason, Qt.Key.Key_Return)
    aloop.until(lambda: not shiboken6.isValid(dialog))  # closed (and deleted)
    aloop.until(lambda: len(section.model.rows) == 1)
    row = section.model.rows[0]
    assert (row.amount_cents, row.type, row.approved_by) == (
        2500,
        ConcessionType.GOODWILL_GIFT,
        None,
    )
    assert row.granted_by == desk.services.agent.display_name  # type: ignore[union-attr] (connected)
    assert section.model.data(section.model.index(0, 2)) == money(2500)
    aloop.until(lambda: f"goodwill {money(7500)} of {money(10000)} left" in section.budget.text())
    assert _concessions(engine, panel.customer_id) == [(2500, None)]


def test_a_retried_click_grants_once(desk: MainWindow, engine: Engine, aloop: LoopRunner) -> None:
    """The key of a click whose reply was lost is sent again with the same parameters."""
    panel = _open(desk, aloop, "Priya Raman")
    dialog = panel.authority.make_it_right()
    dialog.amount.setText("10")
    dialog.reason.setText("Late delivery")
    ask = dialog.ask()
    assert isinstance(ask, ConcessionAsk)
    key = "lost-reply-key"
    dialog._unanswered = ("grant", ask, key)  # as a connection error leaves it
    assert dialog._key_for("grant", ask) == key
    first = aloop.run(desk.bridge.run(desk.services.authority.grant, ask, key))  # type: ignore[union-attr] (connected)
    aloop.run(dialog.act())
    assert dialog.outcome is not None and dialog.outcome.replayed
    assert dialog.outcome.concession_id == first.concession_id
    assert _concessions(engine, panel.customer_id) == [(1000, None)]
    # Other parameters: a new key.
    dialog.amount.setText("11")
    other = dialog.ask()
    assert isinstance(other, ConcessionAsk)
    assert dialog._key_for("grant", other) != key
    dialog.reject()


def _ask_above_the_limit(
    desk: MainWindow, panel: CustomerPanel, aloop: LoopRunner, amount: str
) -> WaitingPanel:
    dialog = _ctrl_g(desk, panel, aloop)
    _type_ask(dialog, amount, "Engraving wrong twice; birthday on Monday")
    aloop.until(lambda: dialog.main_button.accessibleName() == "Ask a supervisor")
    assert dialog.check_line.text() == (
        f"Above your limit of {_money(panel)(3000)} for a goodwill gift: a supervisor must approve."
    )
    QTest.keyClick(dialog.reason, Qt.Key.Key_Return)
    aloop.until(lambda: bool(panel.authority.waiting))
    waiting = panel.authority.waiting[0]
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()  # the panel takes over
    assert waiting.isVisible() and waiting.view.status == OverrideStatus.PENDING
    assert waiting.title.text() == (
        f"Asked a supervisor: Goodwill gift of {_money(panel)(int(amount) * 100)} "
        f"for {panel.data.header.first_name} {panel.data.header.last_name}"
    )
    aloop.until(lambda: waiting.clock.text().endswith("left"))  # from the first read
    assert waiting.withdraw_button.isVisible()
    return waiting


def test_a_supervisor_approves_and_the_agent_sees_it_without_a_click(
    desk: MainWindow, engine: Engine, supervisor: Supervisor, aloop: LoopRunner
) -> None:
    supervisor.available()
    panel = _open(desk, aloop, "Priya Raman")
    section = _section(panel, aloop)
    waiting = _ask_above_the_limit(desk, panel, aloop, "45")
    # The agent looks at another customer meanwhile: the answer comes as a note too.
    other = _open(desk, aloop, "Dorothy Hargreaves")
    assert desk.tabs.currentWidget() is other
    supervisor.decide(waiting.request_id, OverrideDecisionKind.APPROVE, "Of course", None)
    decided = time.perf_counter()
    aloop.until(lambda: waiting.view.status == OverrideStatus.APPROVED, timeout=5)
    assert time.perf_counter() - decided < ANSWER_WITHIN_S  # the feed (poll or NOTIFY), a read
    assert waiting.status.text().startswith("Approved by ")
    assert waiting.status.text().endswith(': tell the customer it is granted. "Of course"')
    toast = panel.authority.toast
    assert toast is not None and toast.isVisible()
    assert toast.title.text() == "Answer for Priya Raman"
    QTest.mouseClick(toast, Qt.MouseButton.LeftButton)
    aloop.until(lambda: desk.tabs.currentWidget() is panel)
    aloop.until(lambda: any(r.approved_by for r in section.model.rows))
    assert _concessions(engine, panel.customer_id) == [(4500, supervisor.user_id)]
    waiting.dismiss_button.click()
    aloop.until(lambda: not panel.authority.waiting)


def test_a_counter_offer_is_accepted_from_the_waiting_panel(
    desk: MainWindow, engine: Engine, supervisor: Supervisor, aloop: LoopRunner
) -> None:
    supervisor.available()
    panel = _open(desk, aloop, "Priya Raman")
    waiting = _ask_above_the_limit(desk, panel, aloop, "80")
    supervisor.decide(waiting.request_id, OverrideDecisionKind.COUNTER, "Half is fair", 4000)
    aloop.until(lambda: waiting.view.status == OverrideStatus.COUNTERED, timeout=5)
    assert waiting.accept_button.isVisible() and waiting.decline_button.isVisible()
    offer = _money(panel)(4000)
    assert waiting.accept_button.text() == f"&Accept {offer}"
    assert f"offers {offer} instead" in waiting.status.text()
    waiting.accept_button.click()
    aloop.until(lambda: waiting.view.concession_id is not None)
    assert not waiting.accept_button.isVisible()
    assert _concessions(engine, panel.customer_id) == [(4000, supervisor.user_id)]


def test_no_supervisor_available_is_said_at_once(
    desk: MainWindow, engine: Engine, aloop: LoopRunner
) -> None:
    panel = _open(desk, aloop, "Priya Raman")
    dialog = _ctrl_g(desk, panel, aloop)
    _type_ask(dialog, "45", "Engraving wrong")
    aloop.until(lambda: dialog.main_button.accessibleName() == "Ask a supervisor")
    QTest.keyClick(dialog.reason, Qt.Key.Key_Return)
    aloop.until(lambda: dialog.outcome is not None)
    assert dialog.result.text().startswith("No supervisor is available right now")
    assert dialog.isVisible() and not panel.authority.waiting
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(OverrideRequest)) == 0
    dialog.reject()


def test_the_countdown_ends_and_the_request_expires(
    desk: MainWindow, engine: Engine, supervisor: Supervisor, aloop: LoopRunner
) -> None:
    supervisor.available()
    panel = _open(desk, aloop, "Priya Raman")
    waiting = _ask_above_the_limit(desk, panel, aloop, "45")
    # Time passes (the request's, on the database's clock): its time to live was zero.
    with engine.begin() as conn:  # the administrator's engine: nobody else may write it
        conn.execute(
            update(OverrideRequest)
            .where(OverrideRequest.id == waiting.request_id)
            .values(expires_at=OverrideRequest.requested_at)
        )
    # The change bus brings the new expiry; the countdown ends; the panel has it expired.
    aloop.until(lambda: waiting.view.status == OverrideStatus.EXPIRED, timeout=10)
    assert waiting.status.text().startswith("Nobody answered in time")
    assert not waiting.withdraw_button.isVisible() and waiting.dismiss_button.isVisible()
    assert _concessions(engine, panel.customer_id) == []


def test_dorothy_qualifies_for_the_loyalty_exception_and_asks_for_the_fee(
    desk: MainWindow, engine: Engine, supervisor: Supervisor, aloop: LoopRunner
) -> None:
    """S7 from the agent's chair: the hint in sight, the fee prefilled, a supervisor asked."""
    supervisor.available()
    panel = _open(desk, aloop, "Dorothy Hargreaves")
    said = aloop.run(
        desk.bridge.run(desk.services.authority.policy_hints, panel.customer_id)  # type: ignore[union-attr] (connected)
    )
    fee = next(h for h in said if h.code == "EARLY_UPGRADE_FEE")
    # (The window's small seed ranks her value among few buyers: she may miss the top 10%.)
    assert fee.reasons[:2] == ("customer since 1997", "4 services in one bundle")
    # Under the header: the exceptions she qualifies for, in words; the others are not.
    strip = panel.authority.strip_hints
    assert [label.text() for label in strip.qualifying] == [
        words.hint_text(h) for h in said if h.qualifies
    ]
    assert strip.isVisible() == any(h.qualifies for h in said)
    if fee.qualifies:
        assert (
            strip.qualifying[0]
            .text()
            .startswith(
                "Qualifies for a loyalty exception to Early upgrade fee: customer since 1997, "
                "4 services in one bundle, top "
            )
        )
    # The Concessions section folds the others away behind "Why not…".
    section = _section(panel, aloop)
    folded = [h for h in said if not h.qualifies]
    assert section.hints.why_not.isVisible() == bool(folded)
    assert not section.hints.others.isVisible()
    if folded:
        section.hints.why_not.click()
        assert section.hints.others.isVisible()
        assert words.hint_text(folded[0]) in section.hints.others.text()
    dialog = _ctrl_g(desk, panel, aloop)
    dialog.choose_type(ConcessionType.FEE_WAIVER)
    assert dialog.policy.isVisible() and dialog.policy.currentData() == fee.policy_id
    assert dialog.amount.text() == "350.00"  # the policy's fee, in its currency
    assert dialog.currency.text() == fee.currency
    assert dialog.policy_hint.text() == words.hint_text(fee)
    dialog.reason.setFocus()
    QTest.keyClicks(dialog.reason, "Customer since 1997: upgrade to the new phone")
    aloop.until(lambda: dialog.main_button.accessibleName() == "Ask a supervisor")
    QTest.keyClick(dialog.reason, Qt.Key.Key_Return)
    aloop.until(lambda: bool(panel.authority.waiting))
    waiting = panel.authority.waiting[0]
    assert "Fee waiver of $350.00 (Early upgrade fee) for Dorothy" in waiting.title.text()
    waiting.withdraw_button.click()
    aloop.until(lambda: waiting.view.status == OverrideStatus.WITHDRAWN)
    assert waiting.status.text() == "You withdrew the request: nothing was granted."


def test_product_lookup_says_when_the_phone_launches(
    desk: MainWindow, engine: Engine, aloop: LoopRunner
) -> None:
    action = desk.menu_actions["products.lookup"]
    assert action.shortcut().toString() == "Ctrl+Shift+P"
    action.trigger()
    lookup = desk.product_lookup
    assert isinstance(lookup, ProductLookup)
    aloop.until(lambda: lookup.coming.rowCount() > 0)
    assert any(p.name == "Aurora X2 phone" for p in lookup.coming.rows)
    QTest.keyClicks(lookup.box, "aurora x2")
    aloop.until(lambda: lookup.model.rowCount() == 1)
    assert lookup.launch.isVisible() and lookup.launch.text().startswith("Launches from ")
    assert lookup.launch.text().endswith(", in two weeks")
    assert lookup.stock.text() == "Not in the stores yet."
    lookup.box.clear()
    QTest.keyClicks(lookup.box, "CLK-CHIME")
    aloop.until(lambda: [p.sku for p in lookup.model.rows] == ["CLK-CHIME-01"])
    assert lookup.summary.text().startswith("Kestrel Chiming Mantel Clock (CLK-CHIME-01) · $")
    assert lookup.stock.text() == stock_words(lookup.model.rows[0])
    # A product the stores carry: where, and when the next delivery comes where none is left.
    lookup.box.clear()
    QTest.keyClicks(lookup.box, "watch")
    aloop.until(lambda: any(p.stores for p in lookup.model.rows))
    row = next(i for i, p in enumerate(lookup.model.rows) if p.stores)
    lookup.table.selectRow(row)
    stocked = lookup.model.rows[row]
    assert lookup.stock.text() == stock_words(stocked)
    first = max(stocked.stores, key=lambda s: s[1])
    assert lookup.stock.text().startswith(store_text(first))
    lookup.close()


def test_the_ledger_refreshes_from_a_concession_made_on_another_desktop(
    desk: MainWindow, logins: Logins, aloop: LoopRunner
) -> None:
    panel = _open(desk, aloop, "Priya Raman")
    section = _section(panel, aloop)
    reads = panel.authority.section_reads
    other, elsewhere = logins.service(logins.login("agent02", Role.AGENT, "Sam Okafor"))
    try:
        outcome = other.grant(
            ConcessionAsk(panel.customer_id, ConcessionType.SAMPLE, 900, "Sample of the polish"),
            "another-desktop",
        )
    finally:
        elsewhere.dispose()
    assert outcome.ok, outcome.message
    aloop.until(lambda: len(section.model.rows) == 1, timeout=5)
    assert section.model.rows[0].type == ConcessionType.SAMPLE
    assert panel.authority.section_reads == reads + 1


def test_a_request_still_waiting_is_shown_again_when_the_customer_is_reopened(
    desk: MainWindow, supervisor: Supervisor, aloop: LoopRunner, request: pytest.FixtureRequest
) -> None:
    if supervisor.engine.dialect.name == "postgresql" and request.config.getoption("--any-hour"):
        # A request found waiting counts down on this machine's wall clock against the
        # server's expiry; --any-hour moves the first, never the second.
        pytest.skip("PostgreSQL's clock does not travel with --any-hour")
    supervisor.available()
    panel = _open(desk, aloop, "Priya Raman")
    waiting = _ask_above_the_limit(desk, panel, aloop, "45")
    request_id = waiting.request_id
    desk.tabs.close_tab(desk.tabs.indexOf(panel))
    desk.tabs.reopen_closed()
    aloop.until(lambda: desk.tabs.panels() != [])
    again = desk.tabs.panels()[0]
    aloop.until(lambda: again._authority is not None and again.authority.ready)
    assert [p.request_id for p in again.authority.waiting] == [request_id]
    shown = again.authority.waiting[0]
    assert shown.view.status == OverrideStatus.PENDING and shown.withdraw_button.isVisible()
    assert shown.clock.text().endswith("left")
