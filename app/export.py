"""Export of a table (rows of plain values) to CSV or XLSX, safe to open in a spreadsheet.

A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets, so a customer who typed "=HYPERLINK(...)" into a
web form would run it on the supervisor's PC (OWASP, "CSV Injection"). Such text is
written with a leading apostrophe, which the spreadsheet shows as text; numbers, dates
and None stay what they are. The format follows the file's suffix.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

from app.errors import UserError

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = (".csv", ".xlsx")


def neutralise(value: object) -> object:
    """The value as it is safe to write: text that a spreadsheet would evaluate is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def export_table(path: Path, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write `headers` then `rows` to `path` (.csv or .xlsx); return the rows written.

    CSV is UTF-8 with a BOM (so Excel reads accents right) and CRLF line ends.
    """
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UserError(f"cannot export to {path.name}: choose a .csv or .xlsx file")
    try:
        if suffix == ".csv":
            return _write_csv(path, headers, rows)
        return _write_xlsx(path, headers, rows)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _text(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _write_csv(path: Path, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow([neutralise(h) for h in headers])
        for row in rows:
            writer.writerow([neutralise(_text(v)) for v in row])
            count += 1
    return count


def _cell(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        # XLSX has no time zones: the UTC wall time, as the column header says.
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return neutralise(value)


def _write_xlsx(path: Path, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    from openpyxl import Workbook  # imported here: only an export needs it

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Rapport")
    sheet.append([neutralise(h) for h in headers])
    count = 0
    for row in rows:
        # Strings go in as data (openpyxl would take a leading "=" as a formula).
        sheet.append([_cell(v) for v in row])
        count += 1
    book.save(path)
    return count
