"""Merging duplicate customers and undoing it, on both databases (app/services/merge.py).

The data is the demo seeder's (every kind of child row), topped up so the merged
customer has at least one row in every table that points at customers, including the
ones the seeder leaves empty (override requests, customer values), and collisions the
merge must handle (a value row each, two primary phones). Both are on a campaign, whose
memberships stay as they were."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select, text, update

from app.errors import UserError
from app.seeding import seed_demo
from app.services import merge_moves as moves
from app.services.contacts import ContactConflict, ContactService
from app.services.customers import CustomerService
from app.services.merge import MergeConflict, MergeService
from app.services.search import SearchService
from models.authority import OverrideRequest
from models.data_quality import CustomerMerge, DuplicateCandidate
from models.database import Database
from models.enums import (
    Channel,
    ConcessionType,
    CustomerStatus,
    DuplicateFoundBy,
    DuplicateStatus,
    OverrideStatus,
    Role,
)
from models.marketing import Campaign, CampaignMember, CustomerValue
from models.people import Customer, CustomerPhone, User
from models.schema import metadata
from tests.factories import agent_context

NOW = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)
# Rows that record the merge itself, or change whatever happens (the change feed).
NOT_COMPARED_TABLES = {"audit_log", "customer_merges", "change_log", "alembic_version"}
NOT_COMPARED_COLUMNS = {"version", "updated_at"}


class Clock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed_demo(engine, 20, now=NOW - dt.timedelta(days=1))
    return engine


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
            for t in metadata.sorted_tables
        }


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but the merge's own records), as comparable tuples."""
    result = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name in NOT_COMPARED_TABLES:
                continue
            columns = [c for c in table.columns if c.name not in NOT_COMPARED_COLUMNS]
            rows = conn.execute(select(*columns).order_by(*table.primary_key.columns)).all()
            result[table.name] = [tuple(r) for r in rows]
    return result


def _pair(engine: Engine) -> tuple[int, int]:
    """The two customers with the most rows; the second gets a row in every table."""
    db = Database(engine)
    with db.read() as session:
        ids = session.scalars(
            select(Customer.id).where(Customer.status == CustomerStatus.ACTIVE)
        ).all()
        ranked = sorted(ids, key=lambda i: -sum(moves.counts(session, i).values()))
    survivor, merged = ranked[0], ranked[1]
    with db.write() as session:
        staff = session.scalar(select(User.id).where(User.role == Role.AGENT))
        campaign = Campaign(
            name="Spring",
            channel=Channel.EMAIL,
            criteria_json="{}",
            left_out_json="{}",
            member_count=2,
            created_by="test",
        )
        session.add(campaign)
        session.flush()
        for who in (survivor, merged):
            session.add(CampaignMember(campaign_id=campaign.id, customer_id=who))
            # The seeding scores every active customer (segments); a row each either way.
            if session.get(CustomerValue, who) is None:
                session.add(
                    CustomerValue(
                        customer_id=who,
                        recency_score=3,
                        frequency_score=3,
                        monetary_score=3,
                        segment="loyal",
                    )  # fmt: skip
                )
            session.add(
                CustomerPhone(
                    customer_id=who,
                    raw=f"+1415555{who:04d}",
                    e164=f"+1415555{who:04d}",
                    digits_tail=f"555{who:04d}",
                    kind="mobile",
                    is_primary=True,
                )  # fmt: skip
            )
        session.add(
            OverrideRequest(
                idempotency_key=f"test-{merged}",
                customer_id=merged,
                concession_type=ConcessionType.GOODWILL_GIFT,
                amount_cents=1000,
                reason="late parcel",
                requested_by_id=staff,
                required_role=Role.SUPERVISOR,
                status=OverrideStatus.PENDING,
            )
        )
        session.flush()
        # Every other table: give the merged customer one row from another customer.
        for link in moves.customer_links():
            table = metadata.tables[link.table]
            column = table.c[link.column]
            has = session.scalar(select(func.count()).select_from(table).where(column == merged))
            if has:
                continue
            donor = session.execute(
                select(*table.primary_key.columns)
                .where(column.is_not(None), column.not_in((survivor, merged)))
                .limit(1)
            ).first()
            assert donor is not None, f"no row of {link.key} to give the merged customer"
            condition = [c == v for c, v in zip(table.primary_key.columns, donor, strict=True)]
            session.execute(update(table).where(*condition).values({link.column: merged}))
    return survivor, merged


