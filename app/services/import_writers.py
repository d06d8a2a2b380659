"""Writing one batch of judged legacy rows: customers, orders or interactions, each row
found again by its source record (unchanged, updated) or added (imported), and each
imported or changed customer checked against the others for a likely duplicate.

Called by `ImportService` inside the batch's transaction; nothing here commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session

from app.import_rules import Judged
from app.phones import kind_for
from app.services.import_matches import (
    ImportPerson,
    find_import_matches_batch,
    queue_duplicates_batch,
)
from models.commerce import Order
from models.data_quality import SourceRecord
from models.enums import (
    Channel,
    Direction,
    ImportKind,
    InteractionOutcome,
    OrderStatus,
    PhoneKind,
)
from models.people import Customer, CustomerAddress, CustomerEmail, CustomerPhone
from models.service import Interaction


@dataclass
class BatchOutcome:
    """What one batch did; the service adds it to the run's counts."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicate_candidates: int = 0
    rejected: list[Judged] = field(default_factory=list)


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
        # New rows of the batch, written by one multi-row insert (ids for all at once).
        self._pending: list[tuple[SourceRecord, Order | Interaction | None, Judged]] = []
        # Customers updated since the last duplicate check, checked together.
        self._updated: list[tuple[int | None, Judged]] = []

    def _write_pending(self) -> int:
        """Insert the batch's new entities and their source records in bulk, then check
        the updated and the new customers for duplicates in one query; the candidates
        queued (counted, dry)."""
        queued = self._duplicates(self._updated)
        self._updated = []
        if not self._pending:
            return queued
        pending, self._pending = self._pending, []
        if self.kind is ImportKind.CUSTOMERS:
            ids = self._insert_customers([row for _record, _entity, row in pending])
        else:
            self.session.flush()
            ids = [entity.id for _record, entity, _row in pending if entity is not None]
        for (record, _entity, _row), entity_id in zip(pending, ids, strict=True):
            record.entity_id = entity_id
        self.session.execute(
            insert(SourceRecord),
            [
                {
                    "source": r.source,
                    "kind": r.kind,
                    "external_ref": r.external_ref,
                    "entity_id": r.entity_id,
                    "row_hash": r.row_hash,
                    "import_run_id": r.import_run_id,
                }
                for r, _entity, _row in pending
            ],
        )
        if self.kind is ImportKind.CUSTOMERS:
            queued += self._duplicates([(r.entity_id, row) for r, _entity, row in pending])
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
                if inspect(record).transient:  # inserted in bulk above: load it to update
                    record = records[ref] = self._records(self.kind, [ref])[ref]
                self._update(record.entity_id, row)
                record.row_hash, record.import_run_id = digest, self.run_id
                record.updated_at = self.now
            outcome.updated += 1
            if self.kind is ImportKind.CUSTOMERS:
                self._updated.append((record.entity_id or None, row))
        if self.dry_run and self.kind is ImportKind.CUSTOMERS:
            self._updated.extend(
                (None, row)
                for row in good
                if row.ok and records[str(row.values["external_ref"])].entity_id == 0
            )
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

    def _duplicates(self, people: Sequence[tuple[int | None, Judged]]) -> int:
        """Check these customers (None: not written, dry) in one query; queue the pairs
        found, or, dry or unwritten, count them."""
        if not people:
            return 0
        asked = [
            ImportPerson(
                customer_id=customer_id,
                e164=_text(row.values.get("phone")),
                email=_text(row.values.get("email")),
                search_name=str(row.values["search_name"]),
                postal_code=_text(row.values.get("postal_code")),
            )
            for customer_id, row in people
        ]
        found = find_import_matches_batch(self.session, asked)
        counted = sum(
            len(matches)
            for person, matches in zip(asked, found, strict=True)
            if self.dry_run or person.customer_id is None
        )
        if self.dry_run:
            return counted
        written = [
            (person.customer_id, matches)
            for person, matches in zip(asked, found, strict=True)
            if person.customer_id is not None
        ]
        return counted + queue_duplicates_batch(self.session, written, self.run_id)

    # -- writes ------------------------------------------------------------------------

    def _build(self, row: Judged) -> Order | Interaction | None:
        """The new order or interaction; a new customer (None here) is inserted in bulk
        with the batch's others by `_insert_customers`."""
        values = row.values
        entity: Order | Interaction
        if self.kind is ImportKind.CUSTOMERS:
            return None
        if self.kind is ImportKind.ORDERS:
            entity = Order(number=str(values["external_ref"]), customer_id=0)
            self._order_fields(entity, values)
        else:
            entity = Interaction(customer_id=0, outcome=InteractionOutcome.COMPLETED)
            self._interaction_fields(entity, values)
        self.session.add(entity)
        return entity

    def _insert_customers(self, rows: Sequence[Judged]) -> list[int]:
        """The new customers by one multi-row INSERT ... RETURNING (ids in the rows'
        order), then their primary phone, e-mail and address by one executemany each:
        building an ORM object per row and per detail was a quarter of a row's cost."""
        people = []
        for row in rows:
            values = row.values
            since = values.get("customer_since")
            people.append(
                {
                    "first_name": str(values["first_name"]),
                    "last_name": str(values["last_name"]),
                    "search_name": str(values["search_name"]),
                    "preferred_language": str(values["language"]),
                    "customer_since": dt.date.fromisoformat(str(since)) if since else self.today,
                    "external_ref": str(values["external_ref"]),
                }
            )
        ids = list(
            self.session.scalars(
                insert(Customer).returning(Customer.id, sort_by_parameter_order=True), people
            )
        )
        phones, emails, addresses = [], [], []
        for customer_id, row in zip(ids, rows, strict=True):
            values = row.values
            e164 = _text(values.get("phone"))
            if e164:
                phones.append(
                    {
                        "customer_id": customer_id,
                        "is_primary": True,
                        "raw": e164,
                        "e164": e164,
                        "digits_tail": e164[-7:],
                        "kind": PhoneKind(kind_for(e164)),
                    }
                )
            email = _text(values.get("email"))
            if email:
                emails.append(
                    {
                        "customer_id": customer_id,
                        "is_primary": True,
                        "kind": "personal",
                        "address": email,
                        "address_normalized": email.lower(),
                    }
                )
            if values.get("address"):
                addresses.append(
                    {
                        "customer_id": customer_id,
                        "kind": "home",
                        "line1": str(values["address"]),
                        "city": str(values.get("city", "")),
                        "postal_code": _text(values.get("postal_code")),
                        "country": str(values["country"]),
                    }
                )
        for model, details in (
            (CustomerPhone, phones),
            (CustomerEmail, emails),
            (CustomerAddress, addresses),
        ):
            if details:
                self.session.execute(insert(model), details)
        return ids

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
