"""Take the screenshots in docs/screenshots/ from the running window.

    xvfb-run -s "-screen 0 1920x1080x24" .venv/bin/python scripts/screenshots.py --db URL

Uses whatever Qt platform is set (xcb under Xvfb, or offscreen).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

from app.config import load_settings
from app.telephony.events import CallEvent, CallState
from ui.bridge import DatabaseBridge
from ui.features.customer.panel import CustomerPanel
from ui.shell.main_window import MainWindow
from ui.theme import apply_theme

SIZES = ((1366, 768), (1920, 1080))


async def settle(app: QApplication, window: MainWindow, seconds: float = 0.4) -> None:
    # Only await: processEvents() inside a coroutine would re-enter the qasync loop.
    await asyncio.sleep(seconds)
    while window.bridge.running:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)


async def search(app: QApplication, window: MainWindow, text: str) -> None:
    window.search.box.setText(text)
    await asyncio.sleep(0.3)
    await settle(app, window)


async def shoot(app: QApplication, window: MainWindow, out: Path, name: str) -> None:
    await settle(app, window)
    path = out / f"{name}.png"
    window.grab().save(str(path))
    print(path)


def ringing(number: str, call_id: str, state: CallState) -> CallEvent:
    return CallEvent(
        call_id=call_id,
        number=number,
        name=None,
        line="agent01",
        state=state,
        at=dt.datetime.now(dt.UTC),
        source="screenshots",
    )


async def shoot_screen(app: QApplication, window: MainWindow, out: Path, name: str) -> None:
    """The whole screen: the toast is a window of its own, outside the main window."""
    await settle(app, window)
    path = out / f"{name}.png"
    frame = window.frameGeometry()
    app.primaryScreen().grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height()).save(
        str(path)
    )
    print(path)


async def run_calls(app: QApplication, db: str, out: Path) -> None:
    """S4's call: pop with the toast, wrap-up after hanging up, then the call log."""
    out.mkdir(parents=True, exist_ok=True)
    apply_theme(app, "light")
    bridge = DatabaseBridge()
    window = MainWindow(load_settings(cli={"db_url": db, "user": "agent01"}), bridge)
    window.show()
    await window.connect_database()
    for width, height in SIZES:
        window.setGeometry(0, 0, width, height)
        suffix = f"{width}x{height}"
        window.statusBar().clearMessage()
        call = f"shot-{width}"
        window.calls.handle_call(ringing("020 7946 0018", call, CallState.RINGING))
        await settle(app, window, 0.8)
        await shoot_screen(app, window, out, f"pop-toast-{suffix}")
        window.calls.handle_call(ringing("020 7946 0018", call, CallState.ANSWERED))
        await asyncio.sleep(2.2)
        window.calls.handle_call(ringing("020 7946 0018", call, CallState.ENDED))
        await settle(app, window, 0.6)
        window.calls.wrap_up.code.setCurrentText("complaint")
        window.calls.wrap_up.summary.setPlainText(
            "Engraving reads the wrong names; re-engraving promised for Saturday."
        )
        window.calls.wrap_up.follow_up.setText("Call back after delivery")
        await asyncio.sleep(1.2)
        await shoot_screen(app, window, out, f"wrap-up-{suffix}")
        window.calls.wrap_up.save.click()
        await settle(app, window, 0.6)
        missed = f"missed-{width}"
        window.calls.handle_call(ringing("+1 202 555 0111", missed, CallState.RINGING))
        await settle(app, window, 0.6)
        if window.tabs.new_customer_dialog is not None:
            window.tabs.new_customer_dialog.reject()  # nothing saved for an unknown caller
        window.calls.handle_call(ringing("+1 202 555 0111", missed, CallState.ENDED))
        await settle(app, window, 0.6)
        window.calls.toast.hide()
        window.show_call_log()
        await settle(app, window, 0.8)
        await shoot(app, window, out, f"call-log-{suffix}")
        window.tabs.close_tab(window.tabs.currentIndex())
    window.close()
    bridge.shutdown()
    if window.services:
        window.services.close()


async def shoot_with_dialog(
    app: QApplication, window: MainWindow, dialog: QWidget, out: Path, name: str
) -> None:
    """The window with a dialog over it where it stands (dialogs are windows of their own)."""
    await settle(app, window)
    picture = window.grab()
    painter = QPainter(picture)
    # Centred over the window, as a window manager places a dialog over its parent.
    offset = QPoint(
        (picture.width() - dialog.width()) // 2, (picture.height() - dialog.height()) // 3
    )
    painter.drawPixmap(offset, dialog.grab())
    painter.end()
    path = out / f"{name}.png"
    picture.save(str(path))
    print(path)


