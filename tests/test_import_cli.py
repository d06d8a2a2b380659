"""`rapportctl import`: the --json summary is the last line, with exactly its keys; a
file-level failure is one line and a non-zero exit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.cli import main

ROOT = Path(__file__).resolve().parents[1]
KEYS = {
    "read",
    "imported",
    "updated",
    "unchanged",
    "rejected",
    "duplicate_candidates",
    "rejected_file",
}


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_json_last_line_and_reimport(
    sqlite_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    legacy = tmp_path / "legacy-customers.csv"
    legacy.write_bytes((ROOT / "resources/legacy/legacy-customers.csv").read_bytes())
    args = [
        "import",
        "customers",
        str(legacy),
        "--source",
        "oldcrm",
        "--json",
        "--db",
        _url(sqlite_engine),
    ]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(summary) == KEYS
    assert summary["read"] == 43 and summary["rejected"] == 5 and summary["imported"] == 38
    assert sum(summary[k] for k in ("imported", "updated", "unchanged", "rejected")) == 43
    assert Path(summary["rejected_file"]).exists()
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (again["imported"], again["updated"], again["unchanged"]) == (0, 0, 38)


def test_mapping_file_and_file_failures(
    sqlite_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "odd.csv"
    data.write_text("Nr,Vorname,Name\n1,Ann,Lee\n", encoding="utf-8")
    mapping = tmp_path / "map.toml"
    mapping.write_text('Nr = "external_ref"\nVorname = "first_name"\nName = "last_name"\n')
    base = ["import", "customers", str(data), "--source", "sap", "--db", _url(sqlite_engine)]
    assert main([*base, "--json", "--mapping", str(mapping)]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["imported"] == 1
    assert main(base) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no column is mapped to Legacy id" in err
    cut = tmp_path / "cut.csv"
    cut.write_text('Customer ID,First Name,Surname\n1,"Ann', encoding="utf-8")
    assert (
        main(["import", "customers", str(cut), "--source", "x", "--db", _url(sqlite_engine)]) == 2
    )
    assert "looks truncated" in capsys.readouterr().err


def test_a_file_cut_half_way_still_ends_with_the_json_of_what_was_recorded(
    sqlite_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = tmp_path / "cut.csv"
    rows = "".join(f"C{i},Ann,Lee{i}\n" for i in range(5))
    cut.write_text("Customer ID,First Name,Surname\n" + rows + 'C9,"Bo', encoding="utf-8")
    args = ["import", "customers", str(cut), "--source", "x", "--batch", "2", "--json"]
    assert main([*args, "--db", _url(sqlite_engine)]) == 2
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert set(summary) == KEYS and (summary["read"], summary["imported"]) == (5, 5)
    assert "line 7: the file ends inside a quoted cell" in captured.err
