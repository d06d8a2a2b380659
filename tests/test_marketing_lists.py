"""Marketing lists on both databases: each criterion, the left-out counts by reason,
consent per channel, campaigns saved with their members, their return and export."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select, update

from app.clock import fixed_clock, local_today
from app.contact_rules import Preference, Route, check_contact
from app.errors import UserError
from app.services.marketing_lists import (
    AVOIDS_CHANNEL,
    DO_NOT_CONTACT,
    MERGED_OR_STAGED,
    NO_CONTACT,
    ListCriteria,
    MarketingListService,
    month_days_ahead,
    months_before,
)
from app.services.segments import SegmentService
from models.commerce import Order
from models.database import Database
from models.enums import Channel, CustomerStatus, KeyDateKind, OrderStatus, PhoneKind, Tier
from models.marketing import Campaign, CampaignMember
from models.people import Customer, CustomerPhone, CustomerRelation
from tests.marketing_factory import (
    NOW,
    add_customer,
    add_key_date,
    add_order,
    add_product,
    add_store,
    avoid,
    days_ago,
)

CREAM = "Day Cream"


@dataclass
class Shop:
    engine: Engine
    ids: dict[str, int]
    cream1: int
    cream2: int
    new: int
    serum: int
    store_a: int

    def service(self, at: dt.datetime = NOW) -> MarketingListService:
        return MarketingListService(Database(self.engine), "marketer", fixed_clock(at))

    def names(self, criteria: ListCriteria) -> set[str]:
        preview = self.service().preview(criteria)
        by_id = {v: k for k, v in self.ids.items()}
        return {by_id[m.customer_id] for m in preview.first}


@pytest.fixture
def shop(engine: Engine) -> Shop:
    cream1 = add_product(engine, "DC1", CREAM)
    cream2 = add_product(engine, "DC2", CREAM)
    new = add_product(engine, "DC-NEW", CREAM)
    serum = add_product(engine, "SE1", "Serum")
    store_a = add_store(engine, "A")
    ids = {
        "ann": add_customer(
            engine, "Ann Avery", email="ann@x.test", mobile="+14155550101", tier=Tier.GOLD
        ),
        "bea": add_customer(engine, "Bea Brown", email="bea@x.test", do_not_email=True),
        "cat": add_customer(engine, "Cat Cole"),
        "dan": add_customer(engine, "Dan Dow", email="dan@x.test", mobile="+14155550104"),
        "eve": add_customer(engine, "Eve East", email="eve@x.test"),
        "fay": add_customer(engine, "Fay Fox", email="fay@x.test"),
        "gus": add_customer(engine, "Gus Gray", email="gus@x.test"),
        "hal": add_customer(engine, "Hal Hill", email="hal@x.test", status=CustomerStatus.MERGED),
        "ivy": add_customer(engine, "Ivy Ince", email="ivy@x.test"),
    }
    add_order(engine, ids["ann"], days_ago(60), 5_000, (cream1,), store_id=store_a)
    add_order(engine, ids["bea"], days_ago(150), 5_000, (cream2,))
    add_order(engine, ids["cat"], days_ago(30), 5_000, (cream1,))
    add_order(engine, ids["dan"], days_ago(100), 5_000, (cream1, serum))
    add_order(engine, ids["eve"], days_ago(400), 5_000, (cream1,))  # outside 12 months
    add_order(engine, ids["fay"], days_ago(30), 5_000, (cream1,))
    add_order(engine, ids["fay"], days_ago(20), 5_000, (new,))  # has the new one already
    add_order(engine, ids["gus"], days_ago(30), 5_000, (serum,))
    add_order(engine, ids["hal"], days_ago(30), 5_000, (cream1,))
    add_order(engine, ids["ivy"], days_ago(30), 5_000, (cream1,), status=OrderStatus.CANCELLED)
    avoid(engine, ids["dan"], Channel.EMAIL)
    return Shop(engine, ids, cream1, cream2, new, serum, store_a)


def s1(shop: Shop, **changes: object) -> ListCriteria:
    """S1's list: bought anything of the Day Cream line in 12 months, not the new one."""
    base = {"lines": (CREAM,), "months": 12, "not_products": (shop.new,)}
    base.update(changes)
    return ListCriteria(**base)  # type: ignore[arg-type]


