"""What a call shows: the toast that pops without taking focus, the wrap-up panel and
the status of each call source.

Signals (WrapUpPanel):
    submitted(WrapUpForm): what the agent filled in, with the wrap-up's idempotency
        key (made in `begin`, the same on every retry: CallService.wrap_up saves it once).

The wrap-up is a draft too: while it is open its text is kept in `WrapUpPanel.drafts`
under the call's key, and dropped once the wrap-up is saved.
"""

from __future__ import annotations

import datetime as dt
import html
import time
import uuid
from dataclasses import dataclass

from PySide6.QtCore import QDateTime, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.drafts import Draft, DraftKey, DraftStore
from ui import actions
from ui.widgets import DRAFT_SAVE_MS, plain_label

TOAST_MS = 8000
SOURCE_NAMES = {
    "handoff": "Softphone hand-off",
    "webhook": "Webhook",
    "ami": "Asterisk",
    "baresip": "baresip",
}
STATUS_COLOURS = {"connected": "#2e7d32", "listening": "#2e7d32", "connecting": "#ef6c00"}
PROBLEM_COLOUR = "#c62828"
DISPOSITIONS = ("resolved", "information", "order_placed", "complaint", "callback", "escalated")
CALLBACK_WINDOW_HOURS = 2  # the default width of a promised call-back window
NEW_CASE = -1  # "New case from this call…" in the wrap-up's case choice


@dataclass(frozen=True)
class WrapUpForm:
    """A wrap-up as the agent left it. `window` and `phone_id` matter with a follow-up."""

    interaction_id: int
    code: str
    summary: str
    follow_up: str
    client_key: str
    case_id: int | None  # the case the call was about; None: no case; NEW_CASE: a new one
    window: tuple[dt.datetime, dt.datetime] | None  # aware; when to call back
    phone_id: int | None  # the number to call back on


@dataclass(frozen=True)
class WrapUpChoices:
    """What the wrap-up offers for this caller: open cases (id, label), the suggested
    one, and numbers (id, label) with the ones to avoid marked."""

    cases: tuple[tuple[int, str], ...] = ()
    suggested_case: int | None = None
    phones: tuple[tuple[int, str], ...] = ()
    preferred_phone: int | None = None
    can_open_case: bool = False  # a known customer: a new case can start from the call


