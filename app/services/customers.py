"""Finding customers and reading everything about one of them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from app import phones
from app.clock import Clock, local_today, system_clock
from app.errors import KeyReusedError, UserError
from app.services import views as v
from app.validation import NOTE_MAX_CHARS, check_client_key, check_text
from models.authority import AuditEntry
from models.catalog import Product, Store
from models.commerce import Order, OrderLine, Shipment
from models.database import Database, insert_or_get
from models.enums import OPEN_CASE_STATUSES, CommitmentStatus, CustomerStatus
from models.people import (
    ContactPreference,
    Customer,
    CustomerAddress,
    CustomerEmail,
    CustomerNote,
    CustomerPhone,
    CustomerRelation,
    KeyDate,
    User,
)
from models.service import Case, Commitment, Feedback, Interaction

ORDERS_PAGE = 200
TIMELINE_PAGE = 300
KEY_DATE_HORIZON_DAYS = 60
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class CustomerService:
    """Read side of the customer record; each call is one short unit of work."""

    def __init__(self, db: Database, default_region: str, clock: Clock = system_clock) -> None:
        self._db = db
        self.default_region = default_region
        self.clock = clock

    # -- lookups -----------------------------------------------------------------

    def find_by_phone(self, raw: str) -> list[v.SearchHit]:
        """Customers with this number: exact E.164 first, else the last digits."""
        query = phones.normalize(raw, self.default_region)
        if query.e164 is None and query.tail is None:
            raise UserError(f"{raw.strip()!r} is not a phone number")
        with self._db.lookup() as session:
            hits: list[v.SearchHit] = []
            if query.e164:
                hits = _run(session, LOOKUPS["e164"], query.e164, "phone")
            if not hits and query.tail:
                # The last digits find a number said in a form that does not parse
                # ("0415 555 0134"). A valid number that is not on file must not
                # match a stranger's number with the same ending, so then only
                # legacy numbers that never parsed are considered.
                lookup = "tail_unparsed" if query.e164 else "tail"
                hits = _run(session, LOOKUPS[lookup], query.tail, "phone")
            return [
                dataclasses.replace(
                    h, matched_text=phones.display(h.matched_text, self.default_region)
                )
                for h in hits
            ]

    def find_by_email(self, address: str) -> list[v.SearchHit]:
        with self._db.lookup() as session:
            return _run(session, LOOKUPS["email"], address.strip().lower(), "email")

    def find_by_order_number(self, number: str) -> list[v.SearchHit]:
        with self._db.lookup() as session:
            return _run(session, LOOKUPS["order"], number.strip().upper(), "order")

    def find_by_case_reference(self, reference: str) -> list[v.SearchHit]:
        with self._db.lookup() as session:
            return _run(session, LOOKUPS["case"], reference.strip().upper(), "case")

    def first_customer_id(self) -> int | None:
        with self._db.lookup() as session:
            return session.scalar(
                select(func.min(Customer.id)).where(Customer.status == CustomerStatus.ACTIVE)
            )

    # -- the record ---------------------------------------------------------------

    def load_customer(self, customer_id: int, today: dt.date | None = None) -> v.CustomerView:
        now = self.clock()
        today = today or local_today(self.clock)
        with self._db.read() as session:
            customer = session.get(Customer, customer_id)
            if customer is None or customer.status == CustomerStatus.MERGED:
                raise UserError(f"customer {customer_id} does not exist (or was merged)")
            commitments = _commitments(session, customer_id, now)
            cases = _cases(session, customer_id, commitments)
            header = _header(session, customer, cases, commitments, self.default_region)
            orders = _orders_page(session, customer_id, before=None)
            return v.CustomerView(
                header=header,
                orders=tuple(orders[:ORDERS_PAGE]),
                more_orders=len(orders) > ORDERS_PAGE,
                last_bought=tuple(_last_bought(session, customer_id)),
                key_dates=tuple(_key_dates(session, customer_id, today)),
                cases=tuple(cases),
                commitments=tuple(commitments),
                timeline=tuple(_timeline(session, customer_id)),
                relations=tuple(_relations(session, customer_id)),
                addresses=tuple(_addresses(session, customer_id)),
                notes=tuple(_notes(session, customer_id)),
                today=today,
            )

    def more_orders(self, customer_id: int, before: dt.datetime) -> tuple[list[v.OrderRow], bool]:
        """The next page of orders placed before `before` (keyset pagination)."""
        with self._db.read() as session:
            rows = _orders_page(session, customer_id, before=before)
            return rows[:ORDERS_PAGE], len(rows) > ORDERS_PAGE

    def order_detail(self, order_id: int) -> v.OrderDetail:
        with self._db.read() as session:
            order = session.get(Order, order_id)
            if order is None:
                raise UserError(f"order {order_id} does not exist")
            lines = session.execute(
                select(OrderLine, Product.sku, Product.name)
                .join(Product, Product.id == OrderLine.product_id)
                .where(OrderLine.order_id == order_id)
                .order_by(OrderLine.line_no)
            ).all()
            shipments = session.scalars(
                select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id)
            ).all()
            return v.OrderDetail(
                order=_order_row(order, len(lines)),
                lines=tuple(
                    v.OrderLineRow(
                        line_no=line.line_no,
                        sku=sku,
                        product=name,
                        quantity=line.quantity,
                        unit_price_cents=line.unit_price_cents,
                        discount_cents=line.discount_cents,
                        personalisation=line.personalisation,
                    )
                    for line, sku, name in lines
                ),
                shipments=tuple(
                    v.ShipmentRow(
                        carrier=s.carrier,
                        tracking_number=s.tracking_number,
                        status=s.status.value,
                        promised_date=s.promised_date,
                        delivered_at=s.delivered_at,
                        late=_late(s.promised_date, s.delivered_at, local_today(self.clock)),
                    )
                    for s in shipments
                ),
            )

    def add_note(
        self,
        customer_id: int,
        body: str,
        author_login: str | None,
        client_key: str | None = None,
    ) -> v.NoteRow:
        """Save a note; with `client_key` a retry never saves it twice.

        The UI makes the key when the agent starts the note and sends it again when
        it retries (e.g. after a lost connection whose commit went through): the
        note saved the first time is returned. The same key with other text is
        refused with `KeyReusedError` rather than saved as a second note.
        """
        text = check_text(body, "note", NOTE_MAX_CHARS, multiline=True, required=True)
        key = check_client_key(client_key)
        with self._db.write() as session:
            if session.get(Customer, customer_id) is None:
                raise UserError(f"customer {customer_id} does not exist")
            author = _user_by_login(session, author_login)
            note_id, new = insert_or_get(
                session,
                CustomerNote,
                {
                    "customer_id": customer_id,
                    "author_id": author.id if author else None,
                    "body": text,
                    "client_key": key,
                    "created_at": self.clock(),
                    "pinned": False,
                    "version": 1,
                },
                ("client_key",),
            )
            note = session.get(CustomerNote, note_id)
            assert note is not None  # just inserted or found under its key
            if not new and (note.customer_id, note.body) != (customer_id, text):
                raise KeyReusedError(
                    "note: already saved with different text before the connection dropped; "
                    "save again to add this text as a new note"
                )
            if new:
                session.add(
                    AuditEntry(
                        actor=author_login or "local",
                        action="note.add",
                        entity="customer",
                        entity_id=customer_id,
                        detail={"note_id": note.id},
                    )
                )
            saved_by = session.get(User, note.author_id) if note.author_id else None
            return v.NoteRow(
                id=note.id,
                body=note.body,
                author=saved_by.display_name if saved_by else None,
                created_at=note.created_at,
            )


# -- queries shared by the service methods (each takes an open session) -----------


def _summary_columns() -> Select[Any]:
    """Name, tier, a city and the last order date: what tells namesakes apart.

    Correlated subqueries, so each matched customer costs two index probes
    (ix_orders_customer_placed, the addresses' customer index) in one round trip.
    """
    city = (
        select(func.min(CustomerAddress.city))
        .where(CustomerAddress.customer_id == Customer.id)
        .correlate(Customer)
        .scalar_subquery()
    )
    last_order = (
        select(func.max(Order.placed_at))
        .where(Order.customer_id == Customer.id)
        .correlate(Customer)
        .scalar_subquery()
    )
    return select(
        Customer.id, Customer.first_name, Customer.last_name, Customer.tier, city, last_order
    ).where(Customer.status != CustomerStatus.MERGED)


def _hits_from(
    rows: Any,
    matched_on: str,
    scores: dict[int, float] | None = None,
    matched: dict[int, str] | None = None,
) -> list[v.SearchHit]:
    hits: dict[int, v.SearchHit] = {}
    for row in rows:
        cid, first, last, tier, city, last_at = row[:6]
        text = row[6] if len(row) > 6 else (matched or {}).get(cid, "")
        hits.setdefault(
            cid,
            v.SearchHit(
                customer_id=cid,
                name=f"{first} {last}".strip(),
                city=city,
                last_order_at=_aware(last_at),
                matched_on=matched_on,
                matched_text=text,
                score=(scores or {}).get(cid, 1.0),
                tier=tier.value if hasattr(tier, "value") else str(tier),
            ),
        )
    result = list(hits.values())
    result.sort(key=lambda h: (-h.score, h.name, h.customer_id))
    return result


def _lookup(key: Any, condition: Any, table: Any = None) -> Select[Any]:
    """Customers whose row in `key`'s table (or `table`) meets `condition` (bound as :value)."""
    table = table if table is not None else key.class_
    return (
        _summary_columns()
        .add_columns(key)
        .join(table, table.customer_id == Customer.id)
        .where(condition)
    )


# A matched phone is shown from its E.164 value (phones.display); legacy numbers that
# never parsed only as typed.
_PHONE_SHOWN = func.coalesce(CustomerPhone.e164, CustomerPhone.raw)


def _run(
    session: Session, statement: Select[Any], value: str, matched_on: str
) -> list[v.SearchHit]:
    return _hits_from(session.execute(statement, {"value": value}).all(), matched_on)


def summaries(
    session: Session, matched: dict[int, str], matched_on: str, scores: dict[int, float]
) -> list[v.SearchHit]:
    """Name, city and last order date for each matched customer, best score first."""
    rows = session.execute(_summary_columns().where(Customer.id.in_(list(matched)))).all()
    return _hits_from(rows, matched_on, scores, matched)


LOOKUPS: dict[str, Select[Any]] = {
    "e164": _lookup(_PHONE_SHOWN, CustomerPhone.e164 == bindparam("value"), CustomerPhone),
    "tail": _lookup(_PHONE_SHOWN, CustomerPhone.digits_tail == bindparam("value"), CustomerPhone),
    "tail_unparsed": _lookup(
        _PHONE_SHOWN,
        (CustomerPhone.digits_tail == bindparam("value")) & CustomerPhone.e164.is_(None),
        CustomerPhone,
    ),
    "email": _lookup(CustomerEmail.address, CustomerEmail.address_normalized == bindparam("value")),
    "order": _lookup(Order.number, Order.number == bindparam("value")),
    "case": _lookup(Case.reference, Case.reference == bindparam("value")),
}


def _aware(value: dt.datetime | str | None) -> dt.datetime | None:
    # Aggregates (max) bypass the column type, so SQLite hands back a string.
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _late(promised: dt.date | None, delivered: dt.datetime | None, today: dt.date) -> bool:
    if promised is None:
        return False
    if delivered is None:
        return promised < today
    return delivered.date() > promised


def _user_by_login(session: Session, login: str | None) -> User | None:
    if not login:
        return None
    return session.scalar(select(User).where(User.login == login))


def _commitments(session: Session, customer_id: int, now: dt.datetime) -> list[v.CommitmentRow]:
    rows = session.execute(
        select(Commitment, Case.reference, User.display_name)
        .outerjoin(Case, Case.id == Commitment.case_id)
        .outerjoin(User, User.id == Commitment.owner_id)
        .where(Commitment.customer_id == customer_id)
        .order_by(Commitment.due_until.desc())
    ).all()
    result = [
        v.CommitmentRow(
            id=c.id,
            case_reference=ref,
            description=c.description,
            status=c.status.value,
            overdue=c.status == CommitmentStatus.OPEN and c.due_until < now,
            due_until=c.due_until,
            owner=owner,
        )
        for c, ref, owner in rows
    ]
    # Broken and overdue first: they are what the agent must not miss.
    result.sort(key=lambda c: (not (c.status == "broken" or c.overdue), c.status != "open"))
    return result


def _cases(
    session: Session, customer_id: int, commitments: list[v.CommitmentRow]
) -> list[v.CaseRow]:
    contacts = (
        select(Interaction.case_id, func.count().label("n"))
        .where(Interaction.customer_id == customer_id, Interaction.case_id.is_not(None))
        .group_by(Interaction.case_id)
        .subquery()
    )
    rows = session.execute(
        select(Case, func.coalesce(contacts.c.n, 0))
        .outerjoin(contacts, contacts.c.case_id == Case.id)
        .where(Case.customer_id == customer_id)
        .order_by(Case.opened_at.desc())
    ).all()
    result = []
    for case_, n_contacts in rows:
        mine = [c for c in commitments if c.case_reference == case_.reference]
        result.append(
            v.CaseRow(
                id=case_.id,
                reference=case_.reference,
                subject=case_.subject,
                category=case_.category,
                status=case_.status.value,
                priority=case_.priority.value,
                is_open=case_.status in OPEN_CASE_STATUSES,
                opened_at=case_.opened_at,
                sla_due_at=case_.sla_due_at,
                contacts=int(n_contacts),
                broken_commitments=sum(c.status == "broken" for c in mine),
                overdue_commitments=sum(c.overdue for c in mine),
            )
        )
    result.sort(key=lambda c: not c.is_open)  # stable: open first, newest first within
    return result


def _header(
    session: Session,
    customer: Customer,
    cases: list[v.CaseRow],
    commitments: list[v.CommitmentRow],
    default_region: str,
) -> v.CustomerHeader:
    totals = [
        v.CurrencyTotal(currency=currency, total_cents=int(value), order_count=int(count))
        for currency, value, count in session.execute(
            select(Order.currency, func.sum(Order.total_cents), func.count())
            .where(Order.customer_id == customer.id, Order.status != "cancelled")
            .group_by(Order.currency)
        )
    ]
    totals.sort(key=lambda t: (-t.order_count, -t.total_cents, t.currency))
    main = totals[0] if totals else None
    phone_rows = session.scalars(
        select(CustomerPhone)
        .where(CustomerPhone.customer_id == customer.id)
        .order_by(CustomerPhone.is_primary.desc(), CustomerPhone.id)
    ).all()
    email_rows = session.scalars(
        select(CustomerEmail)
        .where(CustomerEmail.customer_id == customer.id)
        .order_by(CustomerEmail.is_primary.desc(), CustomerEmail.id)
    ).all()
    phones_by_id = {p.id: p for p in phone_rows}
    emails_by_id = {e.id: e for e in email_rows}
    prefs = session.scalars(
        select(ContactPreference)
        .where(ContactPreference.customer_id == customer.id)
        .order_by(ContactPreference.avoid, ContactPreference.rank)
    ).all()
    return v.CustomerHeader(
        id=customer.id,
        version=customer.version,
        first_name=customer.first_name,
        last_name=customer.last_name,
        tier=customer.tier.value,
        segment=customer.segment,
        status=customer.status.value,
        customer_since=customer.customer_since,
        preferred_language=customer.preferred_language,
        do_not_call=customer.do_not_call,
        do_not_email=customer.do_not_email,
        do_not_sms=customer.do_not_sms,
        do_not_mail=customer.do_not_mail,
        order_count=sum(t.order_count for t in totals),
        lifetime_value_cents=main.total_cents if main else 0,
        open_cases=sum(c.is_open for c in cases),
        overdue_commitments=sum(c.overdue for c in commitments),
        broken_commitments=sum(c.status == "broken" for c in commitments),
        phones=tuple(
            v.PhoneView(
                id=p.id,
                raw=p.raw,
                e164=p.e164,
                kind=p.kind.value,
                is_primary=p.is_primary,
                display=phones.display(p.e164 or p.raw, default_region),
            )
            for p in phone_rows
        ),
        emails=tuple(
            v.EmailView(id=e.id, address=e.address, is_primary=e.is_primary) for e in email_rows
        ),
        preferences=tuple(
            _preference_view(p, phones_by_id, emails_by_id, default_region) for p in prefs
        ),
        currency=main.currency if main else "USD",
        values_by_currency=tuple(totals),
    )


def _preference_view(
    pref: ContactPreference,
    phones_by_id: dict[int, CustomerPhone],
    emails_by_id: dict[int, CustomerEmail],
    default_region: str,
) -> v.ContactPreferenceView:
    target = None
    if pref.phone_id and pref.phone_id in phones_by_id:
        phone = phones_by_id[pref.phone_id]
        target = f"{phone.kind.value} {phones.display(phone.e164 or phone.raw, default_region)}"
    elif pref.email_id and pref.email_id in emails_by_id:
        target = emails_by_id[pref.email_id].address
    return v.ContactPreferenceView(
        channel=pref.channel.value,
        target=target,
        days=describe_days(pref.allowed_days),
        hours=describe_hours(pref.allowed_from, pref.allowed_until),
        avoid=pref.avoid,
        note=pref.note,
        rank=pref.rank,
    )


def describe_days(mask: int) -> str:
    """127 -> "every day", 31 -> "Mon-Fri", 96 -> "Sat-Sun", 5 -> "Mon, Wed"."""
    days = [i for i in range(7) if mask & (1 << i)]
    if len(days) == 7:
        return "every day"
    if not days:
        return "never"
    if days == list(range(days[0], days[-1] + 1)) and len(days) >= 3:
        return f"{_DAY_NAMES[days[0]]}-{_DAY_NAMES[days[-1]]}"
    return ", ".join(_DAY_NAMES[i] for i in days)


def describe_hours(start: dt.time | None, end: dt.time | None) -> str:
    if start and end:
        return f"{start:%H:%M}-{end:%H:%M}"
    if start:
        return f"after {start:%H:%M}"
    if end:
        return f"before {end:%H:%M}"
    return "any time"


def _order_row(order: Order, line_count: int) -> v.OrderRow:
    return v.OrderRow(
        id=order.id,
        number=order.number,
        placed_at=order.placed_at,
        channel=order.channel.value,
        status=order.status.value,
        total_cents=order.total_cents,
        currency=order.currency,
        line_count=line_count,
    )


def _orders_page(
    session: Session, customer_id: int, before: dt.datetime | None
) -> list[v.OrderRow]:
    lines = (
        select(func.count())
        .where(OrderLine.order_id == Order.id)
        .correlate(Order)
        .scalar_subquery()
    )
    stmt = select(Order, lines).where(Order.customer_id == customer_id)
    if before is not None:
        stmt = stmt.where(Order.placed_at < before)
    stmt = stmt.order_by(Order.placed_at.desc(), Order.id.desc()).limit(ORDERS_PAGE + 1)
    return [_order_row(order, int(n)) for order, n in session.execute(stmt).all()]


def _last_bought(session: Session, customer_id: int, limit: int = 12) -> list[v.LastBought]:
    # Only the most recent LAST_BOUGHT_ORDERS orders (the customer index, newest
    # first): reading every line of a 10,000-order history made the view 3x slower.
    recent = (
        select(Order.id, Order.placed_at)
        .where(Order.customer_id == customer_id, Order.status != "cancelled")
        .order_by(Order.placed_at.desc())
        .limit(v.LAST_BOUGHT_ORDERS)
        .subquery()
    )
    rows = session.execute(
        select(
            Product.id,
            Product.name,
            Product.sku,
            func.max(recent.c.placed_at),
            func.min(recent.c.placed_at),
            func.count(func.distinct(recent.c.id)),
        )
        .select_from(OrderLine)
        .join(recent, recent.c.id == OrderLine.order_id)
        .join(Product, Product.id == OrderLine.product_id)
        .group_by(Product.id, Product.name, Product.sku)
        .order_by(func.max(recent.c.placed_at).desc())
        .limit(limit)
    ).all()
    result = []
    for pid, name, sku, last_at, first_at, times in rows:
        last = _aware(last_at)
        first = _aware(first_at)
        assert last is not None and first is not None
        average = (last - first).days / (times - 1) if times > 1 else None
        result.append(
            v.LastBought(
                product_id=pid,
                product=name,
                sku=sku,
                last_at=last,
                times=int(times),
                average_days_between=average,
            )
        )
    return result


def next_occurrence(date: dt.date, today: dt.date, recurring: bool) -> dt.date:
    if not recurring:
        return date
    for year in (today.year, today.year + 1):
        try:
            candidate = date.replace(year=year)
        except ValueError:  # 29 February in a common year: celebrate on the 28th
            candidate = dt.date(year, 2, 28)
        if candidate >= today:
            return candidate
    return candidate


def _key_dates(session: Session, customer_id: int, today: dt.date) -> list[v.KeyDateRow]:
    rows = session.execute(
        select(KeyDate, CustomerRelation.relation, CustomerRelation.related_name, Customer)
        .outerjoin(CustomerRelation, CustomerRelation.id == KeyDate.relation_id)
        .outerjoin(Customer, Customer.id == CustomerRelation.related_customer_id)
        .where(KeyDate.customer_id == customer_id)
    ).all()
    result = []
    for key_date, relation, related_name, related_customer in rows:
        nxt = next_occurrence(key_date.date, today, key_date.recurring_yearly)
        if nxt < today:
            continue
        if relation:
            who_name = related_name or (related_customer.display_name if related_customer else "")
            whose = f"{relation} {who_name.split(' ')[0]}".strip()
        else:
            whose = "own"
        result.append(
            v.KeyDateRow(
                whose=whose,
                kind=key_date.kind.value,
                label=key_date.label,
                next_on=nxt,
                days_until=(nxt - today).days,
            )
        )
    result.sort(key=lambda k: k.next_on)
    return result


def _timeline(session: Session, customer_id: int) -> list[v.TimelineRow]:
    rows = session.execute(
        select(Interaction, User.display_name, Case.reference)
        .outerjoin(User, User.id == Interaction.agent_id)
        .outerjoin(Case, Case.id == Interaction.case_id)
        .where(Interaction.customer_id == customer_id)
        .order_by(Interaction.started_at.desc(), Interaction.id.desc())
        .limit(TIMELINE_PAGE)
    ).all()
    feedback = {
        f.interaction_id: f
        for f in session.scalars(
            select(Feedback).where(
                Feedback.customer_id == customer_id, Feedback.interaction_id.is_not(None)
            )
        )
    }
    result = []
    for item, agent, reference in rows:
        fb = feedback.get(item.id)
        duration = None
        if item.ended_at and (item.answered_at or item.started_at):
            duration = int((item.ended_at - (item.answered_at or item.started_at)).total_seconds())
        result.append(
            v.TimelineRow(
                id=item.id,
                started_at=item.started_at,
                channel=item.channel.value,
                direction=item.direction.value,
                outcome=(
                    v.call_outcome(item.outcome.value, item.answered_at, item.ended_at)
                    if item.call_id
                    else item.outcome.value
                ),
                summary=item.summary,
                agent=agent,
                case_reference=reference,
                duration_s=duration,
                rating=fb.rating if fb else None,
                sentiment=fb.sentiment.value if fb else None,
                feedback=fb.text if fb else None,
            )
        )
    # Feedback that came without an interaction (a survey, a post) is shown too.
    standalone = session.scalars(
        select(Feedback).where(
            Feedback.customer_id == customer_id, Feedback.interaction_id.is_(None)
        )
    ).all()
    for fb in standalone:
        result.append(
            v.TimelineRow(
                id=-fb.id,
                started_at=fb.received_at,
                channel=fb.source.value,
                direction="inbound",
                outcome="feedback",
                summary=None,
                agent=None,
                case_reference=None,
                duration_s=None,
                rating=fb.rating,
                sentiment=fb.sentiment.value,
                feedback=fb.text,
            )
        )
    result.sort(key=lambda r: r.started_at, reverse=True)
    return result


def _relations(session: Session, customer_id: int) -> list[v.RelationRow]:
    rows = session.execute(
        select(CustomerRelation, Customer)
        .outerjoin(Customer, Customer.id == CustomerRelation.related_customer_id)
        .where(CustomerRelation.customer_id == customer_id)
    ).all()
    result = [
        v.RelationRow(
            relation=rel.relation,
            name=other.display_name if other else (rel.related_name or ""),
            customer_id=other.id if other else None,
        )
        for rel, other in rows
    ]
    household = session.scalar(select(Customer.household_id).where(Customer.id == customer_id))
    if household is not None:
        known = {r.customer_id for r in result}
        # A customer merged into another is that other person now: not listed again
        # (their survivor is listed when in the household too).
        for member in session.scalars(
            select(Customer)
            .where(
                Customer.household_id == household,
                Customer.id != customer_id,
                Customer.status != CustomerStatus.MERGED,
            )
            .order_by(Customer.id)
        ):
            if member.id not in known:
                result.append(
                    v.RelationRow(
                        relation="household", name=member.display_name, customer_id=member.id
                    )
                )
    return result


def _addresses(session: Session, customer_id: int) -> list[v.AddressRow]:
    addresses = session.scalars(
        select(CustomerAddress).where(CustomerAddress.customer_id == customer_id)
    ).all()
    stores = session.scalars(select(Store)).all() if addresses else []
    result = []
    for a in addresses:
        text = ", ".join(
            part for part in (a.line1, a.line2, a.postal_code, a.city, a.country) if part
        )
        nearest: tuple[str, ...] = ()
        if a.latitude is not None and a.longitude is not None:
            lat, lon = a.latitude, a.longitude
            ranked = sorted(stores, key=lambda s: distance_km(lat, lon, s.latitude, s.longitude))[
                :3
            ]
            nearest = tuple(
                f"{s.name} ({distance_km(lat, lon, s.latitude, s.longitude):.0f} km)"
                for s in ranked
            )
        result.append(v.AddressRow(kind=a.kind, text=text, nearest_stores=nearest))
    return result


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(h))


def _notes(session: Session, customer_id: int) -> list[v.NoteRow]:
    rows = session.execute(
        select(CustomerNote, User.display_name)
        .outerjoin(User, User.id == CustomerNote.author_id)
        .where(CustomerNote.customer_id == customer_id)
        .order_by(CustomerNote.created_at.desc())
        .limit(100)
    ).all()
    return [
        v.NoteRow(id=n.id, body=n.body, author=author, created_at=n.created_at)
        for n, author in rows
    ]