async def run_cases(app: QApplication, db: str, out: Path) -> None:
    """S4 worked as a case: the case tab, a hand-off, My work, an SLA near breach, and an
    edit conflict with another agent."""
    from app.services.cases import CaseConflict  # noqa: F401 (loaded with the services)
    from models.seed.story_customers import S2_COVERAGE_CASE_SUBJECT

    out.mkdir(parents=True, exist_ok=True)
    apply_theme(app, "light")
    bridge = DatabaseBridge()
    window = MainWindow(load_settings(cli={"db_url": db, "user": "agent01"}), bridge)
    window.show()
    await window.connect_database()
    assert window.services is not None
    case_id = await bridge.run(_near_breach, window.services)
    await bridge.run(_work_the_case, window.services, case_id)
    other = window.services.acting_as(
        dataclasses.replace(window.services.agent, login="agent02", display_name="agent02")
    )
    s2_case = await bridge.run(_case_named, window.services, S2_COVERAGE_CASE_SUBJECT)
    for width, height in SIZES:
        window.setGeometry(0, 0, width, height)
        suffix = f"{width}x{height}"
        window.tabs.close_all()
        panel = await window.tabs.load_case(case_id)
        assert panel is not None
        await settle(app, window, 0.8)
        await shoot(app, window, out, f"case-S4-{suffix}")
        panel.handoff_button.click()
        await settle(app, window, 0.6)
        dialog = panel.dialog
        dialog.department.setCurrentIndex(dialog.department.findText("Warehouse"))
        dialog.title.setText("Re-engrave: Priya & Kevin 10 years, ship by Friday")
        await shoot_with_dialog(app, window, dialog, out, f"handoff-{suffix}")
        dialog.reject()
        # A conflict on S2's case: another agent saves the subject while this one edits it.
        s2_panel = await window.tabs.load_case(s2_case)
        assert s2_panel is not None
        await settle(app, window, 0.6)
        s2_panel.subject_edit.setText("No coverage at home: engineer visit needed")
        detail = s2_panel.detail
        await bridge.run(
            other.cases.edit,
            detail.id,
            detail.version,
            {"subject": "No mobile coverage at home since spring"},
            detail.base(),
        )
        await s2_panel.save_edits()
        await settle(app, window, 0.6)
        await shoot_with_dialog(app, window, s2_panel.conflict_dialog, out, f"conflict-{suffix}")
        s2_panel.conflict_dialog.reject()
        restored = await bridge.run(window.services.cases.load, s2_case)
        await bridge.run(
            other.cases.edit,
            s2_case,
            restored.version,
            {"subject": S2_COVERAGE_CASE_SUBJECT},
            restored.base(),
        )
        window.show_my_work()
        await settle(app, window, 1.0)
        await shoot(app, window, out, f"my-work-{suffix}")
        from ui.shortcuts import ShortcutsDialog

        keys = ShortcutsDialog(window)
        keys.resize(min(900, width - 100), min(640, height - 100))
        keys.show()
        await shoot_with_dialog(app, window, keys, out, f"shortcuts-{suffix}")
        keys.close()
    window.close()
    bridge.shutdown()
    window.services.close()


def _case_named(services: Any, subject: str) -> int:
    from sqlalchemy import select

    from models.service import Case

    with services.db.read() as session:
        return int(session.scalars(select(Case.id).where(Case.subject == subject)).one())


def _work_the_case(services: Any, case_id: int) -> None:
    """What the first hour of S4 leaves on the case: a note, a hand-off, a reply."""
    from sqlalchemy import select

    from models.people import Department

    with services.db.read() as session:
        warehouse = session.scalar(select(Department.id).where(Department.code == "warehouse"))
    services.cases.add_note(case_id, "Engraver back tomorrow; jeweller can redo by 10:00.", True)
    services.handoffs.hand_off(
        case_id,
        warehouse,
        "Re-engrave: Priya & Kevin 10 years",
        "Wrong names engraved (Kelvin). Courier pick-up booked.",
        dt.datetime.now(dt.UTC) + dt.timedelta(hours=20),
    )
    services.cases.add_note(
        case_id, "Told Priya: re-engraved and delivered before Kevin's birthday.", False
    )


