"""Importing a legacy file (S8): every row accounted for, in batches that survive a crash.

The run is written first (status running) and each batch commits its rows, its counts
and `last_line` together, so after a crash the same file (same source, kind and SHA-256)
resumes after the last committed line, and `read = imported + updated + unchanged +
rejected` holds at every commit (the table's CHECK says so). Rejected rows go to a CSV
with their line and reasons, formulas neutralised, fixable and importable again. A
file-level failure (truncated, bad encoding) marks the run failed with its message:
what the batches before it wrote stays, recorded by the run, never half-hidden.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select

import models.schema  # noqa: F401  (every table mapped: orders and interactions name stores)
from app.clock import Clock, system_clock
from app.errors import UserError
from app.export import neutralise
from app.import_rules import FIELDS, Judged, RowJudge, check_mapping, default_mapping
from app.legacy_files import FileProblem, LegacyFile, SourceRow, file_sha256
from app.services.import_writers import BatchOutcome, BatchWriter
from models.data_quality import SOURCE_LENGTH, ImportMapping, ImportRun
from models.database import Database
from models.enums import ImportKind, ImportStatus

BATCH_ROWS = 1000
PREVIEW_ROWS = 200
SUMMARY_KEYS = ("read", "imported", "updated", "unchanged", "rejected", "duplicate_candidates")


@dataclass(frozen=True)
class ImportProgress:
    rows: int  # read so far (this run, resumed rows included)
    line: int  # the last line committed
    bytes_done: int
    bytes_total: int


@dataclass(frozen=True)
class ImportSummary:
    run_id: int
    status: str
    read: int
    imported: int
    updated: int
    unchanged: int
    rejected: int
    duplicate_candidates: int
    rejected_file: str
    message: str | None = None
    resumed_after_line: int = 0

    def as_json(self) -> dict[str, object]:
        """The CLI's last line: exactly the counts and the rejected rows' file."""
        counts = asdict(self)
        return {**{k: counts[k] for k in SUMMARY_KEYS}, "rejected_file": self.rejected_file}


@dataclass(frozen=True)
class PreviewRow:
    line: int
    cells: tuple[str, ...]  # in the file's column order
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Preview:
    headers: tuple[str, ...]
    encoding: str
    mapping: dict[str, str]
    rows: tuple[PreviewRow, ...]
    rejected: int


@dataclass(frozen=True)
class SavedMapping:
    name: str
    kind: str
    mapping: dict[str, str]


@dataclass(frozen=True)
class ImportRequest:
    path: Path
    kind: ImportKind
    source: str
    mapping: Mapping[str, str] | None = None
    dry_run: bool = False
    rejected_path: Path | None = None
    batch_rows: int = BATCH_ROWS


Stop = Callable[[], bool]


def rejected_path_for(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejected.csv")


class ImportService:
    """Preview and import legacy files; saved mappings. Runs on a worker, never the GUI."""

    def __init__(
        self, db: Database, *, actor: str, region: str, clock: Clock = system_clock
    ) -> None:
        self.db = db
        self.actor = actor
        self.region = region
        self.clock = clock

    # -- before the import -------------------------------------------------------------

    def headers(self, path: Path, kind: ImportKind) -> tuple[list[str], dict[str, str]]:
        """The file's columns and the mapping guessed from their names."""
        legacy = LegacyFile(path)
        return legacy.headers, default_mapping(kind, legacy.headers)

    def preview(
        self,
        path: Path,
        kind: ImportKind,
        mapping: Mapping[str, str] | None = None,
        limit: int = PREVIEW_ROWS,
    ) -> Preview:
        """The first `limit` rows judged as the import will judge them (no database)."""
        legacy = LegacyFile(path)
        chosen = self._mapping(kind, legacy, mapping)
        judge = RowJudge(kind, chosen, self.region, self.clock().date())
        rows = []
        for row in legacy.rows():
            judged = judge.judge(row.line, row.cells)
            cells = tuple(row.cells.get(h, "") for h in legacy.headers)
            rows.append(PreviewRow(row.line, cells, tuple(judged.reasons)))
            if len(rows) >= limit:
                break
        return Preview(
            tuple(legacy.headers),
            legacy.encoding,
            chosen,
            tuple(rows),
            sum(1 for r in rows if r.reasons),
        )

    def save_mapping(self, name: str, kind: ImportKind, mapping: Mapping[str, str]) -> None:
        name = name.strip()
        if not name or len(name) > 80:
            raise UserError("a mapping needs a name of 1 to 80 characters")
        with self.db.write() as session:
            saved = session.scalar(
                select(ImportMapping).where(ImportMapping.name == name, ImportMapping.kind == kind)
            )
            if saved is None:
                saved = ImportMapping(name=name, kind=kind, created_by=self.actor)
                session.add(saved)
            saved.mapping_json = json.dumps(dict(mapping), sort_keys=True)

    def mappings(self, kind: ImportKind) -> list[SavedMapping]:
        with self.db.read() as session:
            saved = session.scalars(
                select(ImportMapping).where(ImportMapping.kind == kind).order_by(ImportMapping.name)
            )
            return [SavedMapping(m.name, m.kind.value, json.loads(m.mapping_json)) for m in saved]

    # -- the import --------------------------------------------------------------------

    def run(
        self,
        request: ImportRequest,
        progress: Callable[[ImportProgress], None] | None = None,
        should_stop: Stop | None = None,
    ) -> ImportSummary:
        """Import (or, dry, only judge and count) the file; resumes a crashed run."""
        source = request.source.strip()
        if not source or len(source) > SOURCE_LENGTH:
            raise UserError(f"--source must be a name of 1 to {SOURCE_LENGTH} characters")
        legacy = LegacyFile(request.path)
        mapping = self._mapping(request.kind, legacy, request.mapping)
        sha = file_sha256(request.path)
        rejected_path = request.rejected_path or rejected_path_for(request.path)
        run = self._start(request, source, sha, rejected_path)
        judge = RowJudge(request.kind, mapping, self.region, self.clock().date())
        writer = _RejectedFile(Path(run.rejected_file), legacy.headers, run.last_line)
        counts = {k: getattr(run, k) for k in ("imported", "updated", "unchanged", "rejected")}
        counts["read"], counts["duplicate_candidates"] = run.read_rows, run.duplicate_candidates
        bytes_done = [0]

        def tick(done: int) -> None:
            bytes_done[0] = done

        batch: list[SourceRow] = []
        try:
            with writer:
                for row in legacy.rows(after_line=run.last_line, progress=tick):
                    batch.append(row)
                    if len(batch) >= request.batch_rows:
                        self._batch(run, request, judge, batch, counts, writer)
                        batch = []
                        if progress is not None:
                            progress(_progress(counts, run, bytes_done[0], legacy.size))
                        if should_stop is not None and should_stop():
                            return self._stop(
                                run, counts, "cancelled: import the file again to resume"
                            )
                if batch:
                    self._batch(run, request, judge, batch, counts, writer)
        except FileProblem as exc:
            if batch:  # the whole rows read before the failure are imported and counted
                with writer.reopened():
                    self._batch(run, request, judge, batch, counts, writer)
            self._finish(run, ImportStatus.FAILED, str(exc))
            stopped = FileProblem(
                f"{exc} (run {run.id} stopped there: {counts['read']:,} rows before it are "
                f"recorded, {counts['imported']:,} imported)"
            )
            # What the batches before the failure did, for the CLI's --json line.
            stopped.summary = self._summary(run, counts, ImportStatus.FAILED, str(exc))
            raise stopped from None
        status = ImportStatus.DRY_RUN if request.dry_run else ImportStatus.DONE
        self._finish(run, status, None)
        if progress is not None:
            progress(_progress(counts, run, legacy.size, legacy.size))
        return self._summary(run, counts, status, None)

    def _mapping(
        self, kind: ImportKind, legacy: LegacyFile, mapping: Mapping[str, str] | None
    ) -> dict[str, str]:
        chosen = dict(mapping) if mapping else default_mapping(kind, legacy.headers)
        try:
            check_mapping(kind, chosen, legacy.headers)
        except ValueError as exc:
            fields = ", ".join(f.name for f in FIELDS[kind])
            raise UserError(f"{legacy.path.name}: {exc} (fields: {fields})") from None
        return chosen

    def _start(self, request: ImportRequest, source: str, sha: str, rejected: Path) -> _Run:
        with self.db.write() as session:
            running = None
            if not request.dry_run:
                running = session.scalars(
                    select(ImportRun)
                    .where(
                        ImportRun.source == source,
                        ImportRun.kind == request.kind,
                        ImportRun.file_sha256 == sha,
                        ImportRun.status == ImportStatus.RUNNING,
                    )
                    .order_by(ImportRun.id.desc())
                ).first()
            if running is None:
                running = ImportRun(
                    source=source,
                    kind=request.kind,
                    file_name=request.path.name[:260],
                    file_sha256=sha,
                    status=ImportStatus.RUNNING,
                    started_by=self.actor,
                    started_at=self.clock(),
                    read_rows=0,
                    imported=0,
                    updated=0,
                    unchanged=0,
                    rejected=0,
                    duplicate_candidates=0,
                    last_line=0,
                    rejected_file=str(rejected)[:500],
                )
                session.add(running)
                session.flush()
            return _Run.of(running)

    def _batch(
        self,
        run: _Run,
        request: ImportRequest,
        judge: RowJudge,
        rows: list[SourceRow],
        counts: dict[str, int],
        rejected: _RejectedFile,
    ) -> None:
        judged = [judge.judge(r.line, r.cells) for r in rows]
        with self.db.write() as session:
            outcome: BatchOutcome = BatchWriter(
                session,
                kind=request.kind,
                source=request.source.strip(),
                run_id=run.id,
                dry_run=request.dry_run,
                now=self.clock(),
            ).write(judged)
            counts["read"] += len(rows)
            counts["imported"] += outcome.imported
            counts["updated"] += outcome.updated
            counts["unchanged"] += outcome.unchanged
            counts["rejected"] += len(outcome.rejected)
            counts["duplicate_candidates"] += outcome.duplicate_candidates
            by_line = {r.line: r for r in rows}
            rejected.add(sorted(outcome.rejected, key=lambda j: j.line), by_line)
            run.last_line = rows[-1].line
            stored = session.get_one(ImportRun, run.id)
            stored.read_rows = counts["read"]
            for key in ("imported", "updated", "unchanged", "rejected", "duplicate_candidates"):
                setattr(stored, key, counts[key])
            stored.last_line = run.last_line
            rejected.flush()  # the rejected rows are on disk before the batch commits

    def _finish(self, run: _Run, status: ImportStatus, message: str | None) -> None:
        with self.db.write() as session:
            stored = session.get_one(ImportRun, run.id)
            stored.status, stored.message = status, message
            stored.finished_at = self.clock()

    def _stop(self, run: _Run, counts: dict[str, int], message: str) -> ImportSummary:
        with self.db.write() as session:
            session.get_one(ImportRun, run.id).message = message
        return self._summary(run, counts, ImportStatus.RUNNING, message)

    @staticmethod
    def _summary(
        run: _Run, counts: dict[str, int], status: ImportStatus, message: str | None
    ) -> ImportSummary:
        return ImportSummary(
            run_id=run.id,
            status=status.value,
            rejected_file=run.rejected_file,
            message=message,
            resumed_after_line=run.resumed_after,
            **counts,
        )


