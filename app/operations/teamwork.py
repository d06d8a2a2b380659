"""Operations of working together on a case: presence, claims, macros, feedback."""

from __future__ import annotations

from app.bootstrap import Services
from app.changes import Change, Changes, Entity
from app.operations import Done
from app.services.feedback import RecordedFeedback
from app.services.macros import MacroRow
from app.services.presence import CasePresenceView
from models.enums import Channel, MacroKind, PresenceActivity


def heartbeat(
    services: Services, case_id: int, customer_id: int | None, activity: PresenceActivity
) -> Done[CasePresenceView]:
    """I have the case open (typing or not); who else has.

    Only a heartbeat that others would see differently (I arrived, started or stopped
    typing) is a change here; a routine refresh changes nothing this process shows.
    """
    beat = services.presence.heartbeat(case_id, activity)
    changes = _presence(case_id, customer_id) if beat.changed else Changes()
    return Done(beat.view, changes)


def leave_case(services: Services, case_id: int, customer_id: int | None) -> Done[None]:
    services.presence.leave(case_id)
    return Done(None, _presence(case_id, customer_id) | _case(case_id, customer_id))


def claim_case(
    services: Services, case_id: int, customer_id: int | None, expected_version: int | None
) -> Done[CasePresenceView]:
    view = services.presence.claim(case_id, expected_version)
    return Done(view, _presence(case_id, customer_id) | _case(case_id, customer_id))


def release_case(
    services: Services, case_id: int, customer_id: int | None
) -> Done[CasePresenceView]:
    view = services.presence.release(case_id)
    return Done(view, _presence(case_id, customer_id) | _case(case_id, customer_id))


def record_feedback(
    services: Services,
    customer_id: int,
    case_id: int | None,
    rating: int,
    text: str | None,
    source: Channel,
    interaction_id: int | None = None,
) -> Done[RecordedFeedback]:
    recorded = services.feedback.record(customer_id, case_id, rating, text, source, interaction_id)
    changes = Changes.of(Change(Entity.FEEDBACK, recorded.feedback_id, customer_id))
    if case_id is not None:
        changes |= _case(case_id, customer_id)
    if recorded.follow_up_task_id is not None:
        changes |= Changes.of(Change(Entity.TASK, recorded.follow_up_task_id, customer_id))
    return Done(recorded, changes)


def create_macro(
    services: Services, name: str, kind: MacroKind, body: str, department_id: int | None
) -> Done[MacroRow]:
    # Macros are no entity of the change bus: the picker lists them afresh when opened.
    return Done(services.macros.create(name, kind, body, department_id), Changes())


def edit_macro(
    services: Services, macro_id: int, loaded_version: int, name: str, body: str, active: bool
) -> Done[MacroRow]:
    return Done(services.macros.edit(macro_id, loaded_version, name, body, active), Changes())


def _presence(case_id: int, customer_id: int | None) -> Changes:
    return Changes.of(Change(Entity.PRESENCE, case_id, customer_id))


def _case(case_id: int, customer_id: int | None) -> Changes:
    return Changes.of(Change(Entity.CASE, case_id, customer_id))
