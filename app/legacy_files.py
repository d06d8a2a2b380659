"""Reading a legacy system's export (CSV or XLSX) one row at a time, refusing what is not
a table with a message that says where and why.

Legacy exports arrive in every state: Windows code pages, UTF-16 from Excel's "Unicode
text", a BOM, line ends of three systems mixed, a cell that swallowed a whole mailbox,
a download cut off halfway. Each of those is a `FileProblem` naming the line, never a
traceback and never a silently shortened import. Rows are streamed (a million rows is
a normal export), so memory holds one row and one batch, not the file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

from app.errors import UserError

# A cell longer than this is no customer field: a broken export or a hostile file.
MAX_CELL_CHARS = 1_000_000
# How much of the file the encoding is guessed from.
_SAMPLE_BYTES = 256 * 1024
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
FORMATS = (".csv", ".txt", ".xlsx")


class FileProblem(UserError):
    """The file as a whole cannot be read on (bad encoding, truncated, a huge cell).

    `summary` is set by the import when rows before the failure were already recorded.
    """

    summary: object = None


@dataclass(frozen=True)
class SourceRow:
    """One data row: its first physical line in the file and its cells by header."""

    line: int
    cells: dict[str, str]


Progress = Callable[[int], None]  # bytes read so far


class _CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read, for a progress bar over a stream."""

    def __init__(self, raw: io.BufferedReader) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = self._raw.readinto(buffer)
        self.count += n or 0
        return n or 0


def file_sha256(path: Path) -> str:
    """The file's SHA-256: the same file (same source, same kind) resumes its run."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as file:
            for chunk in iter(lambda: file.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise FileProblem(f"cannot read {path}: {exc.strerror or exc}") from None
    return digest.hexdigest()


def detect_encoding(sample: bytes) -> str:
    """The encoding of a CSV: a BOM says it; else UTF-8 if the sample decodes; else the
    best guess of charset-normalizer (cp1252, latin-1, UTF-16 without a BOM...)."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    try:
        # The sample may end inside a multi-byte character: decode incrementally.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        raise FileProblem(
            "the file is not text in any encoding Rapport recognises: export it as CSV (UTF-8)"
        )
    # Short samples fit several code pages alike (é in cp1252 is č in cp1250): the
    # Windows Western page is the legacy exports' usual one, so it wins a tie.
    candidates = {str(m.encoding) for m in from_bytes(sample)} | set(best.could_be_from_charset)
    return "cp1252" if "cp1252" in candidates else str(best.encoding)


