"""Operations on calls: the ring, answer, hang-up, wrap-up, click-to-call, naming the caller."""

from __future__ import annotations

import datetime as dt

from app.bootstrap import Services
from app.changes import Change, Changes, Entity
from app.operations import Done
from app.services.calls import CallMatch, CallRecord
from app.telephony.events import CallEvent


def record_ring(services: Services, event: CallEvent, match: CallMatch) -> Done[int]:
    """The popped call, in the call log as rung until its source reports more."""
    interaction_id = services.calls.record_ring(event, match)
    return Done(interaction_id, _interaction(interaction_id, match.customer_id))


def answer_call(
    services: Services, event: CallEvent, customer_id: int | None, case_id: int | None
) -> Done[int]:
    interaction_id = services.calls.answered(event, customer_id, case_id)
    return Done(interaction_id, _interaction(interaction_id, customer_id))


def end_call(services: Services, event: CallEvent, customer_id: int | None) -> Done[CallRecord]:
    record = services.calls.ended(event, customer_id)
    changes = _interaction(record.interaction_id, record.customer_id)
    if record.callback_task_id is not None:
        changes |= Changes.of(Change(Entity.TASK, record.callback_task_id, record.customer_id))
    return Done(record, changes)


def wrap_up_call(
    services: Services,
    interaction_id: int,
    customer_id: int | None,
    code: str,
    summary: str,
    follow_up: str | None,
    client_key: str | None,
    case_id: int | None = None,
    follow_up_window: tuple[dt.datetime | None, dt.datetime] | None = None,
    follow_up_phone_id: int | None = None,
) -> Done[None]:
    promise_id = services.calls.wrap_up(
        interaction_id,
        code,
        summary,
        follow_up,
        client_key=client_key,
        case_id=case_id,
        follow_up_window=follow_up_window,
        follow_up_phone_id=follow_up_phone_id,
    )
    changes = _interaction(interaction_id, customer_id)
    if case_id is not None:
        changes |= Changes.of(Change(Entity.CASE, case_id, customer_id))
    if promise_id is not None:
        changes |= Changes.of(Change(Entity.COMMITMENT, promise_id, customer_id))
    return Done(None, changes)


def record_dial(
    services: Services,
    number: str,
    customer_id: int | None,
    line: str | None,
    callback_task_id: int | None,
) -> Done[int]:
    interaction_id = services.calls.record_dial(number, customer_id, line, callback_task_id)
    changes = _interaction(interaction_id, customer_id)
    if callback_task_id is not None:
        changes |= Changes.of(Change(Entity.TASK, callback_task_id, customer_id))
    return Done(interaction_id, changes)


def link_caller(services: Services, event: CallEvent, customer_id: int) -> Done[None]:
    interaction_id = services.calls.link_caller(event, customer_id)
    # The customer's timeline and the call log (which names the caller now) re-query.
    changes = Changes.of(Change(Entity.CUSTOMER, customer_id, customer_id))
    if interaction_id is not None:
        changes |= _interaction(interaction_id, customer_id)
    return Done(None, changes)


def _interaction(interaction_id: int, customer_id: int | None) -> Changes:
    return Changes.of(Change(Entity.INTERACTION, interaction_id, customer_id))
