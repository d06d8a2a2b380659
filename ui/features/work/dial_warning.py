"""Before dialling: warn when the number is one the customer asked us not to call.

`confirm_dial` shows the violations ("Not the mobile (415) 555-0100: she has no coverage
at home", "Ada asked not to be contacted by phone") and offers the allowed number with
one click, "Call anyway", or Cancel. It answers the number to dial, or None. The box is
opened with open(), never exec() (a nested loop breaks qasync); the coroutine waits on
its answer.
"""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from app.contact_rules import RuleCheck


def warning_box(
    parent: QWidget | None, check: RuleCheck, number: str, allowed_number: str | None
) -> tuple[QMessageBox, QPushButton | None, QPushButton]:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Call this number?")
    box.setText(f"Calling {number} goes against what the customer asked:")
    box.setInformativeText("\n".join(check.violations))
    allowed = None
    if allowed_number is not None and check.suggestion is not None:
        label = check.suggestion.route.label or allowed_number
        allowed = box.addButton(f"Call the {label}", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(allowed)
    anyway = box.addButton("Call anyway", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    return box, allowed, anyway


async def confirm_dial(
    parent: QWidget | None, check: RuleCheck, number: str, allowed_number: str | None
) -> str | None:
    """The number to dial after the warning (the allowed one, or `number`), or None."""
    if check.ok:
        return number
    box, allowed, anyway = warning_box(parent, check, number, allowed_number)
    answer: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

    def finished() -> None:
        clicked = box.clickedButton()
        if not answer.done():
            if allowed is not None and clicked is allowed:
                answer.set_result(allowed_number)
            elif clicked is anyway:
                answer.set_result(number)
            else:
                answer.set_result(None)
        box.deleteLater()

    box.finished.connect(finished)
    box.open()
    return await answer
