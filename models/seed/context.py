"""What one seed run shares: the writer, the random generator, now, and the ids made so far.

Every generator function takes a `SeedContext` first. All randomness comes from its
one `random.Random(seed)`, in the order the generators are called, which is what
makes the same seed give the same rows: a new draw anywhere shifts everything
after it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from faker import Faker
from sqlalchemy import Engine

from models.seed.data import REGIONS
from models.seed.writer import Writer

# An order line to write: product, quantity, discount in cents, personalisation text.
Line = tuple[dict[str, Any], int, int, str | None]
UTC = dt.UTC
_EIGHT_HOURS = dt.timedelta(hours=8)


def shift_years(day: dt.date, years: int) -> dt.date:
    """The same day `years` later; 29 February becomes the 28th in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def at(day: dt.date, rng: random.Random, start_hour: int = 8, end_hour: int = 20) -> dt.datetime:
    """A moment in the working hours of `day` (may be later than now: see SeedContext.past)."""
    seconds = rng.randint(start_hour * 3600, end_hour * 3600 - 1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC) + dt.timedelta(seconds=seconds)


@dataclass
class Catalog:
    products: list[dict[str, Any]] = field(default_factory=list)
    by_type: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    by_category: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))


class SeedContext:
    def __init__(self, engine: Engine, seed: int, now: dt.datetime) -> None:
        self.writer = Writer(engine)
        self.rng = random.Random(seed)
        # Everything that has happened happened before `now`, the real instant of the
        # seed (or the one a test passes); what is due later is relative to it.
        self.now = now.astimezone(UTC)
        self.today = self.now.date()
        self.faker_pools(seed)
        self.catalog = Catalog()
        self.users: dict[str, list[int]] = defaultdict(list)
        self.departments: dict[str, int] = {}
        self.stores: list[dict[str, Any]] = []
        self.case_seq = 0
        self.order_seq = 0
        self.contract_seq = 0
        self.used_e164: set[str] = set()

    def past(self, moment: dt.datetime, after: dt.datetime | None = None) -> dt.datetime:
        """`moment`, or, when that is later than now, a moment between `after` and now.

        Without `after` the moment lands in the last eight hours. Every moment that has
        happened goes through here, so the seed never dates a contact in the future.
        """
        if moment <= self.now:
            return moment
        floor = after if after is not None and after < self.now else self.now - _EIGHT_HOURS
        return floor + (self.now - floor) * self.rng.uniform(0.2, 0.9)

    def faker_pools(self, seed: int) -> None:
        self.pools: dict[str, dict[str, list[str]]] = {}
        for region, (locale, _share, _cur, _cities) in REGIONS.items():
            fake = Faker(locale)
            fake.seed_instance(seed)
            self.pools[region] = {
                "first_female": [fake.first_name_female() for _ in range(300)],
                "first_male": [fake.first_name_male() for _ in range(300)],
                "last": [fake.last_name() for _ in range(600)],
                "street": [fake.street_name() for _ in range(300)],
                "postcode": [fake.postcode() for _ in range(300)],
            }
        self.regions = list(REGIONS)
        self.region_weights = [REGIONS[r][1] for r in self.regions]

    @property
    def demo_agent(self) -> int:
        """agent01, whom the demo acts as: the story promises and S2's case are theirs."""
        return self.users["agent"][0]

    def agent(self) -> int:
        """A call-centre agent, drawn at random."""
        return self.rng.choice(self.users["agent"])