def test_s1_list_by_email_counts_everyone_left_out_and_why(shop: Shop) -> None:
    preview = shop.service().preview(s1(shop))
    assert preview.matched == 5
    assert preview.member_count == 1
    assert [(m.name, m.contact) for m in preview.first] == [("Ann Avery", "ann@x.test")]
    assert preview.left_out == {
        DO_NOT_CONTACT: 1,  # bea
        NO_CONTACT: 1,  # cat
        AVOIDS_CHANNEL: 1,  # dan
        MERGED_OR_STAGED: 1,  # hal
    }
    assert "1 asked not to be contacted by e-mail (do not e-mail)" in preview.left_out_lines()
    assert "1 no e-mail address on file" in preview.left_out_lines()


def test_text_messages_need_a_mobile_and_ignore_the_email_flags(shop: Shop) -> None:
    preview = shop.service().preview(s1(shop, channel=Channel.SMS))
    assert {m.name for m in preview.first} == {"Ann Avery", "Dan Dow"}
    assert preview.left_out == {NO_CONTACT: 2, MERGED_OR_STAGED: 1}  # bea and cat


def test_a_preference_avoiding_one_number_avoids_only_that_number(shop: Shop) -> None:
    engine, dan = shop.engine, shop.ids["dan"]
    with Database(engine).read() as session:
        phone = session.scalars(select(CustomerPhone).where(CustomerPhone.customer_id == dan)).one()
    avoid(engine, dan, Channel.PHONE, phone_id=phone.id)
    assert shop.service().preview(s1(shop, channel=Channel.PHONE)).left_out[AVOIDS_CHANNEL] == 1
    # Another number first in line: that one is used, the avoided one is not.
    with Database(engine).write() as session:
        session.get_one(CustomerPhone, phone.id).is_primary = False
        session.add(
            CustomerPhone(
                customer_id=dan,
                raw="+14155550999",
                e164="+14155550999",
                digits_tail="5550999",
                kind=PhoneKind.HOME,
                is_primary=True,
            )
        )
    preview = shop.service().preview(s1(shop, channel=Channel.PHONE))
    assert AVOIDS_CHANNEL not in preview.left_out
    assert ("Dan Dow", "+14155550999") in {(m.name, m.contact) for m in preview.first}


@pytest.mark.parametrize(
    ("avoided", "planned", "on_list"),
    [
        ((Channel.EMAIL, False), Channel.EMAIL, False),
        ((Channel.EMAIL, False), Channel.SMS, True),
        ((Channel.SMS, False), Channel.SMS, False),
        ((Channel.SMS, True), Channel.SMS, False),  # that very mobile
        ((Channel.PHONE, False), Channel.SMS, True),  # calls, not texts
    ],
)
def test_avoiding_agrees_with_the_contact_rules(
    shop: Shop, avoided: tuple[Channel, bool], planned: Channel, on_list: bool
) -> None:
    engine, ann = shop.engine, shop.ids["ann"]
    with Database(engine).read() as session:
        phone_id = session.scalars(
            select(CustomerPhone.id).where(CustomerPhone.customer_id == ann)
        ).one()
    channel, named = avoided
    avoid(engine, ann, channel, phone_id=phone_id if named else None)
    rule = check_contact(
        [Preference(Route(channel, phone_id if named else None), avoid=True)],
        Route(planned, phone_id),
        NOW.replace(tzinfo=None),
        NOW.replace(tzinfo=None),
        hours=False,
    )
    assert rule.ok == on_list
    assert ("ann" in shop.names(s1(shop, channel=planned))) == on_list


