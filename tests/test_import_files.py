"""Reading legacy files and judging their rows, without a database: encodings, BOM, line
ends, huge cells, formulas, truncated files, streaming, and each check's reason."""

from __future__ import annotations

import datetime as dt
import tracemalloc
from pathlib import Path

import pytest
from openpyxl import Workbook

from app.import_rules import RowJudge, default_mapping, is_formula, unquote
from app.legacy_files import MAX_CELL_CHARS, FileProblem, LegacyFile
from models.enums import ImportKind

HEADER = "Customer ID,First Name,Surname,Telephone,E-mail,Zip\n"
TODAY = dt.date(2026, 12, 3)


def _rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    return [(r.line, r.cells) for r in LegacyFile(path).rows()]


def _judge(**cells: str) -> list[str]:
    headers = ["Customer ID", "First Name", "Surname", "Telephone", "E-mail"]
    mapping = default_mapping(ImportKind.CUSTOMERS, headers)
    row = {"Customer ID": "C1", "First Name": "Zoë", "Surname": "Müller", **cells}
    return RowJudge(ImportKind.CUSTOMERS, mapping, "US", TODAY).judge(2, row).reasons


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16", "utf-8-sig", "utf-8"])
def test_encodings_and_bom_read_the_same_names(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "c.csv"
    body = HEADER + "C1,Zoë,Müller,415 555 0134,zoe@example.com,94115\n"
    body += "C2,François,Lefèvre,,francois@example.fr,75001\n" * 20
    path.write_bytes(body.encode(encoding))
    legacy = LegacyFile(path)
    assert legacy.headers[0] == "Customer ID"  # no BOM glued to the first header
    rows = _rows(path)
    assert rows[0] == (
        2,
        {
            "Customer ID": "C1",
            "First Name": "Zoë",
            "Surname": "Müller",
            "Telephone": "415 555 0134",
            "E-mail": "zoe@example.com",
            "Zip": "94115",
        },
    )
    assert rows[1][1]["Surname"] == "Lefèvre"


def test_mixed_line_ends_keep_line_numbers_and_skip_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(
        (HEADER.strip() + "\r\nC1,Ann,Lee,,,\r\n\rC2,Bob,Ray,,,\nC3,Cy,Dee,,,\r").encode()
    )
    rows = _rows(path)
    assert [(line, cells["Customer ID"]) for line, cells in rows] == [
        (2, "C1"),
        (4, "C2"),
        (5, "C3"),
    ]


def test_a_50_mb_cell_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as file:
        file.write(HEADER)
        file.write("C1,Ann,Lee,,,\n")
        file.write('C2,"' + "x" * (50 * 1024 * 1024) + '",Ray,,,\n')
    with pytest.raises(FileProblem, match=r"line 3: a cell is longer than 1,000,000"):
        _rows(path)
    assert MAX_CELL_CHARS == 1_000_000


def test_truncated_files_say_so(tmp_path: Path) -> None:
    inside_quote = tmp_path / "q.csv"
    inside_quote.write_text(HEADER + 'C1,Ann,Lee,,,\nC2,"Bo', encoding="utf-8")
    with pytest.raises(FileProblem, match=r"line 3: the file ends inside a quoted cell"):
        _rows(inside_quote)
    short_last = tmp_path / "s.csv"
    short_last.write_text(HEADER + "C1,Ann,Lee,,,\nC2,Bob", encoding="utf-8")
    with pytest.raises(FileProblem, match=r"line 3: the file ends in the middle of a row"):
        _rows(short_last)
    xlsx = tmp_path / "cut.xlsx"
    _workbook(tmp_path / "whole.xlsx")
    xlsx.write_bytes((tmp_path / "whole.xlsx").read_bytes()[:300])
    with pytest.raises(FileProblem, match="truncated or damaged"):
        LegacyFile(xlsx)


def test_a_short_row_in_the_middle_is_rejected_not_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(HEADER + "C1,Ann\nC2,Bob,Ray,,,\n", encoding="utf-8")
    line, cells = _rows(path)[0]
    mapping = default_mapping(ImportKind.CUSTOMERS, LegacyFile(path).headers)
    reasons = RowJudge(ImportKind.CUSTOMERS, mapping, "US", TODAY).judge(line, cells).reasons
    assert "the row has 2 of 6 columns" in reasons


def _workbook(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Customer ID", "First Name", "Surname", "Customer since"])
    sheet.append(["C1", "Ann", "Lee", dt.date(2019, 3, 31)])
    sheet.append(["C2", "=1+1", "Ray", 12.0])
    book.save(path)


def test_xlsx_rows_and_formulas(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    _workbook(path)
    rows = _rows(path)
    assert rows[0] == (
        2,
        {
            "Customer ID": "C1",
            "First Name": "Ann",
            "Surname": "Lee",
            "Customer since": "2019-03-31",
        },
    )
    headers = LegacyFile(path).headers
    judge = RowJudge(
        ImportKind.CUSTOMERS, default_mapping(ImportKind.CUSTOMERS, headers), "US", TODAY
    )
    assert judge.judge(*rows[0]).ok
    assert any("spreadsheet formula" in r for r in judge.judge(*rows[1]).reasons)


def test_formulas_are_told_from_phones_and_amounts() -> None:
    assert is_formula('=HYPERLINK("http://x")')
    assert is_formula("@SUM(A1)")
    assert is_formula("+cmd|' /C calc'!A0")
    assert not is_formula("+1 (415) 555-0134")
    assert not is_formula("-12.50")
    assert unquote("'=1+1") == "=1+1" and unquote("'+44 20") == "+44 20"


def test_each_check_gives_its_reason() -> None:
    assert _judge(Telephone="555-CALL-NOW") == [
        "Phone: '555-CALL-NOW' is not a valid phone number (region US)"
    ]
    assert _judge(**{"E-mail": "ann@@example"})[0].startswith("E-mail: 'ann@@example' is not")
    assert _judge(Surname="") == ["Last name is required"]
    assert _judge(Surname="x" * 81) == ["Last name is 81 characters, at most 80"]
    assert _judge(Telephone="(415) 555-0134", **{"E-mail": "Ann@Example.COM"}) == []


def test_values_are_normalised() -> None:
    headers = ["Order", "Customer", "Date", "Amount", "Currency"]
    mapping = {
        "Order": "external_ref",
        "Customer": "customer_ref",
        "Date": "placed_at",
        "Amount": "total",
        "Currency": "currency",
    }
    judge = RowJudge(ImportKind.ORDERS, mapping, "GB", TODAY)
    row = dict(zip(headers, ["R1", "C1", "31/03/2019 14:05", "1,234.50", "gbp"], strict=True))
    judged = judge.judge(2, row)
    assert judged.values["placed_at"] == "2019-03-31T14:05:00+00:00"
    assert judged.values["total"] == 123450 and judged.values["currency"] == "GBP"
    row["Currency"] = "EURO"
    assert judge.judge(2, row).reasons == [
        "Currency: 'EURO' is not an ISO 4217 currency code (USD, EUR, GBP...)"
    ]


def test_rows_are_streamed_not_held(tmp_path: Path) -> None:
    """50,000 rows (about 2.5 MB) read with well under that in memory at any time."""
    path = tmp_path / "many.csv"
    with path.open("w", encoding="utf-8") as file:
        file.write(HEADER)
        for i in range(50_000):
            file.write(f"C{i},Ann,Lee,415 555 0134,ann{i}@example.com,94115\n")
    tracemalloc.start()
    count = sum(1 for _ in LegacyFile(path).rows())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 50_000
    assert peak < 1_000_000, peak  # a list of its rows would take ~50 MB
