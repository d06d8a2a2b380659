"""The closed vocabularies of the data model, stored as short strings.

Stored as VARCHAR with a CHECK constraint (not native enums) so that both
databases share one migration history and adding a value is a small migration.
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Enum


def enum_type(cls: type[enum.StrEnum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in cls),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Role(enum.StrEnum):
    AGENT = "agent"
    SENIOR_AGENT = "senior_agent"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"
    ADMIN = "admin"


class Tier(enum.StrEnum):
    STANDARD = "standard"
    SILVER = "silver"
    GOLD = "gold"
    PLATINUM = "platinum"


class CustomerStatus(enum.StrEnum):
    ACTIVE = "active"
    STAGED = "staged"  # unknown caller held until identified or saved
    MERGED = "merged"  # merged into another customer, kept for history


class PhoneKind(enum.StrEnum):
    MOBILE = "mobile"
    HOME = "home"
    WORK = "work"
    OTHER = "other"


class Channel(enum.StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    SMS = "sms"
    CHAT = "chat"
    STORE = "store"
    WEB = "web"
    SOCIAL = "social"
    MAIL = "mail"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class KeyDateKind(enum.StrEnum):
    BIRTHDAY = "birthday"
    ANNIVERSARY = "anniversary"
    CONTRACT_RENEWAL = "contract_renewal"
    CUSTOM = "custom"


class OrderStatus(enum.StrEnum):
    PLACED = "placed"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    RETURNED = "returned"
    CANCELLED = "cancelled"


class ShipmentStatus(enum.StrEnum):
    PENDING = "pending"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    FAILED = "failed"


class ContractStatus(enum.StrEnum):
    ACTIVE = "active"
    ENDED = "ended"
    CANCELLED = "cancelled"


class CaseStatus(enum.StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING_CUSTOMER = "waiting_customer"
    WAITING_INTERNAL = "waiting_internal"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_CASE_STATUSES = (
    CaseStatus.NEW,
    CaseStatus.OPEN,
    CaseStatus.WAITING_CUSTOMER,
    CaseStatus.WAITING_INTERNAL,
)


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class CaseEventKind(enum.StrEnum):
    OPENED = "opened"
    NOTE = "note"
    INTERNAL_NOTE = "internal_note"
    STATUS_CHANGED = "status_changed"
    HANDOFF = "handoff"
    ASSIGNED = "assigned"
    CONTACT = "contact"
    COMMITMENT = "commitment"
    TASK = "task"
    CONCESSION = "concession"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"
    CLAIMED = "claimed"  # "I'm replying" taken or released
    PRIORITY = "priority"  # priority changed, with the reason
    FEEDBACK = "feedback"
    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"
    EDITED = "edited"  # subject, category, links... changed (data: the fields)


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class CommitmentStatus(enum.StrEnum):
    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class CommitmentKind(enum.StrEnum):
    CALLBACK = "callback"
    VISIT = "visit"  # a technician at the customer's
    DELIVERY = "delivery"
    REFUND = "refund"
    FOLLOW_UP = "follow_up"  # a follow-up contact (after a delivery, S4)
    OTHER = "other"


class MacroKind(enum.StrEnum):
    REPLY = "reply"  # what the customer is told
    NOTE = "note"  # an internal note template


class PresenceActivity(enum.StrEnum):
    VIEWING = "viewing"
    TYPING = "typing"


class InteractionOutcome(enum.StrEnum):
    COMPLETED = "completed"
    MISSED = "missed"
    ABANDONED = "abandoned"
    VOICEMAIL = "voicemail"


class Sentiment(enum.StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class ConcessionType(enum.StrEnum):
    DISCOUNT = "discount"
    CREDIT = "credit"
    SAMPLE = "sample"
    GOODWILL_GIFT = "goodwill_gift"
    FEE_WAIVER = "fee_waiver"
    POLICY_EXCEPTION = "policy_exception"


class OverrideStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    COUNTERED = "countered"  # the approver offered less; the agent may accept it
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class OverrideDecisionKind(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    COUNTER = "counter"


class OfferKind(enum.StrEnum):
    """What kind of suggestion an impression was (issue 13's seven, plus two older ones
    that the demo's history still holds)."""

    REFILL = "refill"
    ADD_ON = "add_on"  # an association rule over order lines
    COUNTERPART = "counterpart"  # a catalogue relation: the counterpart of an owned product
    NEW_LINE = "new_line"  # a catalogue relation: a newer line that complements it
    DOWN_SELL = "down_sell"
    RETENTION = "retention"
    WELCOME = "welcome"
    CROSS_SELL = "cross_sell"  # history only
    UP_SELL = "up_sell"  # history only


class OfferOutcome(enum.StrEnum):
    SHOWN = "shown"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    OFFERED = "offered"  # a discount or sample offered with it (a concession)


class ProductRelationKind(enum.StrEnum):
    """Catalogue relations an admin maintains: `product` -> `related`."""

    COUNTERPART = "counterpart"  # related is the counterpart of product (his and hers)
    COMPLEMENTS = "complements"  # related complements product (a newer line that goes with it)
    REPLACES = "replaces"  # related replaces product (its successor)


def values(cls: type[enum.StrEnum]) -> list[Any]:
    return [m.value for m in cls]


class ImportKind(enum.StrEnum):
    """What a legacy file holds (`rapportctl import KIND FILE`)."""

    CUSTOMERS = "customers"
    ORDERS = "orders"
    INTERACTIONS = "interactions"


class ImportStatus(enum.StrEnum):
    RUNNING = "running"  # batches being written; a crash leaves it here, to resume
    DONE = "done"
    FAILED = "failed"  # stopped with a message (a truncated file, a bad encoding)
    DRY_RUN = "dry_run"  # validated and counted, nothing written but this row


class DuplicateStatus(enum.StrEnum):
    OPEN = "open"  # waiting in the review queue
    MERGED = "merged"
    DISMISSED = "dismissed"  # "not the same person": never proposed again


class DuplicateFoundBy(enum.StrEnum):
    SCAN = "scan"  # `rapportctl duplicates find --store` or the review queue's Find
    IMPORT = "import"  # a row imported that looks like another customer
    CREATION = "creation"  # saved anyway after the warning at creation
    STAGED = "staged"  # an unknown caller quick-created during a pop
