"""bench.seed: how fast the demo data seeds (rows and customers per second).

    python -m bench.seed --db sqlite:////tmp/bench_seed.db --size 100000 --json --reset

Without --reset the database must be migrated and empty; --reset drops every
table and migrates afresh first (never point it at a database you care about).
"""

from __future__ import annotations

import time

from alembic import command

from bench.common import backend_name, emit, parser
from models.database import make_engine, writer
from models.migrate import alembic_config, upgrade
from models.seed import seed_database


def reset(url: str) -> None:
    engine = make_engine(url)
    config = alembic_config()
    with writer(engine).begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    engine.dispose()


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--reset", action="store_true", help="drop and recreate the schema first")
    args = p.parse_args()
    if args.reset:
        reset(args.db)
    engine = make_engine(args.db)
    upgrade(engine)
    started = time.perf_counter()
    report = seed_database(engine, args.size, args.seed)
    seconds = time.perf_counter() - started
    emit(
        {
            "bench": "seed",
            "op": "seed",
            "backend": backend_name(engine),
            "size": args.size,
            "n": 1,
            "p50_ms": round(seconds * 1000),
            "p95_ms": round(seconds * 1000),
            "seconds": round(seconds, 1),
            "rows": report.total_rows,
            "rows_per_s": round(report.total_rows / seconds),
            "customers_per_s": round(report.customers / seconds),
        },
        args.json,
    )
    engine.dispose()


if __name__ == "__main__":
    main()
