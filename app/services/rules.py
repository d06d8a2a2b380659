"""The association rules the suggestions draw on: mined from the order lines
(app/mining.py), stored as one set at a time, and read back by product for inspection
(the pop's own read of them is `rules_for` in app/services/suggestions.py).

A basket is one order's distinct products. Cancelled orders are left out: nobody
bought those products together. Returned orders stay in: the products were chosen
together, which is what a suggestion needs to know.

Storing replaces the previous set in one transaction (the rules and their items go,
the `rule_runs` history stays), so a reader sees the old set or the new one, never a
mix or nothing. On PostgreSQL only `rapport_admin` may write these tables
(app/provisioning.py): `rapportctl rules mine` runs as an admin login or the DBA.
"""

from __future__ import annotations

import datetime as dt
import itertools
import operator
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from app.clock import Clock, system_clock
from models.commerce import Order, OrderLine
from models.database import Database
from models.enums import OrderStatus
from models.schema import metadata  # every table: the items' foreign keys resolve
from models.suggestions import AssociationRule, AssociationRuleItem, RuleRun

if TYPE_CHECKING:  # numpy and scipy load when mining, not with every window's services
    from app.mining import MinedRules, Progress

READ_CHUNK = 50_000  # order lines per fetch from the server-side cursor
SOURCE = "order_lines"


@dataclass(frozen=True)
class RuleView:
    """antecedents => consequents (product ids, ascending) and how strong it is."""

    id: int
    antecedents: tuple[int, ...]
    consequents: tuple[int, ...]
    baskets: int
    support: float
    confidence: float
    lift: float

    @property
    def ref(self) -> str:
        """ "12,40=>77": names the rule on an impression after the rule is gone."""
        return f"{_key(self.antecedents)}=>{_key(self.consequents)}"


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    mined_at: dt.datetime
    mined_by: str
    source: str
    baskets: int
    items: int  # distinct products in the baskets
    itemsets: int | None  # frequent item sets found (not stored: None when read back)
    rules: int
    seconds: float
    min_support: float
    min_confidence: float
    max_length: int


def _key(ids: tuple[int, ...]) -> str:
    return ",".join(map(str, ids))


def _ids(key: str) -> tuple[int, ...]:
    return tuple(int(part) for part in key.split(","))


