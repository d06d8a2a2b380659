"""The import wizard (Tools > Import customers…, S8): file, kind and source; columns
mapped (a combo per column, mappings saved by name); the first 200 rows judged, the
rejected ones with their line and reasons; the import on a worker with a progress bar
and Cancel; the counts, and the rejected rows' file to open.

Every read and the import itself run through the bridge: the GUI thread holds no SQL.
A cancelled run stays "running" in `import_runs`: the same file again resumes it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.import_rules import FIELDS
from app.services.imports import ImportProgress, ImportRequest, ImportService, ImportSummary
from models.enums import ImportKind

SKIP = "(not imported)"
STEPS = ("File", "Columns", "Preview", "Import", "Done")


class ImportWizard(QDialog):
    """Five steps in one dialog; Back and Next move between them."""

    progressed = Signal(object)  # ImportProgress, emitted from the worker thread

    def __init__(self, services: Any, bridge: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import from a legacy system")
        self.resize(900, 600)
        self.bridge = bridge
        self.service = ImportService(
            services.db, actor=services.agent.login, region=services.settings.default_region
        )
        self.headers: list[str] = []
        self.summary: ImportSummary | None = None
        self._stop = threading.Event()
        self.step_label = QLabel()
        self.pages = QStackedWidget()
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        self.back = QPushButton("< Back")
        self.next = QPushButton("Next >")
        self.cancel = QPushButton("Close")
        self._build_pages()
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.back, self.next, self.cancel):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.step_label)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.back.clicked.connect(lambda: self._go(self.pages.currentIndex() - 1))
        self.next.clicked.connect(lambda: self.bridge.spawn(self._forward()))
        self.cancel.clicked.connect(self._cancel_or_close)
        self.progressed.connect(self._show_progress, Qt.ConnectionType.QueuedConnection)
        self._go(0)

    # -- pages -------------------------------------------------------------------------

    def _build_pages(self) -> None:
        first = QWidget()
        form = QFormLayout(first)
        self.path = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form.addRow("File (.csv or .xlsx)", row)
        self.kind = QComboBox()
        for kind in ImportKind:
            self.kind.addItem(kind.value.capitalize(), kind)
        form.addRow("What it holds", self.kind)
        self.source = QLineEdit()
        self.source.setPlaceholderText("the old system's name, e.g. oldcrm")
        form.addRow("Source", self.source)
        self.pages.addWidget(first)

        second = QWidget()
        box = QVBoxLayout(second)
        saved = QHBoxLayout()
        self.saved = QComboBox()
        self.saved.activated.connect(self._apply_saved)
        self.mapping_name = QLineEdit()
        self.mapping_name.setPlaceholderText("name to save this mapping as")
        save = QPushButton("Save mapping")
        save.clicked.connect(lambda: self.bridge.spawn(self._save_mapping()))
        saved.addWidget(QLabel("Saved:"))
        saved.addWidget(self.saved, 1)
        saved.addWidget(self.mapping_name, 1)
        saved.addWidget(save)
        box.addLayout(saved)
        self.columns = QTableWidget(0, 2)
        self.columns.setHorizontalHeaderLabels(["Column in the file", "Rapport field"])
        self.columns.horizontalHeader().setStretchLastSection(True)
        box.addWidget(self.columns, 1)
        self.pages.addWidget(second)

        third = QWidget()
        box = QVBoxLayout(third)
        self.preview_note = QLabel()
        self.only_rejected = QCheckBox("Only the rejected rows")
        self.only_rejected.toggled.connect(self._filter_preview)
        box.addWidget(self.preview_note)
        box.addWidget(self.only_rejected)
        self.preview = QTableWidget()
        self.preview.verticalHeader().setVisible(False)  # the Line column says where
        box.addWidget(self.preview, 1)
        self.pages.addWidget(third)

        fourth = QWidget()
        box = QVBoxLayout(fourth)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.progress_note = QLabel("Starting…")
        box.addWidget(self.progress_note)
        box.addWidget(self.bar)
        box.addStretch(1)
        self.pages.addWidget(fourth)

        fifth = QWidget()
        box = QVBoxLayout(fifth)
        self.counts = QLabel()
        self.counts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_rejected = QPushButton("Open the rejected rows file")
        self.open_rejected.clicked.connect(self._open_rejected)
        box.addWidget(self.counts)
        box.addWidget(self.open_rejected)
        box.addStretch(1)
        self.pages.addWidget(fifth)

    def _go(self, index: int) -> None:
        index = max(0, min(index, len(STEPS) - 1))
        self.pages.setCurrentIndex(index)
        self.error.clear()
        names = " > ".join(f"<b>{s}</b>" if i == index else s for i, s in enumerate(STEPS))
        self.step_label.setText(names)
        self.back.setEnabled(index in (1, 2))
        self.next.setVisible(index < 3)
        self.next.setText("Import" if index == 2 else "Next >")
        self.cancel.setText("Cancel" if index == 3 else "Close")

    # -- steps -------------------------------------------------------------------------

    def _browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Legacy file", "", "Tables (*.csv *.xlsx *.txt)"
        )
        if name:
            self.path.setText(name)

    def _kind(self) -> ImportKind:
        return ImportKind(self.kind.currentData())

    def _mapping(self) -> dict[str, str]:
        chosen = {}
        for row, header in enumerate(self.headers):
            combo = self.columns.cellWidget(row, 1)
            assert isinstance(combo, QComboBox)
            if combo.currentData():
                chosen[header] = str(combo.currentData())
        return chosen

    def _request(self) -> ImportRequest:
        return ImportRequest(
            Path(self.path.text().strip()), self._kind(), self.source.text(), self._mapping()
        )

    async def _forward(self) -> None:
        step = self.pages.currentIndex()
        self.next.setEnabled(False)
        try:
            if step == 0:
                await self._load_columns()
            elif step == 1:
                await self._load_preview()
            elif step == 2:
                await self._import()
        except Exception as exc:  # a UserError's message is written for this label
            self.error.setText(str(exc))
            if self.pages.currentIndex() == 3:
                self._go(2)
        finally:
            self.next.setEnabled(True)

    async def _load_columns(self) -> None:
        if not self.source.text().strip():
            raise ValueError("Name the source (the old system), e.g. oldcrm")
        path, kind = Path(self.path.text().strip()), self._kind()
        self.headers, guessed = await self.bridge.run(self.service.headers, path, kind)
        saved = await self.bridge.run(self.service.mappings, kind)
        self.saved.clear()
        self.saved.addItem("(guessed from the column names)", guessed)
        for mapping in saved:
            self.saved.addItem(mapping.name, mapping.mapping)
        self._fill_columns(guessed)
        self._go(1)

    def _fill_columns(self, mapping: dict[str, str]) -> None:
        self.columns.setRowCount(len(self.headers))
        for row, header in enumerate(self.headers):
            self.columns.setItem(row, 0, QTableWidgetItem(header))
            combo = QComboBox()
            combo.addItem(SKIP, "")
            for spec in FIELDS[self._kind()]:
                combo.addItem(spec.label + (" *" if spec.required else ""), spec.name)
            combo.setCurrentIndex(max(0, combo.findData(mapping.get(header, ""))))
            self.columns.setCellWidget(row, 1, combo)

    def _apply_saved(self, index: int) -> None:
        mapping = self.saved.itemData(index)
        if isinstance(mapping, dict):
            self._fill_columns(mapping)

    async def _save_mapping(self) -> None:
        try:
            await self.bridge.run(
                self.service.save_mapping, self.mapping_name.text(), self._kind(), self._mapping()
            )
        except Exception as exc:
            self.error.setText(str(exc))
            return
        self.saved.addItem(self.mapping_name.text().strip(), self._mapping())
        self.error.setText(f"Mapping {self.mapping_name.text().strip()!r} saved.")

    async def _load_preview(self) -> None:
        request = self._request()
        preview = await self.bridge.run(
            self.service.preview, request.path, request.kind, request.mapping
        )
        self.preview.clear()
        self.preview.setColumnCount(len(preview.headers) + 2)
        self.preview.setHorizontalHeaderLabels(["Line", "Reasons", *preview.headers])
        self.preview.setRowCount(len(preview.rows))
        for r, row in enumerate(preview.rows):
            cells = [str(row.line), "; ".join(row.reasons), *row.cells]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text[:200])
                if row.reasons:
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.preview.setItem(r, c, item)
        self.preview.resizeColumnToContents(0)
        self.preview.setColumnWidth(1, 320)
        self.preview_note.setText(
            f"The first {len(preview.rows)} rows ({preview.encoding}): "
            f"{preview.rejected} would be rejected, with their line and reasons."
        )
        self._filter_preview(self.only_rejected.isChecked())
        self._go(2)

    def _filter_preview(self, only_rejected: bool) -> None:
        for r in range(self.preview.rowCount()):
            item = self.preview.item(r, 1)
            self.preview.setRowHidden(r, only_rejected and not (item and item.text()))

    async def _import(self) -> None:
        request = self._request()
        self._stop.clear()
        self._go(3)
        self.summary = await self.bridge.run(
            self.service.run, request, self.progressed.emit, self._stop.is_set
        )
        self._show_summary(self.summary)

    def _show_progress(self, step: ImportProgress) -> None:
        self.bar.setValue(step.bytes_done * 1000 // max(step.bytes_total, 1))
        self.progress_note.setText(f"{step.rows:,} rows read (line {step.line:,})")

    def _show_summary(self, summary: ImportSummary) -> None:
        stopped = "\n" + summary.message if summary.message else ""
        self.counts.setText(
            f"Read {summary.read:,}: imported {summary.imported:,}, updated "
            f"{summary.updated:,}, unchanged {summary.unchanged:,}, rejected "
            f"{summary.rejected:,}.\nDuplicate candidates queued for review: "
            f"{summary.duplicate_candidates:,}.\nRejected rows: {summary.rejected_file}" + stopped
        )
        self.open_rejected.setEnabled(summary.rejected > 0)
        self._go(4)

    def _open_rejected(self) -> None:
        if self.summary is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.summary.rejected_file))

    def _cancel_or_close(self) -> None:
        if self.pages.currentIndex() == 3:
            self._stop.set()  # the worker stops after its batch; the run can resume
            self.progress_note.setText("Stopping after this batch…")
            return
        self.close()
