"""Duplicate customers over the database (S8, S1): scan all, store for review, or look
for the likely duplicates of one person before they are saved.

`find` reads every customer that is not merged away (five plain queries: customers,
phones, e-mails, addresses, own birthdays), builds `PersonRecord`s in memory and hands
them to app/dedupe.py's blocking and scoring. Reading 100,000 customers this way takes
seconds (docs/benchmarks.md); blocking in SQL would need self-joins per key on both
dialects for no gain at that size.

`find_matches` is the one-person check used when a customer is created (and by the
import): its blocking is indexed lookups (customer_phones.e164,
customer_emails.address_normalized, customers.search_name with the name as typed,
swapped and by nickname), so it costs a few milliseconds at any size.

`store` adds new pairs as open candidates and refreshes the score of open ones; a
pair someone dismissed ("not the same person") or merged is never reopened.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    CompoundSelect,
    Select,
    String,
    cast,
    insert,
    literal,
    null,
    select,
    union,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from app import phones
from app.clock import Clock, system_clock
from app.dedupe import (
    DEFAULT_MIN_SCORE,
    NICKNAMES,
    Address,
    PairScore,
    PersonRecord,
    find_duplicates,
    score_pair,
)
from app.services.contacts import ContactDetails
from models.data_quality import DuplicateCandidate
from models.database import Database
from models.enums import CustomerStatus, DuplicateFoundBy, DuplicateStatus, KeyDateKind
from models.names import fold
from models.people import Customer, CustomerAddress, CustomerEmail, CustomerPhone, KeyDate

Progress = Callable[[str, int], None]
MATCH_CANDIDATES = 200  # customers sharing a phone, e-mail or name with the new one
_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")
_NICKNAMES_OF: dict[str, list[str]] = defaultdict(list)
for _short, _canonical in NICKNAMES.items():
    _NICKNAMES_OF[_canonical].append(_short)


@dataclass(frozen=True)
class CandidatePair:
    """Two customers that may be one person: `id_a < id_b`."""

    id_a: int
    id_b: int
    external_ref_a: str | None
    external_ref_b: str | None
    score: float
    evidence: dict[str, object]

    def as_json_line(self) -> str:
        """The `rapportctl duplicates find --json` line: exactly these five keys."""
        return json.dumps(
            {
                "id_a": self.id_a,
                "id_b": self.id_b,
                "external_ref_a": self.external_ref_a,
                "external_ref_b": self.external_ref_b,
                "score": self.score,
            }
        )


@dataclass(frozen=True)
class Match:
    """An existing customer who may be the person being created, and why."""

    customer_id: int
    name: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class StoreSummary:
    added: int
    refreshed: int
    left_closed: int  # dismissed or merged before: not reopened


class DuplicateService:
    def __init__(self, db: Database, region: str = "US", *, clock: Clock = system_clock) -> None:
        self._db = db
        self._region = region  # how a phone typed without +country is read
        self._clock = clock

    # -- scanning everyone ------------------------------------------------------

    def people(self, progress: Progress | None = None) -> list[PersonRecord]:
        """Every customer not merged away, as the comparison sees them."""
        with self._db.read() as session:
            return _load(session, None, progress)

    def find(
        self, min_score: float = DEFAULT_MIN_SCORE, progress: Progress | None = None
    ) -> Iterator[CandidatePair]:
        """Every likely duplicate pair, smaller id first, in no particular order."""
        people = self.people(progress)
        if progress:
            progress("comparing", len(people))
        for pair in find_duplicates(people, min_score):
            yield _candidate(pair.a, pair.b, pair.score)

    def store(self, pairs: Iterable[CandidatePair], found_by: DuplicateFoundBy) -> StoreSummary:
        """Add new pairs as open candidates; refresh open ones; leave closed ones be."""
        pairs = list(pairs)
        now = self._clock()
        added = refreshed = closed = 0
        with self._db.write() as session:
            existing = {
                (row.customer_a_id, row.customer_b_id): (row.id, row.status)
                for row in session.execute(
                    select(
                        DuplicateCandidate.id,
                        DuplicateCandidate.customer_a_id,
                        DuplicateCandidate.customer_b_id,
                        DuplicateCandidate.status,
                    )
                )
            }
            new_rows = []
            for pair in pairs:
                known = existing.get((pair.id_a, pair.id_b))
                evidence = json.dumps(pair.evidence, sort_keys=True)
                if known is None:
                    new_rows.append(
                        {
                            "customer_a_id": pair.id_a,
                            "customer_b_id": pair.id_b,
                            "score": pair.score,
                            "evidence_json": evidence,
                            "status": DuplicateStatus.OPEN,
                            "found_by": found_by,
                            "found_at": now,
                        }
                    )
                    existing[(pair.id_a, pair.id_b)] = (0, DuplicateStatus.OPEN)
                    added += 1
                elif known[1] == DuplicateStatus.OPEN:
                    session.execute(
                        update(DuplicateCandidate)
                        .where(DuplicateCandidate.id == known[0])
                        .values(score=pair.score, evidence_json=evidence)
                    )
                    refreshed += 1
                else:
                    closed += 1
            if new_rows:
                session.execute(insert(DuplicateCandidate), new_rows)
        return StoreSummary(added, refreshed, closed)

    # -- one person, before saving ------------------------------------------------

    def find_matches(
        self, person: PersonRecord, limit: int = 5, min_score: float = DEFAULT_MIN_SCORE
    ) -> list[Match]:
        """The existing customers most likely to be `person`, best first."""
        # Three read-only statements without a transaction (on PostgreSQL autocommit
        # saves the BEGIN and ROLLBACK round trips): a row changing in between costs
        # at most a stale warning.
        with self._db.lookup() as session:
            ids = _blocked_ids(session, person)
            ids.discard(person.id)
            if not ids:
                return []
            others = _load_few(session, ids)
        scored = [(score_pair(person, other), other) for other in others]
        found = [(s, o) for s, o in scored if s.score >= min_score]
        found.sort(key=lambda item: (-item[0].score, item[1].id))
        return [_match(other, score) for score, other in found[:limit]]

    def matches_for_details(self, details: ContactDetails, limit: int = 5) -> list[Match]:
        """`find_matches` for what an agent typed into the new-customer form."""
        return self.find_matches(self.person_of(details), limit)

    def person_of(self, details: ContactDetails) -> PersonRecord:
        numbers = (phones.normalize(p.raw, self._region).e164 for p in details.phones)
        return PersonRecord(
            0,
            None,
            details.first_name.strip(),
            details.last_name.strip(),
            tuple(e.strip().lower() for e in details.emails if e.strip()),
            tuple(n for n in numbers if n),
        )

    def record_created_anyway(self, customer_id: int, matches: Iterable[Match]) -> StoreSummary:
        """The agent saved a new customer despite the warning: the pairs go to the review
        queue (found_by creation), so someone decides later whether they are one."""
        pairs = [
            CandidatePair(
                min(customer_id, m.customer_id),
                max(customer_id, m.customer_id),
                None,
                None,
                m.score,
                {"reasons": list(m.reasons), "saved_anyway": True},
            )
            for m in matches
            if m.customer_id != customer_id
        ]
        return self.store(pairs, DuplicateFoundBy.CREATION)


def _blocked_ids(session: Session, person: PersonRecord) -> set[int]:
    conditions = []
    if person.phones:
        conditions.append(
            select(CustomerPhone.customer_id).where(CustomerPhone.e164.in_(person.phones))
        )
    if person.emails:
        emails = [e.lower() for e in person.emails]
        conditions.append(
            select(CustomerEmail.customer_id).where(CustomerEmail.address_normalized.in_(emails))
        )
    firsts = {fold(person.first_name)}
    canonical = NICKNAMES.get(fold(person.first_name))
    if canonical:
        firsts |= {canonical, *_NICKNAMES_OF[canonical]}
    last = fold(person.last_name)
    names = {f"{first} {last}" for first in firsts} | {f"{last} {fold(person.first_name)}"}
    conditions.append(select(Customer.id).where(Customer.search_name.in_(sorted(names))))
    # One statement, one round trip: the check runs while the agent waits.
    return set(session.scalars(union(*conditions).limit(MATCH_CANDIDATES)))


def _load_few(session: Session, ids: Collection[int]) -> list[PersonRecord]:
    """PersonRecords for a few ids in two statements (the scan's `_load` takes five):
    the contact rows of four tables in one UNION ALL of uniform text columns."""
    rows: CompoundSelect[Any] = union_all(
        select(
            CustomerEmail.customer_id,
            literal("e"),
            CustomerEmail.address_normalized,
            null(),
            null(),
        ).where(CustomerEmail.customer_id.in_(ids)),
        select(CustomerPhone.customer_id, literal("p"), CustomerPhone.e164, null(), null()).where(
            CustomerPhone.customer_id.in_(ids), CustomerPhone.e164.is_not(None)
        ),
        select(
            CustomerAddress.customer_id,
            literal("a"),
            CustomerAddress.line1,
            CustomerAddress.postal_code,
            CustomerAddress.city,
        ).where(CustomerAddress.customer_id.in_(ids)),
        select(KeyDate.customer_id, literal("b"), cast(KeyDate.date, String), null(), null()).where(
            KeyDate.customer_id.in_(ids),
            KeyDate.kind == KeyDateKind.BIRTHDAY,
            KeyDate.relation_id.is_(None),
        ),
    )
    emails: dict[int, list[str]] = defaultdict(list)
    numbers: dict[int, list[str]] = defaultdict(list)
    addresses: dict[int, list[Address]] = defaultdict(list)
    births: dict[int, dt.date] = {}
    conn = session.connection()
    for cid, kind, value, postcode, city in conn.execute(rows):
        if kind == "e":
            emails[cid].append(value)
        elif kind == "p":
            numbers[cid].append(value)
        elif kind == "a":
            addresses[cid].append(Address(value, postcode, city))
        else:
            born = dt.date.fromisoformat(str(value)[:10])
            births[cid] = min(born, births.get(cid, born))
    customers = select(
        Customer.id,
        Customer.external_ref,
        Customer.first_name,
        Customer.last_name,
        Customer.household_id,
    ).where(Customer.id.in_(ids), Customer.status != CustomerStatus.MERGED)
    return [
        PersonRecord(
            cid,
            ref,
            first,
            last,
            tuple(sorted(set(emails[cid]))),
            tuple(sorted(set(numbers[cid]))),
            tuple(addresses[cid]),
            births.get(cid),
            household,
        )
        for cid, ref, first, last, household in conn.execute(customers.order_by(Customer.id))
    ]


def _load(
    session: Session, ids: Collection[int] | None, progress: Progress | None
) -> list[PersonRecord]:
    """PersonRecords for `ids` (None: every customer not merged away).

    Through the Core connection: plain rows, without the ORM's per-row bookkeeping
    (half the read time at 100,000 customers)."""
    conn = session.connection()

    def of_customers(query: _Query, customer_column: Any) -> _Query:
        if ids is not None:
            return query.where(customer_column.in_(ids))
        return query.join(Customer, Customer.id == customer_column).where(
            Customer.status != CustomerStatus.MERGED
        )

    emails: dict[int, list[str]] = defaultdict(list)
    phones: dict[int, list[str]] = defaultdict(list)
    addresses: dict[int, list[Address]] = defaultdict(list)
    births: dict[int, dt.date] = {}
    email_rows = select(CustomerEmail.customer_id, CustomerEmail.address_normalized)
    for cid, address in conn.execute(of_customers(email_rows, CustomerEmail.customer_id)):
        emails[cid].append(address)
    phone_rows = select(CustomerPhone.customer_id, CustomerPhone.e164).where(
        CustomerPhone.e164.is_not(None)
    )
    for cid, e164 in conn.execute(of_customers(phone_rows, CustomerPhone.customer_id)):
        if e164:  # the query leaves NULLs out; this tells the type checker
            phones[cid].append(e164)
    if progress:
        progress("phones and e-mails read", len(phones) + len(emails))
    address_rows = select(
        CustomerAddress.customer_id,
        CustomerAddress.line1,
        CustomerAddress.postal_code,
        CustomerAddress.city,
    )
    for cid, line1, postcode, city in conn.execute(
        of_customers(address_rows, CustomerAddress.customer_id)
    ):
        addresses[cid].append(Address(line1, postcode, city))
    # The customer's own birthday (a relation's has relation_id); the earliest if several.
    birth_rows = select(KeyDate.customer_id, KeyDate.date).where(
        KeyDate.kind == KeyDateKind.BIRTHDAY, KeyDate.relation_id.is_(None)
    )
    for cid, date in conn.execute(
        of_customers(birth_rows, KeyDate.customer_id).order_by(KeyDate.customer_id, KeyDate.date)
    ):
        births.setdefault(cid, date)
    customer_rows = select(
        Customer.id,
        Customer.external_ref,
        Customer.first_name,
        Customer.last_name,
        Customer.household_id,
    ).where(Customer.status != CustomerStatus.MERGED)
    if ids is not None:
        customer_rows = customer_rows.where(Customer.id.in_(ids))
    people = [
        PersonRecord(
            cid,
            ref,
            first,
            last,
            tuple(sorted(set(emails[cid]))),
            tuple(sorted(set(phones[cid]))),
            tuple(addresses[cid]),
            births.get(cid),
            household,
        )
        for cid, ref, first, last, household in conn.execute(customer_rows.order_by(Customer.id))
    ]
    if progress:
        progress("customers read", len(people))
    return people


def _candidate(a: PersonRecord, b: PersonRecord, score: PairScore) -> CandidatePair:
    return CandidatePair(a.id, b.id, a.external_ref, b.external_ref, score.score, score.evidence)


def _match(other: PersonRecord, score: PairScore) -> Match:
    evidence = score.evidence
    reasons = []
    if evidence.get("email") == "same":
        reasons.append("same e-mail")
    if evidence.get("phone") == "same":
        reasons.append("same phone")
    if evidence.get("birth_date") == "same":
        reasons.append("same date of birth")
    if evidence.get("address") == "same":
        reasons.append("same address")
    if evidence.get("swapped"):
        reasons.append("first and last name swapped")
    first, last = evidence.get("first_name"), evidence.get("last_name")
    if first == 1.0 and last == 1.0:
        reasons.insert(0, "same name")
    else:
        reasons.insert(0, "similar name")
    return Match(
        other.id,
        f"{other.first_name} {other.last_name}".strip(),
        other.emails,
        other.phones,
        score.score,
        tuple(reasons),
    )
