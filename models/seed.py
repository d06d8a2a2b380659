"""Deterministic, realistic demo data, fast enough for a million customers.

Rows are generated in plain Python (pools drawn once from Faker, then
`random.Random(seed)`), and written in chunks through the raw driver:
`executemany` on SQLite, `COPY` on PostgreSQL. Identifiers are assigned here,
so rows can reference each other without a round trip.

The story customers of S1, S2, S4 and S7 (models/seed_stories.py) are created
first, with ids 1..5, relative to `now` (the instant of the seed) so their key dates stay near;
nothing that has happened is dated after `now`.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from faker import Faker
from sqlalchemy import JSON, Boolean, Date, DateTime, Engine, Time, func, select

from models import change_log
from models import seed_stories as story
from models.base import UTCDateTime
from models.people import Customer
from models.phone_kinds import kind_for
from models.schema import metadata

CHUNK = 5_000
# An order line to write: product, quantity, discount in cents, personalisation text.
Line = tuple[dict[str, Any], int, int, str | None]
UTC = dt.UTC
_EIGHT_HOURS = dt.timedelta(hours=8)


class SeedError(Exception):
    """A reason the seed cannot run, in one line for a person."""


@dataclass(frozen=True)
class SeedReport:
    customers: int
    rows: dict[str, int]
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


# -- reference data ----------------------------------------------------------------

REGIONS = {  # region -> (locale, share, currency, cities (name, lat, lon))
    "US": (
        "en_US",
        50,
        "USD",
        [
            ("San Francisco", 37.77, -122.42),
            ("Boston", 42.36, -71.06),
            ("New York", 40.71, -74.01),
            ("Chicago", 41.88, -87.63),
            ("Austin", 30.27, -97.74),
            ("Seattle", 47.61, -122.33),
            ("Miami", 25.76, -80.19),
            ("Denver", 39.74, -104.99),
        ],
    ),
    "GB": (
        "en_GB",
        20,
        "GBP",
        [
            ("London", 51.51, -0.13),
            ("Manchester", 53.48, -2.24),
            ("Bristol", 51.45, -2.59),
            ("Edinburgh", 55.95, -3.19),
        ],
    ),
    "DE": (
        "de_DE",
        10,
        "EUR",
        [("Berlin", 52.52, 13.40), ("Munich", 48.14, 11.58), ("Hamburg", 53.55, 9.99)],
    ),
    "FR": (
        "fr_FR",
        10,
        "EUR",
        [("Paris", 48.86, 2.35), ("Lyon", 45.76, 4.84), ("Bordeaux", 44.84, -0.58)],
    ),
    "AU": (
        "en_AU",
        10,
        "AUD",
        [("Sydney", -33.87, 151.21), ("Melbourne", -37.81, 144.96), ("Brisbane", -27.47, 153.03)],
    ),
}
LANGUAGE = {"US": "en", "GB": "en", "AU": "en", "DE": "de", "FR": "fr"}
# National number shapes: a prefix and how many random digits follow.
PHONE_SHAPES = {
    "US": [("415", 7), ("617", 7), ("212", 7), ("312", 7), ("512", 7), ("206", 7), ("305", 7)],
    "GB": [("077", 8), ("078", 8), ("079", 8), ("020", 8), ("0161", 7)],
    "DE": [("0151", 8), ("0160", 8), ("0170", 8), ("030", 8), ("089", 8)],
    "FR": [("06", 8), ("07", 8), ("01", 8)],
    "AU": [("04", 8), ("02", 8), ("03", 8)],
}
PHONE_FORMATS = (
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.E164,
)

# Categories with products that go together and consumables re-bought on a rhythm:
# category -> list of (type name, price range in cents, replenish days or None, companions).
CATALOG: dict[str, list[tuple[str, tuple[int, int], int | None, tuple[str, ...]]]] = {
    "Fragrance": [
        ("Eau de Parfum 50 ml", (6500, 14000), 90, ("Body Lotion", "Travel Spray")),
        ("Body Lotion", (2500, 4500), 75, ()),
        ("Travel Spray", (1800, 3200), None, ()),
    ],
    "Skincare": [
        ("Day Cream", (2800, 7500), 60, ("Serum", "Cleanser")),
        ("Serum", (3500, 9000), 45, ("Day Cream",)),
        ("Cleanser", (1500, 3000), 60, ()),
        ("Night Cream", (3200, 8000), 60, ("Serum",)),
    ],
    "Coffee": [
        ("Espresso Machine", (24900, 89900), None, ("Coffee Beans 1 kg", "Descaler", "Milk Jug")),
        ("Coffee Beans 1 kg", (1800, 3600), 30, ()),
        ("Descaler", (900, 1600), 120, ()),
        ("Milk Jug", (1500, 3500), None, ()),
    ],
    "Watches": [
        ("Automatic Watch", (29900, 149900), None, ("Leather Strap", "Watch Box")),
        ("Quartz Watch", (9900, 39900), None, ("Leather Strap",)),
        ("Leather Strap", (3900, 8900), None, ()),
        ("Watch Box", (4900, 12900), None, ()),
    ],
    "Clocks": [
        ("Chiming Mantel Clock", (19900, 59900), None, ()),
        ("Wall Clock", (4900, 15900), None, ()),
    ],
    "Home": [
        ("Scented Candle", (2200, 4800), 45, ("Reed Diffuser",)),
        ("Reed Diffuser", (3200, 6500), None, ("Diffuser Refill",)),
        ("Diffuser Refill", (1800, 3200), 60, ()),
    ],
    "Mobile": [
        ("Smartphone", (39900, 129900), None, ("Phone Case", "Screen Protector", "Charger")),
        ("Phone Case", (1900, 4900), None, ()),
        ("Screen Protector", (900, 2500), None, ()),
        ("Charger", (1900, 4500), None, ()),
    ],
}
BRANDS = (
    "Aubade",
    "Maison Clair",
    "Nordlys",
    "Verde",
    "Halcyon",
    "Orrery",
    "Kestrel",
    "Lumen",
    "Saffron & Co",
    "Tidewater",
)
STORES = [
    ("SF1", "Union Square", "San Francisco", "US", 37.788, -122.407),
    ("SF2", "Mission Bay", "San Francisco", "US", 37.770, -122.391),
    ("BOS", "Newbury Street", "Boston", "US", 42.350, -71.081),
    ("NYC", "SoHo", "New York", "US", 40.723, -74.000),
    ("NY2", "Upper East Side", "New York", "US", 40.773, -73.957),
    ("CHI", "Magnificent Mile", "Chicago", "US", 41.895, -87.624),
    ("AUS", "South Congress", "Austin", "US", 30.249, -97.750),
    ("SEA", "Pike Place", "Seattle", "US", 47.609, -122.342),
    ("MIA", "Brickell", "Miami", "US", 25.761, -80.192),
    ("DEN", "Cherry Creek", "Denver", "US", 39.717, -104.953),
    ("LON", "Covent Garden", "London", "GB", 51.512, -0.123),
    ("LO2", "King's Road", "London", "GB", 51.487, -0.168),
    ("MAN", "King Street", "Manchester", "GB", 53.481, -2.245),
    ("BRS", "Clifton", "Bristol", "GB", 51.455, -2.620),
    ("EDI", "George Street", "Edinburgh", "GB", 55.953, -3.200),
    ("BER", "Kurfürstendamm", "Berlin", "DE", 52.502, 13.327),
    ("MUC", "Maximilianstraße", "Munich", "DE", 48.139, 11.583),
    ("HAM", "Jungfernstieg", "Hamburg", "DE", 53.553, 9.993),
    ("PAR", "Le Marais", "Paris", "FR", 48.859, 2.362),
    ("PA2", "Saint-Germain", "Paris", "FR", 48.853, 2.333),
    ("LYO", "Presqu'île", "Lyon", "FR", 45.760, 4.835),
    ("SYD", "Pitt Street", "Sydney", "AU", -33.870, 151.208),
    ("MEL", "Collins Street", "Melbourne", "AU", -37.815, 144.966),
    ("BNE", "Queen Street", "Brisbane", "AU", -27.469, 153.025),
    ("BOR", "Cours de l'Intendance", "Bordeaux", "FR", 44.842, -0.575),
]
DEPARTMENTS = [
    ("call_centre", "Call centre"),
    ("it", "IT"),
    ("warehouse", "Warehouse"),
    ("delivery", "Delivery"),
    ("billing", "Billing"),
    ("field_service", "Field service"),
    ("retention", "Retention"),
]
SEGMENTS = ("retail", "premium", "young professionals", "families", "seniors", "business")
CASE_TOPICS = [
    ("delivery", "Parcel arrived late", "delivery"),
    ("delivery", "Parcel not delivered", "delivery"),
    ("product", "Item arrived damaged", "warehouse"),
    ("product", "Wrong item received", "warehouse"),
    ("billing", "Charged twice", "billing"),
    ("billing", "Refund not received", "billing"),
    ("account", "Cannot log in to web shop", "it"),
    ("service", "Repair request", "field_service"),
]
WRAP_UPS = ("resolved", "information", "order_placed", "complaint", "callback", "escalated")
SUMMARIES = {
    "phone": (
        "Asked about order status",
        "Wants to change delivery address",
        "Questions about a refill",
        "Complained about a late delivery",
        "Asked for the nearest store",
    ),
    "email": ("Sent invoice copy", "Asked for a return label", "Thanked us for quick help"),
    "chat": ("Product advice on skincare", "Tracking number requested", "Voucher question"),
    "store": (
        "Visited the store, tried new fragrance",
        "Picked up an order in store",
        "Had a watch battery replaced",
    ),
    "web": ("Left a product review", "Filled in the contact form"),
    "social": ("Mentioned us in a post", "Asked a question by direct message"),
}
FEEDBACK_TEXT = {
    "positive": (
        "Lovely service, thank you!",
        "Quick and friendly help.",
        "Great advice in store.",
    ),
    "neutral": ("It was fine.", "Delivery took a while but OK."),
    "negative": (
        "Nobody called me back.",
        "Still waiting for my refund.",
        "The parcel was late again.",
    ),
}


def fold(text: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(plain.lower().split())


def shift_years(day: dt.date, years: int) -> dt.date:
    """The same day `years` later; 29 February becomes the 28th in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def at(day: dt.date, rng: random.Random, start_hour: int = 8, end_hour: int = 20) -> dt.datetime:
    """A moment in the working hours of `day` (may be later than now: see Seeder.past)."""
    seconds = rng.randint(start_hour * 3600, end_hour * 3600 - 1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC) + dt.timedelta(seconds=seconds)


