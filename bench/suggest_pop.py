"""bench.suggest_pop: what next best action adds to a screen pop (issue 13).

Times `SuggestionService.suggest(customer_id)` (the read the suggestions panel makes
beside the customer view) for random customers with orders, on the service's own
engine as the app builds it (`build_services`). The raw-driver baseline replays the
very statements each call sent, captured per customer, on a DB-API connection in the
same run (as bench.screen_pop's database part). Three rounds; the record is the median
round by p95, with the spread of p95 over the rounds. Target: p95 <= 10 ms at 100,000
customers.

Rules: the miner is issue 13's other half. When the database holds no rule run, this
bench writes one of `--rules` synthetic rules (pairs and triples of products of the
seed's "goes together" types, with random support, confidence and lift) so the rules
read does real work (and, on PostgreSQL, ANALYZEs the two tables as a mining must);
`--rules 0` measures without rules.

    python -m bench.suggest_pop --db URL --size 100000 --json
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from typing import Any

from sqlalchemy import Engine, func, insert, select

from bench.common import backend_name, emit, parser, summary, with_baseline
from bench.lookup import ensure_seeded
from bench.screen_pop import capture_statements, replay

SAMPLES = 200
ROUNDS = 3
WARMUP = 10
TARGET_P95_MS = 10.0


def ensure_rules(engine: Engine, count: int, rng: random.Random) -> int:
    """A rule run of `count` synthetic rules unless one exists; the rules now current."""
    from models.catalog import Product
    from models.suggestions import AssociationRule, AssociationRuleItem, RuleRun

    with engine.begin() as conn:
        current = conn.scalar(select(func.max(RuleRun.id)))
        if current is not None or count == 0:
            return int(
                conn.scalar(
                    select(func.count())
                    .select_from(AssociationRule)
                    .where(AssociationRule.run_id == current)
                )
                or 0
            )
        products = list(conn.scalars(select(Product.id).where(Product.active.is_(True))))
        run_id = conn.execute(
            insert(RuleRun).returning(RuleRun.id),
            {
                "mined_at": dt.datetime.now(dt.UTC),
                "mined_by": "bench.suggest_pop",
                "source": "synthetic",
                "baskets": 700_000,
                "items": len(products),
                "min_support": 0.001,
                "min_confidence": 0.1,
                "max_length": 3,
                "rule_count": count,
                "seconds": 0.0,
            },
        ).scalar_one()
        seen: set[tuple[tuple[int, ...], int]] = set()
        rules: list[dict[str, Any]] = []
        while len(rules) < count:
            antecedents = tuple(sorted(rng.sample(products, rng.choice((1, 1, 2)))))
            consequent = rng.choice(products)
            if consequent in antecedents or (antecedents, consequent) in seen:
                continue
            seen.add((antecedents, consequent))
            rules.append(
                {
                    "run_id": run_id,
                    "antecedent_key": ",".join(map(str, antecedents)),
                    "consequent_key": str(consequent),
                    "antecedent_size": len(antecedents),
                    "consequent_size": 1,
                    "baskets": rng.randint(700, 5000),
                    "support": rng.uniform(0.001, 0.01),
                    "confidence": rng.uniform(0.1, 0.9),
                    "lift": rng.uniform(0.5, 8.0),
                }
            )
        ids = conn.execute(insert(AssociationRule).returning(AssociationRule.id), rules).scalars()
        items = []
        for rule_id, rule in zip(ids, rules, strict=True):
            for product_id in rule["antecedent_key"].split(","):
                items.append({"rule_id": rule_id, "product_id": int(product_id), "side": "a"})
            items.append(
                {"rule_id": rule_id, "product_id": int(rule["consequent_key"]), "side": "c"}
            )
        conn.execute(insert(AssociationRuleItem), items)
    if engine.dialect.name == "postgresql":
        # As a mining must: fresh statistics, or the planner takes the tables for empty
        # (seeded without rules) and walks every rule of the run.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE association_rules")
            conn.exec_driver_sql("ANALYZE association_rule_items")
    return count


def customers_with_orders(engine: Engine, count: int, rng: random.Random) -> list[int]:
    from models.commerce import Order

    with engine.connect() as conn:
        top = conn.scalar(select(func.max(Order.id))) or 1
        ids = [rng.randint(1, top) for _ in range(count * 2)]
        found = conn.scalars(select(Order.customer_id).where(Order.id.in_(ids)).distinct())
        customers = sorted(set(found))
    rng.shuffle(customers)
    return customers[:count]


def measure(services: Any, engine: Engine, customers: list[int]) -> dict[str, Any]:
    """One round: the service's times and the raw replay's, per customer."""
    suggest = services.suggestions.suggest
    for customer_id in customers[:WARMUP]:
        suggest(customer_id)
    service_ms: list[float] = []
    raw_ms: list[float] = []
    statements: list[int] = []
    connection: Any = engine.raw_connection()
    try:
        for customer_id in customers:
            sent = capture_statements(services.engine, lambda c=customer_id: suggest(c))
            statements.append(
                sum(1 for s, _p in sent if not s.lstrip().upper().startswith("BEGIN"))
            )
            started = time.perf_counter()
            suggest(customer_id)
            service_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            replay(connection, sent)
            raw_ms.append((time.perf_counter() - started) * 1000)
    finally:
        connection.close()
    return {
        "service": service_ms,
        "raw": raw_ms,
        "statements": statistics.median(statements),
        "max_statements": max(statements),
    }


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--rules", type=int, default=3000, help="synthetic rules when none mined")
    args = p.parse_args()
    from app.bootstrap import build_services
    from app.config import load_settings
    from models.database import make_engine

    engine = make_engine(args.db)
    size = ensure_seeded(engine, args.size)
    rng = random.Random(13)
    rules = ensure_rules(engine, args.rules, rng)
    url = engine.url.render_as_string(hide_password=False)
    services = build_services(load_settings(cli={"db_url": url}), engine)
    customers = customers_with_orders(engine, SAMPLES, rng)
    rounds = [measure(services, engine, customers) for _ in range(ROUNDS)]
    p95s = [summary(r["service"])["p95_ms"] for r in rounds]
    median_round = rounds[p95s.index(statistics.median_low(p95s))]
    record = with_baseline(
        {
            "bench": "suggest_pop",
            "op": "suggest",
            "backend": backend_name(engine),
            "size": size,
            "rules": rules,
            **summary(median_round["service"]),
            "rounds": ROUNDS,
            "p95_spread_ms": round(max(p95s) - min(p95s), 3),
            "statements": median_round["statements"],
            "max_statements": median_round["max_statements"],
            "target_p95_ms": TARGET_P95_MS,
        },
        median_round["raw"],
    )
    emit(record, args.json)
    services.close()


if __name__ == "__main__":
    main()
