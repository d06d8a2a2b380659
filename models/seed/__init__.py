"""Deterministic, realistic demo data, fast enough for a million customers.

Rows are generated in plain Python (pools drawn once from Faker, then
`random.Random(seed)`), and written in chunks through the raw driver:
`executemany` on SQLite, `COPY` on PostgreSQL. Identifiers are assigned here,
so rows can reference each other without a round trip.

The story customers of S1, S2, S4 and S7 are created first, with ids 1..5,
relative to `now` (the instant of the seed) so their key dates stay near; nothing
that has happened is dated after `now`.

Where things are:
- `writer.py`: buffers rows and writes them in chunks (`Writer`), `SeedReport`, `SeedError`.
- `context.py`: what one run shares (`SeedContext`: writer, random generator, now, ids).
- `data.py`: the fixed lists drawn from (regions, phone shapes, catalogue, stores).
- `reference.py`: departments, staff, limits, policies, stores, products, stock.
- `people.py`, `commerce.py`, `service.py`: one generator per kind of row, named
  after the model modules they fill.
- `population.py`: one random customer with everything around them.
- `stories.py`: the story customers' histories; `story_customers.py`: their names,
  numbers and order numbers, which tests and docs refer to.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from sqlalchemy import Engine, func, select

from models.names import search_name
from models.people import Customer
from models.seed.context import SeedContext
from models.seed.duplicates import write_demo_duplicates
from models.seed.population import random_customer
from models.seed.reference import write_reference_data
from models.seed.service import move_case_numbers_past
from models.seed.sla import write_sla_reference
from models.seed.stories import write_stories
from models.seed.teamwork import write_macros
from models.seed.writer import CHUNK, SeedError, SeedReport


def seed_database(
    engine: Engine,
    customers: int,
    seed: int = 1,
    *,
    now: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    """Fill an empty, migrated database with the story customers and `customers` more."""
    if customers < 0:
        raise SeedError("the number of customers must be 0 or more")
    with engine.connect() as conn:
        if conn.scalar(select(func.count()).select_from(Customer)):
            raise SeedError("the database already holds customers; seed an empty database")
    started = time.perf_counter()
    ctx = SeedContext(engine, seed, now or dt.datetime.now(dt.UTC))
    write_reference_data(ctx)
    write_sla_reference(ctx)
    write_macros(ctx)
    write_stories(ctx)
    ctx.writer.flush()
    done = 0
    reported = 0
    while done < customers:
        target = min(done + CHUNK, customers)
        while done < target:
            done += random_customer(ctx, room=target - done)
        ctx.writer.flush()
        if progress and (done - reported >= 50_000 or done == customers):
            reported = done
            progress(f"{done} customers ({time.perf_counter() - started:.0f} s)")
    write_demo_duplicates(ctx)  # after the population, which stays drawn as before
    ctx.writer.flush()
    ctx.writer.finish()
    move_case_numbers_past(ctx)
    rows = dict(ctx.writer.counts)
    return SeedReport(
        customers=rows.get("customers", 0), rows=rows, seconds=time.perf_counter() - started
    )


__all__ = ["SeedError", "SeedReport", "search_name", "seed_database"]
