"""Edit a customer's name and contact details, with validation and conflict handling.

Opened with `open()` (never `exec()`, which would re-enter the qasync loop).
If someone else saved the customer meanwhile, both versions are shown side by
side and the agent chooses; nothing is overwritten silently and what the agent
typed is kept until they decide.

A save is an operation (`create_customer` / `save_contact` in
app/operations/customers.py) performed through the bridge, which publishes what it
changed: the customer's open tab refreshes from that, as from any other agent's edit.

A new customer is first checked for likely duplicates (duplicate_warning.py): if the
person may exist already, the form says so and "Open the existing one" is the default.

Signals:
    saved(object): the SavedContact after a successful save.
    open_existing(int): the agent chose an existing customer instead of creating one.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserError
from app.services.contacts import ContactConflict, ContactDetails, PhoneEdit, SavedContact
from ui.bridge import DatabaseBridge
from ui.widgets import plain_label

if TYPE_CHECKING:
    from app.bootstrap import Services  # the core loads after the first paint

PHONE_ROWS = 3
KINDS = ("mobile", "home", "work", "other")
BY_NUMBER = "by number"  # no choice: the number decides (a landline is "home")
log = logging.getLogger(__name__)


def describe(details: ContactDetails) -> str:
    lines = [f"{details.first_name} {details.last_name}", f"Language: {details.preferred_language}"]
    lines += [
        f"{p.kind or BY_NUMBER}: {p.raw}{' (primary)' if p.is_primary else ''}"
        for p in details.phones
    ]
    lines += [f"e-mail: {e}" for e in details.emails]
    flags = [
        n
        for n, on in (
            ("do not call", details.do_not_call),
            ("do not e-mail", details.do_not_email),
            ("no SMS", details.do_not_sms),
            ("no post", details.do_not_mail),
        )
        if on
    ]
    if flags:
        lines.append(", ".join(flags))
    return "\n".join(lines)


def prefilled(query: str, name: str | None = None, *, staged: bool = False) -> SavedContact:
    """A blank new customer with what the agent typed in the right field, and the
    caller's name as the call source sent it (first word first name, the rest last)."""
    import datetime as dt

    from app import phones

    text = query.strip()
    name_parts = ["", ""]
    phone_list: tuple[PhoneEdit, ...] = ()
    emails: tuple[str, ...] = ()
    if "@" in text:
        emails = (text,)
    elif phones.looks_like_phone(text):
        phone_list = (PhoneEdit(text, None, True),)
    else:
        first, _space, last = text.partition(" ")
        name_parts = [first.title(), last.title()]
    if name and name.strip() and not any(name_parts):
        # As sent: a carrier's "MCDONALD J" is not ours to re-case.
        first, _space, last = " ".join(name.split()).partition(" ")
        name_parts = [first, last]
    details = ContactDetails(
        first_name=name_parts[0],
        last_name=name_parts[1],
        preferred_language="en",
        phones=phone_list,
        emails=emails,
        staged=staged,
    )
    return SavedContact(
        customer_id=0, version=0, details=details, updated_at=dt.datetime.now(dt.UTC)
    )


