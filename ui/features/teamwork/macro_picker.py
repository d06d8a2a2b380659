"""The macro picker: type to filter the team's macros, Enter puts the filled-in text in.

The list comes from `MacroService.list_macros` (the agent's team and the shared ones);
the chosen macro is filled in for the case on a worker (`MacroService.render`, in the
sandbox of app/macros.py) and inserted at the cursor of the target editor. A macro that
cannot be filled in (a placeholder this case has no value for, a refused template) says
why under the list and inserts nothing.

Signals:
    inserted(str): the text put into the editor.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserError
from ui.bridge import DatabaseBridge
from ui.widgets import plain_label

if TYPE_CHECKING:
    from app.bootstrap import Services  # the core loads after the first paint
    from app.services.macros import MacroRow

log = logging.getLogger(__name__)

_MACRO_ID = Qt.ItemDataRole.UserRole


class MacroPicker(QWidget):
    inserted = Signal(str)

    def __init__(
        self,
        bridge: DatabaseBridge,
        services: Services,
        case_id: int,
        target: QPlainTextEdit,
        *,
        kind: str | None = None,  # "reply" or "note"; None: both
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._services = services
        self.case_id = case_id
        self.target = target
        self._kind = kind
        self._macros: list[MacroRow] = []
        self.loaded = False
        self.busy = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Type to find a macro, Enter to insert it")
        self.filter.setAccessibleName("Find a macro")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.filter.returnPressed.connect(self.insert_current)
        self.filter.installEventFilter(self)  # Up and Down move in the list
        layout.addWidget(self.filter)
        self.list = QListWidget()
        self.list.setAccessibleName("Macros")
        self.list.itemActivated.connect(lambda _item: self.insert_current())
        layout.addWidget(self.list, 1)
        self.status = plain_label("Loading macros…")
        self.status.setAccessibleName("Macro status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

    def load(self) -> None:
        """Fetch the macros (on a worker); call once after building, and when reopened."""
        self._bridge.spawn(self._load())

    def insert_current(self) -> None:
        item = self.list.currentItem()
        if item is None or item.isHidden():
            self._say("No macro matches; change the filter.", error=True)
            return
        if not self.busy:
            self._bridge.spawn(self._insert(int(item.data(_MACRO_ID))))

    def visible_names(self) -> list[str]:
        return [
            self.list.item(i).text()
            for i in range(self.list.count())
            if not self.list.item(i).isHidden()
        ]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.filter and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1}.get(Qt.Key(event.key()))
            if step is not None:
                self._move(step)
                return True
        return False

    async def _load(self) -> None:
        from models.enums import MacroKind

        kind = MacroKind(self._kind) if self._kind else None
        try:
            macros = await self._bridge.run(self._services.macros.list_macros, kind)
        except Exception as exc:
            log.info("listing macros failed: %s", type(exc).__name__)
            self._say(f"Macros could not be loaded: {exc}", error=True)
            return
        if not shiboken6.isValid(self.list):
            return
        self._macros = macros
        self.list.clear()
        for macro in macros:
            item = QListWidgetItem(macro.name)
            item.setData(_MACRO_ID, macro.id)
            item.setToolTip(macro.body)
            self.list.addItem(item)
        self.loaded = True
        self._say("" if macros else "Your team has no macros yet.")
        self._apply_filter(self.filter.text())

    async def _insert(self, macro_id: int) -> None:
        self.busy = True
        try:
            rendered = await self._bridge.run(self._services.macros.render, macro_id, self.case_id)
        except UserError as exc:
            self._say(str(exc), error=True)
            return
        except Exception as exc:
            log.info("filling in a macro failed: %s", type(exc).__name__)
            self._say(f"The macro could not be filled in: {exc}", error=True)
            return
        finally:
            self.busy = False
        if not shiboken6.isValid(self.target):
            return
        self.target.insertPlainText(rendered.text)
        self.target.setFocus()
        self._say(f"Inserted “{rendered.name}”.")
        self.inserted.emit(rendered.text)

    def _apply_filter(self, text: str) -> None:
        words = text.casefold().split()
        first_visible = None
        for i in range(self.list.count()):
            item = self.list.item(i)
            macro = self._macros[i] if i < len(self._macros) else None
            haystack = f"{item.text()} {macro.body if macro else ''}".casefold()
            hidden = not all(word in haystack for word in words)
            item.setHidden(hidden)
            if not hidden and first_visible is None:
                first_visible = item
        current = self.list.currentItem()
        if first_visible is None:
            self.list.setCurrentRow(-1)
        elif current is None or current.isHidden():
            self.list.setCurrentItem(first_visible)

    def _move(self, step: int) -> None:
        rows = [i for i in range(self.list.count()) if not self.list.item(i).isHidden()]
        if not rows:
            return
        current = self.list.currentRow()
        at = rows.index(current) if current in rows else -step
        self.list.setCurrentRow(rows[max(0, min(len(rows) - 1, at + step))])

    def _say(self, text: str, *, error: bool = False) -> None:
        if shiboken6.isValid(self.status):
            self.status.setText(text)
            self.status.setStyleSheet("color: #c62828;" if error else "")


__all__ = ["MacroPicker"]