# -- the writer ---------------------------------------------------------------------


class Writer:
    """Buffers rows per table and writes them in table order through the raw driver."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)
        self.ids: dict[str, int] = defaultdict(int)
        self.columns = {t.name: [c.name for c in t.columns] for t in metadata.sorted_tables}
        self.order = [t.name for t in metadata.sorted_tables]
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="rapport-seed")
        self._pending: Future[None] | None = None
        self.converters = {
            t.name: [self._converter(c) for c in t.columns] for t in metadata.sorted_tables
        }

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def add(self, table: str, **values: Any) -> int:
        if "id" in self.columns[table] and "id" not in values:
            values["id"] = self.next_id(table)
        self.rows[table].append(values)
        return int(values.get("id", 0))

    def _converter(self, column: Any) -> Callable[[Any], Any] | None:
        """How a Python value of this column goes to the driver (None: as it is)."""
        kind = column.type
        if isinstance(kind, JSON):
            return json.dumps
        if not self.sqlite:
            return None
        # SQLite keeps what SQLAlchemy would have written: naive UTC text, ISO dates, 0/1.
        if isinstance(kind, DateTime | UTCDateTime):
            return lambda v: v.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        if isinstance(kind, Date | Time):
            return lambda v: v.isoformat()
        if isinstance(kind, Boolean):
            return int
        return None

    def flush(self) -> None:
        """Hand the buffered rows to the writer thread and go on generating.

        The database works on one chunk (COPY, index and foreign-key upkeep) while
        Python builds the next; at most one chunk waits, so memory stays flat.
        """
        batch, self.rows = self.rows, defaultdict(list)
        self.wait()
        if self.sqlite:  # sqlite3 holds the GIL while binding rows: nothing to overlap
            self._write(batch)
            return
        self._pending = self._pool.submit(self._write, batch)

    def wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def _write(self, batch: dict[str, list[dict[str, Any]]]) -> None:
        raw: Any = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.sqlite:
                cursor.execute("BEGIN")
                change_triggers = change_log.silence(cursor)  # one "*", not a row per row
            for table in self.order:
                rows = batch.pop(table, [])
                if not rows:
                    continue
                columns = self.columns[table]
                pairs = list(zip(columns, self.converters[table], strict=True))
                tuples = [
                    tuple(v if (v := r.get(c)) is None or f is None else f(v) for c, f in pairs)
                    for r in rows
                ]
                if self.sqlite:
                    marks = ", ".join("?" for _ in columns)
                    cursor.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608 (names from metadata)
                        tuples,
                    )
                else:
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in tuples:
                            copy.write_row(row)
                self.counts[table] += len(tuples)
            if self.sqlite:
                change_log.restore(cursor, change_triggers)
                cursor.execute("COMMIT")
            else:
                raw.commit()
        finally:
            raw.close()

    def finish(self) -> None:
        self.wait()
        self._pool.shutdown()
        if self.sqlite:
            return
        with self.engine.begin() as conn:
            for table in self.order:
                if "id" in self.columns[table] and self.ids.get(table):
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {self.ids[table]})"
                    )
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")


# -- the generator ---------------------------------------------------------------------


@dataclass
class Catalog:
    products: list[dict[str, Any]] = field(default_factory=list)
    by_type: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    by_category: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))


class Seeder:
    def __init__(self, engine: Engine, seed: int, now: dt.datetime) -> None:
        self.w = Writer(engine)
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

    # reference data

    def reference(self) -> None:
        for code, name in DEPARTMENTS:
            self.departments[code] = self.w.add("departments", code=code, name=name)
        staff = [
            ("agent", 40, "call_centre"),
            ("supervisor", 6, "call_centre"),
            ("manager", 2, "call_centre"),
            ("admin", 1, "it"),
        ]
        for role, count, dept in staff:
            for n in range(1, count + 1):
                login = (
                    "admin"
                    if role == "admin"
                    else f"{role[:5] if role == 'supervisor' else role}{n:02d}"
                )
                pool = self.pools["US"]
                first = self.rng.choice(pool["first_female"] + pool["first_male"])
                display = f"{first} {self.rng.choice(pool['last'])}"
                uid = self.w.add(
                    "users",
                    login=login,
                    display_name=display,
                    role=role,
                    department_id=self.departments[dept],
                    team=f"Team {1 + n % 4}",
                    email=f"{login}@rapport.example",
                    active=True,
                    created_at=self.now,
                )
                self.users[role].append(uid)
        for dept in ("warehouse", "delivery", "it", "billing", "field_service"):
            for n in range(1, 3):
                uid = self.w.add(
                    "users",
                    login=f"{dept[:4]}{n:02d}",
                    display_name=f"{dept.replace('_', ' ').title()} {n}",
                    role="agent",
                    department_id=self.departments[dept],
                    team=dept,
                    email=None,
                    active=True,
                    created_at=self.now,
                )
                self.users[dept].append(uid)
        limits = {
            "agent": {
                "discount": 2000,
                "credit": 2500,
                "sample": 1500,
                "goodwill_gift": 3000,
                "fee_waiver": 0,
                "policy_exception": 0,
            },
            "supervisor": {
                "discount": 10000,
                "credit": 15000,
                "sample": 5000,
                "goodwill_gift": 15000,
                "fee_waiver": 40000,
                "policy_exception": 40000,
            },
            "manager": {
                "discount": 50000,
                "credit": 100000,
                "sample": 20000,
                "goodwill_gift": 50000,
                "fee_waiver": 200000,
                "policy_exception": 200000,
            },
        }
        for role, caps in limits.items():
            for kind, cap in caps.items():
                self.w.add(
                    "authority_limits",
                    role=role,
                    user_id=None,
                    concession_type=kind,
                    max_amount_cents=cap,
                    period_days=30,
                    max_total_per_period_cents=cap * 10 if cap else None,
                )
        self.w.add(
            "authority_limits",
            role=None,
            user_id=self.users["agent"][0],
            concession_type="goodwill_gift",
            max_amount_cents=5000,
            period_days=30,
            max_total_per_period_cents=50000,
        )
        policies = [
            (
                "EARLY_UPGRADE_FEE",
                "Early upgrade fee",
                "Upgrading a device within 12 months of a contract renewal costs the upgrade fee.",
                {"months_since_renewal_lt": 12, "fee": "contract.upgrade_fee_cents"},
                "supervisor",
            ),
            (
                "RETURN_WINDOW_30D",
                "30-day return window",
                "Items can be returned within 30 days of delivery.",
                {"days": 30},
                "supervisor",
            ),
            (
                "GOODWILL_CAP",
                "Goodwill cap",
                "Goodwill gestures above the agent's limit need a supervisor.",
                {"per_case_cents": 3000},
                "supervisor",
            ),
        ]
        for code, name, description, rule, role in policies:
            self.w.add(
                "policies",
                code=code,
                name=name,
                description=description,
                rule=rule,
                override_role=role,
                active=True,
            )
        for code, name, city, country, lat, lon in STORES:
            sid = self.w.add(
                "stores",
                code=code,
                name=f"Rapport {name}",
                address=f"{name}, {city}",
                city=city,
                country=country,
                latitude=lat,
                longitude=lon,
                phone=None,
            )
            self.stores.append({"id": sid, "country": country, "lat": lat, "lon": lon})
        self.products()
        for store in self.stores:
            for product in self.catalog.products:
                if self.rng.random() < 0.85:
                    qty = self.rng.choice((0, 0, 1, 2, 3, 5, 8, 12, 20))
                    self.w.add(
                        "store_stock",
                        store_id=store["id"],
                        product_id=product["id"],
                        quantity=qty,
                        expected_at=self.today + dt.timedelta(days=self.rng.randint(3, 21))
                        if qty == 0
                        else None,
                        updated_at=self.now,
                    )

    def products(self) -> None:
        sku_seq = 0
        for category, types in CATALOG.items():
            for type_name, (low, high), replenish, companions in types:
                for brand in self.rng.sample(BRANDS, 5):
                    sku_seq += 1
                    price = self.rng.randrange(low, high, 100) - 1 if high > low else low
                    launch = self.today - dt.timedelta(days=self.rng.randint(200, 4000))
                    product = {
                        "sku": f"{category[:3].upper()}-{sku_seq:05d}",
                        "name": f"{brand} {type_name}",
                        "category": category,
                        "price_cents": price,
                        "replenish_days": replenish,
                        "launch_date": launch,
                        "active": True,
                        "description": f"{type_name} by {brand}",
                    }
                    product["id"] = self.w.add("products", **product)
                    product["companions"] = companions
                    product["type"] = type_name
                    self.catalog.products.append(product)
                    self.catalog.by_type[type_name].append(product)
                    self.catalog.by_category[category].append(product)
        # Story products with fixed SKUs, and a launch two weeks out (S7).
        for sku, name, category, price, replenish, launch_in in (
            (story.S1_REFILL_SKU, "Aubade Eau de Parfum 50 ml", "Fragrance", 11800, 90, -1500),
            ("WAT-ENGR-01", "Orrery Automatic Watch (engraved)", "Watches", 64900, None, -900),
            ("CLK-CHIME-01", "Kestrel Chiming Mantel Clock", "Clocks", 34900, None, -700),
            (
                story.S7_LAUNCH_SKU,
                story.S7_LAUNCH_PRODUCT,
                "Mobile",
                109900,
                None,
                story.S7_LAUNCH_IN_DAYS,
            ),
        ):
            product = {
                "sku": sku,
                "name": name,
                "category": category,
                "price_cents": price,
                "replenish_days": replenish,
                "launch_date": self.today + dt.timedelta(days=launch_in),
                "active": launch_in <= 0,
                "description": name,
            }
            product["id"] = self.w.add("products", **product)
            product["companions"] = ()
            product["type"] = name
            self.catalog.by_type[sku].append(product)

    # phones

    def phone(self, region: str, used: bool = True) -> tuple[str, str]:
        """A valid number of `region`: (raw as a person typed it, E.164)."""
        for _ in range(50):
            prefix, length = self.rng.choice(PHONE_SHAPES[region])
            national = prefix + "".join(str(self.rng.randint(0, 9)) for _ in range(length))
            if region == "US" and national[3] in "01":
                continue
            parsed = phonenumbers.parse(national, region)
            if not phonenumbers.is_valid_number(parsed):
                continue
            e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            if used and e164 in self.used_e164:
                continue
            self.used_e164.add(e164)
            raw = phonenumbers.format_number(parsed, self.rng.choice(PHONE_FORMATS))
            if self.rng.random() < 0.2:
                raw = raw.replace(" ", ".").replace("-", ".")
            return raw, e164
        raise SeedError(f"could not generate a valid {region} phone number")

    def add_phone(self, customer_id: int, raw: str, e164: str, kind: str, primary: bool) -> int:
        """`kind` is what the story means; the number overrides it when it says otherwise
        (a London 020 number is no mobile), as the contact service does."""
        kind = kind_for(e164, hint=kind)
        return self.w.add(
            "customer_phones",
            customer_id=customer_id,
            raw=raw,
            e164=e164,
            digits_tail=e164[-7:],
            kind=kind,
            is_primary=primary,
        )

    # customers

    def customer(
        self,
        region: str,
        *,
        first: str | None = None,
        last: str | None = None,
        since: dt.date | None = None,
        tier: str | None = None,
        household_id: int | None = None,
    ) -> dict[str, Any]:
        rng = self.rng
        pool = self.pools[region]
        female = rng.random() < 0.55
        first = first or rng.choice(pool["first_female" if female else "first_male"])
        last = last or rng.choice(pool["last"])
        if since is None:
            years = min(rng.expovariate(1 / 6), 30)
            since = self.today - dt.timedelta(days=int(years * 365) + rng.randint(0, 364))
        tier = tier or rng.choices(("standard", "silver", "gold", "platinum"), (60, 25, 12, 3))[0]
        cid = self.w.add(
            "customers",
            first_name=first,
            last_name=last,
            search_name=fold(f"{first} {last}"),
            preferred_language=LANGUAGE[region],
            segment=rng.choice(SEGMENTS),
            tier=tier,
            customer_since=since,
            do_not_call=rng.random() < 0.03,
            do_not_email=rng.random() < 0.05,
            do_not_sms=rng.random() < 0.08,
            do_not_mail=rng.random() < 0.1,
            status="active",
            merged_into_id=None,
            household_id=household_id,
            external_ref=None if rng.random() < 0.7 else f"LEG-{rng.randint(10**6, 10**7 - 1)}",
            created_at=at(since, rng),
            updated_at=self.now,
            version=1,
        )
        return {
            "id": cid,
            "region": region,
            "first": first,
            "last": last,
            "since": since,
            "female": female,
            "tier": tier,
            "row": self.w.rows["customers"][-1],
        }

    def address(
        self, c: dict[str, Any], city: tuple[str, float, float] | None = None
    ) -> dict[str, Any]:
        rng = self.rng
        pool = self.pools[c["region"]]
        name, lat, lon = city or rng.choice(REGIONS[c["region"]][3])
        row = {
            "customer_id": c["id"],
            "kind": "home",
            "line1": f"{rng.randint(1, 250)} {rng.choice(pool['street'])}",
            "line2": None,
            "city": name,
            "region": None,
            "postal_code": rng.choice(pool["postcode"]),
            "country": c["region"],
            "latitude": round(lat + rng.uniform(-0.08, 0.08), 5),
            "longitude": round(lon + rng.uniform(-0.08, 0.08), 5),
        }
        self.w.add("customer_addresses", **row)
        return row

    def email(self, c: dict[str, Any], address: str | None = None) -> int:
        if address is None:
            domain = self.rng.choice(("example.com", "example.net", "example.org", "mail.example"))
            local = fold(f"{c['first']}.{c['last']}").replace(" ", "").replace("'", "")
            local = "".join(ch for ch in local if ch.isalnum() or ch == ".")
            address = f"{local}{c['id']}@{domain}"
        return self.w.add(
            "customer_emails",
            customer_id=c["id"],
            address=address,
            address_normalized=address.lower(),
            kind="personal",
            is_primary=True,
        )

    def key_date(
        self,
        customer_id: int,
        kind: str,
        date: dt.date,
        label: str | None = None,
        relation_id: int | None = None,
        recurring: bool = True,
    ) -> None:
        self.w.add(
            "key_dates",
            customer_id=customer_id,
            relation_id=relation_id,
            kind=kind,
            label=label,
            date=date,
            month_day=date.strftime("%m-%d"),
            recurring_yearly=recurring,
            version=1,
        )

    def birthday(self, age_low: int = 20, age_high: int = 80) -> dt.date:
        born = self.today.year - self.rng.randint(age_low, age_high)
        return dt.date(born, 1, 1) + dt.timedelta(days=self.rng.randint(0, 364))

    # orders

    def order(
        self,
        c: dict[str, Any],
        placed: dt.datetime,
        lines: Sequence[Line],
        channel: str | None = None,
        number: str | None = None,
        status: str | None = None,
    ) -> tuple[int, list[int]]:
        rng = self.rng
        channel = channel or rng.choices(("web", "store", "phone"), (55, 35, 10))[0]
        store_id = None
        if channel == "store":
            local = [s for s in self.stores if s["country"] == c["region"]] or self.stores
            store_id = rng.choice(local)["id"]
        age = (self.now - placed).days
        if status is None:
            status = "delivered" if age > 10 else rng.choice(("paid", "shipped", "delivered"))
            if rng.random() < 0.03:
                status = rng.choice(("returned", "cancelled"))
        if number is None:
            self.order_seq += 1
            number = f"R{30000000 + self.order_seq}"
        subtotal = sum(p["price_cents"] * q for p, q, _d, _t in lines)
        discount = sum(d for _p, _q, d, _t in lines)
        oid = self.w.add(
            "orders",
            number=number,
            customer_id=c["id"],
            channel=channel,
            store_id=store_id,
            placed_at=placed,
            status=status,
            currency=REGIONS[c["region"]][2],
            subtotal_cents=subtotal,
            discount_cents=discount,
            total_cents=subtotal - discount,
            version=1,
        )
        line_ids = []
        for n, (product, qty, disc, text) in enumerate(lines, start=1):
            line_ids.append(
                self.w.add(
                    "order_lines",
                    order_id=oid,
                    line_no=n,
                    product_id=product["id"],
                    quantity=qty,
                    unit_price_cents=product["price_cents"],
                    discount_cents=disc,
                    personalisation=text,
                )
            )
        if channel != "store" and status != "cancelled":
            promised = (placed + dt.timedelta(days=rng.randint(2, 5))).date()
            late = rng.random() < 0.12
            delivered = None
            ship_status = "in_transit"
            if status in ("delivered", "returned"):
                delivered = self.past(
                    at(
                        promised
                        + dt.timedelta(days=rng.randint(1, 4) if late else -rng.randint(0, 1)),
                        rng,
                    ),
                    placed,
                )
                ship_status = "delivered"
            elif rng.random() < 0.02:
                ship_status = "failed"
            self.w.add(
                "shipments",
                order_id=oid,
                carrier=rng.choice(("UPS", "DHL", "FedEx", "Royal Mail", "DPD")),
                tracking_number=f"1Z{rng.randint(10**9, 10**10 - 1)}",
                promised_date=promised,
                shipped_at=self.past(placed + dt.timedelta(days=1), placed),
                delivered_at=delivered,
                status=ship_status,
            )
        return oid, line_ids

    def basket(self) -> list[Line]:
        rng = self.rng
        category = rng.choice(list(self.catalog.by_category))
        first = rng.choice(self.catalog.by_category[category])
        lines: list[Line] = [(first, 1, 0, None)]
        for companion in first["companions"]:
            if rng.random() < 0.55:
                lines.append((rng.choice(self.catalog.by_type[companion]), 1, 0, None))
        if rng.random() < 0.1:
            product, qty, _d, text = lines[0]
            lines[0] = (product, qty, product["price_cents"] // 10, text)
        return lines[:4]

    def orders_for(self, c: dict[str, Any]) -> None:
        rng = self.rng
        start = dt.datetime(c["since"].year, c["since"].month, c["since"].day, tzinfo=UTC)
        span = max((self.now - start).days, 1)
        count = min(int(rng.expovariate(1 / 4)) + 1, 40)
        for _ in range(count):
            placed = start + dt.timedelta(
                days=rng.randint(0, span), seconds=rng.randint(28800, 72000)
            )
            self.order(c, self.past(placed, start), self.basket())
        # A consumable re-bought on the customer's own rhythm.
        if rng.random() < 0.35:
            candidates = [p for p in self.catalog.products if p["replenish_days"]]
            product = rng.choice(candidates)
            rhythm = product["replenish_days"] * rng.uniform(0.8, 1.3)
            when = self.now - dt.timedelta(days=rng.randint(20, 600))
            first_when = max(start, when - dt.timedelta(days=rhythm * rng.randint(2, 6)))
            moment = first_when
            while moment < self.now - dt.timedelta(days=3):
                self.order(c, moment, [(product, 1, 0, None)])
                moment += dt.timedelta(days=rhythm * rng.uniform(0.85, 1.15))

    # service history

    def agent(self) -> int:
        return self.rng.choice(self.users["agent"])

    def interactions_for(self, c: dict[str, Any], count: int) -> None:
        rng = self.rng
        for _ in range(count):
            channel = rng.choices(
                ("phone", "email", "chat", "store", "web", "social"), (35, 25, 15, 12, 8, 5)
            )[0]
            day = self.today - dt.timedelta(
                days=rng.randint(0, max((self.today - c["since"]).days, 1))
            )
            # Room for the call to be answered and ended before now.
            started = self.past(at(day, rng) + dt.timedelta(minutes=20)) - dt.timedelta(minutes=20)
            missed = channel == "phone" and rng.random() < 0.08
            answered = None if missed else started + dt.timedelta(seconds=rng.randint(3, 40))
            ended = (
                started + dt.timedelta(seconds=rng.randint(60, 900))
                if channel in ("phone", "chat", "store")
                else None
            )
            iid = self.w.add(
                "interactions",
                customer_id=c["id"],
                case_id=None,
                channel=channel,
                direction="outbound" if rng.random() < 0.15 else "inbound",
                outcome="missed" if missed else "completed",
                started_at=started,
                answered_at=answered,
                ended_at=None if missed else ended,
                agent_id=None if missed or channel in ("web", "social") else self.agent(),
                store_id=None,
                call_id=None,
                phone_number=None,
                wrap_up_code=None if missed else rng.choice(WRAP_UPS),
                summary=rng.choice(SUMMARIES[channel]),
                version=1,
            )
            if not missed and rng.random() < 0.12:
                sentiment = rng.choices(("positive", "neutral", "negative"), (60, 25, 15))[0]
                rating = {
                    "positive": rng.randint(4, 5),
                    "neutral": 3,
                    "negative": rng.randint(1, 2),
                }[sentiment]
                self.w.add(
                    "feedback",
                    customer_id=c["id"],
                    interaction_id=iid,
                    case_id=None,
                    rating=rating,
                    sentiment=sentiment,
                    text=rng.choice(FEEDBACK_TEXT[sentiment]),
                    source=channel,
                    received_at=self.past(started + dt.timedelta(hours=2), ended or started),
                )

    def reference_code(self, opened: dt.datetime) -> str:
        self.case_seq += 1
        return f"CS-{opened:%y}-{self.case_seq:06d}"

    def case_for(
        self,
        c: dict[str, Any],
        *,
        topic: tuple[str, str, str] | None = None,
        opened: dt.datetime | None = None,
        open_: bool | None = None,
        order_id: int | None = None,
        line_id: int | None = None,
        contract_id: int | None = None,
        priority: str | None = None,
        description: str | None = None,
        extras: bool = True,
    ) -> tuple[int, str, dt.datetime]:
        rng = self.rng
        category, subject, dept = topic or rng.choice(CASE_TOPICS)
        opened = opened or self.past(at(self.today - dt.timedelta(days=rng.randint(0, 900)), rng))
        is_open = (
            open_ if open_ is not None else (self.now - opened).days < 20 and rng.random() < 0.6
        )
        status = (
            rng.choice(("open", "waiting_customer", "waiting_internal")) if is_open else "closed"
        )
        priority = priority or rng.choices(("low", "normal", "high", "urgent"), (15, 60, 20, 5))[0]
        resolved = (
            None if is_open else self.past(opened + dt.timedelta(days=rng.randint(1, 12)), opened)
        )
        reference = self.reference_code(opened)
        assignee = self.agent()
        case_id = self.w.add(
            "cases",
            reference=reference,
            customer_id=c["id"],
            order_id=order_id,
            order_line_id=line_id,
            contract_id=contract_id,
            category=category,
            subject=subject,
            description=description,
            priority=priority,
            status=status,
            department_id=self.departments[dept],
            assignee_id=assignee,
            sla_due_at=opened + dt.timedelta(days=3 if priority in ("high", "urgent") else 7),
            opened_at=opened,
            updated_at=resolved or opened,
            first_response_at=self.past(opened + dt.timedelta(hours=2), opened),
            resolved_at=resolved,
            closed_at=resolved,
            resolution=None if is_open else "Resolved with the customer",
            version=1,
        )
        self.w.add(
            "case_events",
            case_id=case_id,
            at=opened,
            kind="opened",
            author_id=assignee,
            department_id=self.departments["call_centre"],
            body=subject,
            data=None,
        )
        if rng.random() < 0.5:
            self.w.add(
                "case_events",
                case_id=case_id,
                at=self.past(opened + dt.timedelta(hours=3), opened),
                kind="handoff",
                author_id=assignee,
                department_id=self.departments[dept],
                body=f"Handed to {dept.replace('_', ' ')}",
                data={"to": dept},
            )
            self.w.add(
                "tasks",
                case_id=case_id,
                customer_id=c["id"],
                department_id=self.departments[dept],
                assignee_id=self.users[dept][0] if self.users.get(dept) else None,
                title=f"Check: {subject.lower()}",
                description=None,
                status="open" if is_open else "done",
                due_at=opened + dt.timedelta(days=2),
                created_by_id=assignee,
                created_at=opened,
                completed_at=resolved,
                version=1,
            )
        if resolved:
            self.w.add(
                "case_events",
                case_id=case_id,
                at=resolved,
                kind="resolved",
                author_id=assignee,
                department_id=self.departments[dept],
                body="Resolved",
                data=None,
            )
        if extras and rng.random() < 0.4:
            due = opened + dt.timedelta(days=rng.randint(1, 5))
            if not is_open:  # kept or broken: its day has come
                due = self.past(due, opened)
            if is_open:
                state = "open"
            else:
                state = "kept" if rng.random() < 0.8 else "broken"
            self.commitment(
                c["id"],
                case_id,
                rng.choice(
                    ("Call back with an update", "Send a replacement", "Refund within 5 days")
                ),
                due,
                state,
                created=opened,
            )
        if extras and resolved and rng.random() < 0.2:
            self.concession(c["id"], case_id, resolved, assignee)
        return case_id, reference, opened

    def concession(self, customer_id: int, case_id: int, when: dt.datetime, agent: int) -> None:
        """A gesture granted within the agent's limit, or above it with a supervisor's yes."""
        rng = self.rng
        kind, amount = rng.choice(
            (
                ("goodwill_gift", 2500),
                ("credit", 1500),
                ("discount", 1000),
                ("sample", 0),
                ("credit", 6000),
            )
        )
        request_id = None
        if amount > 2500:
            supervisor = rng.choice(self.users["supervisor"])
            request_id = self.w.add(
                "override_requests",
                idempotency_key=f"seed-req-{case_id}",
                customer_id=customer_id,
                case_id=case_id,
                policy_id=3,
                concession_type=kind,
                amount_cents=amount,
                reason="Repeated delivery problems",
                requested_by_id=agent,
                required_role="supervisor",
                requested_at=when,
                status="approved",
                version=1,
            )
            self.w.add(
                "override_decisions",
                request_id=request_id,
                decided_by_id=supervisor,
                approved=True,
                comment="Long-standing customer, approved",
                decided_at=self.past(when + dt.timedelta(minutes=rng.randint(1, 6)), when),
            )
        concession_id = self.w.add(
            "concessions",
            idempotency_key=f"seed-con-{case_id}",
            customer_id=customer_id,
            case_id=case_id,
            type=kind,
            amount_cents=amount,
            currency="USD",
            reason="Sorry for the trouble",
            granted_by_id=agent,
            override_request_id=request_id,
            granted_at=when,
        )
        self.w.add(
            "audit_log",
            at=when,
            actor=f"user:{agent}",
            action="concession.grant",
            entity="concession",
            entity_id=concession_id,
            detail={"type": kind, "amount_cents": amount, "case_id": case_id},
        )

    def commitment(
        self,
        customer_id: int,
        case_id: int | None,
        text: str,
        due: dt.datetime,
        status: str,
        created: dt.datetime,
        due_from: dt.datetime | None = None,
    ) -> None:
        self.w.add(
            "commitments",
            customer_id=customer_id,
            case_id=case_id,
            description=text,
            owner_id=self.agent(),
            department_id=self.departments["call_centre"],
            due_from=due_from,
            due_until=due,
            status=status,
            created_at=created,
            resolved_at=None if status == "open" else due,
            version=1,
        )

    def contracts_for(
        self, c: dict[str, Any], services: Iterable[str], bundle_name: str | None, since: dt.date
    ) -> dict[str, int]:
        bundle_id = None
        if bundle_name:
            bundle_id = self.w.add(
                "bundles", customer_id=c["id"], name=bundle_name, discount_percent=10
            )
        ids = {}
        plans = {
            "landline": ("Home Phone Unlimited", 2500),
            "internet": ("Fibre 500", 4500),
            "tv": ("TV Essentials", 3000),
            "mobile": ("Mobile 20 GB", 3500),
        }
        for service in services:
            self.contract_seq += 1
            plan, fee = plans[service]
            ids[service] = self.w.add(
                "contracts",
                number=f"K{7000000 + self.contract_seq}",
                customer_id=c["id"],
                bundle_id=bundle_id,
                service=service,
                plan=plan,
                start_date=since,
                end_date=shift_years(since, 2) if service == "mobile" else None,
                monthly_fee_cents=fee,
                early_termination_fee_cents=fee * 6,
                upgrade_fee_cents=25000 if service == "mobile" else 0,
                status="active",
                version=1,
            )
        return ids

    # one random customer with everything around them

    def random_customer(self, room: int) -> int:
        """One customer (and, room allowing, a partner in the same household); how many."""
        rng = self.rng
        region = rng.choices(self.regions, self.region_weights)[0]
        c = self.customer(region)
        home = self.address(c)
        raw, e164 = self.phone(region)
        self.add_phone(c["id"], raw, e164, "mobile", True)
        home_phone = None
        if rng.random() < 0.4:
            home_phone = self.phone(region)
            self.add_phone(c["id"], *home_phone, "home", False)
        if rng.random() < 0.9:
            self.email(c)
        if rng.random() < 0.7:
            self.key_date(c["id"], "birthday", self.birthday())
        if rng.random() < 0.25:
            self.contact_preferences(c)
        self.orders_for(c)
        self.interactions_for(c, int(rng.expovariate(1 / 3)) + 1)
        if rng.random() < 0.3:
            self.case_for(c)
        if rng.random() < 0.08:
            product = rng.choice(self.catalog.products)
            self.w.add(
                "offer_events",
                customer_id=c["id"],
                product_id=product["id"],
                interaction_id=None,
                agent_id=self.agent(),
                kind=rng.choice(("refill", "cross_sell", "up_sell", "down_sell")),
                reason="Bought together by customers with a similar basket",
                outcome=rng.choices(("shown", "accepted", "declined"), (50, 20, 30))[0],
                value_cents=product["price_cents"],
                at=at(self.today - dt.timedelta(days=rng.randint(0, 700)), rng),
            )
        if rng.random() < 0.3:
            name = rng.choice(
                self.pools[region]["first_female" if not c["female"] else "first_male"]
            )
            relation = "husband" if c["female"] else "wife"
            rid = self.w.add(
                "customer_relations",
                customer_id=c["id"],
                related_customer_id=None,
                related_name=f"{name} {c['last']}",
                relation=relation,
                version=1,
            )
            self.key_date(c["id"], "birthday", self.birthday(), f"{name}'s birthday", rid)
            if rng.random() < 0.5:
                wedding = shift_years(self.today, -rng.randint(2, 40)) - dt.timedelta(
                    days=rng.randint(0, 364)
                )
                self.key_date(c["id"], "anniversary", wedding, "Wedding anniversary")
        if rng.random() < 0.12:
            since = self.today - dt.timedelta(days=rng.randint(30, 2000))
            services = rng.sample(("landline", "internet", "tv", "mobile"), rng.randint(1, 4))
            self.contracts_for(c, services, "Home bundle" if len(services) > 2 else None, since)
            self.key_date(
                c["id"],
                "contract_renewal",
                shift_years(since, 2),
                "Contract renewal",
                recurring=False,
            )
        # A household: a partner who is a customer too, sharing address and home phone.
        if room > 1 and rng.random() < 0.2:
            h = self.w.add("households", name=f"{c['last']} household")
            c["row"]["household_id"] = h
            p = self.customer(region, last=c["last"], household_id=h)
            self.w.add("customer_addresses", **{**home, "customer_id": p["id"]})
            self.add_phone(p["id"], *self.phone(region), "mobile", True)
            if home_phone:
                self.add_phone(p["id"], *home_phone, "home", False)
            self.email(p)
            self.w.add(
                "customer_relations",
                customer_id=c["id"],
                related_customer_id=p["id"],
                related_name=None,
                relation="partner",
                version=1,
            )
            self.w.add(
                "customer_relations",
                customer_id=p["id"],
                related_customer_id=c["id"],
                related_name=None,
                relation="partner",
                version=1,
            )
            self.orders_for(p)
            self.interactions_for(p, 1)
            return 2
        return 1

    def contact_preferences(self, c: dict[str, Any]) -> None:
        rng = self.rng
        self.w.add(
            "contact_preferences",
            customer_id=c["id"],
            channel=rng.choice(("email", "phone", "sms")),
            phone_id=None,
            email_id=None,
            allowed_days=rng.choice((127, 31, 96)),
            allowed_from=dt.time(rng.choice((8, 9, 17, 18))),
            allowed_until=None,
            rank=1,
            avoid=False,
            note=None,
            version=1,
        )

    # the story customers

    def stories(self) -> None:
        self.story_s1()
        self.story_s2()
        self.story_s4()
        self.story_s7()

    def _story_customer(self, key: str, region: str, **kwargs: Any) -> dict[str, Any]:
        s = story.STORY_CUSTOMERS[key]
        c = self.customer(region, first=s.first_name, last=s.last_name, **kwargs)
        c["row"].update(
            do_not_call=False,
            do_not_email=False,
            do_not_sms=False,
            do_not_mail=False,
            external_ref=None,
        )
        c["phone_id"] = self.add_phone(c["id"], s.phone_raw, s.phone_e164, "mobile", True)
        self.used_e164.add(s.phone_e164)
        c["email_id"] = self.email(c, s.email)
        return c

    def story_s1(self) -> None:
        h = self.w.add("households", name="Whitfield household")
        since = self.today - dt.timedelta(days=6 * 365 + 40)
        eleanor = self._story_customer("S1", "US", since=since, tier="gold", household_id=h)
        eleanor["row"]["segment"] = "premium"
        thomas = self._story_customer(
            "S1-household",
            "US",
            since=since + dt.timedelta(days=200),
            tier="silver",
            household_id=h,
        )
        sf = ("San Francisco", 37.79, -122.41)
        home = self.address(eleanor, sf)
        self.w.add("customer_addresses", **{**home, "customer_id": thomas["id"]})
        for c in (eleanor, thomas):
            self.add_phone(
                c["id"], story.S1_SHARED_HOME_RAW, story.S1_SHARED_HOME_E164, "home", False
            )
        self.w.add(
            "customer_relations",
            customer_id=eleanor["id"],
            related_customer_id=thomas["id"],
            related_name=None,
            relation="husband",
            version=1,
        )
        self.w.add(
            "customer_relations",
            customer_id=thomas["id"],
            related_customer_id=eleanor["id"],
            related_name=None,
            relation="wife",
            version=1,
        )
        self.key_date(eleanor["id"], "birthday", dt.date(1971, 4, 22))
        perfume = self.catalog.by_type[story.S1_REFILL_SKU][0]
        # Her perfume about every 90 days, the last one 80 days ago: refill time.
        moment = self.now - dt.timedelta(days=80)
        purchases = []
        while moment > dt.datetime(since.year, since.month, since.day, tzinfo=UTC):
            purchases.append(moment)
            moment -= dt.timedelta(days=self.rng.randint(84, 96))
        first = True
        for placed in reversed(purchases):
            lines = [(perfume, 1, 0, None)]
            if self.rng.random() < 0.5:
                lines.append((self.rng.choice(self.catalog.by_type["Body Lotion"]), 1, 0, None))
            if self.rng.random() < 0.3:
                lines.append((self.rng.choice(self.catalog.by_type["Day Cream"]), 1, 0, None))
            number = story.STORY_CUSTOMERS["S1"].order_number if first else None
            self.order(eleanor, placed, lines, channel="store", number=number, status="delivered")
            first = False
        for _ in range(6):
            placed = self.now - dt.timedelta(days=self.rng.randint(100, 2000))
            self.order(
                eleanor,
                placed,
                [(self.rng.choice(self.catalog.by_type["Scented Candle"]), 2, 0, None)],
            )
        self.order(
            thomas,
            self.now - dt.timedelta(days=400),
            [(self.rng.choice(self.catalog.by_type["Quartz Watch"]), 1, 0, None)],
            number=story.STORY_CUSTOMERS["S1-household"].order_number,
            status="delivered",
        )
        self.interactions_for(eleanor, 6)
        self.w.add(
            "feedback",
            customer_id=eleanor["id"],
            interaction_id=None,
            case_id=None,
            rating=5,
            sentiment="positive",
            text="Always remembered what I like. Lovely service.",
            source="store",
            received_at=self.now - dt.timedelta(days=80),
        )

    def story_s2(self) -> None:
        since = self.today - dt.timedelta(days=10 * 365 + 20)
        sandra = self._story_customer("S2", "US", since=since, tier="platinum")
        sandra["row"]["segment"] = "business"
        office = self.add_phone(
            sandra["id"], story.S2_OFFICE_RAW, story.S2_OFFICE_E164, "work", False
        )
        self.address(sandra, ("Boston", 42.35, -71.07))
        prefs = [
            dict(
                channel="phone",
                phone_id=sandra["phone_id"],
                email_id=None,
                allowed_days=127,
                allowed_from=None,
                allowed_until=None,
                rank=9,
                avoid=True,
                note=story.S2_AVOID_NOTE,
            ),
            dict(
                channel="phone",
                phone_id=office,
                email_id=None,
                allowed_days=31,
                allowed_from=dt.time(18, 0),
                allowed_until=None,
                rank=1,
                avoid=False,
                note="Office phone, weekdays after 6 pm",
            ),
            dict(
                channel="email",
                phone_id=None,
                email_id=sandra["email_id"],
                allowed_days=127,
                allowed_from=None,
                allowed_until=None,
                rank=2,
                avoid=False,
                note=None,
            ),
        ]
        for pref in prefs:
            self.w.add("contact_preferences", customer_id=sandra["id"], version=1, **pref)
        contracts = self.contracts_for(
            sandra, ("mobile",), None, self.today - dt.timedelta(days=400)
        )
        self.order(
            sandra,
            self.now - dt.timedelta(days=400),
            [(self.rng.choice(self.catalog.by_type["Smartphone"]), 1, 0, None)],
            channel="web",
            number=story.STORY_CUSTOMERS["S2"].order_number,
            status="delivered",
        )
        opened = self.now - dt.timedelta(days=150)
        case_id, _ref, _opened = self.case_for(
            sandra,
            topic=("network", story.S2_COVERAGE_CASE_SUBJECT, "field_service"),
            opened=opened,
            open_=True,
            contract_id=contracts["mobile"],
            priority="high",
            extras=False,
            description="No mobile signal at home since spring. Each call starts from scratch.",
        )
        self.w.rows["cases"][-1]["status"] = "open"
        for n in range(7):
            started = opened + dt.timedelta(days=n * 20 + 1, hours=n)
            self.w.add(
                "interactions",
                customer_id=sandra["id"],
                case_id=case_id,
                channel="phone",
                direction="inbound",
                outcome="completed",
                started_at=started,
                answered_at=started + dt.timedelta(seconds=30),
                ended_at=started + dt.timedelta(minutes=12),
                agent_id=self.agent(),
                store_id=None,
                call_id=None,
                phone_number=story.S2_OFFICE_E164,
                wrap_up_code="complaint",
                summary=f"Still no coverage at home (call {n + 1})",
                version=1,
            )
            self.w.add(
                "case_events",
                case_id=case_id,
                at=started,
                kind="contact",
                author_id=None,
                department_id=self.departments["call_centre"],
                body=f"Customer called again ({n + 1})",
                data=None,
            )
        visit_due = opened + dt.timedelta(days=30)
        self.commitment(
            sandra["id"],
            case_id,
            story.S2_BROKEN_COMMITMENTS[0],
            visit_due,
            "broken",
            created=opened,
            due_from=visit_due - dt.timedelta(days=7),
        )
        self.commitment(
            sandra["id"],
            case_id,
            story.S2_BROKEN_COMMITMENTS[1],
            opened + dt.timedelta(days=60),
            "broken",
            created=opened + dt.timedelta(days=56),
        )
        self.commitment(
            sandra["id"],
            case_id,
            story.S2_OPEN_COMMITMENT,
            self.now - dt.timedelta(days=3),
            "open",
            created=self.now - dt.timedelta(days=10),
        )
        self.case_for(
            sandra,
            topic=("billing", story.S2_BILLING_CASE_SUBJECT, "billing"),
            opened=self.now - dt.timedelta(days=20),
            open_=True,
            priority="normal",
            contract_id=contracts["mobile"],
            extras=False,
        )
        self.w.rows["cases"][-1]["status"] = "waiting_internal"
        self.w.add(
            "feedback",
            customer_id=sandra["id"],
            interaction_id=None,
            case_id=case_id,
            rating=1,
            sentiment="negative",
            text="Ten years a customer and nobody fixes my coverage.",
            source="email",
            received_at=self.now - dt.timedelta(days=12),
        )

    def story_s4(self) -> None:
        priya = self._story_customer(
            "S4", "GB", since=self.today - dt.timedelta(days=4 * 365), tier="silver"
        )
        self.address(priya, ("London", 51.51, -0.13))
        kevin_birthday = self.today + dt.timedelta(days=story.S4_KEVIN_BIRTHDAY_IN_DAYS)
        own_birthday = self.today + dt.timedelta(days=story.S4_OWN_BIRTHDAY_IN_DAYS)
        rid = self.w.add(
            "customer_relations",
            customer_id=priya["id"],
            related_customer_id=None,
            related_name=story.S4_RELATION_NAME,
            relation="husband",
            version=1,
        )
        self.key_date(
            priya["id"],
            "birthday",
            shift_years(kevin_birthday, -41),
            "Kevin's birthday",
            rid,
        )
        self.key_date(priya["id"], "birthday", shift_years(own_birthday, -38))
        self.key_date(
            priya["id"],
            "anniversary",
            shift_years(self.today + dt.timedelta(days=150), -10),
            "Wedding anniversary",
        )
        watch = self.catalog.by_type["WAT-ENGR-01"][0]
        placed = self.now - dt.timedelta(days=6)
        order_id, lines = self.order(
            priya,
            placed,
            [
                (watch, 1, 0, story.S4_ENGRAVING),
                (self.rng.choice(self.catalog.by_type["Watch Box"]), 1, 0, None),
            ],
            channel="web",
            number=story.STORY_CUSTOMERS["S4"].order_number,
            status="delivered",
        )
        for _ in range(3):
            self.order(
                priya, self.now - dt.timedelta(days=self.rng.randint(60, 1200)), self.basket()
            )
        case_id, _ref, opened = self.case_for(
            priya,
            topic=("product", story.S4_COMPLAINT_SUBJECT, "warehouse"),
            opened=self.now - dt.timedelta(hours=3),
            open_=True,
            order_id=order_id,
            line_id=lines[0],
            priority="urgent",
            extras=False,
            description=f"Ordered '{story.S4_ENGRAVING}', received '{story.S4_WRONG_ENGRAVING}'. "
            "Husband's birthday on Monday.",
        )
        self.w.rows["cases"][-1]["status"] = "open"
        self.commitment(
            priya["id"],
            case_id,
            "Deliver the re-engraved watch before Kevin's birthday",
            self.now + dt.timedelta(days=1),
            "open",
            created=opened,
        )
        self.interactions_for(priya, 3)

    def story_s7(self) -> None:
        since = dt.date(*story.S7_CUSTOMER_SINCE)
        dorothy = self._story_customer("S7", "AU", since=since, tier="gold")
        self.address(dorothy, ("Sydney", -33.87, 151.21))
        renewed = self.today - dt.timedelta(days=story.S7_MOBILE_RENEWED_MONTHS_AGO * 30)
        contracts = self.contracts_for(
            dorothy, ("landline", "internet", "tv"), story.S7_BUNDLE_NAME, dt.date(2008, 6, 1)
        )
        bundle_id = self.w.rows["contracts"][-1]["bundle_id"]
        self.contract_seq += 1
        contracts["mobile"] = self.w.add(
            "contracts",
            number=f"K{7000000 + self.contract_seq}",
            customer_id=dorothy["id"],
            bundle_id=bundle_id,
            service="mobile",
            plan="Mobile 40 GB",
            start_date=renewed,
            end_date=renewed + dt.timedelta(days=story.S7_MOBILE_TERM_MONTHS * 30),
            monthly_fee_cents=4500,
            early_termination_fee_cents=27000,
            upgrade_fee_cents=story.S7_UPGRADE_FEE_CENTS,
            status="active",
            version=1,
        )
        self.key_date(
            dorothy["id"],
            "contract_renewal",
            renewed + dt.timedelta(days=story.S7_MOBILE_TERM_MONTHS * 30),
            "Mobile contract renewal",
            recurring=False,
        )
        self.order(
            dorothy,
            self.now - dt.timedelta(days=story.S7_MOBILE_RENEWED_MONTHS_AGO * 30),
            [(self.rng.choice(self.catalog.by_type["Smartphone"]), 1, 0, None)],
            channel="store",
            number=story.STORY_CUSTOMERS["S7"].order_number,
            status="delivered",
        )
        self.interactions_for(dorothy, 5)


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
    seeder = Seeder(engine, seed, now or dt.datetime.now(UTC))
    seeder.reference()
    seeder.stories()
    seeder.w.flush()
    done = 0
    reported = 0
    while done < customers:
        target = min(done + CHUNK, customers)
        while done < target:
            done += seeder.random_customer(room=target - done)
        seeder.w.flush()
        if progress and (done - reported >= 50_000 or done == customers):
            reported = done
            progress(f"{done} customers ({time.perf_counter() - started:.0f} s)")
    seeder.w.finish()
    rows = dict(seeder.w.counts)
    return SeedReport(
        customers=rows.get("customers", 0), rows=rows, seconds=time.perf_counter() - started
    )


def search_name(first: str, last: str) -> str:
    """The `customers.search_name` of a person: folded "first last"."""
    return fold(f"{first} {last}")