class ContactDialog(QDialog):
    saved = Signal(object)
    open_existing = Signal(int)

    def __init__(
        self,
        contact: SavedContact,
        services: Services,
        bridge: DatabaseBridge,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.creating = contact.customer_id == 0
        self.staged = self.creating and contact.details.staged
        title = (
            "New caller (held until identified)"
            if self.staged
            else "New customer"
            if self.creating
            else "Edit contact details"
        )
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self._services = services
        self._bridge = bridge
        self._version = contact.version
        self.customer_id = contact.customer_id

        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.first_name = QLineEdit()
        self.first_name.setAccessibleName("First name")
        self.last_name = QLineEdit()
        self.last_name.setAccessibleName("Last name")
        self.language = QLineEdit()
        self.language.setAccessibleName("Preferred language")
        self.language.setMaxLength(8)
        form.addRow("&First name", self.first_name)
        form.addRow("&Last name", self.last_name)
        form.addRow("Lan&guage", self.language)
        layout.addLayout(form)

        phones_box = QGridLayout()
        phones_box.addWidget(plain_label("Phones (any format)", bold=True), 0, 0, 1, 3)
        self.phone_edits: list[tuple[QLineEdit, QComboBox, QRadioButton]] = []
        for row in range(PHONE_ROWS):
            number = QLineEdit()
            number.setAccessibleName(f"Phone {row + 1}")
            number.setPlaceholderText("+1 415 555 0134")
            kind = QComboBox()
            kind.addItems((BY_NUMBER, *KINDS))
            kind.setAccessibleName(f"Phone {row + 1} kind")
            kind.setToolTip("By number: a landline is saved as home, a mobile as mobile")
            primary = QRadioButton("primary")
            primary.setAccessibleName(f"Phone {row + 1} is primary")
            phones_box.addWidget(number, row + 1, 0)
            phones_box.addWidget(kind, row + 1, 1)
            phones_box.addWidget(primary, row + 1, 2)
            self.phone_edits.append((number, kind, primary))
        layout.addLayout(phones_box)

        layout.addWidget(plain_label("E-mail addresses (one per line)", bold=True))
        self.emails = QPlainTextEdit()
        self.emails.setAccessibleName("E-mail addresses")
        self.emails.setMaximumHeight(70)
        layout.addWidget(self.emails)

        flags = QHBoxLayout()
        self.do_not_call = QCheckBox("Do not call")
        self.do_not_email = QCheckBox("Do not e-mail")
        self.do_not_sms = QCheckBox("No SMS")
        self.do_not_mail = QCheckBox("No post")
        for box in (self.do_not_call, self.do_not_email, self.do_not_sms, self.do_not_mail):
            flags.addWidget(box)
        layout.addLayout(flags)

        self.message = plain_label("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c62828;")
        layout.addWidget(self.message)

        # Shown only when someone else saved meanwhile.
        self.conflict = QWidget()
        conflict_layout = QGridLayout(self.conflict)
        conflict_layout.addWidget(
            plain_label("Someone else changed this customer while you were editing.", bold=True),
            0,
            0,
            1,
            2,
        )
        conflict_layout.addWidget(plain_label("Saved now", bold=True), 1, 0)
        conflict_layout.addWidget(plain_label("Yours", bold=True), 1, 1)
        self.theirs_text = plain_label("")
        self.mine_text = plain_label("")
        conflict_layout.addWidget(self.theirs_text, 2, 0, Qt.AlignmentFlag.AlignTop)
        conflict_layout.addWidget(self.mine_text, 2, 1, Qt.AlignmentFlag.AlignTop)
        self.use_theirs = QPushButton("Use the saved version")
        self.use_theirs.clicked.connect(self._use_theirs)
        self.keep_mine = QPushButton("Save mine over it")
        self.keep_mine.clicked.connect(self._keep_mine)
        conflict_layout.addWidget(self.use_theirs, 3, 0)
        conflict_layout.addWidget(self.keep_mine, 3, 1)
        self.conflict.hide()
        layout.addWidget(self.conflict)

        from ui.features.customer.duplicate_warning import DuplicateWarning

        self.duplicates = DuplicateWarning()
        self.duplicates.open_existing.connect(self._open_existing)
        self.duplicates.save_anyway.connect(self._save_anyway)
        layout.addWidget(self.duplicates)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._pending: SavedContact | None = None
        self.fill(contact.details)

    def fill(self, details: ContactDetails) -> None:
        self.first_name.setText(details.first_name)
        self.last_name.setText(details.last_name)
        self.language.setText(details.preferred_language)
        for index, (number, kind, primary) in enumerate(self.phone_edits):
            phone = details.phones[index] if index < len(details.phones) else None
            number.setText(phone.raw if phone else "")
            kind.setCurrentText(phone.kind if phone and phone.kind else BY_NUMBER)
            primary.setChecked(bool(phone and phone.is_primary))
        self.emails.setPlainText("\n".join(details.emails))
        self.do_not_call.setChecked(details.do_not_call)
        self.do_not_email.setChecked(details.do_not_email)
        self.do_not_sms.setChecked(details.do_not_sms)
        self.do_not_mail.setChecked(details.do_not_mail)

    def details(self) -> ContactDetails:
        return ContactDetails(
            first_name=self.first_name.text(),
            last_name=self.last_name.text(),
            preferred_language=self.language.text(),
            phones=tuple(
                PhoneEdit(
                    number.text(),
                    None if kind.currentText() == BY_NUMBER else kind.currentText(),
                    primary.isChecked(),
                )
                for number, kind, primary in self.phone_edits
                if number.text().strip()
            ),
            emails=tuple(
                line.strip() for line in self.emails.toPlainText().splitlines() if line.strip()
            ),
            do_not_call=self.do_not_call.isChecked(),
            do_not_email=self.do_not_email.isChecked(),
            do_not_sms=self.do_not_sms.isChecked(),
            do_not_mail=self.do_not_mail.isChecked(),
            staged=self.staged,
        )

    def submit(self) -> None:
        if self.creating:
            self._bridge.spawn(self._check_then_save())
        else:
            self._bridge.spawn(self._save(self._version))

    async def _check_then_save(self) -> None:
        """Look for the person among the customers first; save only if nobody matches."""
        self.buttons.setEnabled(False)
        self.message.setText("Looking for this person among the customers…")
        try:
            matches = await self._bridge.run(
                self._services.duplicates.matches_for_details, self.details()
            )
        except Exception:  # the check only advises: the save reports a real failure
            log.exception("looking for duplicates failed")
            matches = []
        finally:
            self.buttons.setEnabled(True)
        if matches:
            self.message.setText("")
            self.duplicates.show_matches(matches)
            return
        await self._save(self._version)

    def _open_existing(self, customer_id: int) -> None:
        self.open_existing.emit(customer_id)
        self.reject()

    def _save_anyway(self) -> None:
        self._bridge.spawn(self._save(self._version, anyway=True))

    async def _save(self, version: int, *, anyway: bool = False) -> None:
        from app.operations import customers as operations  # the core loads after the paint
        from app.operations import duplicates

        self.buttons.setEnabled(False)
        self.message.setText("Saving…")
        try:
            if self.creating and anyway:
                saved = await self._bridge.perform(
                    duplicates.create_customer_anyway,
                    self._services,
                    self.details(),
                    self.duplicates.matches,
                )
            elif self.creating:
                saved = await self._bridge.perform(
                    operations.create_customer, self._services, self.details()
                )
            else:
                saved = await self._bridge.perform(
                    operations.save_contact,
                    self._services,
                    self.customer_id,
                    version,
                    self.details(),
                )
        except ContactConflict as conflict:
            self._show_conflict(conflict)
            return
        except UserError as exc:
            self.message.setText(str(exc))
            return
        except Exception as exc:  # the database went away: keep everything typed
            log.exception("saving contact details failed")
            self.message.setText(f"Not saved (your changes are kept): {exc}")
            return
        finally:
            self.buttons.setEnabled(True)
        self.message.setText("")
        self.saved.emit(saved)
        self.accept()

    def _show_conflict(self, conflict: ContactConflict) -> None:
        self._pending = conflict.current
        self.message.setText("")
        self.theirs_text.setText(describe(conflict.current.details))
        self.mine_text.setText(describe(conflict.mine))
        self.conflict.show()

    def _use_theirs(self) -> None:
        if self._pending is not None:
            self._version = self._pending.version
            self.fill(self._pending.details)
        self.conflict.hide()

    def _keep_mine(self) -> None:
        if self._pending is not None:
            self._version = self._pending.version
            self.conflict.hide()
            self._bridge.spawn(self._save(self._version))


__all__ = ["ContactDialog"]