def _primaries(engine: Engine, customer_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(
                select(func.count())
                .select_from(CustomerPhone)
                .where(CustomerPhone.customer_id == customer_id, CustomerPhone.is_primary.is_(True))
            )
            or 0
        )


def _service(engine: Engine, clock: Clock | None = None) -> MergeService:
    return MergeService(
        Database(engine), clock or Clock(NOW), agent=agent_context(engine, "agent01")
    )


def _versions(engine: Engine, *ids: int) -> dict[int, int]:
    with Database(engine).read() as session:
        return {i: session.get_one(Customer, i).version for i in ids}


def test_merge_moves_every_child_row_and_unmerge_restores_both_row_for_row(
    seeded: Engine,
) -> None:
    survivor, merged = _pair(seeded)
    service = _service(seeded)
    preview = service.preview(pair=(survivor, merged))
    assert all(preview.b.counts[link.key] >= 1 for link in moves.customer_links())
    before_counts = _counts(seeded)
    before_rows = _snapshot(seeded)
    primaries_before = _primaries(seeded, survivor)

    result = service.merge(
        survivor, merged, {"first_name": merged}, _versions(seeded, survivor, merged)
    )

    # Nothing lost: every table has as many rows as before (but the merge's records).
    after_counts = _counts(seeded)
    assert {t: n for t, n in after_counts.items() if t not in NOT_COMPARED_TABLES} == {
        t: n for t, n in before_counts.items() if t not in NOT_COMPARED_TABLES
    }
    assert after_counts["customer_merges"] == before_counts["customer_merges"] + 1
    with Database(seeded).read() as session:
        left = moves.counts(session, merged)
        now_survivor = moves.counts(session, survivor)
        gone = session.get_one(Customer, merged)
        kept = session.get_one(Customer, survivor)
        assert gone.status == CustomerStatus.MERGED and gone.merged_into_id == survivor
        assert kept.first_name == preview.b.values["first_name"]
    # Only the colliding row stayed behind: one value row. Campaign memberships are
    # history and never move (app/services/merge_moves.py BOOKKEEPING).
    assert {k: n for k, n in left.items() if n} == {"customer_values.customer_id": 1}
    assert result.kept == {"customer_values.customer_id": 1}
    with seeded.connect() as conn:
        members = conn.scalars(select(CampaignMember.customer_id)).all()
    assert sorted(members) == sorted((survivor, merged))
    for link in moves.customer_links():
        expected = preview.a.counts[link.key] + preview.b.counts[link.key] - left[link.key]
        assert now_survivor[link.key] == expected, link.key
    # The merged customer's primary phone is no longer primary: the survivor has one.
    assert _primaries(seeded, survivor) == primaries_before
    assert result.moved["concessions.customer_id"] == preview.b.counts["concessions.customer_id"]
    assert result.moved["override_requests.customer_id"] >= 1

    undone = service.unmerge(result.merge_id)

    assert undone.kept_edits == ()
    assert _snapshot(seeded) == before_rows


def test_a_merged_id_opens_the_survivor_and_is_not_found_by_search(seeded: Engine) -> None:
    survivor, merged = _pair(seeded)
    service = _service(seeded)
    with Database(seeded).read() as session:
        name = session.get_one(Customer, merged).last_name
    service.merge(survivor, merged, {}, _versions(seeded, survivor, merged))
    assert service.resolve(merged) == survivor
    view = CustomerService(Database(seeded), "US", clock=Clock(NOW)).load_customer(merged)
    assert view.header.id == survivor
    assert view.merged_from == merged
    lookups = CustomerService(Database(seeded), "US", clock=Clock(NOW))
    hits = SearchService(Database(seeded), lookups).search(name)
    assert merged not in {hit.id for hit in hits}


def test_unmerge_is_refused_after_30_days_with_a_clear_message(seeded: Engine) -> None:
    survivor, merged = _pair(seeded)
    clock = Clock(NOW)
    service = _service(seeded, clock)
    result = service.merge(survivor, merged, {}, _versions(seeded, survivor, merged))
    clock.at = NOW + dt.timedelta(days=30, minutes=1)
    with pytest.raises(UserError, match="within 30 days"):
        service.unmerge(result.merge_id)
    clock.at = NOW + dt.timedelta(days=29)
    assert service.unmerge(result.merge_id).merged_id == merged
    with pytest.raises(UserError, match="already undone"):
        service.unmerge(result.merge_id)


