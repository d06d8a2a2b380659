"""Writing one batch of judged legacy rows: customers, orders or interactions, each row
found again by its source record (unchanged, updated) or added (imported), and each
imported or changed customer checked against the others for a likely duplicate.

Called by `ImportService` inside the batch's transaction; nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from app.import_rules import Judged
from app.phones import kind_for
from models.commerce import Order
from models.data_quality import DuplicateCandidate, SourceRecord
from models.enums import (
    Channel,
    CustomerStatus,
    Direction,
    DuplicateFoundBy,
    ImportKind,
    InteractionOutcome,
    OrderStatus,
    PhoneKind,
)
from models.people import Customer, CustomerAddress, CustomerEmail, CustomerPhone
from models.service import Interaction


@dataclass(frozen=True)
class ImportPerson:
    """What the duplicate check compares of an imported customer."""

    customer_id: int | None  # None on a dry run: not written
    e164: str | None
    email: str | None
    search_name: str
    postal_code: str | None


@dataclass(frozen=True)
class ImportMatch:
    customer_id: int
    score: float
    evidence: dict[str, str]


@dataclass
class BatchOutcome:
    """What one batch did; the service adds it to the run's counts."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicate_candidates: int = 0
    rejected: list[Judged] = field(default_factory=list)


def find_import_matches(session: Session, person: ImportPerson) -> list[ImportMatch]:
    """Existing customers the imported one may be: the same E.164 phone, the same
    e-mail (normalised), or the same folded name at the same postcode. The one place
    the import asks "who does this look like" (a scorer may replace it)."""
    evidence: dict[int, dict[str, str]] = {}

    def note(ids: Iterable[int], key: str, value: str) -> None:
        for cid in ids:
            if cid != person.customer_id:
                evidence.setdefault(cid, {})[key] = value

    live = Customer.status != CustomerStatus.MERGED
    parts = []
    if person.e164:
        parts.append(
            select(CustomerPhone.customer_id, literal("phone"))
            .join(Customer, Customer.id == CustomerPhone.customer_id)
            .where(CustomerPhone.e164 == person.e164, live)
        )
    if person.email:
        parts.append(
            select(CustomerEmail.customer_id, literal("email"))
            .join(Customer, Customer.id == CustomerEmail.customer_id)
            .where(CustomerEmail.address_normalized == person.email.lower(), live)
        )
    if person.postal_code and person.search_name:
        parts.append(
            select(Customer.id, literal("name_postcode"))
            .join(CustomerAddress, CustomerAddress.customer_id == Customer.id)
            .where(
                Customer.search_name == person.search_name,
                CustomerAddress.postal_code == person.postal_code,
                live,
            )
        )
    shown = {
        "phone": person.e164 or "",
        "email": (person.email or "").lower(),
        "name_postcode": f"{person.search_name} {person.postal_code}",
    }
    if parts:
        # One round trip for the three questions (a batch asks it once per row).
        for customer_id, key in session.execute(union_all(*parts)):
            note([customer_id], key, shown[key])
    weights = {"phone": 0.9, "email": 0.9, "name_postcode": 0.8}
    matches = []
    for cid, found_by in evidence.items():
        score = min(1.0, max(weights[k] for k in found_by) + 0.05 * (len(found_by) - 1))
        matches.append(ImportMatch(cid, round(score, 3), found_by))
    return sorted(matches, key=lambda m: (-m.score, m.customer_id))


def queue_duplicates(
    session: Session, customer_id: int, matches: Sequence[ImportMatch], run_id: int
) -> int:
    """Queue each match for review (never merged here); a pair already queued counts once."""
    added = 0
    for match in matches:
        a, b = sorted((customer_id, match.customer_id))
        exists = session.scalar(
            select(DuplicateCandidate.id).where(
                DuplicateCandidate.customer_a_id == a, DuplicateCandidate.customer_b_id == b
            )
        )
        if exists is not None:
            continue
        session.add(
            DuplicateCandidate(
                customer_a_id=a,
                customer_b_id=b,
                score=match.score,
                evidence_json=json.dumps(match.evidence, sort_keys=True),
                found_by=DuplicateFoundBy.IMPORT,
                import_run_id=run_id,
            )
        )
        added += 1
    return added


