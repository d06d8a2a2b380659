"""Record how the customer felt (S5): a rating from 1 to 5, a comment, the channel.

Saving runs `record_feedback` (app/operations/teamwork.py) on a worker; the dialog then
stays open to show what came of it: the sentiment read from the comment, or why it was
not scored ("Sentiment not scored: text is in German; only English is supported"), and
the follow-up task made for a supervisor when the feedback is negative.

Signals:
    recorded(object): the `RecordedFeedback`, once saved.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserError
from ui.bridge import DatabaseBridge
from ui.widgets import plain_label

if TYPE_CHECKING:
    from app.bootstrap import Services  # the core loads after the first paint
    from app.services.feedback import RecordedFeedback

log = logging.getLogger(__name__)

RATING_WORDS = {1: "1 – very poor", 2: "2 – poor", 3: "3 – fair", 4: "4 – good", 5: "5 – excellent"}
# Channels feedback arrives on, as the `Channel` values (models/enums.py) and their words.
CHANNELS = [
    ("phone", "Phone"),
    ("email", "E-mail"),
    ("sms", "SMS"),
    ("chat", "Chat"),
    ("web", "Web form"),
    ("store", "In store"),
    ("social", "Social media"),
    ("mail", "Letter"),
]
SENTIMENT_COLOURS = {"positive": "#2e7d32", "neutral": "#59636e", "negative": "#c62828"}


class FeedbackDialog(QDialog):
    recorded = Signal(object)

    def __init__(
        self,
        bridge: DatabaseBridge,
        services: Services,
        customer_id: int,
        case_id: int | None,
        *,
        interaction_id: int | None = None,
        channel: str = "phone",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._services = services
        self.customer_id = customer_id
        self.case_id = case_id
        self.interaction_id = interaction_id
        self.recorded_feedback: RecordedFeedback | None = None
        self.setWindowTitle("Customer feedback")

        layout = QVBoxLayout(self)
        form = QFormLayout()
        ratings = QHBoxLayout()
        self.ratings = QButtonGroup(self)
        for value, words in RATING_WORDS.items():
            button = QRadioButton(words)
            button.setAccessibleName(f"Rating {value}")
            self.ratings.addButton(button, value)
            ratings.addWidget(button)
        form.addRow("Rating", ratings)
        self.comment = QPlainTextEdit()
        self.comment.setAccessibleName("Comment")
        self.comment.setPlaceholderText("What the customer said, in their words")
        form.addRow("Comment", self.comment)
        self.channel = QComboBox()
        self.channel.setAccessibleName("Channel")
        for code, words in CHANNELS:
            self.channel.addItem(words, code)
        self.channel.setCurrentIndex(max(0, self.channel.findData(channel)))
        form.addRow("Received by", self.channel)
        layout.addLayout(form)
        self.sentiment = plain_label("")
        self.sentiment.setAccessibleName("Sentiment")
        self.sentiment.setWordWrap(True)
        layout.addWidget(self.sentiment)
        self.status = plain_label("")
        self.status.setAccessibleName("Feedback status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.buttons = QDialogButtonBox()
        self.save_button = QPushButton("Save feedback")
        self.save_button.setDefault(True)
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.save_button.clicked.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def set_rating(self, value: int) -> None:
        button = self.ratings.button(value)
        if button is not None:
            button.setChecked(True)

    def submit(self) -> None:
        rating = self.ratings.checkedId()
        if rating < 1:
            self._say("Choose a rating from 1 to 5 first.", error=True)
            return
        self.save_button.setEnabled(False)
        self._say("Saving…")
        self._bridge.spawn(self._save(rating, self.comment.toPlainText()))

    async def _save(self, rating: int, text: str) -> None:
        from app.operations.teamwork import record_feedback
        from models.enums import Channel

        try:
            result = await self._bridge.perform(
                record_feedback,
                self._services,
                self.customer_id,
                self.case_id,
                rating,
                text,
                Channel(self.channel.currentData()),
                self.interaction_id,
            )
        except UserError as exc:
            self._failed(str(exc))
            return
        except Exception as exc:  # the typed comment stays; say what happened
            log.info("recording feedback failed: %s", type(exc).__name__)
            self._failed(f"Not saved, your text is kept: {exc}")
            return
        if not shiboken6.isValid(self.status):
            return
        self.recorded_feedback = result
        self.show_result(result)
        self.recorded.emit(result)

    def show_result(self, result: RecordedFeedback) -> None:
        sentiment = result.sentiment
        colour = SENTIMENT_COLOURS[sentiment.sentiment.value] if sentiment.supported else "#a15c00"
        self.sentiment.setText(sentiment.explanation)
        self.sentiment.setStyleSheet(f"color: {colour};")
        saved = "Already saved a moment ago." if result.duplicate else "Feedback saved."
        if result.follow_up_task_id is not None:
            who = result.follow_up_assignee or "the call centre's queue"
            saved += f" Negative: a follow-up task went to {who}."
        self._say(saved)
        self.save_button.setEnabled(False)  # saved: a second press would be a retry

    def _failed(self, text: str) -> None:
        if shiboken6.isValid(self.status):
            self._say(text, error=True)
            self.save_button.setEnabled(True)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c62828;" if error else "")


__all__ = ["FeedbackDialog"]