def _near_breach(services: Any) -> int:
    """A demo prop: the S4 complaint's clock with 25 business minutes left, so the
    countdown shows the warning colour whatever the hour the screenshots are taken."""
    from sqlalchemy import select

    from app.services import sla
    from models.seed.story_customers import S4_COMPLAINT_SUBJECT
    from models.service import Case

    now = dt.datetime.now(dt.UTC)
    with services.db.write() as session:
        case = session.scalars(select(Case).where(Case.subject == S4_COMPLAINT_SUBJECT)).one()
        clocks = sla.SlaClocks()
        if case.sla_policy_id is None:
            return case.id
        policy = clocks.policy(session, case.sla_policy_id)
        calendar = clocks.calendar(session, policy.calendar_id)
        case.sla_due_at = sla.add_business_minutes(calendar, now, 25)
        case.sla_breached_at = None
        return case.id


async def run_authority(app: QApplication, db: str, out: Path) -> None:
    """S7 from the agent's chair while Dorothy is on the line: the grant dialog with the
    check saying a supervisor must approve, the waiting panel with its countdown during
    the call, the answer arriving by itself, the Concessions section, the product lookup
    with the launch note. (A SQLite demo database: the supervisor is a second service as
    super01 on the same file, as another desktop would be.)"""
    out.mkdir(parents=True, exist_ok=True)
    apply_theme(app, "light")
    bridge = DatabaseBridge()
    window = MainWindow(load_settings(cli={"db_url": db, "user": "agent01"}), bridge)
    window.show()
    await window.connect_database()
    assert window.services is not None
    supervisor = _supervisor(db)
    try:
        for width, height in SIZES:
            window.setGeometry(0, 0, width, height)
            await agent_authority_shots(app, window, supervisor, out, f"{width}x{height}")
    finally:
        supervisor.engine.dispose()  # type: ignore[attr-defined] (set by _supervisor)
    window.close()
    bridge.shutdown()
    window.services.close()


def _supervisor(db: str) -> Any:
    """super01's AuthorityService on an engine of its own (another desktop)."""
    from app.agent import agent_named
    from app.services.authority import AuthorityService
    from models.database import Database, make_engine

    engine = make_engine(db)
    database = Database(engine)
    with database.read() as session:
        agent = agent_named(session, "super01", "screenshots", "super01@desk")
    service = AuthorityService(database, agent=agent)
    service.engine = engine  # type: ignore[attr-defined] (disposed by the caller)
    return service


async def agent_authority_shots(
    app: QApplication, window: MainWindow, supervisor: Any, out: Path, suffix: str
) -> None:
    from models.enums import ConcessionType, OverrideDecisionKind
    from models.seed.story_customers import S7_LAUNCH_PRODUCT, STORY_CUSTOMERS

    window.tabs.close_all()
    window.statusBar().clearMessage()
    dorothy = STORY_CUSTOMERS["S7"].phone_e164
    call = f"authority-{suffix}"
    window.calls.handle_call(ringing(dorothy, call, CallState.RINGING))
    await settle(app, window, 0.8)
    window.calls.handle_call(ringing(dorothy, call, CallState.ANSWERED))
    await settle(app, window, 0.8)
    window.calls.toast.hide()
    panel = window.tabs.currentWidget()
    assert isinstance(panel, CustomerPanel)
    await settle(app, window, 0.6)
    await asyncio.get_running_loop().run_in_executor(None, supervisor.set_presence, True)
    dialog = panel.authority.make_it_right()
    dialog.choose_type(ConcessionType.FEE_WAIVER)
    dialog.reason.setText("Customer since 1997, 4 services: wants the new phone 2 months in")
    dialog._edited()
    await settle(app, window, 0.8)
    await shoot_with_dialog(app, window, dialog, out, f"authority-grant-{suffix}")
    await dialog.act()
    await settle(app, window, 0.6)
    waiting = panel.authority.waiting[-1]
    await asyncio.sleep(2.2)  # the countdown runs
    await shoot(app, window, out, f"authority-waiting-{suffix}")
    await asyncio.get_running_loop().run_in_executor(
        None,
        supervisor.decide,
        waiting.request_id,
        OverrideDecisionKind.APPROVE,
        "Loyal customer: waive it. Offer the Aurora X2 launch too.",
        None,
    )
    for _ in range(40):
        if not waiting.withdraw_button.isVisible():
            break
        await asyncio.sleep(0.1)
    await shoot(app, window, out, f"authority-answer-{suffix}")
    panel.sections.setCurrentIndex(panel.sections.count() - 1)  # Concessions
    await settle(app, window, 0.8)
    await shoot(app, window, out, f"authority-concessions-{suffix}")
    waiting.dismiss_button.click()
    panel.sections.setCurrentIndex(0)
    window.show_product_lookup()
    lookup = window.product_lookup
    assert lookup is not None
    lookup.box.setText(S7_LAUNCH_PRODUCT.split()[0])
    await lookup.search(lookup.box.text())
    await settle(app, window, 0.6)
    await shoot_with_dialog(app, window, lookup, out, f"authority-products-{suffix}")
    # S4: is a chiming clock in stock, and where?
    lookup.box.setText("chiming")  # (the lookup matches the text as typed, in one piece)
    await lookup.search(lookup.box.text())
    await settle(app, window, 0.6)
    await shoot_with_dialog(app, window, lookup, out, f"authority-stock-{suffix}")
    lookup.close()
    window.calls.handle_call(ringing(dorothy, call, CallState.ENDED))
    await settle(app, window, 0.4)
    window.calls.wrap_up.hide()