class RuleService:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self._db = db
        self.clock = clock

    def baskets(self) -> Iterator[tuple[int, ...]]:
        """One basket (product ids) per order that was not cancelled, streamed from a
        server-side cursor in chunks; the session stays open until the last basket."""
        query = (
            select(OrderLine.order_id, OrderLine.product_id)
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.status != OrderStatus.CANCELLED)
            .order_by(OrderLine.order_id)
        )
        with self._db.read() as session:
            # Core rows, not the ORM's: half the time for millions of lines.
            rows = session.connection().execute(
                query, execution_options={"stream_results": True, "yield_per": READ_CHUNK}
            )
            for _order, lines in itertools.groupby(rows, key=operator.itemgetter(0)):
                yield tuple(line[1] for line in lines)

    def mine_and_store(
        self,
        min_support: float | None,
        min_confidence: float,
        max_length: int,
        mined_by: str,
        progress: Progress | None = None,
    ) -> RunSummary:
        """Mine the order lines and replace the stored rules with what was found, in
        one transaction. `min_support` None: the miner's default for the basket count."""
        from app.mining import mine

        started = time.perf_counter()
        mined = mine(
            self.baskets(),
            min_support=min_support,
            min_confidence=min_confidence,
            max_length=max_length,
            progress=progress,
        )
        if progress:
            progress("storing rules", 0, len(mined.rules))
        with self._db.write() as session:
            run = RuleRun(
                mined_at=self.clock(),
                mined_by=mined_by,
                source=SOURCE,
                baskets=mined.baskets,
                items=mined.items,
                min_support=mined.min_support,
                min_confidence=mined.min_confidence,
                max_length=mined.max_length,
                rule_count=len(mined.rules),
                seconds=0.0,
            )
            session.add(run)
            session.flush()
            _replace_rules(session, run.id, mined)
            run.seconds = round(time.perf_counter() - started, 3)
            summary = _summary(run, mined.itemsets)
        self._analyze()
        if progress:
            progress("storing rules", len(mined.rules), len(mined.rules))
        return summary

    def _analyze(self) -> None:
        """Fresh planner statistics for the rule tables: the pop reads them by product,
        and PostgreSQL plans a table it last saw empty as empty (a scan instead of the
        index). Only the tables' owner (the DBA, the seeder) may: for anyone else
        PostgreSQL skips it with a warning and autovacuum's analyze comes later."""
        if self._db.engine.dialect.name != "postgresql":
            return
        with self._db.engine.connect() as conn:
            conn.execute(text("ANALYZE association_rules, association_rule_items, rule_runs"))
            conn.commit()

    def current_rules_for(self, product_ids: Collection[int]) -> list[RuleView]:
        """The stored rules with any of `product_ids` among their antecedents, strongest
        first (lift, confidence, then id). One statement, by the product index of
        `association_rule_items`."""
        if not product_ids:
            return []
        holding = (
            select(AssociationRuleItem.rule_id)
            .where(
                AssociationRuleItem.product_id.in_(sorted(set(product_ids))),
                AssociationRuleItem.side == "a",
            )
            .scalar_subquery()
        )
        query = (
            select(
                AssociationRule.id,
                AssociationRule.antecedent_key,
                AssociationRule.consequent_key,
                AssociationRule.baskets,
                AssociationRule.support,
                AssociationRule.confidence,
                AssociationRule.lift,
            )
            .where(AssociationRule.id.in_(holding))
            .order_by(
                AssociationRule.lift.desc(),
                AssociationRule.confidence.desc(),
                AssociationRule.id,
            )
        )
        with self._db.lookup() as session:
            return [
                RuleView(
                    id=row.id,
                    antecedents=_ids(row.antecedent_key),
                    consequents=_ids(row.consequent_key),
                    baskets=row.baskets,
                    support=row.support,
                    confidence=row.confidence,
                    lift=row.lift,
                )
                for row in session.execute(query)
            ]

    def latest_run(self) -> RunSummary | None:
        """The newest mining (whose rules are the stored ones), None before the first."""
        with self._db.lookup() as session:
            run = session.scalars(select(RuleRun).order_by(RuleRun.id.desc()).limit(1)).first()
            return _summary(run, None) if run else None


def _summary(run: RuleRun, itemsets: int | None) -> RunSummary:
    return RunSummary(
        run_id=run.id,
        mined_at=run.mined_at,
        mined_by=run.mined_by,
        source=run.source,
        baskets=run.baskets,
        items=run.items,
        itemsets=itemsets,
        rules=run.rule_count,
        seconds=run.seconds,
        min_support=run.min_support,
        min_confidence=run.min_confidence,
        max_length=run.max_length,
    )


def _replace_rules(session: Session, run_id: int, mined: MinedRules[int]) -> None:
    """Insert this run's rules, then drop every other run's, in the caller's transaction.
    New before old, so the new rules' ids are new on SQLite too (it reuses the highest
    id of an emptied table). Impressions keep their `rule_ref`; the foreign key sets
    their `rule_id` NULL when the rule goes."""
    if mined.rules:
        rows: list[dict[str, Any]] = [
            {
                "run_id": run_id,
                "antecedent_key": _key(rule.antecedents),
                "consequent_key": _key(rule.consequents),
                "antecedent_size": len(rule.antecedents),
                "consequent_size": len(rule.consequents),
                "baskets": rule.baskets,
                "support": rule.support,
                "confidence": rule.confidence,
                "lift": rule.lift,
            }
            for rule in mined.rules
        ]
        ids = session.scalars(
            insert(AssociationRule).returning(AssociationRule.id, sort_by_parameter_order=True),
            rows,
        ).all()
        _insert_items(
            session,
            [
                {"rule_id": rule_id, "product_id": product, "side": side}
                for rule_id, rule in zip(ids, mined.rules, strict=True)
                for side, products in (("a", rule.antecedents), ("c", rule.consequents))
                for product in products
            ],
        )
    older = select(AssociationRule.id).where(AssociationRule.run_id != run_id)
    session.execute(delete(AssociationRuleItem).where(AssociationRuleItem.rule_id.in_(older)))
    session.execute(delete(AssociationRule).where(AssociationRule.run_id != run_id))


def _insert_items(session: Session, rows: list[dict[str, Any]]) -> None:
    session.execute(insert(metadata.tables["association_rule_items"]), rows)
