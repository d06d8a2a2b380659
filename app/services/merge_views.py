"""What the merge service returns (frozen dataclasses) and the pure helpers that build
them: the fields a merge chooses between, their defaults, the evidence in words."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.services import merge_moves as moves
from models.data_quality import DuplicateCandidate
from models.enums import CustomerStatus, Tier
from models.people import Customer

# The fields the agent chooses between, with their labels, in the order shown.
FIELDS: dict[str, str] = {
    "first_name": "First name",
    "last_name": "Last name",
    "preferred_language": "Language",
    "segment": "Segment",
    "tier": "Tier",
    "customer_since": "Customer since",
    "do_not_call": "Do not call",
    "do_not_email": "Do not e-mail",
    "do_not_sms": "Do not text",
    "do_not_mail": "Do not mail",
    "household_id": "Household",
    "external_ref": "Legacy reference",
}
TIER_ORDER = list(Tier)  # lowest first
OPT_OUTS = {"do_not_call", "do_not_email", "do_not_sms", "do_not_mail"}


@dataclass(frozen=True)
class CustomerSide:
    id: int
    name: str
    status: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    values: dict[str, str]  # field -> value as shown
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    counts: dict[str, int]  # "table.column" -> rows of this customer

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class MergePreview:
    """Two customers side by side, the evidence, and a default choice per field."""

    candidate_id: int | None
    a: CustomerSide
    b: CustomerSide
    score: float | None
    evidence: dict[str, Any]
    defaults: dict[str, int]  # field -> id of the customer whose value is proposed

    def differing(self) -> list[str]:
        return [f for f in FIELDS if self.a.values[f] != self.b.values[f]]


@dataclass(frozen=True)
class MergeResult:
    merge_id: int
    survivor_id: int
    merged_id: int
    moved: dict[str, int]  # "table.column" -> rows moved
    kept: dict[str, int]  # rows left with the merged customer (collisions)


@dataclass(frozen=True)
class UnmergeResult:
    merge_id: int
    survivor_id: int
    merged_id: int
    restored_rows: int
    kept_edits: tuple[str, ...]  # survivor fields edited since the merge, left as edited


@dataclass(frozen=True)
class MergeRow:
    """A merge in the recent merges list."""

    id: int
    survivor_id: int
    survivor_name: str
    merged_id: int
    merged_name: str
    merged_by: str
    merged_at: dt.datetime
    unmerged_at: dt.datetime | None
    can_unmerge: bool


@dataclass(frozen=True)
class CandidateRow:
    """A pair waiting in the review queue."""

    id: int
    score: float
    a_id: int
    a_name: str
    b_id: int
    b_name: str
    found_by: str
    found_at: dt.datetime
    reasons: str  # the evidence in a few words


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "value"):  # an enum
        return value.value
    return value


def typed(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field == "customer_since":
        return dt.date.fromisoformat(value)
    if field == "tier":
        return Tier(value)
    if field == "status":
        return CustomerStatus(value)
    return value


def shown(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(jsonable(value))


def field_values(customer: Customer, names: Any) -> dict[str, Any]:
    return {f: jsonable(getattr(customer, f)) for f in names}


def reasons(evidence: Mapping[str, Any]) -> str:
    """The evidence in a few words: the fields that matched, strongest first."""
    parts = []
    for key, value in evidence.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            parts.append((float(value), f"{key.replace('_', ' ')} {value:.0%}"))
        elif value:
            parts.append((1.0, f"{key.replace('_', ' ')}"))
    return ", ".join(p for _s, p in sorted(parts, key=lambda x: -x[0]))


def evidence_of(candidate: DuplicateCandidate) -> dict[str, Any]:
    try:
        loaded = json.loads(candidate.evidence_json)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {"evidence": loaded}


def side_of(session: Session, customer: Customer) -> CustomerSide:
    return CustomerSide(
        id=customer.id,
        name=customer.display_name,
        status=customer.status.value,
        version=customer.version,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
        values={f: shown(getattr(customer, f)) for f in FIELDS},
        phones=tuple(p.raw for p in customer.phones),
        emails=tuple(e.address for e in customer.emails),
        counts=moves.counts(session, customer.id),
    )


def default_choices(a: Customer, b: Customer) -> dict[str, int]:
    """Per field, whose value to propose: a non-empty one over an empty one; an opt-out
    over none (a customer who said "no calls" stays opted out); the earlier "customer
    since"; the higher tier (a twin made at the counter is "standard" by default, and
    merging it must not demote a gold customer); otherwise the record updated last."""
    recent, older = (a, b) if a.updated_at >= b.updated_at else (b, a)
    chosen = {}
    for field in FIELDS:
        va, vb = getattr(a, field), getattr(b, field)
        if field in OPT_OUTS:
            chosen[field] = a.id if va or not vb else b.id
        elif field == "customer_since":
            chosen[field] = a.id if va <= vb else b.id
        elif field == "tier":
            chosen[field] = a.id if TIER_ORDER.index(va) >= TIER_ORDER.index(vb) else b.id
        elif shown(va) and not shown(vb):
            chosen[field] = a.id
        elif shown(vb) and not shown(va):
            chosen[field] = b.id
        else:
            chosen[field] = recent.id if shown(getattr(recent, field)) else older.id
    return chosen
