"""Next best action (issue 13; S1, S2, S6): what to suggest to the customer on the line,
why, and what became of each suggestion.

`suggest` runs at the pop, so it reads little, only through indexes, in five
statements on an autocommit connection: the customer with the latest rule run and her
order lines with their products (ix_orders_customer_placed, order_lines by order), the
churn facts (one UNION ALL, app/services/churn_facts.py), the best rules whose
antecedents she all bought (association_rule_items by product), the catalogue
relations of what she owns, and the best candidates' products with their stock; and
only when they could appear, the down-sell range, the offers (with the authority's
check) and the first notes. The reads and the candidates of each kind are in
app/services/candidates.py; the rest (rhythms, ranking, words) is pure Python:
app/refills.py, app/churn.py, app/welcome.py. bench/suggest_pop.py measures it.

Kinds, best first when nothing else decides: retention (at high churn), welcome (a
newcomer who came unhappy from elsewhere), refill (a due rhythm of her own), add_on
(an association rule), down_sell (only when her spend is falling or something open is
about price), counterpart and new_line (catalogue relations). A product above her usual
order value is marked `budget="above"` and ranked lower. No product she owns (except
as a refill), no discontinued one (`active` false) and no unavailable one (no stock in
any store and no coming launch) is suggested; a counterpart or new line that is still
to launch is shown with its date.

The impressions (`record_shown`, `accept`, `decline`, `offered`) are offer_events rows
keyed by the client's view key and the suggestion's key, so a refresh or a retry
records nothing twice. `link_orders` (from the housekeeping sweep) ties a later order
of the product within LINK_DAYS to its impression; `conversion` slices it all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from app import churn as churn_rules
from app import welcome
from app.agent import AgentContext
from app.clock import Clock, local_today, system_clock
from app.errors import UserError
from app.services import churn_facts
from app.services.authority import AuthorityService, ConcessionAsk
from app.services.candidates import (
    BASE_SCORE,
    BOUGHT,
    CANDIDATES_READ,
    Candidate,
    add_on_candidates,
    bought_row,
    down_sell_candidates,
    offer_value,
    products_of,
    refill_candidates,
    related_candidates,
    rules_for,
    to_suggestion,
    usual_order,
)
from app.services.views import (
    DECLINE_REASONS,
    LAST_BOUGHT_ORDERS,
    MAX_SUGGESTIONS,
    ChurnRisk,
    ConversionRow,
    Impression,
    Suggestion,
    Suggestions,
)
from models.commerce import Order, OrderLine
from models.database import Database, insert_or_get
from models.enums import (
    ConcessionType,
    OfferKind,
    OfferOutcome,
    OrderStatus,
)
from models.people import CustomerNote, User
from models.service import OfferEvent
from models.suggestions import AssociationRule, Offer

ORDERS_READ = LAST_BOUGHT_ORDERS  # her latest orders, what the suggestions start from
RECENT_DAYS = 730  # "her recent purchases": what rules and relations start from
LINK_DAYS = 30  # an order within 30 days of the impression counts as its return
NEWCOMER_DAYS = 365  # a welcome offer is for the first year
FIRST_NOTES = 3  # the sign-up notes read for a bad experience elsewhere
OFFER_REPEAT_DAYS = 90  # an offer accepted or granted is not suggested again for this long
BY = ("kind", "rule", "agent", "period")


class SuggestionService:
    """Suggestions at the pop, churn risk, and the impressions with what became of them.

    Built per agent (`bootstrap._acting`): impressions and reactions record
    `agent.user_id`. `authority` answers whether this agent may grant an offer at once."""

    def __init__(
        self,
        db: Database,
        clock: Clock = system_clock,
        *,
        agent: AgentContext,
        authority: AuthorityService | None = None,
    ) -> None:
        self._db = db
        self.clock = clock
        self.agent = agent
        self.authority = authority or AuthorityService(db, clock, agent=agent)
        # The highest order id `link_orders` has looked at (None: not run yet).
        self._orders_seen: int | None = None

    # -- reads --------------------------------------------------------------------------

    def suggest(self, customer_id: int) -> Suggestions:
        """At most MAX_SUGGESTIONS for the customer, best first, each with why."""
        now = self.clock()
        today = local_today(self.clock)
        # Read-only and approximate: no snapshot needed, so on PostgreSQL each statement
        # runs on its own (autocommit: no BEGIN and ROLLBACK round trips at the pop).
        with self._db.lookup() as orm_session:
            # Core execution on the session's connection: the rows are plain tuples, and
            # the ORM's result machinery would cost more than the statements themselves.
            session = orm_session.connection()
            head = session.execute(BOUGHT, {"customer": customer_id, "orders": ORDERS_READ}).all()
            if not head:
                raise UserError(f"customer {customer_id} does not exist")
            customer = head[0][:2]
            run_id, mined_at = head[0][2], head[0][3]
            bought = [bought_row(r[4:]) for r in head if r[4] is not None]
            currency, usual, orders = usual_order(bought)
            trouble = churn_facts.trouble(session, customer_id, now)
            facts = churn_facts.facts(
                trouble,
                churn_facts.tenure(customer[0], today),
                churn_facts.tier_name(customer[1]),
                *churn_facts.yearly_spend(orders, now),
            )
            churn = churn_rules.churn_risk(facts)
            owned = {b.product_id for b in bought if b.product_id is not None}
            recent_since = now - dt.timedelta(days=RECENT_DAYS)
            recent = [b for b in bought if b.product_id is not None and b.placed_at >= recent_since]
            recent_ids = sorted({b.product_id for b in recent if b.product_id is not None})
            names = {b.product_id: b.name for b in bought if b.product_id is not None}

            candidates: dict[int, Candidate] = {}

            def offer(c: Candidate) -> None:
                held = candidates.get(c.product_id)
                if held is None or c.score > held.score:
                    candidates[c.product_id] = c

            for c in refill_candidates(bought, today):
                offer(c)
            rules = [] if run_id is None else rules_for(session, run_id, recent_ids)
            for c in add_on_candidates(rules, set(recent_ids), owned, names):
                offer(c)
            for c in related_candidates(session, owned, names):
                offer(c)
            if facts.spend_falling or trouble.about_price:
                why = "her spend is falling" if facts.spend_falling else "she finds it expensive"
                for c in down_sell_candidates(session, recent, owned, why):
                    offer(c)
            best = sorted(candidates.values(), key=lambda c: -c.score)[:CANDIDATES_READ]
            candidates = {c.product_id: c for c in best}
            products = products_of(session, list(candidates))
            names.update({pid: p["name"] for pid, p in products.items()})
            items: list[Suggestion] = []
            for c in candidates.values():
                made = to_suggestion(c, products.get(c.product_id), owned, usual, currency, today)
                if made is not None:
                    items.append(made)
            items.extend(
                self._offers(orm_session, customer_id, customer[0], churn, usual, today, now)
            )
        items.sort(key=lambda s: (-s.score, s.key))
        return Suggestions(
            customer_id=customer_id,
            items=tuple(items[:MAX_SUGGESTIONS]),
            churn=churn,
            usual_order_cents=usual,
            currency=currency,
            rules_mined_at=mined_at,
        )

    def churn_risk(self, customer_id: int) -> ChurnRisk:
        now = self.clock()
        with self._db.read() as session:
            return churn_facts.customer_churn(session, customer_id, now)

    # -- impressions ----------------------------------------------------------------------

    def record_shown(
        self,
        customer_id: int,
        items: Sequence[Suggestion],
        view_key: str,
        interaction_id: int | None = None,
        case_id: int | None = None,
    ) -> tuple[Impression, ...]:
        """One impression per suggestion shown, keyed `f"{view_key}:{item.key}"`: a
        refresh or a retry of the same view returns the rows already stored."""
        keys = [f"{view_key}:{item.key}" for item in items]
        if any(len(key) > 100 for key in keys):
            raise UserError("The view key is too long to record what was shown.")
        now = self.clock()
        with self._db.write() as session:
            ids = []
            for rank, (item, key) in enumerate(zip(items, keys, strict=True), start=1):
                values = {
                    "customer_id": customer_id,
                    "product_id": item.product_id,
                    "interaction_id": interaction_id,
                    "agent_id": self.agent.user_id,
                    "kind": OfferKind(item.kind).value,
                    "reason": item.reason[:300],
                    "outcome": OfferOutcome.SHOWN.value,
                    "value_cents": item.price_cents
                    if item.price_cents is not None
                    else item.amount_cents,
                    "at": now,
                    "impression_key": key,
                    "case_id": case_id,
                    "offer_id": item.offer_id,
                    "rule_id": _still_stored(session, item.rule_id),
                    "rule_ref": item.rule_ref,
                    "rank": rank,
                }
                ids.append(insert_or_get(session, OfferEvent, values, ("impression_key",))[0])
            stored = session.scalars(select(OfferEvent).where(OfferEvent.id.in_(ids)))
            rows = {e.id: e for e in stored}
            return tuple(_impression(rows[i]) for i in ids)

    def accept(self, impression_id: int) -> Impression:
        return self._react(impression_id, OfferOutcome.ACCEPTED)

    def decline(self, impression_id: int, reason: str) -> Impression:
        if reason not in DECLINE_REASONS:
            raise UserError(
                f"Say why it was declined: one of {', '.join(DECLINE_REASONS)} (not {reason!r})."
            )
        return self._react(impression_id, OfferOutcome.DECLINED, decline_reason=reason)

    def offered(self, impression_id: int, concession_id: int) -> Impression:
        """A concession (a discount, a sample, the offer itself) was granted with it."""
        return self._react(impression_id, OfferOutcome.OFFERED, concession_id=concession_id)

    def _react(
        self,
        impression_id: int,
        outcome: OfferOutcome,
        decline_reason: str | None = None,
        concession_id: int | None = None,
    ) -> Impression:
        with self._db.write() as session:
            event = session.get(OfferEvent, impression_id, with_for_update=True)
            if event is None:
                raise UserError("That suggestion is no longer on record.")
            event.outcome = outcome
            event.outcome_at = self.clock()
            event.decline_reason = decline_reason
            if concession_id is not None:
                event.concession_id = concession_id
            # Who reacted: the agent who recorded what became of it.
            if self.agent.user_id is not None:
                event.agent_id = self.agent.user_id
            session.flush()
            return _impression(event)

    def impression_customer(self, impression_id: int) -> int | None:
        with self._db.read() as session:
            return session.scalar(
                select(OfferEvent.customer_id).where(OfferEvent.id == impression_id)
            )

    def link_orders(self, now: dt.datetime | None = None) -> int:
        """Tie each unlinked impression of a product to the customer's first later order
        holding it within LINK_DAYS; how many were linked. `now`: the sweep's instant
        (else the clock).

        The first call of this service reads the unlinked impressions of the last
        LINK_DAYS + 1 days, each joined to the customer's later orders
        (ix_orders_customer_placed). Later calls (the sweep runs every minute) read only
        the orders added since the last call (by id, the primary key), each joined to
        its customer's unlinked impressions of its products (ix_offer_events_unlinked):
        a sweep costs what was ordered since, not what was shown in a month. An order
        whose transaction commits after a later id was seen waits for the next start."""
        now = now or self.clock()
        window = dt.timedelta(days=LINK_DAYS)
        with self._db.write() as session:
            top = session.scalar(select(func.max(Order.id)))
            query = (
                select(OfferEvent.id, OfferEvent.at, Order.id, Order.placed_at)
                .join(
                    Order,
                    and_(
                        Order.customer_id == OfferEvent.customer_id,
                        Order.placed_at > OfferEvent.at,
                        Order.placed_at <= now,
                    ),
                )
                .join(
                    OrderLine,
                    and_(
                        OrderLine.order_id == Order.id,
                        OrderLine.product_id == OfferEvent.product_id,
                    ),
                )
                .where(
                    OfferEvent.order_id.is_(None),
                    OfferEvent.product_id.is_not(None),
                    OfferEvent.at >= now - window - dt.timedelta(days=1),
                    Order.status != OrderStatus.CANCELLED,
                )
            )
            if self._orders_seen is not None:
                query = query.where(Order.id > self._orders_seen)
            rows = session.execute(query).all()
            first: dict[int, tuple[dt.datetime, int]] = {}
            for event_id, at, order_id, placed in rows:
                if placed - at > window:
                    continue
                if event_id not in first or (placed, order_id) < first[event_id]:
                    first[event_id] = (placed, order_id)
            for event_id, (placed, order_id) in first.items():
                event = session.get(OfferEvent, event_id)
                if event is not None and event.order_id is None:
                    event.order_id = order_id
                    event.ordered_at = placed
        self._orders_seen = top if top is not None else 0
        return len(first)

    def conversion(
        self, since: dt.datetime, until: dt.datetime, by: str = "kind"
    ) -> tuple[ConversionRow, ...]:
        """Shown, accepted, declined, offered and ordered per kind, rule, agent or month
        of the impressions in [since, until): one query."""
        if by not in BY:
            raise UserError(f"Group conversion by one of {', '.join(BY)}.")
        group: Any
        joins: list[Any] = []
        if by == "kind":
            group = OfferEvent.kind
        elif by == "rule":
            group = func.coalesce(OfferEvent.rule_ref, literal("-"))
        elif by == "agent":
            group = func.coalesce(User.display_name, literal("-"))
            joins.append(User)
        elif self._db.backend == "postgresql":
            group = func.to_char(func.timezone("UTC", OfferEvent.at), "YYYY-MM")
        else:
            group = func.strftime("%Y-%m", OfferEvent.at)

        def count_if(condition: Any) -> Any:
            return func.sum(case((condition, 1), else_=0))

        query = select(
            group,
            func.count(),
            count_if(OfferEvent.outcome == OfferOutcome.ACCEPTED),
            count_if(OfferEvent.outcome == OfferOutcome.DECLINED),
            count_if(OfferEvent.outcome == OfferOutcome.OFFERED),
            func.count(OfferEvent.order_id),
            count_if(
                or_(OfferEvent.outcome == OfferOutcome.ACCEPTED, OfferEvent.order_id.is_not(None))
            ),
        ).where(OfferEvent.at >= since, OfferEvent.at < until)
        if joins:
            query = query.outerjoin(User, User.id == OfferEvent.agent_id)
        query = query.group_by(group).order_by(group)
        with self._db.read() as session:
            rows = session.execute(query).all()
        return tuple(
            ConversionRow(
                group=str(g.value if hasattr(g, "value") else g),
                shown=int(shown),
                accepted=int(acc or 0),
                declined=int(dec or 0),
                offered=int(off or 0),
                ordered=int(ordered or 0),
                converted=int(conv or 0),
            )
            for g, shown, acc, dec, off, ordered, conv in rows
        )

    # -- offers ---------------------------------------------------------------------------

    def _offers(
        self,
        session: Session,
        customer_id: int,
        since: dt.date | None,
        churn: ChurnRisk,
        usual: int,
        today: dt.date,
        now: dt.datetime,
    ) -> list[Suggestion]:
        wanted: dict[OfferKind, str] = {}
        if churn.level == "high":
            # The heaviest factor only: the header lists them all just above.
            more = len(churn.factors) - 1
            wanted[OfferKind.RETENTION] = f"high churn risk: {churn.factors[0].text}" + (
                f" and {more} more" if more else ""
            )
        if since is not None and (today - since).days <= NEWCOMER_DAYS:
            notes = session.scalars(
                select(CustomerNote.body)
                .where(CustomerNote.customer_id == customer_id)
                .order_by(CustomerNote.created_at, CustomerNote.id)
                .limit(FIRST_NOTES)
            ).all()
            for body in notes:
                phrase = welcome.bad_experience_elsewhere(body)
                if phrase:
                    wanted[OfferKind.WELCOME] = f'new customer; sign-up note: "{phrase}"'
                    break
        if not wanted:
            return []
        taken = set(
            session.scalars(
                select(OfferEvent.offer_id).where(
                    OfferEvent.customer_id == customer_id,
                    OfferEvent.offer_id.is_not(None),
                    OfferEvent.outcome.in_((OfferOutcome.ACCEPTED, OfferOutcome.OFFERED)),
                    OfferEvent.at >= now - dt.timedelta(days=OFFER_REPEAT_DAYS),
                )
            )
        )
        offers = session.scalars(
            select(Offer)
            .where(Offer.active.is_(True), Offer.kind.in_(list(wanted)))
            .order_by(Offer.id)
        ).all()
        made: list[Suggestion] = []
        for kind, why in wanted.items():
            found = next((o for o in offers if o.kind == kind and o.id not in taken), None)
            if found is None:
                continue
            amount = offer_value(found, usual)
            within = self.authority.check(
                ConcessionAsk(
                    customer_id=customer_id,
                    type=ConcessionType(found.concession_type),
                    amount_cents=amount,
                    reason=found.name,
                    currency=found.currency,
                    percent=None if found.percent is None else Decimal(str(found.percent)),
                )
            ).within
            made.append(
                Suggestion(
                    key=f"{kind.value}:{found.code}",
                    kind=kind.value,
                    title=found.name,
                    reason=why,
                    offer_id=found.id,
                    currency=found.currency,
                    concession_type=ConcessionType(found.concession_type).value,
                    amount_cents=amount,
                    percent=found.percent,
                    within_authority=within,
                    score=BASE_SCORE[kind],
                )
            )
        return made


def _impression(event: OfferEvent) -> Impression:
    return Impression(
        id=event.id,
        key=":".join((event.impression_key or "").split(":")[-2:]),  # the view key's off
        kind=OfferKind(event.kind).value,
        outcome=OfferOutcome(event.outcome).value,
        decline_reason=event.decline_reason,
        concession_id=event.concession_id,
        order_id=event.order_id,
    )


def _still_stored(session: Session, rule_id: int | None) -> int | None:
    """`rule_id` if that rule is still stored: a mining since the suggestion was read
    replaced it (the impression keeps the rule as text in `rule_ref`)."""
    if rule_id is None:
        return None
    return session.scalar(select(AssociationRule.id).where(AssociationRule.id == rule_id))
