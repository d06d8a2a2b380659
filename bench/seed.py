"""Seed benchmark: how long the demo data for N customers takes to load.

python -m bench.seed --db sqlite:////tmp/bench_seed.db --size 100000 --json --reset
"""

from __future__ import annotations

import sys

from alembic import command

from bench.common import backend_name, emit, parser
from models.database import make_engine
from models.migrate import alembic_config, upgrade
from models.seed import SeedError, seed_database


def reset_schema(url: str) -> None:
    """Drop every Rapport table (alembic downgrade to base) and migrate to head again."""
    engine = make_engine(url)
    try:
        config = alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
        upgrade(engine)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    p = parser("Seed the demo data and report rows per second.")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument(
        "--reset", action="store_true", help="drop and recreate the schema before seeding"
    )
    args = p.parse_args(argv)
    if args.reset:
        reset_schema(args.db)
    engine = make_engine(args.db)
    try:
        progress = None if args.json else (lambda msg: print(msg, file=sys.stderr, flush=True))
        try:
            report = seed_database(engine, args.size, args.seed, progress=progress)
        except SeedError as exc:
            print(f"seed: {exc}", file=sys.stderr)
            return 1
        ms = round(report.seconds * 1000, 3)
        emit(
            {
                "bench": "seed",
                "op": "seed",
                "backend": backend_name(engine),
                "size": args.size,
                "n": 1,
                "seconds": round(report.seconds, 3),
                "rows": report.total_rows,
                "rows_per_s": round(report.total_rows / report.seconds),
                "customers_per_s": round(report.customers / report.seconds),
                "p50_ms": ms,
                "p95_ms": ms,
            },
            args.json,
        )
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
