"""The Marketing lists page from the keyboard: S1's list built, previewed with who is
left out and why, saved as a campaign and exported, every query off the GUI thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from sqlalchemy import Engine

from app.bootstrap import build_services
from app.clock import fixed_clock
from app.config import load_settings
from models.enums import Channel, CustomerStatus
from tests.conftest import LoopRunner
from tests.marketing_factory import (
    NOW,
    add_customer,
    add_order,
    add_product,
    avoid,
    days_ago,
)
from ui.bridge import DatabaseBridge
from ui.features.lists.controller import may_build_lists
from ui.features.lists.page import MarketingListsPage


@pytest.fixture
def bridge(qapp: Any) -> Iterator[DatabaseBridge]:
    made = DatabaseBridge()
    yield made
    made.shutdown()


# The completion's popup asks the offscreen platform for the keyboard.
@pytest.mark.qt_log_ignore("This plugin does not support grabbing the keyboard")
def test_s1_list_from_the_keyboard_saved_and_exported(
    sqlite_engine: Engine,
    aloop: LoopRunner,
    bridge: DatabaseBridge,
    qtbot: Any,
    gui_sql_guard: Any,
    tmp_path: Path,
) -> None:
    engine = sqlite_engine
    cream = add_product(engine, "DC1", "Day Cream")
    new = add_product(engine, "NEW1", "Day Cream")
    ann = add_customer(engine, "Ann Avery", email="ann@x.test")
    bea = add_customer(engine, "Bea Brown", email="=cmd|x", do_not_email=True)
    cat = add_customer(engine, "Cat Cole", email="cat@x.test")
    dan = add_customer(engine, "Dan Dow", email="dan@x.test", status=CustomerStatus.STAGED)
    eve = add_customer(engine, "Eve East", email="eve@x.test")
    for who in (ann, bea, cat, dan, eve):
        add_order(engine, who, days_ago(40), 4_000, (cream,))
    add_order(engine, eve, days_ago(10), 4_000, (new,))  # already has the new one
    avoid(engine, cat, Channel.EMAIL)
    services = build_services(load_settings(), engine)
    assert may_build_lists(services)  # the embedded database: everyone
    gui_sql_guard.attach(engine)

    page = MarketingListsPage(services, bridge, fixed_clock(NOW))
    qtbot.addWidget(page)
    page.show()
    aloop.run(page.load())

    qtbot.keyClicks(page.bought.box, "day cr")
    qtbot.keyClick(page.bought.box, Qt.Key.Key_Return)
    qtbot.keyClicks(page.not_bought.box, "NEW1")
    qtbot.keyClick(page.not_bought.box, Qt.Key.Key_Return)
    assert page.bought.values() == [("line", "Day Cream")]
    assert page.not_bought.values() == [("product", new)]
    page.preview_button.setFocus()
    qtbot.keyClick(page.preview_button, Qt.Key.Key_Space)
    aloop.until(lambda: page.preview is not None)

    assert page.summary.text().startswith("1 customer on the list (e-mail), of 4 who match")
    left = page.left_out.text()
    assert "1 asked not to be contacted by e-mail (do not e-mail)" in left
    assert "1 avoids e-mail (contact preference)" in left
    assert "1 merged into another record, or not yet identified" in left
    assert page.members.index(0, 0).data() == "Ann Avery"
    assert page.members.index(0, 1).data() == "ann@x.test"

    qtbot.keyClicks(page.name, "New day cream")
    page.save_button.setFocus()
    saved: list[int] = []
    page.saved.connect(saved.append)
    qtbot.keyClick(page.save_button, Qt.Key.Key_Space)
    aloop.until(lambda: saved)
    aloop.until(lambda: page.campaigns.rowCount() == 1)
    assert page.campaigns.index(0, 0).data() == "New day cream"
    assert page.campaigns.index(0, 4).data() == "1"
    assert "0 orders from 0 customers" in page.campaigns.index(0, 6).data()

    path = tmp_path / "campaign.xlsx"
    page.choose_path = lambda _campaign: path
    page.campaigns_table.setFocus()
    page.campaigns_table.selectRow(0)
    page.export_button.setFocus()
    qtbot.keyClick(page.export_button, Qt.Key.Key_Space)
    aloop.until(lambda: "Exported" in page.message.text())
    sheet = load_workbook(path).active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["Customer", "First name", "Last name", "Contact", "Tier", "Segment"]
    assert rows[1:] == [[ann, "Ann", "Avery", "ann@x.test", "standard", None]]
    services.close()


def test_a_bad_name_is_said_in_one_line(
    sqlite_engine: Engine, aloop: LoopRunner, bridge: DatabaseBridge, qtbot: Any
) -> None:
    services = build_services(load_settings(), sqlite_engine)
    page = MarketingListsPage(services, bridge, fixed_clock(NOW))
    qtbot.addWidget(page)
    aloop.run(page.load())
    aloop.run(page.save())
    assert page.message.text() == "campaign name: 1 to 120 characters"
    services.close()


@pytest.mark.qt_log_ignore("This plugin does not support grabbing the keyboard")
def test_typing_a_line_whole_picks_the_line_not_its_products(qtbot: Any) -> None:
    from ui.features.lists.pickers import PickList

    picker = PickList("Bought", "")
    qtbot.addWidget(picker)
    picker.set_choices(
        [
            ("Line: Eau de Parfum 50 ml", ("line", "Eau de Parfum 50 ml")),
            ("Aubade Eau de Parfum 50 ml (FRG-AUB-50)", ("product", 6)),
            ("Aubade Hair Mist (FRG-AUB-MIST)", ("product", 7)),
        ]
    )
    qtbot.keyClicks(picker.box, "eau de parfum 50 ml")
    qtbot.keyClick(picker.box, Qt.Key.Key_Return)
    qtbot.keyClicks(picker.box, "parfum")  # two choices: nothing taken
    qtbot.keyClick(picker.box, Qt.Key.Key_Return)
    assert picker.box.text() == "parfum"  # left as typed, to be narrowed
    picker.box.clear()
    qtbot.keyClicks(picker.box, "mist")
    qtbot.keyClick(picker.box, Qt.Key.Key_Return)
    assert picker.values() == [("line", "Eau de Parfum 50 ml"), ("product", 7)]
    picker.picked.setCurrentRow(0)
    qtbot.keyClick(picker.picked, Qt.Key.Key_Delete)
    assert picker.values() == [("product", 7)]


@pytest.mark.qt_log_ignore("This plugin does not support grabbing the keyboard")
def test_s1_play_in_the_running_app_on_the_demo_data(
    sqlite_engine: Engine, aloop: LoopRunner, gui_sql_guard: Any, qtbot: Any
) -> None:
    """Ctrl+Shift+M in the window on the seeded demo: the perfume buyers of the last 12
    months who do not have the coming Aubade Hair Mist, by e-mail; Eleanor (S1) is on it."""
    import datetime as dt

    from sqlalchemy import select

    from app.seeding import seed_demo
    from models.catalog import Product
    from tests.conftest import running_window
    from tests.test_shell import _press

    # The window reads the system clock; the demo is seeded relative to the same instant,
    # so what the list finds does not depend on the day the test runs.
    seed_demo(sqlite_engine, 30, 3, now=dt.datetime.now(dt.UTC))
    with sqlite_engine.connect() as conn:
        mist = conn.scalar(select(Product.id).where(Product.sku == "FRG-AUB-MIST"))
    url = sqlite_engine.url.render_as_string(hide_password=False)
    with running_window(url, aloop, gui_sql_guard) as window:
        window.activateWindow()
        _press(window, "Ctrl+Shift+M")
        page = window.tabs.currentWidget()
        assert isinstance(page, MarketingListsPage)
        aloop.until(lambda: page.stores.count() > 0)  # its choices loaded
        qtbot.keyClicks(page.bought.box, "eau de parfum 50 ml")
        qtbot.keyClick(page.bought.box, Qt.Key.Key_Return)
        qtbot.keyClicks(page.not_bought.box, "FRG-AUB-MIST")
        qtbot.keyClick(page.not_bought.box, Qt.Key.Key_Return)
        assert page.not_bought.values() == [("product", mist)]
        page.preview_button.setFocus()
        qtbot.keyClick(page.preview_button, Qt.Key.Key_Space)
        aloop.until(lambda: page.preview is not None)
        preview = page.preview
        assert preview is not None
        assert "Eleanor Whitfield" in {m.name for m in preview.first}
        assert preview.member_count + sum(preview.left_out.values()) == preview.matched
        assert all(m.segment for m in preview.first)  # the seeding scored everyone
