"""bench.imports: legacy import throughput (S8), rows per second with validation.

Writes a customers CSV of `--size` rows (seeded; about 2% bad rows: a bad e-mail, a
phone that is no number, a missing surname), then, `--runs` times, imports it into a
fresh migrated database through `ImportService.run` (validation, E.164, e-mail, the
source-record look-up, the duplicate check once per batch, the bulk inserts, batches of
1,000 per transaction, the rejected rows' file) and reports rows/s, median of the runs
with the spread. Also times the validation alone (reading and judging every row, no
database).

    python -m bench.imports --db sqlite:////tmp/bench_import.db --size 100000 --json
    python -m bench.imports --db postgresql://postgres@127.0.0.1:5432/rapport_bench_import \\
        --size 100000 --json

The database named by --db is dropped and created again for each run (SQLite: the file).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.import_rules import RowJudge, default_mapping
from app.legacy_files import LegacyFile
from app.services.imports import ImportRequest, ImportService
from bench.common import emit, parser
from models.database import Database, make_engine
from models.enums import ImportKind
from models.migrate import upgrade

HEADER = ["Customer ID", "First Name", "Surname", "Telephone", "E-mail", "Street", "Town", "Zip"]


def write_file(path: Path, size: int) -> None:
    rnd = random.Random(14)
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        for i in range(size):
            phone = f"+1 212 {rnd.randint(200, 999)} {rnd.randint(0, 9999):04d}"
            row = [
                f"OC-{i}",
                f"Ann{i % 997}",
                f"Lee{i % 1009}",
                phone,
                f"a{i}@example.com",
                f"{rnd.randint(1, 999)} Elm St",
                "New York",
                f"{10001 + i % 200}",
            ]
            bad = rnd.random()
            if bad < 0.007:
                row[4] = "broken@@example"
            elif bad < 0.014:
                row[3] = "555-CALL-NOW"
            elif bad < 0.02:
                row[2] = ""
            writer.writerow(row)


def fresh_engine(url: str):  # type: ignore[no-untyped-def]
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database or "").unlink(missing_ok=True)
    else:
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
    engine = make_engine(url)
    upgrade(engine)
    return engine


def main() -> None:
    args_parser = parser(__doc__ or "")
    args_parser.add_argument("--runs", type=int, default=3)
    args = args_parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    path = folder / "customers.csv"
    write_file(path, args.size)

    started = time.perf_counter()
    legacy = LegacyFile(path)
    judge = RowJudge(
        ImportKind.CUSTOMERS,
        default_mapping(ImportKind.CUSTOMERS, legacy.headers),
        "US",
        dt.date(2026, 12, 3),
    )
    judged = sum(1 for row in legacy.rows() if judge.judge(row.line, row.cells).ok)
    validate_s = time.perf_counter() - started

    seconds, last = [], None
    for _ in range(args.runs):
        engine = fresh_engine(args.db)
        service = ImportService(Database(engine), actor="bench", region="US")
        t0 = time.perf_counter()
        last = service.run(ImportRequest(path, ImportKind.CUSTOMERS, "bench"))
        seconds.append(time.perf_counter() - t0)
        backend = engine.dialect.name
        engine.dispose()
    assert last is not None
    rates = sorted(last.read / s for s in seconds)
    emit(
        {
            "bench": "imports",
            "backend": backend,
            "rows": last.read,
            "imported": last.imported,
            "rejected": last.rejected,
            "duplicate_candidates": last.duplicate_candidates,
            "valid_rows": judged,
            "validate_only_rows_per_s": round(args.size / validate_s),
            "import_rows_per_s_median": round(statistics.median(rates)),
            "import_rows_per_s_spread": [round(rates[0]), round(rates[-1])],
            "import_seconds": [round(s, 1) for s in seconds],
        },
        args.json,
    )


if __name__ == "__main__":
    main()
