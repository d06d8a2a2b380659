"""Serving the customer: cases and their timeline, department tasks, commitments,
interactions on every channel, feedback, and the offers shown to customers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Versioned, utcnow
from models.enums import (
    CaseEventKind,
    CaseStatus,
    Channel,
    CommitmentKind,
    CommitmentStatus,
    Direction,
    InteractionOutcome,
    OfferKind,
    OfferOutcome,
    Priority,
    Sentiment,
    TaskStatus,
    enum_type,
)
from models.limits import (
    CALL_ID_LENGTH,
    CALL_SOURCE_LENGTH,
    CLIENT_KEY_LENGTH,
    PHONE_EXTENSION_LENGTH,
    WORKSTATION_LENGTH,
)


class Case(Versioned, Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_customer_status", "customer_id", "status"),
        # My work: my open cases by SLA due (app/services/my_work.py).
        Index("ix_cases_assignee_status_due", "assignee_id", "status", "sla_due_at"),
        # The dashboards count a period of cases opened and breached (migration 0015).
        Index("ix_cases_opened_at", "opened_at"),
        Index("ix_cases_sla_breached_at", "sla_breached_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # "CS-24-004711"
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    category: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[Priority] = mapped_column(enum_type(Priority, "priority"))
    status: Mapped[CaseStatus] = mapped_column(enum_type(CaseStatus, "case_status"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    sla_due_at: Mapped[dt.datetime | None]
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    first_response_at: Mapped[dt.datetime | None]
    resolved_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)
    # Why the priority is what it is ("key date near: husband's birthday Mon 7 Dec").
    priority_reason: Mapped[str | None] = mapped_column(String(200))
    # SLA (app/sla.py): the policy chosen at opening and the clock's recorded moments.
    sla_policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id"))
    first_response_due_at: Mapped[dt.datetime | None]
    sla_paused_since: Mapped[dt.datetime | None]  # waiting on the customer: clock stopped
    sla_warned_at: Mapped[dt.datetime | None]
    sla_breached_at: Mapped[dt.datetime | None]
    first_response_breached_at: Mapped[dt.datetime | None]
    # "I'm replying": who claimed the case, so a second agent sees it before typing.
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[dt.datetime | None]
    reopened_at: Mapped[dt.datetime | None]
    # Closed while tasks were still open: the agent's reason, required then.
    close_reason: Mapped[str | None] = mapped_column(Text)


class CaseEvent(Base):
    """One entry on a case's timeline. Append-only by convention of the services."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kind: Mapped[CaseEventKind] = mapped_column(enum_type(CaseEventKind, "case_event_kind"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    body: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Task(Versioned, Base):
    """A part of a case handed to a department (warehouse re-engraves, IT fixes the feed)."""

    __tablename__ = "tasks"
    __table_args__ = (
        # My work: my open tasks, and my department's unassigned queue, by due time.
        Index("ix_tasks_assignee_status_due", "assignee_id", "status", "due_at"),
        Index("ix_tasks_department_status_due", "department_id", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[TaskStatus] = mapped_column(enum_type(TaskStatus, "task_status"))
    due_at: Mapped[dt.datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[dt.datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(Text)  # what the department did
    # The missed call a callback task answers; the call log shows its status.
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id"), index=True)


class Commitment(Versioned, Base):
    """A promise made to the customer, with an owner and a due window.

    "Overdue" is derived: open and past `due_until`.
    """

    __tablename__ = "commitments"
    __table_args__ = (
        Index("ix_commitments_customer_status", "customer_id", "status"),
        # My work (my promises by due) and the sweep that breaks the overdue ones.
        Index("ix_commitments_owner_status_due", "owner_id", "status", "due_until"),
        Index("ix_commitments_status_due", "status", "due_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    description: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    due_from: Mapped[dt.datetime | None]
    due_until: Mapped[dt.datetime]
    status: Mapped[CommitmentStatus] = mapped_column(
        enum_type(CommitmentStatus, "commitment_status")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[dt.datetime | None]
    kind: Mapped[CommitmentKind] = mapped_column(
        enum_type(CommitmentKind, "commitment_kind"), default=CommitmentKind.OTHER
    )
    # How the customer is to be contacted, when the promise is a contact (checked
    # against their contact preferences when made).
    contact_channel: Mapped[Channel | None] = mapped_column(
        enum_type(Channel, "commitment_channel")
    )
    contact_phone_id: Mapped[int | None] = mapped_column(ForeignKey("customer_phones.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # When the window passed unkept (the rule in app/services/commitments.py).
    broken_at: Mapped[dt.datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(300))


class Interaction(Versioned, Base):
    """One contact on any channel: a call, an e-mail, a chat, a store visit, a post."""

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_customer_started", "customer_id", "started_at"),
        Index("ix_interactions_agent_started", "agent_id", "started_at"),
        Index("ix_interactions_line_started", "line", "started_at"),
        Index("ix_interactions_workstation_started", "workstation", "started_at"),
        Index("ix_interactions_started_at", "started_at"),  # the dashboards' period
        # One interaction per call: the same event reported twice (a retry, a second
        # delivery) finds the first row instead of adding one (see CallService).
        Index("uq_interactions_call", "call_source", "call_id", unique=True),
        # The wrap-up's idempotency key: a retried wrap-up is recognised (CallService).
        Index("uq_interactions_wrap_up_key", "wrap_up_key", unique=True),
        CheckConstraint(
            "call_id IS NULL OR call_source IS NOT NULL", name="ck_interactions_call_has_source"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel, "interaction_channel"))
    direction: Mapped[Direction] = mapped_column(enum_type(Direction, "direction"))
    outcome: Mapped[InteractionOutcome] = mapped_column(
        enum_type(InteractionOutcome, "interaction_outcome"), default=InteractionOutcome.COMPLETED
    )
    started_at: Mapped[dt.datetime]
    answered_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    call_id: Mapped[str | None] = mapped_column(String(CALL_ID_LENGTH), index=True)  # telephony id
    call_source: Mapped[str | None] = mapped_column(
        String(CALL_SOURCE_LENGTH)
    )  # webhook, ami, baresip, pop...
    phone_number: Mapped[str | None] = mapped_column(String(40))
    # The caller's extension ("x12", ";ext=12"): kept apart, the pop matches the number.
    phone_extension: Mapped[str | None] = mapped_column(String(PHONE_EXTENSION_LENGTH))
    line: Mapped[str | None] = mapped_column(String(80))  # the dialled line or agent device
    # Where the call popped (login@host of the Rapport it rang on): a source without
    # line information still leaves the workstation's missed calls in its call log.
    workstation: Mapped[str | None] = mapped_column(String(WORKSTATION_LENGTH))
    wrap_up_code: Mapped[str | None] = mapped_column(String(40))
    summary: Mapped[str | None] = mapped_column(Text)
    wrap_up_key: Mapped[str | None] = mapped_column(String(CLIENT_KEY_LENGTH))


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_received_at", "received_at"),)  # the dashboards

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id"))
    # Indexed: the case tab reads a case's feedback (a scan at a million customers).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    rating: Mapped[int | None] = mapped_column(SmallInteger)  # 1..5
    sentiment: Mapped[Sentiment] = mapped_column(enum_type(Sentiment, "sentiment"))
    text: Mapped[str | None] = mapped_column(Text)
    source: Mapped[Channel] = mapped_column(enum_type(Channel, "feedback_source"))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sentiment_score: Mapped[float | None] = mapped_column(Float)  # -1..1, None: not scored
    language: Mapped[str | None] = mapped_column(String(8))  # detected, e.g. "en"
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    follow_up_task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))


class OfferEvent(Base):
    """A suggestion shown to a customer and what became of it (S6: measured return)."""

    __tablename__ = "offer_events"
    __table_args__ = (
        Index("ix_offer_events_at", "at"),
        Index("ix_offer_events_rule_id", "rule_id"),
        Index("ix_offer_events_agent_at", "agent_id", "at"),
        Index("ix_offer_events_unlinked", "customer_id", "product_id", "order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[OfferKind] = mapped_column(enum_type(OfferKind, "offer_kind"))
    reason: Mapped[str] = mapped_column(String(300))
    outcome: Mapped[OfferOutcome] = mapped_column(enum_type(OfferOutcome, "offer_outcome"))
    value_cents: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Issue 13: the impression's own key (made by the client: a refresh or a retry of
    # the same showing records nothing twice), what produced it, and what became of it.
    impression_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("association_rules.id", ondelete="SET NULL")
    )
    # The rule as text ("12,40=>77"), kept when a new mining replaces the rule itself.
    rule_ref: Mapped[str | None] = mapped_column(String(200))
    rank: Mapped[int | None] = mapped_column(SmallInteger)  # 1 = shown first
    outcome_at: Mapped[dt.datetime | None]
    decline_reason: Mapped[str | None] = mapped_column(String(40))
    concession_id: Mapped[int | None] = mapped_column(ForeignKey("concessions.id"))
    # A later order of the customer's with this product within 30 days of `at`.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    ordered_at: Mapped[dt.datetime | None]