def test_post_needs_an_address_and_honours_do_not_mail(shop: Shop) -> None:
    ann = add_customer(shop.engine, "Ann Post", address="1 Elm St", do_not_mail=False)
    bob = add_customer(shop.engine, "Bob Post", address="2 Elm St", do_not_mail=True)
    add_order(shop.engine, ann, days_ago(10), 100, (shop.cream1,))
    add_order(shop.engine, bob, days_ago(10), 100, (shop.cream1,))
    preview = shop.service().preview(s1(shop, channel=Channel.MAIL))
    assert [(m.name, m.contact) for m in preview.first] == [("Ann Post", "1 Elm St, Springfield")]
    assert preview.left_out[DO_NOT_CONTACT] == 1
    assert preview.left_out[NO_CONTACT] == 4  # ann, bea, cat, dan have no address


def test_each_criterion(shop: Shop) -> None:
    assert shop.names(ListCriteria(products=(shop.cream2,))) == set()  # bea: do not e-mail
    assert shop.service().preview(ListCriteria(products=(shop.cream2,))).matched == 1
    assert shop.names(ListCriteria(lines=("Serum",))) == {"gus"}  # dan avoids e-mail
    assert shop.names(ListCriteria(lines=(CREAM,), months=24)) >= {"eve", "fay"}
    assert "fay" not in shop.names(s1(shop, months=24))
    assert shop.names(s1(shop, not_lines=("Serum",))) == {"ann"}
    assert shop.names(ListCriteria(lines=(CREAM,), tiers=(Tier.GOLD,))) == {"ann"}
    assert shop.names(ListCriteria(stores=(shop.store_a,))) == {"ann"}
    assert shop.service().preview(ListCriteria(not_lines=(CREAM, "Serum"))).matched == 1  # ivy


def test_segments_select_on_the_value_segment(shop: Shop) -> None:
    SegmentService(Database(shop.engine), fixed_clock(NOW)).refresh()
    preview = shop.service().preview(s1(shop, segments=("New",)))
    # First order within 90 days: ann (60), cat (30); dan's was 100 days ago.
    assert [m.name for m in preview.first] == ["Ann Avery"]
    assert preview.left_out == {NO_CONTACT: 1}
    assert preview.first[0].segment == "New"


def test_key_dates_within_days_include_relations(shop: Shop) -> None:
    today = local_today(fixed_clock(NOW))
    add_key_date(shop.engine, shop.ids["ann"], KeyDateKind.BIRTHDAY, today + dt.timedelta(days=5))
    with Database(shop.engine).write() as session:
        relation = CustomerRelation(
            customer_id=shop.ids["gus"], related_name="Gina", relation="wife"
        )
        session.add(relation)
        session.flush()
        relation_id = relation.id
    add_key_date(
        shop.engine,
        shop.ids["gus"],
        KeyDateKind.ANNIVERSARY,
        today.replace(year=2001) + dt.timedelta(days=10),
        relation_id=relation_id,
    )
    assert shop.names(ListCriteria(key_date_days=7)) == {"ann"}
    assert shop.names(ListCriteria(key_date_days=12)) == {"ann", "gus"}
    only = ListCriteria(key_date_days=12, key_date_kinds=(KeyDateKind.ANNIVERSARY,))
    assert shop.names(only) == {"gus"}


def test_date_helpers() -> None:
    assert months_before(dt.datetime(2026, 3, 31, tzinfo=dt.UTC), 1).date() == dt.date(2026, 2, 28)
    assert months_before(dt.datetime(2026, 1, 15, tzinfo=dt.UTC), 13).date() == dt.date(
        2024, 12, 15
    )
    assert month_days_ahead(dt.date(2026, 12, 30), 3) == ["01-01", "01-02", "12-30", "12-31"]
    assert "02-29" in month_days_ahead(dt.date(2027, 2, 27), 2)


def test_bad_criteria_are_one_line(shop: Shop) -> None:
    with pytest.raises(UserError, match="months"):
        shop.service().preview(ListCriteria(months=0))
    with pytest.raises(UserError, match="channel"):
        shop.service().preview(ListCriteria(channel=Channel.CHAT))
    with pytest.raises(UserError, match="name"):
        shop.service().save_campaign("  ", ListCriteria())


