"""bench.marketing_list: value segments and marketing lists at scale (issue 14).

Times `SegmentService.refresh()` (every active customer's RFM values and segment, one
DELETE and one INSERT ... SELECT) once per round, and `MarketingListService.preview`
for three lists, SAMPLES times per round:

- s1: S1's list, bought anything of the most bought product line within 12 months, not
  its newest product, by e-mail;
- everyone: no criteria, by e-mail (every customer counted, the widest list);
- segment_key_date: Champions or Loyal with a key date in the next 30 days, by text.

The raw-driver baseline replays the preview's statements on a DB-API connection (the
same SQL, compiled with its literal values). Three rounds; the record is the median
round by p95, with the spread of p95 over the rounds.

    python -m bench.marketing_list --db URL --size 100000 --json
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from sqlalchemy import Engine, func, select

from bench.common import backend_name, emit, parser, summary, with_baseline
from bench.lookup import ensure_seeded

SAMPLES = 10
ROUNDS = 3
WARMUP = 2


def _criteria(engine: Engine) -> dict[str, Any]:
    from app.services.marketing_lists import ListCriteria
    from models.catalog import Product
    from models.commerce import OrderLine
    from models.enums import Channel

    with engine.connect() as conn:
        line = conn.execute(
            select(Product.product_line)
            .join(OrderLine, OrderLine.product_id == Product.id)
            .where(Product.product_line.is_not(None))
            .group_by(Product.product_line)
            .order_by(func.count().desc())
            .limit(1)
        ).scalar_one()
        newest = conn.execute(
            select(Product.id)
            .where(Product.product_line == line)
            .order_by(Product.launch_date.desc().nulls_last(), Product.id.desc())
            .limit(1)
        ).scalar_one()
    return {
        "s1": ListCriteria(lines=(line,), months=12, not_products=(newest,)),
        "everyone": ListCriteria(),
        "segment_key_date": ListCriteria(
            channel=Channel.SMS, segments=("Champions", "Loyal"), key_date_days=30
        ),
    }


def _raw_preview(engine: Engine, criteria: Any, now: Any) -> Any:
    """The preview's two statements as literal SQL on the DB-API connection."""
    from sqlalchemy import func as f

    from app.services import list_query

    listed = list_query.listed(criteria, now).subquery("listed")
    counts = select(listed.c.reason, f.count()).group_by(listed.c.reason)
    first = (
        select(listed.c.id, listed.c.name, listed.c.contact)
        .where(listed.c.reason.is_(None))
        .order_by(listed.c.sort_name, listed.c.id)
        .limit(200)
    )
    texts = [
        str(s.compile(engine, compile_kwargs={"literal_binds": True})) for s in (counts, first)
    ]
    raw = engine.raw_connection()

    def run() -> None:
        cursor = raw.cursor()
        for text in texts:
            cursor.execute(text)
            cursor.fetchall()
        cursor.close()

    return run, raw


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    from app.clock import system_clock
    from app.services.marketing_lists import MarketingListService
    from app.services.segments import SegmentService
    from models.database import Database, make_engine

    engine = make_engine(args.db)
    size = ensure_seeded(engine, args.size)
    db = Database(engine)
    backend = backend_name(engine)
    segments = SegmentService(db)
    lists = MarketingListService(db, "bench")
    refresh_ms: list[float] = []
    rounds: dict[str, list[dict[str, Any]]] = {}
    all_criteria = None
    for _ in range(ROUNDS):
        start = time.perf_counter()
        done = segments.refresh()
        refresh_ms.append((time.perf_counter() - start) * 1000)
        if all_criteria is None:
            all_criteria = _criteria(engine)
        for name, criteria in all_criteria.items():
            for _ in range(WARMUP):
                preview = lists.preview(criteria)
            samples = []
            for _ in range(SAMPLES):
                start = time.perf_counter()
                preview = lists.preview(criteria)
                samples.append((time.perf_counter() - start) * 1000)
            run, raw = _raw_preview(engine, criteria, system_clock())
            baseline = []
            for _ in range(SAMPLES):
                start = time.perf_counter()
                run()
                baseline.append((time.perf_counter() - start) * 1000)
            raw.close()
            record = {"bench": "marketing_list", "op": f"preview_{name}", "backend": backend}
            record |= {"size": size, **summary(samples)}
            record |= {"matched": preview.matched, "members": preview.member_count}
            rounds.setdefault(name, []).append(with_baseline(record, baseline))
    emit(
        {
            "bench": "marketing_list",
            "op": "segments_refresh",
            "backend": backend,
            "size": size,
            "customers_scored": done.customers,
            "median_s": round(statistics.median(refresh_ms) / 1000, 2),
            "runs_s": [round(ms / 1000, 2) for ms in refresh_ms],
        },
        args.json,
    )
    for records in rounds.values():
        ordered = sorted(records, key=lambda r: r["p95_ms"])
        median = dict(ordered[len(ordered) // 2])
        median["p95_spread_ms"] = round(ordered[-1]["p95_ms"] - ordered[0]["p95_ms"], 2)
        emit(median, args.json)
    engine.dispose()


if __name__ == "__main__":
    main()