def test_unmerge_is_refused_when_moved_rows_were_moved_again(seeded: Engine) -> None:
    survivor, merged = _pair(seeded)
    service = _service(seeded)
    result = service.merge(survivor, merged, {}, _versions(seeded, survivor, merged))
    with Database(seeded).read() as session:
        third = session.scalar(
            select(Customer.id).where(
                Customer.status == CustomerStatus.ACTIVE, Customer.id != survivor
            )
        )
    assert third is not None
    result2 = service.merge(third, survivor, {}, _versions(seeded, third, survivor))
    with pytest.raises(UserError, match="undo that merge first|moved or deleted since"):
        service.unmerge(result.merge_id)
    service.unmerge(result2.merge_id)
    service.unmerge(result.merge_id)  # in order, both undo


def test_a_candidate_is_marked_merged_then_open_again_and_dismissed(seeded: Engine) -> None:
    survivor, merged = _pair(seeded)
    a, b = sorted((survivor, merged))
    with Database(seeded).write() as session:
        # The demo's own pairs (models/seed/duplicates.py) out of the way: this one alone.
        session.execute(delete(DuplicateCandidate))
        candidate = DuplicateCandidate(
            customer_a_id=a,
            customer_b_id=b,
            score=0.93,
            evidence_json='{"email": 1.0, "name": 0.88}',
            found_by=DuplicateFoundBy.SCAN,
        )
        session.add(candidate)
        session.flush()
        candidate_id = candidate.id
    service = _service(seeded)
    queue = service.queue()
    assert [c.id for c in queue] == [candidate_id]
    assert queue[0].reasons == "email 100%, name 88%"
    preview = service.preview(candidate_id)
    assert preview.score == pytest.approx(0.93)
    result = service.merge(
        survivor, merged, {}, _versions(seeded, survivor, merged), candidate_id=candidate_id
    )
    assert service.queue() == []
    service.unmerge(result.merge_id)
    assert [c.id for c in service.queue()] == [candidate_id]
    service.dismiss(candidate_id)
    with Database(seeded).read() as session:
        decided = session.get_one(DuplicateCandidate, candidate_id)
        assert decided.status == DuplicateStatus.DISMISSED and decided.decided_by
    assert service.queue() == []


def test_an_edit_saved_after_the_review_makes_the_merge_refuse(seeded: Engine) -> None:
    survivor, merged = _pair(seeded)
    service = _service(seeded)
    reviewed = _versions(seeded, survivor, merged)
    contacts = ContactService(Database(seeded), "US", agent=agent_context(seeded, "agent02"))
    loaded = contacts.load(merged)
    from dataclasses import replace

    contacts.save(merged, loaded.version, replace(loaded.details, first_name="Edited"))
    with pytest.raises(MergeConflict, match="changed by someone else"):
        service.merge(survivor, merged, {"first_name": merged}, reviewed)
    with Database(seeded).read() as session:
        assert session.get_one(Customer, merged).first_name == "Edited"
        assert session.get_one(Customer, merged).status == CustomerStatus.ACTIVE


