"""Product lookup: stock per store with the next delivery, and launch notes in words."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from app.clock import fixed_clock, local_today
from app.services.products import ProductService, launch_note
from models.catalog import Product, Store, StoreStock
from models.database import Database

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 12, 2)


@pytest.mark.parametrize(
    ("days", "note"),
    [
        (0, "from today, 2 Dec"),
        (1, "from tomorrow, 3 Dec"),
        (3, "from 5 Dec, in 3 days"),
        (7, "from 9 Dec, in a week"),
        (10, "from 12 Dec, in 10 days"),
        (14, "from 16 Dec, in two weeks"),
        (17, "from 19 Dec, in about two weeks"),
        (21, "from 23 Dec, in three weeks"),
        (32, "from 3 Jan 2027, in about five weeks"),
        (45, "from 16 Jan 2027, in about six weeks"),
        (61, "from 1 Feb 2027, in about two months"),
        (120, "from 1 Apr 2027, in about four months"),
        (370, "from 7 Dec 2027, in about a year"),
        (500, "from 15 Apr 2028, in over a year"),
    ],
)
def test_a_launch_in_words(days: int, note: str) -> None:
    assert launch_note(TODAY + dt.timedelta(days=days), TODAY) == note


def test_a_product_on_sale_has_no_launch_note() -> None:
    assert launch_note(TODAY - dt.timedelta(days=1), TODAY) is None
    assert launch_note(None, TODAY) is None


def _catalogue(engine: Engine, today: dt.date) -> dict[str, int]:
    with Database(engine).write() as session:
        stores = [
            Store(
                code=code,
                name=name,
                address="1 Main St",
                city="Sydney",
                country="AU",
                latitude=0.0,
                longitude=0.0,
            )  # fmt: skip
            for code, name in (("SYD", "Rapport George Street"), ("MEL", "Rapport Collins"))
        ]
        session.add_all(stores)
        clock = Product(sku="CLK-CHIME-01", name="Kestrel Chiming Mantel Clock",
                        category="Clocks", price_cents=34900,
                        launch_date=TODAY.replace(year=2020))  # fmt: skip
        phone = Product(sku="PHN-AUR-X2", name="Aurora X2 phone", category="Mobile",
                        price_cents=109900,
                        launch_date=today + dt.timedelta(days=14))  # fmt: skip
        later = Product(sku="PHN-AUR-X3", name="Aurora X3 phone", category="Mobile",
                        price_cents=129900, launch_date=today + dt.timedelta(days=90),
                        active=False)  # fmt: skip
        gone = Product(sku="PHN-OLD-01", name="Aurora One phone", category="Mobile",
                       price_cents=9900, launch_date=TODAY.replace(year=2015),
                       active=False)  # fmt: skip
        session.add_all([clock, phone, later, gone])
        session.flush()
        session.add_all(
            [
                StoreStock(store_id=stores[0].id, product_id=clock.id, quantity=3),
                StoreStock(
                    store_id=stores[1].id,
                    product_id=clock.id,
                    quantity=0,
                    expected_at=today + dt.timedelta(days=5),
                ),  # fmt: skip
                StoreStock(
                    store_id=stores[0].id,
                    product_id=phone.id,
                    quantity=0,
                    expected_at=phone.launch_date,
                ),  # fmt: skip
            ]
        )
        return {"clock": clock.id, "phone": phone.id, "later": later.id}


def test_lookup_by_name_or_sku_with_stock_per_store(engine: Engine) -> None:
    today = local_today(fixed_clock(NOW))
    ids = _catalogue(engine, today)
    products = ProductService(Database(engine), fixed_clock(NOW))
    [clock] = products.lookup("chiming")
    assert (clock.product_id, clock.in_stock, clock.launch_note) == (ids["clock"], 3, None)
    assert clock.stores == (
        ("Rapport George Street", 3, None),
        ("Rapport Collins", 0, today + dt.timedelta(days=5)),
    )
    assert [p.sku for p in products.lookup("clk-chime")] == ["CLK-CHIME-01"]
    # the coming phones are found (the withdrawn one is not), out of stock until launch
    phones = products.lookup("  AURORA  ")
    assert [p.sku for p in phones] == ["PHN-AUR-X2", "PHN-AUR-X3"]
    phone = phones[0]
    assert phone.in_stock == 0
    assert phone.launch_note is not None and phone.launch_note.endswith(", in two weeks")
    assert phone.stores == (("Rapport George Street", 0, today + dt.timedelta(days=14)),)
    # an exact SKU first
    assert products.lookup("PHN-AUR-X3")[0].sku == "PHN-AUR-X3"
    assert products.lookup("") == [] and products.lookup("%") == []
    assert products.lookup("aurora", limit=1)[0].sku == "PHN-AUR-X2"


def test_launches_within_a_window(engine: Engine) -> None:
    today = local_today(fixed_clock(NOW))
    ids = _catalogue(engine, today)
    products = ProductService(Database(engine), fixed_clock(NOW))
    assert [p.product_id for p in products.launches()] == [ids["phone"]]
    assert [p.product_id for p in products.launches(within_days=120)] == [
        ids["phone"],
        ids["later"],
    ]
    # launch day: still announced ("from today"), the day after: on sale
    on_the_day = ProductService(Database(engine), fixed_clock(NOW + dt.timedelta(days=14)))
    [phone] = on_the_day.launches()
    assert phone.launch_note is not None and phone.launch_note.startswith("from today")
    after = ProductService(Database(engine), fixed_clock(NOW + dt.timedelta(days=15)))
    assert after.launches() == []
    assert after.lookup("Aurora X2")[0].launch_note is None
