"""Export to CSV and XLSX: formulas neutralised, values kept, rows counted."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from app.errors import UserError
from app.export import export_table, neutralise

HOSTILE = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", '=HYPERLINK("http://x")']


@pytest.mark.parametrize("text", HOSTILE)
def test_every_formula_start_is_quoted(text: str) -> None:
    assert neutralise(text) == "'" + text


def test_plain_values_are_left_alone() -> None:
    assert neutralise("Dorothy") == "Dorothy"
    assert neutralise(-5) == -5  # a number is not a formula
    assert neutralise(None) is None


def test_csv_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    rows = [[h, 1] for h in HOSTILE] + [["Zoë", -3]]
    assert export_table(path, ["name", "n"], rows) == len(rows)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    with path.open(encoding="utf-8-sig", newline="") as handle:
        read = list(csv.reader(handle))
    assert read[0] == ["name", "n"]
    assert [r[0] for r in read[1:-1]] == ["'" + h for h in HOSTILE]
    assert read[-1] == ["Zoë", "-3"]


def test_xlsx_has_no_formula_cells(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    when = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)
    export_table(path, ["name", "n", "at"], [[h, 2, when] for h in HOSTILE])
    sheet = load_workbook(path).active
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    # XML keeps no bare carriage return: "\r" reads back as "\n", still quoted.
    assert [v[0] for v in values] == ["'" + h.replace("\r", "\n") for h in HOSTILE]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert values[0][1] == 2 and values[0][2] == dt.datetime(2026, 11, 30, 15, 0)


def test_unknown_suffix_is_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="choose a .csv or .xlsx"):
        export_table(tmp_path / "t.pdf", ["a"], [])
