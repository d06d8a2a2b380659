"""The import service on SQLite and PostgreSQL: honest counts, idempotent re-imports,
updates, duplicates queued, rejected rows re-importable, a crash resumed, orders and
interactions landing on the customer."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from app.clock import fixed_clock
from app.legacy_files import FileProblem
from app.services.imports import ImportProgress, ImportRequest, ImportService
from models.data_quality import DuplicateCandidate, ImportRun, SourceRecord
from models.database import Database
from models.enums import DuplicateFoundBy, ImportKind, ImportStatus
from models.people import Customer, CustomerPhone
from models.service import Interaction
from tests.factories import add_ada

NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
HEADER = ["Customer ID", "First Name", "Surname", "Telephone", "E-mail", "Zip"]


def _service(engine: Engine) -> ImportService:
    return ImportService(Database(engine), actor="it", region="US", clock=fixed_clock(NOW))


def _write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _people(n: int) -> list[list[str]]:
    return [
        [f"C{i}", "Ann", f"Lee{i}", f"(212) 555-{1000 + i:04d}", f"ann{i}@example.com", "10001"]
        for i in range(n)
    ]


def _run(engine: Engine, path: Path, **kw: object) -> dict[str, object]:
    request = ImportRequest(path=path, kind=ImportKind.CUSTOMERS, source="oldcrm", **kw)  # type: ignore[arg-type]
    return _service(engine).run(request).as_json()


def _count(engine: Engine, model: type) -> int:
    with Database(engine).read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_counts_add_up_and_a_second_import_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    rows = _people(5) + [["C9", "Bob", "", "", "", ""], ["C10", "Cy", "Dee", "", "bad@@x", ""]]
    path = _write(tmp_path / "c.csv", rows)
    first = _run(engine, path)
    assert first == {
        "read": 7,
        "imported": 5,
        "updated": 0,
        "unchanged": 0,
        "rejected": 2,
        "duplicate_candidates": 0,
        "rejected_file": str(tmp_path / "c.rejected.csv"),
    }
    again = _run(engine, path)
    assert (again["imported"], again["updated"], again["unchanged"], again["rejected"]) == (
        0,
        0,
        5,
        2,
    )
    assert _count(engine, Customer) == 5 and _count(engine, SourceRecord) == 5
    with Database(engine).read() as session:
        refs = sorted(session.scalars(select(Customer.external_ref)))
        runs = session.scalars(select(ImportRun).order_by(ImportRun.id)).all()
    assert refs == ["C0", "C1", "C2", "C3", "C4"]
    assert [(r.status, r.read_rows, r.last_line) for r in runs] == [(ImportStatus.DONE, 7, 8)] * 2


def test_a_changed_row_is_updated(engine: Engine, tmp_path: Path) -> None:
    rows = _people(3)
    _run(engine, _write(tmp_path / "a.csv", rows))
    rows[1][3] = "(212) 555-9999"
    changed = _run(engine, _write(tmp_path / "b.csv", rows))
    assert (changed["imported"], changed["updated"], changed["unchanged"]) == (0, 1, 2)
    with Database(engine).read() as session:
        phones = session.scalars(
            select(CustomerPhone.e164).join(Customer).where(Customer.external_ref == "C1")
        ).all()
    assert phones == ["+12125559999"]


def test_a_row_like_an_existing_customer_is_imported_and_queued(
    engine: Engine, tmp_path: Path
) -> None:
    ada = add_ada(engine)
    with Database(engine).write() as session:
        session.add(
            CustomerPhone(
                customer_id=ada,
                raw="212 555 1001",
                e164="+12125551001",
                digits_tail="5551001",
                kind="home",
                is_primary=True,
            )
        )
    summary = _run(engine, _write(tmp_path / "c.csv", _people(3)))
    assert summary["imported"] == 3 and summary["duplicate_candidates"] == 1
    with Database(engine).read() as session:
        pair = session.scalars(select(DuplicateCandidate)).one()
        new_id = session.scalar(select(Customer.id).where(Customer.external_ref == "C1"))
    assert (pair.customer_a_id, pair.customer_b_id) == (ada, new_id)
    assert pair.found_by is DuplicateFoundBy.IMPORT and pair.import_run_id is not None
    assert '"phone": "+12125551001"' in pair.evidence_json
    assert _run(engine, tmp_path / "c.csv")["duplicate_candidates"] == 0  # queued once


def test_the_rejected_file_is_fixed_and_imported_again(engine: Engine, tmp_path: Path) -> None:
    rows = _people(2) + [
        ["C5", "Eve", "Ray", "555-CALL-NOW", "", ""],
        ["C6", '=HYPERLINK("x")', "Roe", "+1 212 555 0100", "", ""],
    ]
    summary = _run(engine, _write(tmp_path / "c.csv", rows))
    assert summary["rejected"] == 2
    rejected = Path(str(summary["rejected_file"]))
    with rejected.open(encoding="utf-8-sig", newline="") as file:
        kept = list(csv.reader(file))
    assert kept[0] == [*HEADER, "line", "reasons"]
    assert kept[1][:4] == ["C5", "Eve", "Ray", "555-CALL-NOW"] and kept[1][6] == "4"
    assert kept[2][1] == '\'=HYPERLINK("x")'  # neutralised for the spreadsheet
    assert kept[2][3] == "'+1 212 555 0100"
    kept[1][3], kept[2][1] = "212 555 0101", "Fay"
    fixed = _write(tmp_path / "fixed.csv", kept[1:], header=kept[0])
    again = _run(engine, fixed)
    assert (again["read"], again["imported"], again["rejected"]) == (2, 2, 0)
    assert _count(engine, Customer) == 4


def test_a_crash_resumes_after_the_last_committed_batch(engine: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path / "c.csv", _people(45) + [["C99", "No", "", "", "", ""]])
    request = ImportRequest(path=path, kind=ImportKind.CUSTOMERS, source="oldcrm", batch_rows=10)
    seen: list[ImportProgress] = []

    def crash_after_two(step: ImportProgress) -> None:
        seen.append(step)
        if len(seen) == 2:
            raise KeyboardInterrupt  # the process dies between batches

    with pytest.raises(KeyboardInterrupt):
        _service(engine).run(request, progress=crash_after_two)
    with Database(engine).read() as session:
        run = session.scalars(select(ImportRun)).one()
        assert (run.status, run.read_rows, run.imported, run.last_line) == (
            ImportStatus.RUNNING,
            20,
            20,
            21,
        )
    resumed = _service(engine).run(request)
    assert resumed.resumed_after_line == 21 and resumed.run_id == run.id
    assert resumed.as_json()["read"] == 46
    assert (resumed.imported, resumed.rejected, resumed.updated) == (45, 1, 0)
    assert _count(engine, Customer) == 45 and _count(engine, ImportRun) == 1


def test_a_truncated_file_leaves_a_failed_run_with_what_it_wrote(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "cut.csv"
    _write(path, _people(25))
    path.write_bytes(path.read_bytes() + b'C30,"Ann')
    request = ImportRequest(path=path, kind=ImportKind.CUSTOMERS, source="oldcrm", batch_rows=10)
    with pytest.raises(FileProblem, match="line 27: the file ends inside a quoted cell"):
        _service(engine).run(request)
    with Database(engine).read() as session:
        run = session.scalars(select(ImportRun)).one()
    assert run.status is ImportStatus.FAILED and "truncated" in (run.message or "")
    assert (run.read_rows, run.imported) == (25, 25) == (_count(engine, Customer), 25)


def test_orders_and_interactions_land_on_the_customer(engine: Engine, tmp_path: Path) -> None:
    _run(engine, _write(tmp_path / "c.csv", _people(2)))
    orders = _write(
        tmp_path / "o.csv",
        [["R-1", "C0", "2024-03-01", "49.90", "USD"], ["R-2", "C7", "2024-03-01", "5", "USD"]],
        header=["Order number", "Customer", "Date", "Total", "Currency"],
    )
    service = _service(engine)
    done = service.run(ImportRequest(orders, ImportKind.ORDERS, "oldcrm")).as_json()
    assert (done["imported"], done["rejected"]) == (1, 1)
    talks = _write(
        tmp_path / "i.csv",
        [["M1", "C1", "store visit", "2024-03-02 10:15", "Tried the perfume"]],
        header=["Message ID", "Customer ID", "Channel", "Date", "Subject"],
    )
    assert service.run(ImportRequest(talks, ImportKind.INTERACTIONS, "oldcrm")).imported == 1
    with Database(engine).read() as session:
        talk = session.scalars(select(Interaction)).one()
        owner = session.get_one(Customer, talk.customer_id)
    assert owner.external_ref == "C1" and talk.channel.value == "store"
    assert talk.summary == "Tried the perfume"


def test_a_dry_run_writes_no_customer(engine: Engine, tmp_path: Path) -> None:
    summary = _run(engine, _write(tmp_path / "c.csv", _people(3)), dry_run=True)
    assert summary["imported"] == 3 and _count(engine, Customer) == 0
