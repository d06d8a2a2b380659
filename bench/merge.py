"""Merging two customers and undoing it (issue 14): how long the agent waits after
confirming a merge of the busiest customer's duplicate, and after Unmerge.

    .venv/bin/python -m bench.merge --db sqlite:////tmp/bench-merge.db --customers 2000

Each run merges the customer with the most rows into the one with the second most
(every row of every table that points at customers moves, and back), then unmerges;
p50/p95 over `--runs`, the median of `--repeats` rounds. No raw-driver baseline: a
merge is dozens of statements whose count depends on the schema, not one query.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sqlalchemy import select

from app.agent import agent_named
from app.services import merge_moves as moves
from app.services.merge import MergeService
from bench.common import emit, summary
from bench.lookup import ensure_seeded
from bench.my_work import ensure_database
from models.database import Database, make_engine
from models.enums import CustomerStatus
from models.people import Customer


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--db", required=True)
    p.add_argument("--customers", type=int, default=2000)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.db.startswith("postgresql"):
        ensure_database(args.db)
    engine = make_engine(args.db)
    size = ensure_seeded(engine, args.customers)
    db = Database(engine)
    with db.read() as session:
        agent = agent_named(session, "agent01", "bench", "bench@localhost")
        ids = session.scalars(
            select(Customer.id).where(Customer.status == CustomerStatus.ACTIVE).limit(200)
        ).all()
        ranked = sorted(ids, key=lambda i: -sum(moves.counts(session, i).values()))
        survivor, merged = ranked[0], ranked[1]
        rows = sum(moves.counts(session, merged).values())
    service = MergeService(db, agent=agent)
    rounds = []
    for _ in range(args.repeats):
        merges, unmerges = [], []
        for _ in range(args.runs):
            with db.read() as session:
                versions = {c.id: c.version for c in session.scalars(
                    select(Customer).where(Customer.id.in_((survivor, merged))))}  # fmt: skip
            start = time.perf_counter()
            result = service.merge(survivor, merged, {}, versions)
            merges.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            service.unmerge(result.merge_id)
            unmerges.append((time.perf_counter() - start) * 1000)
        rounds.append((summary(merges), summary(unmerges)))
    for index, op in enumerate(("merge", "unmerge")):
        emit(
            {
                "bench": "merge",
                "op": op,
                "backend": engine.dialect.name,
                "size": size,
                "rows_moved": rows,
                "n": args.runs,
                "repeats": args.repeats,
                "p50_ms": round(statistics.median(r[index]["p50_ms"] for r in rounds), 2),
                "p95_ms": round(statistics.median(r[index]["p95_ms"] for r in rounds), 2),
            },
            args.json,
        )
    engine.dispose()


if __name__ == "__main__":
    main()
