"""Fuzz the window frame: how the status bar names a database, the tooltips of table
cells, and calls that ring while the database is down."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import re
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.config import describe_database, load_settings
from app.telephony.events import CallEvent, CallState
from tests.conftest import LoopRunner
from tests.fuzz.strategies import hostile_phone, hostile_text
from ui.bridge import DatabaseBridge
from ui.shell.main_window import MainWindow
from ui.table_model import Column, RowTableModel

PASSWORD = "Pw-9zQx-unlikely"


@given(user=hostile_text, host=hostile_text, database=hostile_text, raw=hostile_text)
def test_describe_database_never_fails_nor_shows_a_password(
    user: str, host: str, database: str, raw: str
) -> None:
    def part(text: str) -> str:  # as a URL carries it; unquoted text can move the ':'
        return quote(text, safe="", errors="surrogatepass")

    url_with_password = (
        f"postgresql+psycopg://{part(user)}:{PASSWORD}@{part(host)}/{part(database)}"
    )
    for url in (url_with_password, raw):
        settings = load_settings(cli={"db_url": url}, environ={})
        shown = describe_database(settings)
        assert isinstance(shown, str)
        assert PASSWORD not in shown
        assert "+psycopg" not in shown and "+pysqlite" not in shown
        assert PASSWORD not in str(settings.redacted()["db_url"])  # `config show`


@given(text=hostile_text)
def test_a_cell_tooltip_shows_the_text_as_written(qapp: Any, text: str) -> None:
    model: RowTableModel[str] = RowTableModel([Column("Note", lambda row: row)])
    model.set_rows([text])
    tip = model.data(model.index(0, 0), 3)  # Qt.ItemDataRole.ToolTipRole
    if not text:
        assert tip is None
        return
    body = re.fullmatch(r"<p>(.*)</p>", tip, re.DOTALL)
    assert body is not None
    assert "<" not in body.group(1).replace("<br>", "")  # no markup of the user's
    assert html.unescape(body.group(1).replace("<br>", "\n")) == text


@pytest.fixture(scope="module")
def offline_window(qapp: Any) -> Iterator[tuple[MainWindow, LoopRunner]]:
    import qasync

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    runner = LoopRunner(loop)
    bridge = DatabaseBridge()
    window = MainWindow(load_settings(cli={"db_url": f"postgresql://a@127.0.0.1:{port}/r"}), bridge)
    window.show()
    runner.run(window.connect_database())
    assert window.connection.error
    yield window, runner
    runner.until(lambda: bridge.running == 0)
    bridge.shutdown()
    window.calls.toast.close()
    window.close()
    window.deleteLater()
    runner.run(asyncio.sleep(0.05))
    loop.close()
    asyncio.set_event_loop(None)


@given(number=hostile_phone, state=st.sampled_from(list(CallState)))
def test_a_call_while_the_database_is_down_is_held_and_shown(
    offline_window: tuple[MainWindow, LoopRunner], number: str, state: CallState
) -> None:
    window, _runner = offline_window
    window.calls.book.held.clear()
    event = CallEvent(
        call_id="fuzz-1",
        number=number,
        name=None,
        line=None,
        state=state,
        at=dt.datetime.now(dt.UTC),
        source="test",
    )
    window.calls.handle_call(event)
    assert window.calls.book.held == [event]
    if state is CallState.RINGING and number:
        assert "cannot look up" in window.calls.toast.lines.text()
        assert window.banner.isVisible()
