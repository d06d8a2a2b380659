"""A call as a state machine: ringing, answered, ended or missed, wrap-up, done.

Why a machine: the window used to keep each call as a dict of whatever keys had been
set so far ("answered" in call meant answered), so nothing said which events a call
could still take, and a hang-up reported twice logged a missed call after an answered
one. Here a call changes phase only through `TRANSITIONS`; any other step is refused
with `InvalidStep`, which the calls controller logs and ignores (telephony sources
repeat themselves and can arrive out of order).

    new ──ring──▶ RINGING ──answer──▶ ANSWERED ──hang_up──▶ ENDED ──open_wrap_up──▶ WRAP_UP
     │              │ ▲ ring again                                                    │
     │              │ └─┘ (the source repeated it: the pop shows again)          save_wrap_up
     │              └──hang_up──▶ MISSED                                              ▼
     ├──answer──▶ ANSWERED   (the ring went elsewhere: a queue, another device)      DONE
     └──hang_up──▶ MISSED    (only the hang-up reached this workstation)

Calls that ring while no database is connected are not a phase: their events wait,
unapplied and in arrival order, in `CallBook.held`, and go through the machine once
a database is connected, so a call's answer never overtakes its ring.

Plain Python, no Qt and no clock of its own: the caller passes the monotonic time of
an answer, which the call bar counts from.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass

from app.telephony.events import CallEvent, CallState

KEEP_SESSIONS = 200  # calls remembered (to refuse late repeats); the oldest go first
HELD_MAX = 50  # events kept while the database is down; older ones are dropped


class Phase(enum.StrEnum):
    NEW = "new"  # made for its first event; no session stays here
    RINGING = "ringing"
    ANSWERED = "answered"
    MISSED = "missed"  # hung up before anyone answered: a callback task, no wrap-up
    ENDED = "ended"  # hung up after an answer; the wrap-up opens once the end is recorded
    WRAP_UP = "wrap_up"
    DONE = "done"  # wrap-up saved


class Step(enum.StrEnum):
    RING = "ring"
    ANSWER = "answer"
    HANG_UP = "hang_up"
    OPEN_WRAP_UP = "open_wrap_up"
    SAVE_WRAP_UP = "save_wrap_up"


# Every allowed step, in one place: (phase, step) -> the phase it leads to.
TRANSITIONS: dict[tuple[Phase, Step], Phase] = {
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
STEP_OF_EVENT = {
    CallState.RINGING: Step.RING,
    CallState.ANSWERED: Step.ANSWER,
    CallState.ENDED: Step.HANG_UP,
}
LIVE = frozenset({Phase.RINGING, Phase.ANSWERED})  # the phone is still ringing or in use


class InvalidStep(Exception):
    """A step the call's phase does not allow (a repeated or late event)."""

    def __init__(self, call_id: str, phase: Phase, step: Step) -> None:
        allowed = sorted(s.value for (p, s) in TRANSITIONS if p is phase)
        super().__init__(
            f"call {call_id}: cannot {step.value} a call that is {phase.value}"
            f" (allowed: {', '.join(allowed) or 'nothing, it is over'})"
        )
        self.call_id = call_id
        self.phase = phase
        self.step = step


