"""The teamwork widgets: presence bar and its heartbeat driver, macro picker, feedback dialog.

Each runs against a real database through the bridge, with SQL on the GUI thread
forbidden; what another agent does is done through the same bridge (on a worker).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPlainTextEdit, QWidget
from sqlalchemy import Engine

from app.agent import AgentContext
from app.bootstrap import Services, build_services
from app.config import load_settings
from app.services.presence import CasePresenceView, Claim, Viewer
from models.enums import MacroKind, PresenceActivity
from tests.conftest import LoopRunner
from tests.test_feedback import GERMAN, add_supervisors
from tests.test_presence import add_case_and_agents
from ui.bridge import DatabaseBridge
from ui.features.teamwork.feedback_dialog import FeedbackDialog
from ui.features.teamwork.macro_picker import MacroPicker
from ui.features.teamwork.presence import TONES, PresenceBar, PresenceDriver, presence_lines

pytestmark = pytest.mark.clock  # presence and feedback run on the real clock

NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)


class Desk:
    """Tom at his workstation (the widgets act as him) and Maria, acting elsewhere."""

    def __init__(self, engine: Engine) -> None:
        self.case_id, maria, tom = add_case_and_agents(engine)
        add_supervisors(engine)
        base = build_services(load_settings(), engine)
        self.tom: Services = base.acting_as(tom)
        self.maria: Services = base.acting_as(maria)
        self.maria_agent: AgentContext = maria
        self.bridge = DatabaseBridge()


@pytest.fixture
def desk(sqlite_engine: Engine, aloop: LoopRunner, gui_sql_guard: Any) -> Iterator[Desk]:
    made = Desk(sqlite_engine)
    gui_sql_guard.attach(made.tom.engine)
    yield made
    aloop.until(lambda: made.bridge.running == 0)
    gui_sql_guard.detach(made.tom.engine)
    made.bridge.shutdown()
    made.tom.close()
    made.bridge.deleteLater()
    aloop.run(asyncio.sleep(0.02))


def _maria_beats(desk: Desk, aloop: LoopRunner, activity: PresenceActivity) -> CasePresenceView:
    beat = aloop.run(desk.bridge.run(desk.maria.presence.heartbeat, desk.case_id, activity))
    return beat.view


# -- words and colours --------------------------------------------------------------


def test_presence_is_said_in_words() -> None:
    view = CasePresenceView(
        case_id=1,
        others=(
            Viewer(2, "Tom Baker", "tom@pc2", PresenceActivity.TYPING, NOW),
            Viewer(3, "Maria Lopez", "maria@pc1", PresenceActivity.VIEWING, NOW),
            Viewer(4, "Ines Park", "ines@pc4", PresenceActivity.TYPING, NOW),
        ),
        claim=Claim(2, "Tom Baker", NOW - dt.timedelta(minutes=2), False, PresenceActivity.TYPING),
        case_version=1,
    )
    lines = presence_lines(view, NOW)
    assert [(line.text, line.tone) for line in lines] == [
        ("Claimed by Tom Baker 2 min ago — replying now", "claimed"),
        ("Maria Lopez is viewing", "viewing"),
        ("Ines Park is typing…", "typing"),
    ]


def test_the_bar_colours_each_line_and_offers_the_claim(qtbot: Any) -> None:
    bar = PresenceBar()
    qtbot.addWidget(bar)
    mine = Claim(1, "Me", NOW, True, None)
    bar.show_presence(CasePresenceView(1, (), mine, 1), NOW)
    assert bar.texts == ["You claimed this case just now — you are replying"]
    assert TONES["mine"] in bar.labels[0].styleSheet()
    assert bar.claim_button.text() == "Release (done replying)"
    bar.show_presence(CasePresenceView(1, (), None, 1), NOW)
    assert bar.texts == [] and not bar.alone.isHidden()
    assert bar.claim_button.text() == "Claim (I'm replying)"


# -- the driver ---------------------------------------------------------------------


def test_heartbeats_run_while_the_tab_shows_and_stop_when_it_closes(
    desk: Desk, aloop: LoopRunner, qtbot: Any
) -> None:
    tab = QWidget()
    qtbot.addWidget(tab)
    bar = PresenceBar(tab)
    editor = QPlainTextEdit(tab)
    tab.show()
    driver = PresenceDriver(
        desk.bridge, desk.tom, desk.case_id, 1, bar, watched=tab, editor=editor, interval_ms=50
    )
    aloop.until(lambda: driver.beats >= 2)  # the timer beats on its own
    _maria_beats(desk, aloop, PresenceActivity.VIEWING)
    aloop.until(lambda: "Maria Lopez is viewing" in bar.texts)

    qtbot.keyClicks(editor, "Dear Sandra")
    assert driver.activity() == "typing"

    async def tom_seen_typing() -> None:
        while True:
            beat = await desk.bridge.run(desk.maria.presence.heartbeat, desk.case_id)
            if [v.activity for v in beat.view.others] == [PresenceActivity.TYPING]:
                return
            await asyncio.sleep(0.02)

    aloop.run(tom_seen_typing(), timeout=10)

    tab.hide()
    assert not driver.running
    tab.show()
    assert driver.running

    driver.close()
    assert not driver.running
    aloop.until(lambda: desk.bridge.running == 0)
    assert _maria_beats(desk, aloop, PresenceActivity.VIEWING).others == ()
    beats = driver.beats
    aloop.run(asyncio.sleep(0.2))
    assert driver.beats == beats  # no timer left behind
    driver.deleteLater()


def test_the_second_agent_sees_the_claim_and_is_refused_in_words(
    desk: Desk, aloop: LoopRunner, qtbot: Any
) -> None:
    tom_bar = PresenceBar()
    qtbot.addWidget(tom_bar)
    tom = PresenceDriver(desk.bridge, desk.tom, desk.case_id, 1, tom_bar, case_version=lambda: 1)
    aloop.until(lambda: tom.beats >= 1)
    qtbot.mouseClick(tom_bar.claim_button, Qt.MouseButton.LeftButton)
    aloop.until(lambda: tom_bar.texts[:1] == ["You claimed this case just now — you are replying"])

    maria_bar = PresenceBar()
    qtbot.addWidget(maria_bar)
    maria = PresenceDriver(desk.bridge, desk.maria, desk.case_id, 1, maria_bar)
    aloop.until(lambda: maria.beats >= 1)
    assert maria_bar.texts[0].startswith("Claimed by Tom Baker just now")
    assert TONES["claimed"] in maria_bar.labels[0].styleSheet()
    qtbot.mouseClick(maria_bar.claim_button, Qt.MouseButton.LeftButton)
    aloop.until(lambda: maria_bar.message.text() != "")
    assert maria_bar.message.text() == "Tom Baker is already replying to this case"
    assert maria_bar.claim_button.isEnabled()

    for driver in (tom, maria):
        driver.close()
        driver.deleteLater()


# -- macros ---------------------------------------------------------------------------


def test_enter_inserts_the_filled_in_macro(desk: Desk, aloop: LoopRunner, qtbot: Any) -> None:
    for name, body in (
        ("Apology + reference", "Sorry {{ customer.first_name }}, ref {{ case.reference }}."),
        ("Visit booked", "We come {{ promise.due }}."),
    ):
        aloop.run(desk.bridge.run(desk.tom.macros.create, name, MacroKind.REPLY, body, None))
    editor = QPlainTextEdit()
    qtbot.addWidget(editor)
    picker = MacroPicker(desk.bridge, desk.tom, desk.case_id, editor)
    qtbot.addWidget(picker)
    picker.load()
    aloop.until(lambda: picker.loaded)
    assert picker.visible_names() == ["Apology + reference", "Visit booked"]

    qtbot.keyClicks(picker.filter, "apol")
    assert picker.visible_names() == ["Apology + reference"]
    qtbot.keyClick(picker.filter, Qt.Key.Key_Return)
    aloop.until(lambda: editor.toPlainText() != "")
    assert editor.toPlainText() == "Sorry Sandra, ref CS-26-000001."

    picker.filter.clear()
    qtbot.keyClicks(picker.filter, "visit")
    qtbot.keyClick(picker.filter, Qt.Key.Key_Return)
    aloop.until(lambda: "no value" in picker.status.text())
    assert picker.status.text() == ("cannot fill the macro: promise.due has no value for this case")
    assert editor.toPlainText() == "Sorry Sandra, ref CS-26-000001."  # nothing inserted


# -- feedback -------------------------------------------------------------------------


def test_the_feedback_dialog_says_a_german_comment_was_not_scored(
    desk: Desk, aloop: LoopRunner, qtbot: Any
) -> None:
    dialog = FeedbackDialog(desk.bridge, desk.tom, 1, desk.case_id, channel="email")
    qtbot.addWidget(dialog)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.status.text() == "Choose a rating from 1 to 5 first."

    dialog.set_rating(2)
    dialog.comment.setPlainText(GERMAN)  # QTest types ASCII only
    with qtbot.waitSignal(dialog.recorded, timeout=5000) as saved:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        aloop.until(lambda: dialog.recorded_feedback is not None)
    assert saved.args[0].follow_up_task_id is not None
    assert dialog.sentiment.text() == (
        "Sentiment not scored: text is in German; only English is supported"
    )
    assert dialog.status.text().startswith("Feedback saved. Negative: a follow-up task went to")
    assert not dialog.save_button.isEnabled()
