"""The service history: interactions with feedback, cases with their events and tasks,
commitments, and concessions with the override requests above an agent's limit.

The rows of models/service.py and models/authority.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text

from models.seed.context import SeedContext, at
from models.seed.data import CASE_TOPICS, FEEDBACK_TEXT, SUMMARIES, WRAP_UPS


def interactions_for(ctx: SeedContext, c: dict[str, Any], count: int) -> None:
    rng = ctx.rng
    for _ in range(count):
        channel = rng.choices(
            ("phone", "email", "chat", "store", "web", "social"), (35, 25, 15, 12, 8, 5)
        )[0]
        day = ctx.today - dt.timedelta(days=rng.randint(0, max((ctx.today - c["since"]).days, 1)))
        # Room for the call to be answered and ended before now.
        started = ctx.past(at(day, rng) + dt.timedelta(minutes=20)) - dt.timedelta(minutes=20)
        missed = channel == "phone" and rng.random() < 0.08
        answered = None if missed else started + dt.timedelta(seconds=rng.randint(3, 40))
        ended = (
            started + dt.timedelta(seconds=rng.randint(60, 900))
            if channel in ("phone", "chat", "store")
            else None
        )
        iid = ctx.writer.add(
            "interactions",
            customer_id=c["id"],
            case_id=None,
            channel=channel,
            direction="outbound" if rng.random() < 0.15 else "inbound",
            outcome="missed" if missed else "completed",
            started_at=started,
            answered_at=answered,
            ended_at=None if missed else ended,
            agent_id=None if missed or channel in ("web", "social") else ctx.agent(),
            store_id=None,
            call_id=None,
            phone_number=None,
            wrap_up_code=None if missed else rng.choice(WRAP_UPS),
            summary=rng.choice(SUMMARIES[channel]),
            version=1,
        )
        if not missed and rng.random() < 0.12:
            sentiment = rng.choices(("positive", "neutral", "negative"), (60, 25, 15))[0]
            rating = {
                "positive": rng.randint(4, 5),
                "neutral": 3,
                "negative": rng.randint(1, 2),
            }[sentiment]
            ctx.writer.add(
                "feedback",
                customer_id=c["id"],
                interaction_id=iid,
                case_id=None,
                rating=rating,
                sentiment=sentiment,
                text=rng.choice(FEEDBACK_TEXT[sentiment]),
                source=channel,
                received_at=ctx.past(started + dt.timedelta(hours=2), ended or started),
            )


def reference_code(ctx: SeedContext, opened: dt.datetime) -> str:
    ctx.case_seq += 1
    return f"CS-{opened:%y}-{ctx.case_seq:06d}"


def move_case_numbers_past(ctx: SeedContext) -> None:
    """Start the database's case references after the seeded ones (migration 0010 made
    the sequence; the app draws the next reference from it)."""
    if not ctx.case_seq:
        return
    with ctx.writer.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('case_reference_seq', :n)"), {"n": ctx.case_seq})
        else:
            conn.execute(text("DELETE FROM case_numbers"))
            conn.execute(text("INSERT INTO case_numbers(n) VALUES (:n)"), {"n": ctx.case_seq})


def case_for(
    ctx: SeedContext,
    c: dict[str, Any],
    *,
    topic: tuple[str, str, str] | None = None,
    opened: dt.datetime | None = None,
    open_: bool | None = None,
    order_id: int | None = None,
    line_id: int | None = None,
    contract_id: int | None = None,
    priority: str | None = None,
    description: str | None = None,
    extras: bool = True,
) -> tuple[int, str, dt.datetime]:
    rng = ctx.rng
    category, subject, dept = topic or rng.choice(CASE_TOPICS)
    opened = opened or ctx.past(at(ctx.today - dt.timedelta(days=rng.randint(0, 900)), rng))
    is_open = open_ if open_ is not None else (ctx.now - opened).days < 20 and rng.random() < 0.6
    status = rng.choice(("open", "waiting_customer", "waiting_internal")) if is_open else "closed"
    priority = priority or rng.choices(("low", "normal", "high", "urgent"), (15, 60, 20, 5))[0]
    resolved = None if is_open else ctx.past(opened + dt.timedelta(days=rng.randint(1, 12)), opened)
    reference = reference_code(ctx, opened)
    assignee = ctx.agent()
    case_id = ctx.writer.add(
        "cases",
        reference=reference,
        customer_id=c["id"],
        order_id=order_id,
        order_line_id=line_id,
        contract_id=contract_id,
        category=category,
        subject=subject,
        description=description,
        priority=priority,
        status=status,
        department_id=ctx.departments[dept],
        assignee_id=assignee,
        sla_due_at=opened + dt.timedelta(days=3 if priority in ("high", "urgent") else 7),
        opened_at=opened,
        updated_at=resolved or opened,
        first_response_at=ctx.past(opened + dt.timedelta(hours=2), opened),
        resolved_at=resolved,
        closed_at=resolved,
        resolution=None if is_open else "Resolved with the customer",
        version=1,
    )
    ctx.writer.add(
        "case_events",
        case_id=case_id,
        at=opened,
        kind="opened",
        author_id=assignee,
        department_id=ctx.departments["call_centre"],
        body=subject,
        data=None,
    )
    if rng.random() < 0.5:
        ctx.writer.add(
            "case_events",
            case_id=case_id,
            at=ctx.past(opened + dt.timedelta(hours=3), opened),
            kind="handoff",
            author_id=assignee,
            department_id=ctx.departments[dept],
            body=f"Handed to {dept.replace('_', ' ')}",
            data={"to": dept},
        )
        ctx.writer.add(
            "tasks",
            case_id=case_id,
            customer_id=c["id"],
            department_id=ctx.departments[dept],
            assignee_id=ctx.users[dept][0] if ctx.users.get(dept) else None,
            title=f"Check: {subject.lower()}",
            description=None,
            status="open" if is_open else "done",
            due_at=opened + dt.timedelta(days=2),
            created_by_id=assignee,
            created_at=opened,
            completed_at=resolved,
            version=1,
        )
    if resolved:
        ctx.writer.add(
            "case_events",
            case_id=case_id,
            at=resolved,
            kind="resolved",
            author_id=assignee,
            department_id=ctx.departments[dept],
            body="Resolved",
            data=None,
        )
    if extras and rng.random() < 0.4:
        due = opened + dt.timedelta(days=rng.randint(1, 5))
        if not is_open:  # kept or broken: its day has come
            due = ctx.past(due, opened)
        if is_open:
            state = "open"
        else:
            state = "kept" if rng.random() < 0.8 else "broken"
        commitment(
            ctx,
            c["id"],
            case_id,
            rng.choice(("Call back with an update", "Send a replacement", "Refund within 5 days")),
            due,
            state,
            created=opened,
        )
    if extras and resolved and rng.random() < 0.2:
        concession(ctx, c["id"], case_id, resolved, assignee)
    return case_id, reference, opened


def concession(
    ctx: SeedContext, customer_id: int, case_id: int, when: dt.datetime, agent: int
) -> None:
    """A gesture granted within the agent's limit, or above it with a supervisor's yes."""
    rng = ctx.rng
    kind, amount = rng.choice(
        (
            ("goodwill_gift", 2500),
            ("credit", 1500),
            ("discount", 1000),
            ("sample", 0),
            ("credit", 6000),
        )
    )
    request_id = supervisor = None
    if amount > 2500:
        supervisor = rng.choice(ctx.users["supervisor"])
        request_id = ctx.writer.add(
            "override_requests",
            idempotency_key=f"seed-req-{case_id}",
            customer_id=customer_id,
            case_id=case_id,
            policy_id=3,
            concession_type=kind,
            amount_cents=amount,
            reason="Repeated delivery problems",
            requested_by_id=agent,
            required_role="supervisor",
            requested_at=when,
            status="approved",
            version=1,
            currency="USD",
            expires_at=when + dt.timedelta(minutes=5),
        )
        ctx.writer.add(
            "override_decisions",
            request_id=request_id,
            decided_by_id=supervisor,
            approved=True,
            comment="Long-standing customer, approved",
            decision="approve",
            decided_at=ctx.past(when + dt.timedelta(minutes=rng.randint(1, 6)), when),
        )
    concession_id = ctx.writer.add(
        "concessions",
        idempotency_key=f"seed-con-{case_id}",
        customer_id=customer_id,
        case_id=case_id,
        type=kind,
        amount_cents=amount,
        currency="USD",
        reason="Sorry for the trouble",
        granted_by_id=agent,
        override_request_id=request_id,
        granted_at=when,
        approved_by_id=supervisor if request_id else None,
    )
    ctx.writer.add(
        "audit_log",
        at=when,
        actor=f"user:{agent}",
        action="concession.grant",
        entity="concession",
        entity_id=concession_id,
        detail={"type": kind, "amount_cents": amount, "case_id": case_id},
    )


def commitment(
    ctx: SeedContext,
    customer_id: int,
    case_id: int | None,
    text: str,
    due: dt.datetime,
    status: str,
    created: dt.datetime,
    due_from: dt.datetime | None = None,
    kind: str = "other",
    owner: int | None = None,
) -> None:
    drawn = ctx.agent()  # drawn even when `owner` is given: the rest of the seed stays
    owner = owner or drawn
    ctx.writer.add(
        "commitments",
        customer_id=customer_id,
        case_id=case_id,
        description=text,
        owner_id=owner,
        department_id=ctx.departments["call_centre"],
        due_from=due_from,
        due_until=due,
        status=status,
        created_at=created,
        resolved_at=None if status == "open" else due,
        version=1,
        kind=kind,
        contact_channel=None,
        contact_phone_id=None,
        created_by_id=owner,
        resolved_by_id=None if status in ("open", "broken") else owner,
        broken_at=due if status == "broken" else None,
        cancel_reason=None,
    )