def test_campaign_saved_measured_and_exported(shop: Shop, tmp_path: Path) -> None:
    service = shop.service()
    campaign_id = service.save_campaign("New day cream", s1(shop), return_days=30)
    with Database(shop.engine).read() as session:
        members = session.execute(
            select(CampaignMember.customer_id, CampaignMember.contact).where(
                CampaignMember.campaign_id == campaign_id
            )
        ).all()
        campaign = session.get_one(Campaign, campaign_id)
        assert (campaign.member_count, campaign.created_by) == (1, "marketer")
        assert campaign.created_at == NOW
    assert members == [(shop.ids["ann"], "ann@x.test")]
    [view] = service.campaigns()
    assert view.left_out == {
        DO_NOT_CONTACT: 1,
        NO_CONTACT: 1,
        AVOIDS_CHANNEL: 1,
        MERGED_OR_STAGED: 1,
    }
    assert view.criteria["lines"] == [CREAM]

    # Ann orders twice (once inside the window), Bea (not a member) too.
    add_order(shop.engine, shop.ids["ann"], NOW + dt.timedelta(days=5), 12_000, (shop.new,))
    add_order(shop.engine, shop.ids["ann"], NOW + dt.timedelta(days=40), 9_000, (shop.new,))
    add_order(shop.engine, shop.ids["bea"], NOW + dt.timedelta(days=5), 7_000, (shop.new,))
    running = shop.service(NOW + dt.timedelta(days=10)).campaign_return(campaign_id)
    assert (running.orders, running.customers, running.revenue) == (1, 1, (("USD", 12_000),))
    assert not running.complete
    assert shop.service(NOW + dt.timedelta(days=31)).campaign_return(campaign_id).complete

    # An e-mail address changed later: the campaign keeps the one it went to.
    path = tmp_path / "list.csv"
    assert service.export(campaign_id, path) == 1
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["Customer", "First name", "Last name", "Contact", "Tier", "Segment"],
        [str(shop.ids["ann"]), "Ann", "Avery", "ann@x.test", "gold", ""],
    ]
    with pytest.raises(UserError, match="no campaign"):
        service.campaign_return(campaign_id + 100)


def test_the_return_follows_members_merged_since(shop: Shop) -> None:
    """Ann is on the list; she is later merged into Ann2 (her orders move there), and
    Ann2 into Ann3. Orders of all three count, each once, even with Ann2 a member too."""
    service = shop.service()
    campaign_id = service.save_campaign("New day cream", s1(shop), return_days=30)
    ann2 = add_customer(shop.engine, "Ann Avery", email="ann2@x.test")
    ann3 = add_customer(shop.engine, "Ann Avery", email="ann3@x.test")
    with shop.engine.begin() as conn:
        conn.execute(
            insert(CampaignMember).values(
                campaign_id=campaign_id, customer_id=ann2, contact="ann2@x.test"
            )
        )
    add_order(shop.engine, shop.ids["ann"], NOW + dt.timedelta(days=2), 1_000, (shop.new,))
    add_order(shop.engine, ann2, NOW + dt.timedelta(days=3), 2_000, (shop.new,))
    add_order(shop.engine, ann3, NOW + dt.timedelta(days=4), 4_000, (shop.new,))
    with shop.engine.begin() as conn:
        for loser, survivor in ((shop.ids["ann"], ann2), (ann2, ann3)):
            conn.execute(
                update(Order).where(Order.customer_id == loser).values(customer_id=survivor)
            )
            conn.execute(
                update(Customer)
                .where(Customer.id == loser)
                .values(status=CustomerStatus.MERGED, merged_into_id=survivor)
            )
    got = shop.service(NOW + dt.timedelta(days=10)).campaign_return(campaign_id)
    assert (got.orders, got.customers, got.revenue) == (3, 1, (("USD", 7_000),))
