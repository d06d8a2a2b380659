"""The window frame: the action registry (keys, menus, tooltips, F1), the GUI-thread SQL
guard in the running app, calls that ring while the database is down, how the status
bar names the database, and tooltips on table cells."""

from __future__ import annotations

import asyncio
import html
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QTabWidget, QWidget
from sqlalchemy import Engine, select

from app.config import load_settings, user_data_dir
from app.drafts import DraftKey
from app.telephony.events import CallState
from models.service import Interaction
from tests.conftest import LoopRunner
from tests.factories import call_event
from ui import actions
from ui.bridge import DatabaseBridge
from ui.features.customer.panel import CustomerPanel
from ui.shell.main_window import MainWindow
from ui.shortcuts import ShortcutsDialog
from ui.table_model import Column, RowTableModel


def _end_a_call_into_the_wrap_up(window: MainWindow, aloop: LoopRunner, call_id: str) -> None:
    for state in (CallState.RINGING, CallState.ANSWERED, CallState.ENDED):
        window.calls.handle_call(call_event("020 7946 0018", state, call_id))  # Priya Raman (S4)
        if state is CallState.RINGING:
            aloop.until(lambda: isinstance(window.tabs.currentWidget(), CustomerPanel))
        if state is CallState.ANSWERED:
            aloop.until(lambda: "On call" in window.calls.call_label.text())
    aloop.until(lambda: window.calls.wrap_up.isVisible())
    # Each step's Changes refresh the caller's tab: let the last refresh land first.
    aloop.until(lambda: window.bridge.running == 0)


# -- the registry --------------------------------------------------------------------


def test_ctrl_enter_in_the_wrap_up_saves_it(
    window: MainWindow, engine: Engine, aloop: LoopRunner, qtbot: Any
) -> None:
    _end_a_call_into_the_wrap_up(window, aloop, "wrap-1")
    assert "(Ctrl+Enter)" in window.calls.wrap_up.save.toolTip()
    window.activateWindow()
    window.calls.wrap_up.summary.setFocus()
    qtbot.keyClicks(window.calls.wrap_up.summary, "Engraving fixed")
    qtbot.keyClick(
        window.calls.wrap_up.summary, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier
    )
    aloop.until(lambda: not window.calls.wrap_up.isVisible())
    with engine.connect() as conn:
        summary = conn.scalar(select(Interaction.summary).where(Interaction.call_id == "wrap-1"))
    assert summary == "Engraving fixed"


def _press(target: QWidget, sequence: str) -> None:
    combination = QKeySequence(sequence)[0]
    QTest.keyClick(target, combination.key(), combination.keyboardModifiers())


def _owner(action: QAction) -> QWidget:
    owners = [o for o in action.associatedObjects() if isinstance(o, QWidget)]
    assert owners, f"{action.objectName()} is not added to any widget"
    return owners[0]