async def run(app: QApplication, db: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for theme in ("light", "dark"):
        apply_theme(app, theme)
        bridge = DatabaseBridge()
        window = MainWindow(load_settings(cli={"db_url": db}), bridge)
        window.show()
        await window.connect_database()
        for width, height in SIZES:
            window.resize(width, height)
            suffix = f"{width}x{height}-{theme}"
            await search(app, window, "Whitfeld")
            await shoot(app, window, out, f"search-{suffix}")
            window.search.box.setText("617 555 0142")
            await asyncio.sleep(0.3)
            await settle(app, window)
            window.search._open_best()
            await settle(app, window, 0.6)
            await shoot(app, window, out, f"customer-S2-{suffix}")
            await search(app, window, "R20240417")
            window.search._open_best()
            await settle(app, window, 0.6)
            panel = window.tabs.currentWidget()
            if isinstance(panel, CustomerPanel):
                panel.sections.setCurrentIndex(1)
                for row, order in enumerate(panel.orders_model.rows):
                    if order.number == "R20240417":
                        panel.orders_table.selectRow(row)
                await settle(app, window, 0.6)
                await shoot(app, window, out, f"customer-S4-orders-{suffix}")
                panel.sections.setCurrentIndex(0)
        window.close()
        bridge.shutdown()
        if window.services:
            window.services.close()


# -- Suggested (S1, S2) ------------------------------------------------------------------


async def run_suggestions(app: QApplication, db: str, out: Path) -> None:
    """Next best action as agent01 sees it: S1's Eleanor with the Suggested section
    (what to offer, against her usual order, and why), then S2's Sandra with the churn
    badge in the header and its factors in words. Showing the section records the
    impressions (writes), harmlessly: a second run shows the same."""
    from models.seed.story_customers import STORY_CUSTOMERS

    out.mkdir(parents=True, exist_ok=True)
    apply_theme(app, "light")
    bridge = DatabaseBridge()
    window = MainWindow(load_settings(cli={"db_url": db, "user": "agent01"}), bridge)
    window.show()
    await window.connect_database()
    assert window.services is not None
    for width, height in SIZES:
        window.setGeometry(0, 0, width, height)
        suffix = f"{width}x{height}"
        for story, name in (("S1", "suggested"), ("S2", "churn")):
            window.tabs.close_all()
            window.statusBar().clearMessage()
            window.search.box.setText(STORY_CUSTOMERS[story].phone_raw)
            await asyncio.sleep(0.3)
            await settle(app, window)
            window.search._open_best()
            await settle(app, window, 0.8)
            panel = window.tabs.currentWidget()
            assert isinstance(panel, CustomerPanel)
            panel.sections.setCurrentIndex(panel.sections.count() - 1)  # Suggested
            await settle(app, window, 0.8)
            panel.suggested.setFocus()
            await shoot(app, window, out, f"{name}-{suffix}")
    window.close()
    bridge.shutdown()
    window.services.close()


# -- Approvals (S7, the supervisor's side) ----------------------------------------------


async def run_approvals(app: QApplication, db: str, out: Path) -> None:
    """S7 from the supervisor's desk, in single-user mode (the embedded database): agents
    ask, super01's queue shows them live beside the customer's relationship, one is
    approved; then the authority matrix as the admin edits it."""
    out.mkdir(parents=True, exist_ok=True)
    apply_theme(app, "light")
    bridge = DatabaseBridge()
    window = MainWindow(load_settings(cli={"db_url": db, "user": "super01"}), bridge)
    window.show()
    await window.connect_database()
    assert window.services is not None
    if window.services.agent.login != "super01":  # a database whose user is someone else
        window.connection.act_as(await bridge.run(window.services.acting_as_login, "super01"))
    services = window.services
    assert services is not None
    agents = [await bridge.run(services.acting_as_login, login) for login in ("agent01", "agent02")]
    await settle(app, window, 0.4)  # the first heartbeat: available
    asked = await bridge.run(_ask_overrides, services, agents)
    window.show_approvals()
    page = window.approvals.page
    assert page is not None
    await settle(app, window, 1.0)
    for row, view in enumerate(page.model.rows):
        if view.customer_name.startswith("Dorothy"):
            page.table.selectRow(row)
    window.calls.toast.hide()
    page.comment.setPlainText("Loyalty exception: 29 years, full bundle. Approved.")
    # The same requests at both sizes: the queue, then the confirmation (cancelled).
    for width, height in SIZES:
        window.setGeometry(0, 0, width, height)
        suffix = f"{width}x{height}"
        await settle(app, window, 0.8)
        await shoot(app, window, out, f"approvals-queue-{suffix}")
        page.approve()
        box = await page.wait_confirmation()
        await shoot_dialogs(app, window, [box], out, f"approvals-confirm-{suffix}")
        if width != SIZES[-1][0]:
            box.reject()
            await settle(app, window, 0.3)
    # Approved: the outcome stays said while the next request is shown.
    yes = next(b for b in box.buttons() if b.text() == "Approve")
    yes.click()
    await settle(app, window, 1.0)
    for width, height in SIZES:
        window.setGeometry(0, 0, width, height)
        await settle(app, window, 0.6)
        await shoot(app, window, out, f"approvals-decided-{width}x{height}")
    await bridge.run(_withdraw, agents, asked)
    await settle(app, window, 0.4)
    # The matrix as the admin sees it, and one row being edited.
    window.connection.act_as(await bridge.run(services.acting_as_login, "admin"))
    for width, height in SIZES:
        window.setGeometry(0, 0, width, height)
        suffix = f"{width}x{height}"
        window.approvals.show_matrix()
        dialog = window.approvals.matrix_dialog
        assert dialog is not None
        screen = window.geometry()
        dialog.resize(min(1080, screen.width() - 60), min(840, screen.height() - 100))
        await settle(app, window, 0.8)
        await shoot_dialogs(app, window, [dialog], out, f"authority-matrix-{suffix}")
        for row, limit in enumerate(dialog.model.rows):
            if limit.role is not None and limit.role.value == "agent":
                if limit.type.value == "goodwill_gift":
                    dialog.table.selectRow(row)
        dialog.edit_selected()
        editor = dialog.editor
        assert editor is not None
        editor.max_amount.setText("40.00")
        await shoot_dialogs(app, window, [dialog, editor], out, f"authority-limit-{suffix}")
        editor.reject()
        dialog.close()
        await settle(app, window, 0.3)
    await window.approvals.leave()
    window.close()
    bridge.shutdown()
    services.close()


def _framed(dialog: QWidget) -> QPixmap:
    """A dialog as a window manager frames it: a border and a title bar with its title
    (offscreen and under Xvfb without a window manager, a grab has neither)."""
    inner = dialog.grab()
    bar = 28
    picture = QPixmap(inner.width() + 2, inner.height() + bar + 1)
    picture.fill(QColor("#8c959f"))
    painter = QPainter(picture)
    painter.fillRect(1, 1, inner.width(), bar - 1, QColor("#dfe3e8"))
    font = painter.font()
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("#1f2328"))
    painter.drawText(
        QRect(1, 1, inner.width(), bar - 1), Qt.AlignmentFlag.AlignCenter, dialog.windowTitle()
    )
    painter.drawPixmap(1, bar, inner)
    painter.end()
    return picture