@dataclass
class _Run:
    id: int
    last_line: int
    resumed_after: int
    rejected_file: str
    read_rows: int
    imported: int
    updated: int
    unchanged: int
    rejected: int
    duplicate_candidates: int

    @classmethod
    def of(cls, run: ImportRun) -> _Run:
        return cls(
            run.id,
            run.last_line,
            run.last_line,
            run.rejected_file or "",
            run.read_rows,
            run.imported,
            run.updated,
            run.unchanged,
            run.rejected,
            run.duplicate_candidates,
        )


def _progress(counts: dict[str, int], run: _Run, done: int, total: int) -> ImportProgress:
    return ImportProgress(counts["read"], run.last_line, done, total)


class _RejectedFile:
    """The rejected rows: the file's columns, then `line` and `reasons`; UTF-8 with a
    BOM (Excel reads the accents), formulas neutralised. A resumed run keeps the rows
    of the lines it committed and drops any a crashed batch wrote after them."""

    def __init__(self, path: Path, headers: list[str], committed_line: int) -> None:
        self.path = path
        self.headers = headers
        self.columns = [*headers, "line", "reasons"]
        kept: list[list[str]] = []
        if committed_line and path.exists():
            with path.open(encoding="utf-8-sig", newline="") as old:
                reader = csv.reader(old)
                next(reader, None)
                kept = [r for r in reader if r and r[-2].isdigit() and int(r[-2]) <= committed_line]
        try:
            self.file = path.open("w", encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise UserError(f"cannot write the rejected rows to {path}: {exc.strerror}") from None
        self.writer = csv.writer(self.file)
        self.writer.writerow([neutralise(c) for c in self.columns])
        self.writer.writerows(kept)

    def __enter__(self) -> _RejectedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()

    def add(self, rows: list[Judged], cells: dict[int, SourceRow]) -> None:
        for judged in rows:
            original = cells[judged.line].cells
            values = [original.get(h, "") for h in self.headers]
            self.writer.writerow(
                [neutralise(v) for v in values] + [judged.line, "; ".join(judged.reasons)]
            )

    @contextlib.contextmanager
    def reopened(self) -> Iterator[None]:
        """Append after the file was closed (a batch written after the reading failed)."""
        self.file = self.path.open("a", encoding="utf-8", newline="")
        self.writer = csv.writer(self.file)
        try:
            yield
        finally:
            self.file.close()

    def flush(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
