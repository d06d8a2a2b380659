"""The call state machine (app/workflows/call_session.py), without Qt or a database: every
allowed and every refused step, the book of calls, events held while the database is
down, and random event sequences that never leave a call in an impossible state."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.telephony.events import CallState
from app.workflows.call_session import (
    TRANSITIONS,
    CallBook,
    CallSession,
    InvalidStep,
    Phase,
    Step,
)
from tests.factories import call_event

# The machine as the issue draws it, written out independently of TRANSITIONS.
EXPECTED = {
    (Phase.NEW, Step.RING): Phase.RINGING,
    (Phase.NEW, Step.ANSWER): Phase.ANSWERED,
    (Phase.NEW, Step.HANG_UP): Phase.MISSED,
    (Phase.RINGING, Step.RING): Phase.RINGING,
    (Phase.RINGING, Step.ANSWER): Phase.ANSWERED,
    (Phase.RINGING, Step.HANG_UP): Phase.MISSED,
    (Phase.ANSWERED, Step.HANG_UP): Phase.ENDED,
    (Phase.ENDED, Step.OPEN_WRAP_UP): Phase.WRAP_UP,
    (Phase.WRAP_UP, Step.SAVE_WRAP_UP): Phase.DONE,
}
EVERY_PAIR = list(itertools.product(Phase, Step))


def _session_in(phase: Phase) -> CallSession:
    session = CallSession("c-1", "+14155550134", name="+14155550134", phase=phase)
    if phase in (Phase.ANSWERED, Phase.ENDED, Phase.WRAP_UP, Phase.DONE):
        session.answered_at = 10.0
    if phase in (Phase.WRAP_UP, Phase.DONE):
        session.interaction_id = 7
    return session


def test_the_table_is_the_machine_drawn_in_the_issue() -> None:
    assert TRANSITIONS == EXPECTED


@pytest.mark.parametrize(("phase", "step"), [p for p in EVERY_PAIR if p in EXPECTED])
def test_every_allowed_step(phase: Phase, step: Step) -> None:
    session = _session_in(phase)
    assert session.allows(step)
    assert session.apply(step, now=42.0, interaction_id=99) is EXPECTED[phase, step]
    assert session.phase is EXPECTED[phase, step]
    if step is Step.ANSWER:
        assert session.answered_at == 42.0
    if step is Step.OPEN_WRAP_UP:
        assert session.interaction_id == 99


@pytest.mark.parametrize(("phase", "step"), [p for p in EVERY_PAIR if p not in EXPECTED])
def test_every_refused_step_says_why_and_changes_nothing(phase: Phase, step: Step) -> None:
    session = _session_in(phase)
    before = dataclasses.replace(session)
    assert not session.allows(step)
    with pytest.raises(InvalidStep) as refused:
        session.apply(step, now=42.0, interaction_id=99)
    assert session == before
    message = str(refused.value)
    assert message.startswith(f"call c-1: cannot {step.value} a call that is {phase.value}")
    assert (refused.value.phase, refused.value.step) == (phase, step)
    if phase in (Phase.MISSED, Phase.DONE):
        assert "nothing, it is over" in message


def test_a_call_from_ring_to_done_through_the_book() -> None:
    book = CallBook()
    ringing = book.on_event(call_event("0207", CallState.RINGING, "a"), now=1.0)
    assert ringing.phase is Phase.RINGING and "a" in book and ringing.name == "0207"
    ringing.matched(5, 9, "Priya Raman", "+44 20 7946 0018")
    answered = book.on_event(call_event("0207", CallState.ANSWERED, "a"), now=3.0)
    assert answered is ringing and answered.answered_at == 3.0
    assert book.on_call() is answered and answered.name == "Priya Raman"
    assert book.on_event(call_event("0207", CallState.ENDED, "a"), now=9.0).phase is Phase.ENDED
    assert book.on_call() is None
    answered.open_wrap_up(77)
    assert book.by_interaction(77) is answered and answered.phase is Phase.WRAP_UP
    answered.save_wrap_up()
    assert answered.phase is Phase.DONE and answered.customer_id == 5


def test_a_repeated_hang_up_is_refused_and_a_missed_call_stays_missed() -> None:
    book = CallBook()
    book.on_event(call_event("0207", CallState.RINGING, "m"), now=1.0)
    assert book.on_event(call_event("0207", CallState.ENDED, "m"), now=2.0).phase is Phase.MISSED
    with pytest.raises(InvalidStep):
        book.on_event(call_event("0207", CallState.ENDED, "m"), now=3.0)
    with pytest.raises(InvalidStep):
        book.on_event(call_event("0207", CallState.ANSWERED, "m"), now=3.0)
    session = book.get("m")
    assert session is not None and session.phase is Phase.MISSED and session.answered_at is None


def test_a_refused_first_event_leaves_no_call_behind() -> None:
    book = CallBook()
    book.on_event(call_event("1", CallState.ANSWERED, "x"), now=1.0)
    book.on_event(call_event("1", CallState.ENDED, "x"), now=2.0)
    with pytest.raises(InvalidStep):
        book.on_event(call_event("1", CallState.RINGING, "x"), now=3.0)
    assert len(book) == 1


def test_the_caller_is_named_once() -> None:
    session = CallSession("n", "+12025550199", name="+12025550199", phase=Phase.RINGING)
    assert session.name_caller(12, "Ann Example")
    assert not session.name_caller(13, "Someone Else")
    assert (session.customer_id, session.name) == (12, "Ann Example")


def test_the_call_bar_shows_the_latest_call_still_answered() -> None:
    book = CallBook()
    for call_id in ("first", "second"):
        book.on_event(call_event("1", CallState.ANSWERED, call_id), now=1.0)
    on_call = book.on_call()
    assert on_call is not None and on_call.call_id == "second"
    book.on_event(call_event("1", CallState.ENDED, "second"), now=2.0)
    on_call = book.on_call()
    assert on_call is not None and on_call.call_id == "first"


def test_the_book_forgets_the_oldest_calls_but_not_one_in_progress() -> None:
    book = CallBook(keep=3)
    book.on_event(call_event("1", CallState.ANSWERED, "talking"), now=1.0)
    for index in range(5):
        book.on_event(call_event("1", CallState.RINGING, f"r{index}"), now=2.0)
    assert len(book) == 3 and "talking" in book
    assert [s.call_id for s in book] == ["talking", "r3", "r4"]


def test_events_wait_in_order_while_the_database_is_down() -> None:
    book = CallBook(held_max=3)
    events = [
        call_event("020 7946 0018", CallState.RINGING, "h1"),
        call_event("020 7946 0018", CallState.ANSWERED, "h1"),
        call_event("anonymous", CallState.RINGING, "h2"),
        call_event("", CallState.RINGING, "h3"),
    ]
    dropped = [book.hold(event) for event in events]
    assert dropped == [None, None, None, events[0]]
    assert book.held_numbers() == ["anonymous", "withheld number"]
    assert len(book) == 0  # held events are not applied yet
    assert book.take_held() == events[1:] and book.held == []


# -- random sequences ---------------------------------------------------------------


def _possible(session: CallSession) -> bool:
    """What must hold of a call whatever happened to it."""
    answered = session.answered_at is not None
    has_interaction = session.interaction_id is not None
    return {
        Phase.NEW: False,  # no call stays new
        Phase.RINGING: not answered and not has_interaction,
        Phase.MISSED: not answered and not has_interaction,
        Phase.ANSWERED: answered and not has_interaction,
        Phase.ENDED: answered and not has_interaction,
        Phase.WRAP_UP: answered and has_interaction,
        Phase.DONE: answered and has_interaction,
    }[session.phase]


steps = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(list(Step))), max_size=40
)


@given(sequence=steps)
def test_random_steps_never_leave_a_call_in_an_impossible_state(
    sequence: list[tuple[str, Step]],
) -> None:
    book = CallBook()
    states = {Step.RING: CallState.RINGING, Step.ANSWER: CallState.ANSWERED}
    for clock, (call_id, step) in enumerate(sequence):
        session = book.get(call_id)
        before = dataclasses.replace(session) if session is not None else None
        try:
            if step in (Step.OPEN_WRAP_UP, Step.SAVE_WRAP_UP):
                if session is None:
                    continue
                session.apply(step, now=float(clock), interaction_id=clock)
            else:
                event = call_event("1", states.get(step, CallState.ENDED), call_id)
                session = book.on_event(event, now=float(clock))
            assert before is None or (before.phase, step) in TRANSITIONS
        except InvalidStep:
            assert book.get(call_id) == before  # refused: nothing changed
        assert all(_possible(s) for s in book)