def _reveal(widget: QWidget) -> None:
    """Bring the tabs that hold `widget` to the front (a customer tab, its Notes section)."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QTabWidget):
            pages = [parent.widget(i) for i in range(parent.count())]
            parent.setCurrentWidget(next(p for p in pages if p is widget or p.isAncestorOf(widget)))
        parent = parent.parentWidget()


def test_every_declared_key_is_bound_and_fires_its_action(
    window: MainWindow, aloop: LoopRunner, qtbot: Any
) -> None:
    _end_a_call_into_the_wrap_up(window, aloop, "keys-1")
    panel = window.tabs.currentWidget()
    assert isinstance(panel, CustomerPanel)
    panel.ensure_all_sections()
    window.show_call_log()
    aloop.until(lambda: window.call_log is not None and window.call_log.model.rowCount() > 0)
    bound: dict[str, QAction] = {}
    for action in window.findChildren(QAction):
        if action.objectName() in {a.id for a in actions.ACTIONS}:
            assert action.objectName() not in bound, f"{action.objectName()} bound twice"
            bound[action.objectName()] = action
    declared = {a.id for a in actions.ACTIONS if a.scope is not actions.Scope.NATIVE}
    assert set(bound) == declared

    for spec in actions.ACTIONS:
        if spec.scope is actions.Scope.NATIVE:
            continue
        action = bound[spec.id]
        assert [k.toString() for k in action.shortcuts()] == [
            QKeySequence(k).toString() for k in spec.keys
        ]
        if not spec.keys:
            continue
        # Fire the key where it is meant to work, with the real slot unplugged (the
        # keys close tabs, open dialogs and quit), and see the action trigger.
        action.triggered.disconnect()
        fired: list[str] = []
        action.triggered.connect(lambda _c=False, name=spec.id, into=fired: into.append(name))
        owner = _owner(action)
        _reveal(owner)
        window.activateWindow()
        if spec.scope is actions.Scope.FOCUS:
            focus = owner.focusProxy() or next(
                w
                for w in [owner, *owner.findChildren(QWidget)]
                if w.focusPolicy() != Qt.FocusPolicy.NoFocus and w.isVisible()
            )
            focus.setFocus()
            aloop.until(lambda f=focus: QApplication.focusWidget() is f)
            target = focus
        else:
            target = window
        for keys in spec.keys:
            fired.clear()
            _press(target, keys)
            assert fired == [spec.id], f"{keys} did not trigger {spec.id} in {target!r}"


def test_window_keys_are_not_ambiguous() -> None:
    """Qt silently ignores a key two window actions claim; the registry must not."""
    seen: dict[str, str] = {}
    for spec in actions.ACTIONS:
        if spec.scope is actions.Scope.WINDOW:
            for keys in spec.keys:
                normal = QKeySequence(keys).toString()
                assert normal not in seen, f"{keys}: {seen.get(normal)} and {spec.id}"
                seen[normal] = spec.id


def test_menus_come_from_the_registry_with_help_and_quit(window: MainWindow) -> None:
    menus = {
        m.title(): [a.objectName() for a in m.actions() if not a.isSeparator()]
        for m in (a.menu() for a in window.menuBar().actions())
        if m is not None
    }
    assert list(menus) == list(actions.MENUS)
    for title in actions.MENUS:
        assert menus[title] == [a.id for a in actions.ACTIONS if a.menu == title]
    assert "app.quit" in menus["&File"] and "help.shortcuts" in menus["&Help"]
    assert "help.about" in menus["&Help"]
    quit_action = next(a for a in window.findChildren(QAction) if a.objectName() == "app.quit")
    assert quit_action.shortcut().toString() == "Ctrl+Q"


def test_f1_lists_exactly_the_registry_and_fits_1366x768(qtbot: Any) -> None:
    dialog = ShortcutsDialog()
    qtbot.addWidget(dialog)
    dialog.resize(dialog.width(), min(dialog.height(), 700))
    assert dialog.width() <= 1366 and dialog.height() <= 768
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.listed_ids() == [
        a.id
        for section in actions.SECTIONS
        for a in actions.ACTIONS
        if a.section == section and a.keys
    ]
    for row in range(dialog.table.rowCount()):
        spec_id = dialog.table.item(row, 0).data(Qt.ItemDataRole.UserRole)
        if spec_id:
            assert dialog.table.item(row, 0).text() == actions.spec(spec_id).keys_text
            assert dialog.table.item(row, 1).text() == actions.spec(spec_id).help
    table = dialog.table
    assert not table.horizontalScrollBar().isVisible()
    assert table.horizontalHeader().length() <= table.viewport().width()


def test_tooltips_name_the_keys_of_the_registry(window: MainWindow) -> None:
    assert window.calls.wrap_up.save.toolTip() == "Save the wrap-up (Ctrl+Enter)"
    assert window.indicators.call_log_button.toolTip() == actions.tooltip("call_log.show")
    assert window.search.new_button.toolTip() == actions.tooltip("customer.new")


# -- the SQL guard in the app -----------------------------------------------------------


def test_sql_on_the_gui_thread_is_logged_once_per_call_site(
    window: MainWindow, gui_sql_guard: Any, caplog: pytest.LogCaptureFixture
) -> None:
    assert window.services is not None
    gui_sql_guard.enabled = False  # the test guard raises; this one is the app's own
    try:
        with caplog.at_level(logging.WARNING, logger="app.sql_guard"):
            for _ in range(2):
                window.services.customers.first_customer_id()  # one site, called twice
            first = [r for r in caplog.records if r.name == "app.sql_guard"]
            window.services.customers.first_customer_id()  # another site
            both = [r for r in caplog.records if r.name == "app.sql_guard"]
    finally:
        gui_sql_guard.enabled = True
    assert len(first) == 1
    message = first[0].getMessage()
    assert message.startswith("SQL on the GUI thread")
    assert "test_shell.py" in message and "first_customer_id" in message  # the stack
    assert len(both) == 2


# -- calls while the database is down ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def offline_window(aloop: LoopRunner, qtbot: Any) -> Iterator[MainWindow]:
    settings = load_settings(cli={"db_url": f"postgresql://a@127.0.0.1:{_free_port()}/r"})
    bridge = DatabaseBridge()
    window = MainWindow(settings, bridge)
    qtbot.addWidget(window)
    window.show()
    yield window
    aloop.until(lambda: bridge.running == 0)
    bridge.shutdown()
    if window.services is not None:
        window.services.close()
    window.calls.toast.close()
    aloop.run(asyncio.sleep(0.05))


def test_calls_ringing_while_the_database_is_down_are_shown_then_popped(
    offline_window: MainWindow, engine: Engine, aloop: LoopRunner
) -> None:
    from models.seed import seed_database

    window = offline_window
    window.calls.handle_call(
        call_event("020 7946 0018", CallState.RINGING, "early-1")
    )  # before connecting
    aloop.run(window.connect_database())
    assert window.services is None and window.connection.error
    assert window.calls.toast.isVisible()
    shown = window.calls.toast.title.text() + "\n" + window.calls.toast.lines.text()
    assert "020 7946 0018" in shown and "cannot look up" in shown
    window.calls.handle_call(
        call_event("+1 617 555 0142", CallState.RINGING, "early-2")
    )  # still down
    shown = window.calls.toast.title.text() + "\n" + window.calls.toast.lines.text()
    assert "+1 617 555 0142" in shown and "020 7946 0018" in shown
    assert "+1 617 555 0142" in window.banner.text()

    seed_database(engine, 10, seed=2)
    window.connection.settings = load_settings(
        cli={"db_url": engine.url.render_as_string(hide_password=False)}
    )
    aloop.run(window.connect_database())
    assert window.services is not None
    aloop.until(
        lambda: (
            {
                window.tabs.widget(i).data.header.name
                for i in range(window.tabs.count())
                if isinstance(window.tabs.widget(i), CustomerPanel)
            }
            == {"Priya Raman", "Sandra Kowalski"}
        )
    )
    assert "020 7946 0018" not in window.banner.text() or not window.banner.isVisible()


# -- switching databases -------------------------------------------------------------------


def test_switching_databases_puts_the_open_wrap_up_away_as_a_draft_of_the_old_one(
    window: MainWindow, aloop: LoopRunner, tmp_path: Path
) -> None:
    assert window.services is not None
    old_identity = window.services.database_identity
    _end_a_call_into_the_wrap_up(window, aloop, "switch-1")
    interaction_id = window.calls.wrap_up.interaction_id
    window.calls.wrap_up.summary.setPlainText("Half-written before the switch")
    window.show_call_log()
    old_log = window.call_log
    other = tmp_path / "other.db"
    aloop.run(window.connection.switch(f"sqlite:///{other}"))
    assert window.services is not None and window.services.engine.url.database == str(other)
    # Its interaction id means nothing in the other database: no wrap-up to save there.
    assert not window.calls.wrap_up.isVisible() and len(window.calls.book) == 0
    draft = window.drafts.get(DraftKey.wrap_up(old_identity, interaction_id))
    assert draft is not None and draft.text == "Half-written before the switch"
    # The call log of the old database is gone; Ctrl+L makes one for the new database.
    assert window.call_log is None
    window.show_call_log()
    assert window.call_log is not None and window.call_log is not old_log
    assert window.call_log.calls is window.services.calls


# -- the status bar and rapportctl config show ---------------------------------------------


def test_the_status_bar_names_the_database_without_driver_or_password(
    window: MainWindow, engine: Engine
) -> None:
    shown = window.connection.db_label.text()
    assert "+" not in shown and "://" not in shown  # no sqlite+pysqlite, postgresql+psycopg
    if engine.dialect.name == "sqlite":
        assert shown.startswith("SQLite ") and Path(engine.url.database or "").name in shown
    else:
        where = f"PostgreSQL {engine.url.username}@{engine.url.host}"
        # The test server runs without TLS, which the status bar says (ui/shell/connection.py).
        assert shown in {
            f"{where}:{engine.url.port}/{engine.url.database} · not encrypted",
            f"{where}/{engine.url.database} · not encrypted",
        }


def test_describe_database_for_each_kind(isolated_config: Path) -> None:
    from app.config import describe_database

    demo = describe_database(load_settings())
    assert demo.startswith("Demo database (SQLite) ") and demo.endswith("demo.db")
    assert str(user_data_dir()).replace(str(Path.home()), "~") in demo
    shared = load_settings(
        cli={"db_url": "postgresql+psycopg://agent01:s3cret@dbhost/rapport?sslmode=verify-full"}
    )
    assert describe_database(shared) == "PostgreSQL agent01@dbhost/rapport"
    other_port = load_settings(cli={"db_url": "postgresql://agent01@dbhost:6432/rapport"})
    assert describe_database(other_port) == "PostgreSQL agent01@dbhost:6432/rapport"


def test_config_show_prints_the_demo_database_path(
    isolated_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out.splitlines()
    line = next(row for row in out if row.startswith("db_url"))
    assert "None" not in line
    assert str(user_data_dir() / "demo.db") in line and "(demo default)" in line


# -- table cells -------------------------------------------------------------------------


def test_text_cells_carry_their_full_text_as_a_tooltip(qtbot: Any) -> None:
    long_note = "Asked for <b>gift wrap</b> & a card; " * 12
    model: RowTableModel[tuple[str, str]] = RowTableModel(
        [
            Column("Note", lambda r: r[0], stretch=True),
            Column("Match", lambda r: r[1], tooltip=lambda r: "why"),
        ]
    )
    model.set_rows([(long_note, "phone"), ("", "email")])
    tip = model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert html.escape(long_note.strip()) in tip  # markup shown as text, not rendered
    assert "<b>gift" not in tip
    assert model.data(model.index(1, 0), Qt.ItemDataRole.ToolTipRole) is None  # empty cell
    assert "why" in model.data(model.index(0, 1), Qt.ItemDataRole.ToolTipRole)