async def shoot_dialogs(
    app: QApplication, window: MainWindow, dialogs: list[QWidget], out: Path, name: str
) -> None:
    """The window with its dialogs over it, framed, each opened from the one before."""
    await settle(app, window, 0.4)
    picture = window.grab()
    painter = QPainter(picture)
    y = 0
    for n, dialog in enumerate(dialogs):
        framed = _framed(dialog)
        x = (picture.width() - framed.width()) // 2
        y = max(8, (picture.height() - framed.height()) // 3) if n == 0 else y + 90
        painter.drawPixmap(QPoint(x, y), framed)
    painter.end()
    path = out / f"{name}.png"
    picture.save(str(path))
    print(path)


def _ask_overrides(services: Any, agents: list[Any]) -> list[tuple[int, int]]:
    """S7's fee waiver (agent01) and S4's goodwill gift above the agent's limit (agent02):
    (agent index, request id) of each."""
    from app.services.authority import ConcessionAsk, new_key
    from models.enums import ConcessionType
    from models.seed.story_customers import S7_UPGRADE_FEE_CENTS

    def customer(name: str) -> int:
        return int(services.search.search(name)[0].customer_id)

    dorothy = customer("Dorothy Hargreaves")
    policy = next(
        h for h in services.authority.policy_hints(dorothy) if h.code == "EARLY_UPGRADE_FEE"
    )
    asks = [
        (
            0,
            ConcessionAsk(
                dorothy,
                ConcessionType.FEE_WAIVER,
                S7_UPGRADE_FEE_CENTS,
                "Customer since 1997 with landline, internet, TV and mobile; wants the new "
                "phone two months into her renewal. Loyalty exception: waive the fee.",
                currency=policy.currency,
                policy_id=policy.policy_id,
            ),
        ),
        (
            1,
            ConcessionAsk(
                customer("Priya Raman"),
                ConcessionType.GOODWILL_GIFT,
                12000,
                "Wrong names engraved on the anniversary watch; re-engraving promised "
                "before Kevin's birthday. A gift card for the trouble.",
                currency="GBP",
            ),
        ),
    ]
    asked = []
    for index, ask in asks:
        outcome = agents[index].authority.request_override(ask, new_key())
        if outcome.request_id is not None:
            asked.append((index, outcome.request_id))
    return asked


def _withdraw(agents: list[Any], asked: list[tuple[int, int]]) -> None:
    """What is left of the requests goes (the next size asks again)."""
    for index, request_id in asked:
        agents[index].authority.withdraw(request_id)


def main() -> None:
    global SIZES  # --size: the one size asked for, for every scenario
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--calls", action="store_true", help="only the screen-pop shots")
    parser.add_argument("--cases", action="store_true", help="only the case shots")
    parser.add_argument(
        "--approvals",
        action="store_true",
        help="only the supervisor's approval and authority matrix shots (SQLite demo database)",
    )
    parser.add_argument(
        "--authority", action="store_true", help="only the concession and override shots"
    )
    parser.add_argument(
        "--suggestions",
        action="store_true",
        help="only the Suggested section (S1) and the churn header (S2) shots",
    )
    parser.add_argument(
        "--duplicates",
        action="store_true",
        help="only the duplicate review and a merge (writes, then undoes it: a demo copy)",
    )
    parser.add_argument(
        "--dashboards", action="store_true", help="only the dashboards (super01, last quarter)"
    )
    parser.add_argument(
        "--size",
        choices=[f"{w}x{h}" for w, h in SIZES],
        help="only this window size (a scenario that writes, such as --authority, then "
        "starts from its own copy of the database for each size)",
    )
    args = parser.parse_args()
    if args.size:
        SIZES = tuple((w, h) for w, h in SIZES if f"{w}x{h}" == args.size)
    app = QApplication(sys.argv[:1])
    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        if args.duplicates:
            from screenshots_duplicates import run_duplicates  # beside this script

            shots = sys.modules[__name__]
            loop.run_until_complete(run_duplicates(app, args.db, Path(args.out), SIZES, shots))
            return
        from scripts.screenshot_dashboards import run_dashboards

        scenario = (
            run_dashboards
            if args.dashboards
            else run_calls
            if args.calls
            else run_cases
            if args.cases
            else run_approvals
            if args.approvals
            else run_authority
            if args.authority
            else run_suggestions
            if args.suggestions
            else run
        )
        loop.run_until_complete(scenario(app, args.db, Path(args.out)))


if __name__ == "__main__":
    main()
