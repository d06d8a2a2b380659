"""Concurrent grants on the embedded database: 50 at once, each through its own engine
(as 50 processes on one file would), never spend more than the daily budget."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine, func, select

from app.clock import fixed_clock
from app.services.authority import AuthorityService, ConcessionAsk, Outcome, Status, new_key
from models.authority import Concession, ConcessionBudget
from models.database import Database, make_engine
from tests.factories import agent_context
from tests.test_authority_rules import DAY, GIFT, NOW, World

GRANTS = 50
AMOUNT = 300  # 33 fit in the agent's $100.00 goodwill budget, the 34th does not


def test_fifty_concurrent_grants_never_exceed_the_daily_budget(sqlite_engine: Engine) -> None:
    world = World(sqlite_engine)
    path = Path(str(sqlite_engine.url.database))
    agent = agent_context(sqlite_engine, "agent01")
    start = threading.Barrier(GRANTS)

    def grant(n: int) -> Outcome:
        engine = make_engine(f"sqlite:///{path}")
        try:
            service = AuthorityService(Database(engine), fixed_clock(NOW), agent=agent)
            customer = world.ada if n % 2 else world.bob
            ask = ConcessionAsk(customer, GIFT, AMOUNT, f"Sorry #{n}")
            start.wait(timeout=30)
            return service.grant(ask, new_key())
        finally:
            engine.dispose()

    with ThreadPoolExecutor(GRANTS) as pool:
        outcomes = list(pool.map(grant, range(GRANTS)))
    granted = [o for o in outcomes if o.status is Status.GRANTED]
    refused = [o for o in outcomes if o.status is Status.DENIED]
    assert len(granted) == 10000 // AMOUNT
    assert len(refused) == GRANTS - len(granted)
    assert {o.reason.value for o in refused if o.reason} == {"over_budget"}
    assert sorted(o.remaining_budget_cents or 0 for o in granted)[0] == 10000 % AMOUNT
    with world.db.read() as session:
        total = session.scalar(select(func.sum(Concession.amount_cents)))
        budget = session.get(ConcessionBudget, (world.ids["agent01"], DAY, GIFT))
    assert total == len(granted) * AMOUNT <= 10000
    assert budget is not None and budget.spent_cents == total