class LegacyFile:
    """A CSV or XLSX export: its headers, its encoding and its rows, streamed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        suffix = path.suffix.lower()
        if suffix not in FORMATS:
            raise FileProblem(f"{path.name}: choose a .csv or .xlsx file")
        if not path.is_file():
            raise FileProblem(f"{path}: no such file")
        self.is_xlsx = suffix == ".xlsx"
        self.size = path.stat().st_size
        if self.size == 0:
            raise FileProblem(f"{path.name} is empty")
        self.encoding = "xlsx" if self.is_xlsx else self._encoding()
        self.headers: list[str] = []
        self.header_line = 0
        rows = self.rows()
        # Reading the first row fills the headers; the generator is dropped.
        next(rows, None)
        rows.close()
        if not self.headers:
            raise FileProblem(f"{path.name} has no header row")

    def _encoding(self) -> str:
        with self.path.open("rb") as file:
            return detect_encoding(file.read(_SAMPLE_BYTES))

    def rows(
        self, after_line: int = 0, progress: Progress | None = None
    ) -> Generator[SourceRow, None, None]:
        """The data rows after `after_line` (a resumed run skips what it committed)."""
        source = self._xlsx_rows(progress) if self.is_xlsx else self._csv_rows(progress)
        header_seen = False
        for line, cells in source:
            if not header_seen:
                header_seen = True
                if not self.headers:
                    self._set_headers(line, cells)
                continue
            if line <= after_line:
                continue
            yield SourceRow(line, self._by_header(line, cells))

    def _set_headers(self, line: int, cells: list[str]) -> None:
        names = [c.strip() for c in cells]
        seen: set[str] = set()
        for index, name in enumerate(names):
            if not name:
                names[index] = name = f"column {index + 1}"
            if name.lower() in seen:
                raise FileProblem(f"line {line}: the column {name!r} appears twice in the header")
            seen.add(name.lower())
        self.headers, self.header_line = names, line

    def _by_header(self, line: int, cells: list[str]) -> dict[str, str]:
        values = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(self.headers)}
        extra = [c for c in cells[len(self.headers) :] if c.strip()]
        if extra:
            values["(extra cells)"] = " | ".join(extra)
        if len(cells) < len(self.headers):
            values["(short row)"] = f"{len(cells)} of {len(self.headers)} columns"
        return values

    # -- CSV ---------------------------------------------------------------------------

    def _csv_rows(self, progress: Progress | None) -> Iterator[tuple[int, list[str]]]:
        csv.field_size_limit(MAX_CELL_CHARS)
        name = self.path.name
        with self.path.open("rb") as raw:
            counting = _CountingReader(raw)
            buffered = io.BufferedReader(counting, 1 << 16)
            text = io.TextIOWrapper(buffered, encoding=self.encoding, newline="")
            reader = csv.reader(text, strict=True)
            ends_cleanly = _ends_with_newline(self.path)
            line, last_reported = 1, 0
            pending: tuple[int, list[str]] | None = None
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                except UnicodeDecodeError:
                    raise FileProblem(
                        f"{name} line {reader.line_num + 1}: not valid {self.encoding} text; "
                        "save the file as UTF-8 and import it again"
                    ) from None
                except csv.Error as exc:
                    if pending is not None:  # the whole row before the failure counts
                        yield pending
                    raise FileProblem(_csv_problem(name, line, reader.line_num, exc)) from None
                first, line = line, reader.line_num + 1
                if progress is not None and counting.count - last_reported >= 1 << 20:
                    last_reported = counting.count
                    progress(counting.count)
                if not any(c.strip() for c in cells):
                    continue  # blank lines (a "\r\n\r" leaves one) are no rows
                if pending is not None:
                    yield pending
                pending = (first, cells)
            if pending is not None:
                first, cells = pending
                if not ends_cleanly and self.headers and len(cells) < len(self.headers):
                    # A download cut off mid-row leaves the last row short, unended.
                    raise FileProblem(
                        f"{name} line {first}: the file ends in the middle of a row "
                        f"({len(cells)} of {len(self.headers)} columns): it looks "
                        "truncated; export it again"
                    )
                yield pending
            if progress is not None:
                progress(counting.count)

    # -- XLSX --------------------------------------------------------------------------

    def _xlsx_rows(self, progress: Progress | None) -> Iterator[tuple[int, list[str]]]:
        from openpyxl import load_workbook

        name = self.path.name
        try:
            book = load_workbook(self.path, read_only=True, data_only=False)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise FileProblem(
                f"{name} is not a complete XLSX workbook ({exc}): it looks truncated or "
                "damaged; save it again from the spreadsheet"
            ) from None
        try:
            sheet = book.worksheets[0]
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = [_xlsx_text(v) for v in values]
                for cell in cells:
                    if len(cell) > MAX_CELL_CHARS:
                        raise FileProblem(
                            f"{name} row {number}: a cell holds {len(cell):,} characters, "
                            f"more than {MAX_CELL_CHARS:,}: fix that row"
                        )
                if not any(c.strip() for c in cells):
                    continue
                if progress is not None and number % 10_000 == 0:
                    progress(min(self.size, number))
                yield number, cells
        except (zipfile.BadZipFile, EOFError) as exc:
            raise FileProblem(f"{name}: the workbook is damaged ({exc}): save it again") from None
        finally:
            book.close()


def _csv_problem(name: str, first: int, line_num: int, exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return (
            f"{name} line {first}: a cell is longer than {MAX_CELL_CHARS:,} characters: "
            "no field is that long; fix that row (or the quotes before it)"
        )
    if "unexpected end of data" in text or "EOF" in text:
        return (
            f"{name} line {first}: the file ends inside a quoted cell: it looks truncated "
            "(or a quote is not closed); export it again"
        )
    return f"{name} line {line_num}: {text}"


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as file:
        file.seek(-1, io.SEEK_END)
        return file.read(1) in (b"\n", b"\r", b"\x00")


def _xlsx_text(value: object) -> str:
    """A spreadsheet value as the text a CSV would hold (dates in ISO, 12.0 as 12)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()  # a date cell: Excel stores it as midnight
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