@dataclass
class CallSession:
    """One call: its phase and what the window learnt about it along the way."""

    call_id: str
    number: str  # as the source gave it
    name: str  # who the call bar and the wrap-up name: the customer, else the number
    phase: Phase = Phase.NEW
    number_shown: str | None = None  # as every screen shows numbers (app/phones.display)
    customer_id: int | None = None
    case_id: int | None = None
    interaction_id: int | None = None  # once the answer or the end is recorded
    answered_at: float | None = None  # monotonic seconds, for the call bar

    @property
    def live(self) -> bool:
        return self.phase in LIVE

    def allows(self, step: Step) -> bool:
        return (self.phase, step) in TRANSITIONS

    def _go(self, step: Step) -> Phase:
        following = TRANSITIONS.get((self.phase, step))
        if following is None:
            raise InvalidStep(self.call_id, self.phase, step)
        self.phase = following
        return following

    def ring(self) -> Phase:
        return self._go(Step.RING)

    def answer(self, now: float) -> Phase:
        phase = self._go(Step.ANSWER)
        self.answered_at = now
        return phase

    def hang_up(self) -> Phase:
        """MISSED when nobody answered, else ENDED (the wrap-up is to come)."""
        return self._go(Step.HANG_UP)

    def open_wrap_up(self, interaction_id: int) -> Phase:
        if not self.allows(Step.OPEN_WRAP_UP):
            raise InvalidStep(self.call_id, self.phase, Step.OPEN_WRAP_UP)
        self.interaction_id = interaction_id
        return self._go(Step.OPEN_WRAP_UP)

    def save_wrap_up(self) -> Phase:
        return self._go(Step.SAVE_WRAP_UP)

    def apply(self, step: Step, now: float = 0.0, interaction_id: int = 0) -> Phase:
        """Any step by name (what an event or a test sequence carries)."""
        if step is Step.RING:
            return self.ring()
        if step is Step.ANSWER:
            return self.answer(now)
        if step is Step.HANG_UP:
            return self.hang_up()
        if step is Step.OPEN_WRAP_UP:
            return self.open_wrap_up(interaction_id)
        return self.save_wrap_up()

    def matched(
        self, customer_id: int | None, case_id: int | None, name: str, number_shown: str | None
    ) -> None:
        """What the ring's look-up found. Data only: the phase is the events' business."""
        self.customer_id = customer_id
        self.case_id = case_id
        self.name = name
        self.number_shown = number_shown

    def name_caller(self, customer_id: int, name: str) -> bool:
        """An unknown caller was saved as a customer during the call: the call is theirs.

        Only a call no customer owns yet changes; True if this one did."""
        if self.customer_id is not None:
            return False
        self.customer_id = customer_id
        self.name = name
        return True


class CallBook:
    """This workstation's calls by call id, oldest first: where a `CallEvent` becomes a step,
    and where events wait while no database is connected."""

    def __init__(self, keep: int = KEEP_SESSIONS, held_max: int = HELD_MAX) -> None:
        self._sessions: dict[str, CallSession] = {}
        self._keep = keep
        self._held_max = held_max
        self.held: list[CallEvent] = []

    def on_event(self, event: CallEvent, now: float) -> CallSession:
        """Apply the event's step to its call (made on its first event).

        Raises InvalidStep, leaving the book as it was, when the call's phase refuses it.
        """
        session = self._sessions.get(event.call_id)
        fresh = session is None
        if session is None:
            session = CallSession(event.call_id, event.number, name=event.number)
        session.apply(STEP_OF_EVENT[event.state], now=now)
        if fresh:
            self._sessions[event.call_id] = session
            self._forget_oldest()
        return session

    def _forget_oldest(self) -> None:
        while len(self._sessions) > self._keep:
            oldest = next(
                (cid for cid, s in self._sessions.items() if s.phase is not Phase.ANSWERED), None
            )
            if oldest is None:
                return
            del self._sessions[oldest]

    def get(self, call_id: str) -> CallSession | None:
        return self._sessions.get(call_id)

    def by_interaction(self, interaction_id: int) -> CallSession | None:
        return next(
            (s for s in self._sessions.values() if s.interaction_id == interaction_id), None
        )

    def on_call(self) -> CallSession | None:
        """The call the call bar shows: the latest to ring of those answered and not ended."""
        return next(
            (s for s in reversed(self._sessions.values()) if s.phase is Phase.ANSWERED), None
        )

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._sessions

    def __iter__(self) -> Iterator[CallSession]:
        return iter(list(self._sessions.values()))

    def __len__(self) -> int:
        return len(self._sessions)

    def clear(self) -> None:
        self._sessions.clear()

    # -- while no database is connected --------------------------------------------

    def hold(self, event: CallEvent) -> CallEvent | None:
        """Keep an event until a database is connected; returns one dropped to make room."""
        self.held.append(event)
        if len(self.held) > self._held_max:
            return self.held.pop(0)
        return None

    def take_held(self) -> list[CallEvent]:
        """The held events in arrival order (a call's ring before its answer and hang-up)."""
        held, self.held = self.held, []
        return held

    def held_numbers(self) -> list[str]:
        """Who rang while the database was down, once each, oldest first."""
        numbers = [e.number or "withheld number" for e in self.held if e.state is CallState.RINGING]
        return list(dict.fromkeys(numbers))