class CallToast(QFrame):
    """A small always-on-top note; it never takes keyboard focus from what the agent types."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            parent,
            Qt.WindowType.ToolTip
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.WindowDoesNotAcceptFocus,
        )
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setObjectName("callToast")
        self.setStyleSheet(
            "QFrame#callToast { background: #1f2328; border-radius: 8px; }"
            " QLabel { color: #ffffff; }"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        self.title = plain_label("", bold=True, point_delta=2)
        self.lines = plain_label("")
        layout.addWidget(self.title)
        layout.addWidget(self.lines)
        self._timer = QTimer(self, singleShot=True, interval=TOAST_MS)
        self._timer.timeout.connect(self.hide)

    def show_call(self, title: str, lines: list[str], anchor: QWidget) -> None:
        self.title.setText(title)
        self.lines.setText("\n".join(lines))
        self._place(anchor)
        self.show()
        self._timer.start()

    def add_lines(self, title: str, lines: list[str], anchor: QWidget) -> bool:
        """Lines read after the pop (the top suggestion, the churn risk) for the call shown;
        False when the toast is gone or shows another call."""
        if not lines or not self.isVisible() or self.title.text() != title:
            return False
        self.lines.setText("\n".join([self.lines.text(), *lines]))
        self._place(anchor)
        return True

    def _place(self, anchor: QWidget) -> None:
        self.adjustSize()
        corner = anchor.mapToGlobal(anchor.rect().bottomRight())
        self.move(corner.x() - self.width() - 16, corner.y() - self.height() - 16)


class WrapUpPanel(QFrame):
    submitted = Signal(object)  # WrapUpForm

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("wrapUp")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.interaction_id = 0
        self.client_key = ""
        layout = QVBoxLayout(self)
        header = QHBoxLayout()
        self.title = plain_label("Wrap-up", bold=True)
        self.timer_label = QLabel("")
        header.addWidget(self.title, 1)
        header.addWidget(self.timer_label)
        layout.addLayout(header)
        row = QHBoxLayout()
        self.code = QComboBox()
        self.code.setAccessibleName("Disposition code")
        self.code.addItems(DISPOSITIONS)
        row.addWidget(plain_label("Disposition"))
        row.addWidget(self.code)
        row.addWidget(plain_label("About"))
        self.case = QComboBox()
        self.case.setAccessibleName("Case this call was about")
        self.case.setToolTip("The call joins this case: its contact count moves")
        row.addWidget(self.case, 1)
        layout.addLayout(row)
        promise = QHBoxLayout()
        self.follow_up = QLineEdit()
        self.follow_up.setAccessibleName("Follow-up promise")
        self.follow_up.setPlaceholderText("Promise a call back (optional), e.g. Call back Friday")
        promise.addWidget(self.follow_up, 2)
        promise.addWidget(plain_label("between"))
        self.window_from = QDateTimeEdit()
        self.window_from.setAccessibleName("Call back from")
        self.window_until = QDateTimeEdit()
        self.window_until.setAccessibleName("Call back until")
        for edit in (self.window_from, self.window_until):
            edit.setDisplayFormat("ddd d MMM HH:mm")
            edit.setCalendarPopup(True)
        promise.addWidget(self.window_from)
        promise.addWidget(plain_label("and"))
        promise.addWidget(self.window_until)
        promise.addWidget(plain_label("on"))
        self.phone = QComboBox()
        self.phone.setAccessibleName("Number to call back on")
        promise.addWidget(self.phone, 1)
        layout.addLayout(promise)
        self.summary = QPlainTextEdit()
        self.summary.setAccessibleName("Call summary")
        self.summary.setPlaceholderText("What was the call about, what was agreed?")
        self.summary.setMaximumHeight(70)
        layout.addWidget(self.summary)
        self.save = QPushButton("Save wrap-up")
        self.save.setToolTip(actions.tooltip("wrap_up.save"))
        self.save.clicked.connect(self._submit)
        actions.bind("wrap_up.save", self, self._submit)
        self.message = plain_label("")
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.save)
        layout.addLayout(bottom)
        self._started = 0.0
        self._tick = QTimer(self, interval=1000)
        self._tick.timeout.connect(self._update_timer)
        self.drafts: DraftStore | None = None  # set by the window
        self.draft_key: DraftKey | None = None
        self._who = ""
        self._draft_timer = QTimer(self, singleShot=True, interval=DRAFT_SAVE_MS)
        self._draft_timer.timeout.connect(self._keep_draft)
        self.summary.textChanged.connect(self._draft_timer.start)
        self.follow_up.textChanged.connect(self._draft_timer.start)
        self.code.currentIndexChanged.connect(self._draft_timer.start)
        self.hide()

    def begin(
        self,
        interaction_id: int,
        who: str,
        talk_seconds: int | None,
        draft_key: DraftKey | None = None,
    ) -> None:
        self.keep_draft_now()  # a wrap-up left unsaved stays a draft
        self.draft_key = None  # clearing the fields below must not touch any draft
        self.interaction_id = interaction_id
        self.client_key = str(uuid.uuid4())
        self._who = who
        talk = f", talked {talk_seconds // 60}:{talk_seconds % 60:02d}" if talk_seconds else ""
        self.title.setText(f"Wrap-up: call with {who}{talk}")
        self.summary.clear()
        self.follow_up.clear()
        self.offer(WrapUpChoices())
        start = QDateTime.currentDateTime().addSecs(3600)
        start.setTime(start.time().addSecs(-(start.time().minute() * 60 + start.time().second())))
        self.window_from.setDateTime(start)
        self.window_until.setDateTime(start.addSecs(CALLBACK_WINDOW_HOURS * 3600))
        self.message.setText("")
        self._started = time.monotonic()
        self._update_timer()
        self._tick.start()
        self._draft_timer.stop()
        self.draft_key = draft_key
        self.show()

    def offer(self, choices: WrapUpChoices) -> None:
        """The caller's open cases (the suggested one chosen) and numbers."""
        self.case.clear()
        self.case.addItem("No case", None)
        for case_id, label in choices.cases:
            self.case.addItem(label, case_id)
        if choices.can_open_case:
            self.case.addItem("New case from this call…", NEW_CASE)
        chosen = self.case.findData(choices.suggested_case)
        self.case.setCurrentIndex(max(chosen, 0))
        self.case.setEnabled(self.case.count() > 1)
        self.phone.clear()
        self.phone.addItem("the number they called from", None)
        for phone_id, label in choices.phones:
            self.phone.addItem(label, phone_id)
        preferred = self.phone.findData(choices.preferred_phone)
        self.phone.setCurrentIndex(max(preferred, 0))

    def form(self) -> WrapUpForm:
        window = (
            _aware(self.window_from.dateTime()),
            _aware(self.window_until.dateTime()),
        )
        return WrapUpForm(
            interaction_id=self.interaction_id,
            code=self.code.currentText(),
            summary=self.summary.toPlainText(),
            follow_up=self.follow_up.text(),
            client_key=self.client_key,
            case_id=self.case.currentData(),
            window=window if self.follow_up.text().strip() else None,
            phone_id=self.phone.currentData(),
        )

    def restore(self, draft: Draft) -> None:
        """Fill the wrap-up from a recovered draft."""
        self.summary.setPlainText(draft.text)
        self.follow_up.setText(draft.extra.get("follow_up", ""))
        code = self.code.findText(draft.extra.get("code", ""))
        if code >= 0:
            self.code.setCurrentIndex(code)
        self._draft_timer.stop()  # it is the draft already
        self.message.setText("Unsaved wrap-up restored.")

    def _keep_draft(self) -> None:
        if self.drafts is None or self.draft_key is None:
            return
        summary, follow_up = self.summary.toPlainText(), self.follow_up.text()
        if not summary.strip() and not follow_up.strip():
            self.drafts.discard(self.draft_key)  # a disposition code alone is no draft
        else:
            self.drafts.put(
                self.draft_key,
                summary,
                label=f"call with {self._who}",
                extra={"follow_up": follow_up, "code": self.code.currentText()},
            )

    def keep_draft_now(self) -> None:
        if self._draft_timer.isActive():
            self._draft_timer.stop()
            self._keep_draft()

    def _update_timer(self) -> None:
        seconds = int(time.monotonic() - self._started)
        self.timer_label.setText(f"After-call work {seconds // 60}:{seconds % 60:02d}")

    def _submit(self) -> None:
        self.submitted.emit(self.form())

    def saved_elsewhere(self) -> None:
        """The key was used by an earlier save with other content: the next save is new."""
        self.client_key = str(uuid.uuid4())

    def finish(self) -> None:
        """The wrap-up is saved: its draft goes."""
        self._tick.stop()
        self._draft_timer.stop()
        if self.drafts is not None and self.draft_key is not None:
            self.drafts.discard(self.draft_key)
        self.draft_key = None
        self.hide()


def _aware(value: QDateTime) -> dt.datetime:
    """A local date-time from an editor, as an aware instant."""
    return value.toPython().astimezone()  # type: ignore[no-any-return]


class AdapterStatusBar(QWidget):
    """One indicator per call source: a coloured dot, its name and status; detail on hover."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(12)
        self.indicators: dict[str, QLabel] = {}

    def set_status(self, name: str, status: str, detail: str) -> None:
        label = self.indicators.get(name)
        if label is None:
            label = QLabel()
            label.setTextFormat(Qt.TextFormat.RichText)
            self.indicators[name] = label
            self._layout.addWidget(label)
        title = SOURCE_NAMES.get(name, name)
        colour = STATUS_COLOURS.get(status, PROBLEM_COLOUR)
        # Only our own words go in as rich text; the detail (peer text) is escaped.
        label.setText(f'<span style="color:{colour}">\u25cf</span> {html.escape(title)}: {status}')
        label.setToolTip(html.escape(f"{title}: {status}. {detail}".strip()))
        label.setAccessibleName(f"{title} {status}")
