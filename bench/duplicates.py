"""bench.duplicates: duplicate detection at 100,000 customers (issue 14, S8).

- find: `DuplicateService.find()` over the whole database, as `rapportctl duplicates
  find` runs it: read every customer not merged away with their phones, e-mails,
  addresses and birthdays, block, score. Three runs; median and spread (min..max),
  with the read and the comparison timed apart in each run, and this process's CPU
  time (on SQLite that includes the database's work; on PostgreSQL the server's is not).
- find_matches: the check made before a new customer is saved, for `--matches`
  customers drawn from the database (seeded) and typed again as a new agent would
  (same name and e-mail, the phone in another format): p50 and p95.

    python -m bench.duplicates --db sqlite:////tmp/bench_dupes100k.db --size 100000 --json
    python -m bench.duplicates --db postgresql://postgres@127.0.0.1:5432/rapport_bench_dupes \\
        --size 100000 --json

The database is seeded first with `bench.seed --reset` (its size is checked).
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import sys
import time

from sqlalchemy import func, select

from app.dedupe import find_duplicates
from app.services.duplicates import DuplicateService
from bench.common import backend_name, emit, parser, summary, time_calls
from models.database import Database, make_engine
from models.people import Customer

RUNS = 3


def main(argv: list[str] | None = None) -> int:
    p = parser("Duplicate detection: the whole scan, and the check of one new customer.")
    p.add_argument("--matches", type=int, default=300, help="persons checked one by one")
    args = p.parse_args(argv)
    engine = make_engine(args.db)
    db = Database(engine)
    service = DuplicateService(db)
    backend = backend_name(engine)
    with db.read() as session:
        customers = int(session.scalar(select(func.count()).select_from(Customer)) or 0)
    if customers < args.size:
        print(f"duplicates: {customers} customers, fewer than --size: seed first", file=sys.stderr)
        return 1
    totals, cpus, reads, compares, found = [], [], [], [], 0
    for _ in range(RUNS):
        gc.collect()
        started, cpu_started = time.perf_counter(), time.process_time()
        people = service.people()
        read = time.perf_counter()
        found = sum(1 for _ in find_duplicates(people))
        done = time.perf_counter()
        cpus.append(time.process_time() - cpu_started)
        totals.append(done - started)
        reads.append(read - started)
        compares.append(done - read)
    emit(
        {
            "bench": "duplicates",
            "op": "find",
            "backend": backend,
            "size": customers,
            "runs": RUNS,
            "median_s": round(statistics.median(totals), 2),
            "min_s": round(min(totals), 2),
            "max_s": round(max(totals), 2),
            "read_median_s": round(statistics.median(reads), 2),
            "compare_median_s": round(statistics.median(compares), 2),
            # This process's CPU time: on a shared machine the wall time above also
            # holds the waits for other processes' turns (the load is printed too).
            "cpu_median_s": round(statistics.median(cpus), 2),
            "load_1min": round(os.getloadavg()[0], 1),
            "pairs": found,
        },
        args.json,
    )
    rng = random.Random(14)
    sample = rng.sample(people, min(args.matches, len(people)))
    typed = iter(
        [
            service.person_of(_as_typed(person))
            for person in sample
            for _ in range(2)  # time_calls' warm-up takes a few
        ]
    )
    samples = time_calls(lambda: service.find_matches(next(typed)), n=len(sample) - 5)
    emit(
        {"bench": "duplicates", "op": "find_matches", "backend": backend, "size": customers}
        | summary(samples),
        args.json,
    )
    engine.dispose()
    return 0


def _as_typed(person):  # type: ignore[no-untyped-def]
    """The person as a new agent types them in: the phone in a national format."""
    from app.services.contacts import ContactDetails, PhoneEdit

    phones = tuple(
        PhoneEdit(p.replace("+1", "", 1) if p.startswith("+1") else p) for p in person.phones[:1]
    )
    return ContactDetails(person.first_name, person.last_name, "en", phones, person.emails[:1])


if __name__ == "__main__":
    raise SystemExit(main())
