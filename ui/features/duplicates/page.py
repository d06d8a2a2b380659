"""Duplicate customers (S8): the review queue, the two records side by side, a merge the
agent shapes field by field, "Not a duplicate", and the recent merges with Unmerge.

A tab of the main window (Tools > Duplicate customers…, F8). The queue lists the open
candidate pairs best score first; selecting one reads both records on a worker
(`MergeService.preview`) and shows, per field, a choice of which value survives (the
proposed one pre-selected: app/services/merge_views.py `default_choices`), what matched
(the evidence), and how many rows of each kind each customer has. Merge asks to confirm,
naming both customers and what moves; a conflict (someone edited one of them since) is
said in red and the pair is read again, so the agent reviews what is there now.

Keys: Alt+M merge, Alt+N not a duplicate, Alt+U unmerge the selected recent merge.
Every read and write goes through the bridge (no SQL on the GUI thread).

Signals:
    open_customer_requested(int): open this customer's record.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserError
from ui import formatting as fmt
from ui.bridge import DatabaseBridge
from ui.table_model import Column, RowTableModel
from ui.widgets import make_table, plain_label

if TYPE_CHECKING:  # SQLAlchemy is imported after the first paint
    from app.bootstrap import Services
    from app.services.merge_views import CandidateRow, MergePreview, MergeRow

log = logging.getLogger(__name__)
GOOD, BAD = "#2e7d32", "#b71c1c"

CANDIDATE_COLUMNS: list[Column[CandidateRow]] = [
    Column("Score", lambda c: f"{c.score:.0%}", align_right=True),
    Column("Customer", lambda c: f"{c.a_name} (#{c.a_id})"),
    Column("Looks like", lambda c: f"{c.b_name} (#{c.b_id})"),
    Column("Why", lambda c: c.reasons, stretch=True),
    Column("Found by", lambda c: c.found_by),
]
MERGE_COLUMNS: list[Column[MergeRow]] = [
    Column("When", lambda m: m.merged_at.astimezone().strftime("%Y-%m-%d %H:%M")),
    Column("Kept", lambda m: f"{m.survivor_name} (#{m.survivor_id})"),
    Column("Merged into it", lambda m: f"{m.merged_name} (#{m.merged_id})", stretch=True),
    Column("By", lambda m: m.merged_by),
    Column(
        "Undo",
        lambda m: "undone" if m.unmerged_at else ("possible" if m.can_unmerge else "too old"),
    ),
]


def kinds_in_words(counts: dict[str, int]) -> str:
    """ "3 orders, 1 case, 2 phones": what a customer has, by kind, largest first."""
    parts = []
    for key, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        if not n:
            continue
        table, column = key.split(".")
        name = table.replace("customer_", "").replace("_", " ")
        if column == "related_customer_id":
            name = "relations naming them"
        elif n == 1:  # "1 order", "1 address", "1 feedback"
            name = name[:-2] if name.endswith("sses") else name.removesuffix("s")
        parts.append(f"{n} {name}")
    return ", ".join(parts) or "nothing else"


class DuplicatesPage(QWidget):
    open_customer_requested = Signal(int)

    def __init__(self, services: Services, bridge: DatabaseBridge) -> None:
        super().__init__()
        self.services = services
        self.bridge = bridge
        self.preview: MergePreview | None = None
        self.choices: dict[str, QButtonGroup] = {}
        self.survivor = QButtonGroup(self)
        self.confirmation: QMessageBox | None = None
        self.evidence = QLabel()
        self.busy = False
        self.done: list[Any] = []  # what each merge, unmerge or dismissal returned
        self._generation = 0

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(plain_label("Duplicate customers", bold=True, point_delta=2))
        top.addStretch(1)
        self.count = plain_label("")
        top.addWidget(self.count)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        top.addWidget(refresh)
        layout.addLayout(top)

        splitter = QSplitter(Qt.Orientation.Vertical)
        self.model: RowTableModel[CandidateRow] = RowTableModel(CANDIDATE_COLUMNS, self)
        self.table = make_table(self.model, "Duplicate candidates")  # type: ignore[arg-type]
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._selected())
        splitter.addWidget(self.table)

        self.compare = QGroupBox("Side by side: choose the values to keep")
        self.grid = QGridLayout(self.compare)
        splitter.addWidget(self.compare)

        recent = QWidget()
        recent_layout = QVBoxLayout(recent)
        recent_layout.setContentsMargins(0, 0, 0, 0)
        recent_layout.addWidget(plain_label("Recent merges", bold=True))
        self.merges: RowTableModel[MergeRow] = RowTableModel(MERGE_COLUMNS, self)
        self.merge_table = make_table(self.merges, "Recent merges")  # type: ignore[arg-type]
        recent_layout.addWidget(self.merge_table)
        splitter.addWidget(recent)
        for index, stretch in enumerate((1, 4, 1)):  # the comparison gets the room
            splitter.setStretchFactor(index, stretch)
        layout.addWidget(splitter, 1)

        bottom = QHBoxLayout()
        self.outcome = plain_label("")
        self.outcome.setWordWrap(True)
        bottom.addWidget(self.outcome, 1)
        self.merge_button = QPushButton("&Merge…")
        self.merge_button.setToolTip("Merge the pair with the values chosen (asks to confirm)")
        self.merge_button.clicked.connect(self.merge)
        self.dismiss_button = QPushButton("&Not a duplicate")
        self.dismiss_button.setToolTip("Two different people: never propose the pair again")
        self.dismiss_button.clicked.connect(self.dismiss)
        self.unmerge_button = QPushButton("&Unmerge…")
        self.unmerge_button.setToolTip("Undo the selected recent merge (within 30 days)")
        self.unmerge_button.clicked.connect(self.unmerge)
        for button in (self.merge_button, self.dismiss_button, self.unmerge_button):
            bottom.addWidget(button)
        layout.addLayout(bottom)
        self._show_preview(None)

    # -- reading -------------------------------------------------------------------------

    def refresh(self) -> None:
        self.bridge.spawn(self._load())

    async def _load(self) -> None:
        merges = self.services.merges
        try:
            queue = await self.bridge.run(merges.queue)
            recent = await self.bridge.run(merges.recent_merges)
        except Exception as exc:
            log.exception("loading the duplicate queue failed")
            self._say(f"Could not load the duplicates: {exc}", False)
            return
        self.model.set_rows(queue)
        self.merges.set_rows(recent)
        self.count.setText(fmt.plural(len(queue), "pair") + " to review")
        if queue:
            self.table.selectRow(0)
        else:
            self._show_preview(None)

    def selected(self) -> CandidateRow | None:
        return self.model.row_at(self.table.currentIndex().row())

    def _selected(self) -> None:
        candidate = self.selected()
        if candidate is None:
            self._show_preview(None)
            return
        self.bridge.spawn(self._load_preview(candidate.id))

    async def _load_preview(self, candidate_id: int) -> None:
        self._generation += 1
        generation = self._generation
        try:
            preview = await self.bridge.run(self.services.merges.preview, candidate_id)
        except UserError as exc:
            self._say(str(exc), False)
            return
        if generation == self._generation:
            self._show_preview(preview)

    def _show_preview(self, preview: MergePreview | None) -> None:
        """The two records in the grid: a row per field, a radio button per value."""
        self.preview = preview
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.choices = {}
        self.survivor = QButtonGroup(self)
        self.merge_button.setEnabled(preview is not None)
        self.dismiss_button.setEnabled(preview is not None and preview.candidate_id is not None)
        if preview is None:
            self.grid.addWidget(QLabel("Select a pair to compare the two records."), 0, 0)
            return
        from app.services.merge_views import FIELDS, reasons

        sides = (preview.a, preview.b)
        self.grid.addWidget(plain_label("Keep the record of", bold=True), 0, 0)
        for column, side in enumerate(sides, start=1):
            radio = QRadioButton(f"{side.name} (#{side.id})")
            radio.setToolTip(f"{side.name}'s record stays; the other one is merged into it")
            self.survivor.addButton(radio, side.id)
            self.grid.addWidget(radio, 0, column)
        # The record with more history stays by default: fewer rows move.
        keep = preview.a if preview.a.rows >= preview.b.rows else preview.b
        button = self.survivor.button(keep.id)
        if button is not None:
            button.setChecked(True)
        row = 1
        for field, label in FIELDS.items():
            self.grid.addWidget(QLabel(label), row, 0)
            group = QButtonGroup(self)
            for column, side in enumerate(sides, start=1):
                value = side.values[field] or "—"
                radio = QRadioButton(value)
                radio.setObjectName(f"{field}-{side.id}")
                group.addButton(radio, side.id)
                self.grid.addWidget(radio, row, column)
                radio.setChecked(preview.defaults[field] == side.id)
                radio.setEnabled(side.values[field] != sides[2 - column].values[field])
            self.choices[field] = group
            row += 1
        for title, pick in (("Phones", "phones"), ("E-mails", "emails")):
            self.grid.addWidget(QLabel(title), row, 0)
            for column, side in enumerate(sides, start=1):
                self.grid.addWidget(QLabel(", ".join(getattr(side, pick)) or "—"), row, column)
            row += 1
        self.grid.addWidget(QLabel("Has"), row, 0)
        for column, side in enumerate(sides, start=1):
            kinds = kinds_in_words(side.counts)
            short = ", ".join(kinds.split(", ")[:3])
            has = QLabel(short if short == kinds else f"{short}, … ({side.rows} rows)")
            has.setToolTip(kinds)
            self.grid.addWidget(has, row, column)
        row += 1
        score = f"{preview.score:.0%} alike" if preview.score is not None else "chosen by hand"
        why = reasons(preview.evidence) or "no evidence recorded"
        self.evidence = QLabel(f"Evidence: {score}; matched on {why}")
        self.evidence.setWordWrap(True)
        self.grid.addWidget(self.evidence, row, 0, 1, 3)

    # -- deciding ------------------------------------------------------------------------

    def plan(self) -> tuple[int, int, dict[str, int]] | None:
        """(survivor, merged, choices) as the agent set them."""
        preview = self.preview
        if preview is None:
            return None
        survivor = self.survivor.checkedId()
        merged = preview.b.id if survivor == preview.a.id else preview.a.id
        # Only where the two differ: an equal value is nobody's to take.
        choices = {
            f: g.checkedId()
            for f, g in self.choices.items()
            if g.checkedId() > 0 and preview.a.values[f] != preview.b.values[f]
        }
        return survivor, merged, choices

    def merge(self) -> None:
        """Alt+M: confirm, naming both customers and what moves, then merge."""
        plan, preview = self.plan(), self.preview
        if plan is None or preview is None or self.busy or self.confirmation is not None:
            return
        survivor_id, merged_id, choices = plan
        sides = {preview.a.id: preview.a, preview.b.id: preview.b}
        survivor, merged = sides[survivor_id], sides[merged_id]
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Merge these customers?")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(f"Merge {merged.name} (#{merged.id}) into {survivor.name} (#{survivor.id})?")
        from app.services.merge_views import FIELDS

        changed = [FIELDS[f].lower() for f, chosen in choices.items() if chosen == merged.id]
        box.setInformativeText(
            f"Moves to {survivor.name}: {kinds_in_words(merged.counts)}.\n"
            + (f"Values taken from {merged.name}: {', '.join(changed)}.\n" if changed else "")
            + f"#{merged.id} stays as a merged record and opens {survivor.name}. "
            "An unmerge within 30 days restores both exactly."
        )
        yes = box.addButton("Merge", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(yes)
        versions = {preview.a.id: preview.a.version, preview.b.id: preview.b.version}

        def finished() -> None:
            self.confirmation = None
            if box.clickedButton() is yes:
                self.bridge.spawn(
                    self._merge(survivor_id, merged_id, choices, versions, preview.candidate_id)
                )
            box.deleteLater()

        box.finished.connect(finished)
        self.confirmation = box
        box.open()

    async def _merge(
        self,
        survivor_id: int,
        merged_id: int,
        choices: dict[str, int],
        versions: dict[int, int],
        candidate_id: int | None,
    ) -> None:
        from app.operations import merges as operations

        async def write() -> str:
            result = await self.bridge.perform(
                operations.merge_customers, self.services,
                survivor_id, merged_id, choices, versions, candidate_id,
            )  # fmt: skip
            self.done.append(result)
            moved = sum(result.moved.values())
            return f"Merged #{merged_id} into #{survivor_id}: {fmt.plural(moved, 'row')} moved."

        await self._write(write)

    def dismiss(self) -> None:
        """Alt+N: not the same person."""
        preview = self.preview
        if preview is None or preview.candidate_id is None or self.busy:
            return
        candidate_id = preview.candidate_id
        from app.operations import merges as operations

        async def write() -> str:
            self.done.append(
                await self.bridge.perform(operations.dismiss_candidate, self.services, candidate_id)
            )
            return f"{preview.a.name} and {preview.b.name}: not the same person, noted."

        self.bridge.spawn(self._write(write))

    def unmerge(self) -> None:
        """Alt+U: undo the selected recent merge (the service refuses after 30 days)."""
        row = self.merges.row_at(self.merge_table.currentIndex().row())
        if row is None or self.busy:
            return
        from app.operations import merges as operations

        async def write() -> str:
            result = await self.bridge.perform(operations.unmerge_customers, self.services, row.id)
            self.done.append(result)
            kept = f" (kept the edits since: {', '.join(result.kept_edits)})"
            return (
                f"Unmerged: {row.merged_name} (#{row.merged_id}) and {row.survivor_name} "
                f"(#{row.survivor_id}) are two customers again"
                + (kept if result.kept_edits else "")
                + "."
            )

        self.bridge.spawn(self._write(write))

    async def _write(self, write: Any) -> None:
        self.busy = True
        try:
            said = await write()
        except UserError as exc:  # a conflict, too old, moved since: one line, in red
            self._say(str(exc), False)
            if self.preview is not None and self.preview.candidate_id is not None:
                await self._load_preview(self.preview.candidate_id)
            return
        finally:
            self.busy = False
        self._say(said, True)
        await self._load()

    def _say(self, text: str, ok: bool) -> None:
        self.outcome.setText(text)
        self.outcome.setStyleSheet(f"color: {GOOD if ok else BAD};")

    async def wait_confirmation(self) -> QMessageBox:
        """The open confirmation (tests and the screenshots wait for it)."""
        while self.confirmation is None:
            await asyncio.sleep(0.01)
        return self.confirmation