class BatchWriter:
    """Writes the judged rows of one batch of one run (or, dry, only counts them)."""

    def __init__(
        self,
        session: Session,
        *,
        kind: ImportKind,
        source: str,
        run_id: int,
        dry_run: bool,
        now: dt.datetime,
    ) -> None:
        self.session = session
        self.kind = kind
        self.source = source
        self.run_id = run_id
        self.dry_run = dry_run
        self.now = now
        self.today = now.date()
        # New rows of the batch, written by one flush (ids for all at once).
        self._pending: list[tuple[SourceRecord, Customer | Order | Interaction, Judged]] = []

    def _write_pending(self) -> int:
        """Flush the batch's new entities, record their source rows, and check each new
        customer for duplicates; the candidates queued."""
        if not self._pending:
            return 0
        pending, self._pending = self._pending, []
        self.session.flush()
        queued = 0
        for record, entity, _row in pending:
            record.entity_id = entity.id
            self.session.add(record)
        self.session.flush()
        if self.kind is ImportKind.CUSTOMERS:
            for record, _entity, row in pending:
                queued += self._duplicates(record.entity_id, row)
        return queued

    def write(self, rows: Sequence[Judged]) -> BatchOutcome:
        outcome = BatchOutcome()
        good = [r for r in rows if r.ok]
        outcome.rejected.extend(r for r in rows if not r.ok)
        records = self._records(self.kind, [str(r.values["external_ref"]) for r in good])
        owners = self._customers([str(r.values.get("customer_ref", "")) for r in good])
        for row in good:
            ref = str(row.values["external_ref"])
            if self.kind is not ImportKind.CUSTOMERS:
                customer_id = owners.get(str(row.values["customer_ref"]))
                if customer_id is None:
                    row.reasons.append(
                        f"no customer {row.values['customer_ref']!r} from source "
                        f"{self.source!r}: import the customers first"
                    )
                    outcome.rejected.append(row)
                    continue
                row.values["customer_id"] = customer_id
            digest = row.row_hash()
            record = records.get(ref)
            if record is not None and record.row_hash == digest:
                outcome.unchanged += 1
                continue
            if self.kind is ImportKind.ORDERS and not self._order_number_free(ref, record):
                row.reasons.append(f"order number {ref!r} already exists in Rapport")
                outcome.rejected.append(row)
                continue
            if record is None:
                record = SourceRecord(
                    source=self.source,
                    kind=self.kind,
                    external_ref=ref,
                    entity_id=0,
                    row_hash=digest,
                    import_run_id=self.run_id,
                )
                if not self.dry_run:
                    self._pending.append((record, self._build(row), row))
                records[ref] = record  # a later row with the same ref finds it
                outcome.imported += 1
                continue
            if not self.dry_run:
                if record.entity_id == 0:
                    outcome.duplicate_candidates += self._write_pending()
                self._update(record.entity_id, row)
                record.row_hash, record.import_run_id = digest, self.run_id
                record.updated_at = self.now
            outcome.updated += 1
            if self.kind is ImportKind.CUSTOMERS:
                outcome.duplicate_candidates += self._duplicates(record.entity_id or None, row)
        if self.dry_run and self.kind is ImportKind.CUSTOMERS:
            for row in good:
                if row.ok and records[str(row.values["external_ref"])].entity_id == 0:
                    outcome.duplicate_candidates += self._duplicates(None, row)
        outcome.duplicate_candidates += self._write_pending()
        return outcome

    # -- lookups -----------------------------------------------------------------------

    def _records(self, kind: ImportKind, refs: list[str]) -> dict[str, SourceRecord]:
        if not refs:
            return {}
        found = self.session.scalars(
            select(SourceRecord).where(
                SourceRecord.source == self.source,
                SourceRecord.kind == kind,
                SourceRecord.external_ref.in_(set(refs)),
            )
        )
        return {r.external_ref: r for r in found}

    def _customers(self, refs: list[str]) -> dict[str, int]:
        if self.kind is ImportKind.CUSTOMERS:
            return {}
        records = self._records(ImportKind.CUSTOMERS, [r for r in refs if r])
        return {ref: r.entity_id for ref, r in records.items()}

    def _order_number_free(self, number: str, record: SourceRecord | None) -> bool:
        holder = self.session.scalar(select(Order.id).where(Order.number == number))
        return holder is None or (record is not None and holder == record.entity_id)

    def _duplicates(self, customer_id: int | None, row: Judged) -> int:
        values = row.values
        person = ImportPerson(
            customer_id=customer_id,
            e164=_text(values.get("phone")),
            email=_text(values.get("email")),
            search_name=str(values["search_name"]),
            postal_code=_text(values.get("postal_code")),
        )
        matches = find_import_matches(self.session, person)
        if self.dry_run or customer_id is None:
            return len(matches)
        return queue_duplicates(self.session, customer_id, matches, self.run_id)

    # -- writes ------------------------------------------------------------------------

    def _build(self, row: Judged) -> Customer | Order | Interaction:
        values = row.values
        entity: Customer | Order | Interaction
        if self.kind is ImportKind.CUSTOMERS:
            since = values.get("customer_since")
            entity = Customer(
                first_name=str(values["first_name"]),
                last_name=str(values["last_name"]),
                search_name=str(values["search_name"]),
                preferred_language=str(values["language"]),
                customer_since=dt.date.fromisoformat(str(since)) if since else self.today,
                external_ref=str(values["external_ref"]),
                # Empty, not lazy: a new customer's details need no SELECT to be known empty.
                phones=[],
                emails=[],
                addresses=[],
            )
            self._contact_details(entity, values)
            self.session.add(entity)
        elif self.kind is ImportKind.ORDERS:
            entity = Order(number=str(values["external_ref"]), customer_id=0)
            self._order_fields(entity, values)
            self.session.add(entity)
        else:
            entity = Interaction(customer_id=0, outcome=InteractionOutcome.COMPLETED)
            self._interaction_fields(entity, values)
            self.session.add(entity)
        return entity

    def _update(self, entity_id: int, row: Judged) -> None:
        values = row.values
        if self.kind is ImportKind.CUSTOMERS:
            customer = self.session.get_one(Customer, entity_id)
            customer.first_name = str(values["first_name"])
            customer.last_name = str(values["last_name"])
            customer.search_name = str(values["search_name"])
            customer.preferred_language = str(values["language"])
            if values.get("customer_since"):
                customer.customer_since = dt.date.fromisoformat(str(values["customer_since"]))
            self._contact_details(customer, values)
        elif self.kind is ImportKind.ORDERS:
            self._order_fields(self.session.get_one(Order, entity_id), values)
        else:
            self._interaction_fields(self.session.get_one(Interaction, entity_id), values)
        self.session.flush()

    def _contact_details(self, customer: Customer, values: dict[str, object]) -> None:
        """The legacy phone, e-mail and address become the primary ones (added, or the
        primary replaced when they changed)."""
        e164 = _text(values.get("phone"))
        if e164 and all(p.e164 != e164 for p in customer.phones):
            phone = next((p for p in customer.phones if p.is_primary), None)
            if phone is None:
                phone = CustomerPhone(is_primary=True)
                customer.phones.append(phone)
            phone.raw, phone.e164, phone.digits_tail = e164, e164, e164[-7:]
            phone.kind = PhoneKind(kind_for(e164))
        email = _text(values.get("email"))
        if email and all(e.address_normalized != email.lower() for e in customer.emails):
            mail = next((e for e in customer.emails if e.is_primary), None)
            if mail is None:
                mail = CustomerEmail(is_primary=True, kind="personal")
                customer.emails.append(mail)
            mail.address, mail.address_normalized = email, email.lower()
        if values.get("address"):
            address = customer.addresses[0] if customer.addresses else None
            if address is None:
                address = CustomerAddress(kind="home")
                customer.addresses.append(address)
            address.line1 = str(values["address"])
            address.city = str(values.get("city", ""))
            address.postal_code = _text(values.get("postal_code"))
            address.country = str(values["country"])

    @staticmethod
    def _order_fields(order: Order, values: dict[str, object]) -> None:
        order.customer_id = int(str(values["customer_id"]))
        order.placed_at = dt.datetime.fromisoformat(str(values["placed_at"]))
        order.currency = str(values["currency"])
        order.subtotal_cents = order.total_cents = int(str(values["total"]))
        order.discount_cents = 0
        order.status = OrderStatus(str(values.get("status") or OrderStatus.DELIVERED.value))
        order.channel = Channel(str(values.get("channel") or Channel.WEB.value))

    @staticmethod
    def _interaction_fields(interaction: Interaction, values: dict[str, object]) -> None:
        interaction.customer_id = int(str(values["customer_id"]))
        interaction.channel = Channel(str(values["channel"]))
        interaction.direction = Direction(str(values.get("direction") or Direction.INBOUND.value))
        interaction.started_at = dt.datetime.fromisoformat(str(values["started_at"]))
        interaction.summary = _text(values.get("summary"))


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None