def _race(
    service: MergeService,
    contacts: ContactService,
    survivor: int,
    merged: int,
    versions: dict[int, int],
    loaded: Any,
    name: str,
) -> dict[str, Any]:
    """Merge in one thread and save an edit (`loaded`: the customer as the editing agent
    loaded it, either of the two) in another, at once."""
    from dataclasses import replace

    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def do_merge() -> None:
        barrier.wait()
        try:
            results["merge"] = service.merge(survivor, merged, {}, versions)
        except MergeConflict as exc:
            results["merge"] = exc

    def do_edit() -> None:
        barrier.wait()
        try:
            results["edit"] = contacts.save(
                loaded.customer_id, loaded.version, replace(loaded.details, first_name=name)
            )
        except ContactConflict as exc:
            results["edit"] = exc

    threads = [threading.Thread(target=do_merge), threading.Thread(target=do_edit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.mark.parametrize("edited", ["merged", "survivor"])
def test_concurrent_merge_and_edit_never_lose_the_edit(seeded: Engine, edited: str) -> None:
    """Real threads: one merges, one edits either customer's name. Exactly one
    wins; if the edit wins it is there, if the merge wins the edit was refused (the
    agent is told), never silently overwritten."""

    survivor, merged = _pair(seeded)
    service = _service(seeded)
    contacts = ContactService(Database(seeded), "US", agent=agent_context(seeded, "agent02"))
    outcomes = []
    for round_ in range(4):
        with Database(seeded).write() as session:
            session.execute(
                update(Customer)
                .where(Customer.id == merged)
                .values(status=CustomerStatus.ACTIVE, merged_into_id=None)
            )
            session.execute(text("DELETE FROM customer_merges"))
        versions = _versions(seeded, survivor, merged)
        loaded = contacts.load(merged if edited == "merged" else survivor)
        results = _race(service, contacts, survivor, merged, versions, loaded, f"Round{round_}")
        merge_lost = isinstance(results["merge"], MergeConflict)
        edit_lost = isinstance(results["edit"], ContactConflict)
        assert merge_lost != edit_lost, results
        with Database(seeded).read() as session:
            row = session.get_one(Customer, merged)
            edited_row = session.get_one(Customer, loaded.customer_id)
            if not edit_lost:
                assert edited_row.first_name == f"Round{round_}"
                assert row.status == CustomerStatus.ACTIVE
            else:
                assert edited_row.first_name != f"Round{round_}"
                assert row.status == CustomerStatus.MERGED
        outcomes.append("edit" if merge_lost else "merge")
        if not merge_lost:
            service.unmerge(results["merge"].merge_id)
    assert outcomes  # which one wins depends on the scheduler; both are correct


def test_identify_staged_caller_moves_the_call_and_leaves_no_junk(seeded: Engine) -> None:
    from models.enums import Direction, InteractionOutcome
    from models.service import Interaction

    with Database(seeded).write() as session:
        real = session.scalar(select(Customer.id).where(Customer.status == CustomerStatus.ACTIVE))
        staged = Customer(
            first_name="Unknown",
            last_name="caller",
            search_name="unknown caller",
            customer_since=NOW.date(),
            status=CustomerStatus.STAGED,
        )
        session.add(staged)
        session.flush()
        staged_id = staged.id
    assert real is not None
    with Database(seeded).write() as session:
        interaction = Interaction(
            customer_id=staged_id,
            channel=Channel.PHONE,
            direction=Direction.INBOUND,
            outcome=InteractionOutcome.COMPLETED,
            started_at=NOW - dt.timedelta(minutes=5),
            call_id="staged-call-1",
            call_source="test",
        )
        session.add(interaction)
        session.flush()
        call = interaction.id
    service = _service(seeded)
    result = service.identify_staged(staged_id, real)
    assert result.survivor_id == real
    with Database(seeded).read() as session:
        assert session.get_one(Customer, staged_id).status == CustomerStatus.MERGED
        assert sum(moves.counts(session, staged_id).values()) == 0
        assert session.get_one(Interaction, call).customer_id == real
    with pytest.raises(UserError, match="not a staged caller"):
        service.identify_staged(real, staged_id)


def test_bad_requests_get_one_line_messages(seeded: Engine) -> None:
    survivor, merged = _pair(seeded)
    service = _service(seeded)
    versions = _versions(seeded, survivor, merged)
    with pytest.raises(UserError, match="itself"):
        service.merge(survivor, survivor, {}, versions)
    with pytest.raises(UserError, match="not a field"):
        service.merge(survivor, merged, {"password": merged}, versions)
    with pytest.raises(UserError, match="does not exist"):
        service.merge(survivor, 999_999, {}, versions)
    with pytest.raises(UserError, match="does not exist"):
        service.unmerge(12345)
    with Database(seeded).read() as session:
        assert session.scalar(select(func.count()).select_from(CustomerMerge)) == 0


def test_the_proposed_tier_is_the_higher_one() -> None:
    from app.services.merge_views import default_choices
    from models.enums import Tier

    def person(id_: int, tier: Tier, updated: dt.datetime) -> Customer:
        return Customer(
            id=id_,
            first_name="Eleanor",
            last_name="Whitfield",
            search_name="eleanor whitfield",
            customer_since=dt.date(2020, 10, 25),
            tier=tier,
            updated_at=updated,
        )

    gold = person(1, Tier.GOLD, NOW - dt.timedelta(days=30))
    twin = person(2, Tier.STANDARD, NOW)  # made today at the counter
    assert default_choices(gold, twin)["tier"] == 1
    assert default_choices(twin, gold)["tier"] == 1
