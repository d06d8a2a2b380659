"""The calls feature: telephony events in; the pop, the call bar and the wrap-up out.

Why a controller: the main window used to be the call state machine, the click-to-call
router and the owner of the toast and the wrap-up. Now a call's phases live in
`app/workflows/call_session.py` (plain Python); this QObject feeds them the events,
performs what each step writes (`app/operations/calls.py` through
`DatabaseBridge.perform`, which publishes the `Changes`, so the call log and the
caller's tab refresh themselves) and shows the outcome. It never opens a customer or a
form itself: features do not import one another, so it asks the shell by signal.

Events of one call are handled one after another (its answer waits for its ring's
look-up, so the answer is recorded for the customer who popped); different calls run
side by side. While no database is connected the events wait in `book.held` and are
replayed in order once one is (`attach`).

Signals:
    popped(str, float): a ringing call was shown (call id, ms from arrival to painted).
    customer_popped(object, object): show this caller's `CustomerView` now, painted, and
        focus the case with this id (None: no case). Emitted synchronously: the pop is
        measured once the slot returns.
    household_popped(object, str): several customers share the number: list these
        `SearchHit`s, saying why.
    new_caller(str, object): an unknown caller: open the new-customer form for this
        number (the `CallEvent` carries the name its source sent); report a save with
        `caller_saved`.
    waiting_calls_changed(list): the numbers of calls held while no database is connected.
    line_learnt(str): the line this workstation's calls ring on (the call log's "mine").
    message(str, int): a status-bar message and how long to show it (ms; 0: until replaced).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from app.drafts import Draft, DraftStore
from app.errors import KeyReusedError
from app.telephony.events import CallEvent, CallState
from app.workflows.call_session import CallBook, CallSession, InvalidStep, Phase, Step
from ui import formatting as fmt
from ui.bridge import DatabaseBridge
from ui.features.calls.widgets import (
    NEW_CASE,
    CallToast,
    WrapUpChoices,
    WrapUpForm,
    WrapUpPanel,
)

if TYPE_CHECKING:  # the core loads after the first paint
    from app.bootstrap import Services
    from app.services.calls import CallRecord
    from app.services.views import (
        CallLogEntry,
        CaseRow,
        CommitmentRow,
        CustomerView,
        Suggestions,
    )

log = logging.getLogger(__name__)
pop_log = logging.getLogger("rapport.pop")


def missed_call_message(number: str | None, record: CallRecord) -> str:
    """What the status bar says of a missed call: a callback task only when one exists."""
    if record.callback_task_id is not None:
        return f"Missed call from {number}: a callback task was created (call log: Ctrl+L)."
    if not number:
        return "Missed call from a withheld number: no number to call back."
    return f"Missed call from {number} (call log: Ctrl+L); no callback task was created."


def promise_alert(commitments: Sequence[CommitmentRow]) -> str | None:
    """The promise the agent must not miss, in words: "Broken: New ring by Friday (due
    Fri 27 Nov)", else the first overdue one; None when none is broken or overdue."""
    broken = [c for c in commitments if c.status == "broken"]
    overdue = [c for c in commitments if c.overdue]
    for word, rows in (("Broken", broken), ("Overdue", overdue)):
        if rows:
            first = min(rows, key=lambda c: c.due_until)
            return f"{word}: {first.description} (due {fmt.day_time(first.due_until)})"
    return None


def customer_toast_lines(data: CustomerView, case: CaseRow | None) -> list[str]:
    """Tier, cases, broken promises, a key date soon and the recent case, for the toast."""
    header = data.header
    lines = [f"{header.tier.title()} · {fmt.plural(header.open_cases, 'open case')}"]
    if header.broken_commitments or header.overdue_commitments:
        lines.append(
            f"{header.broken_commitments} broken, {header.overdue_commitments} overdue promises"
        )
        worst = promise_alert(data.commitments)
        if worst:
            lines.append(worst)
    soon = [k for k in data.key_dates if k.days_until <= 14]
    if soon:
        first = soon[0]
        what = first.label or first.kind.replace("_", " ")
        lines.append(f"{what}: {fmt.relative_day(first.next_on, data.today)}")
    if case is not None:
        lines.append(f"Open case {case.reference}: {case.subject} ({case.contacts} contacts)")
    return lines


TOAST_LINE = 110  # characters


def suggestion_toast_lines(suggestions: Suggestions) -> list[str]:
    """The top suggestion ("Suggest: Refill Aubade Eau de Parfum, bought every 6-8 weeks,
    last on 22 Apr: due") and the churn risk at watch or high, for the toast."""
    lines: list[str] = []
    churn = suggestions.churn
    if suggestions.items:
        top = suggestions.items[0]
        line = f"Suggest: {fmt.offer_kind(top.kind)} {top.title}"
        # A retention offer's reason is the churn risk, said on the next line.
        if not (top.kind == "retention" and churn.level != "none"):
            line += f", {top.reason}"
        lines.append(line)
    if churn.level != "none":
        lead = "High churn risk" if churn.level == "high" else "Churn risk to watch"
        lines.append(f"{lead}: {churn.summary}" if churn.summary else lead)
    # The toast is a glance: a long reason is cut rather than widening it across the screen.
    return [line if len(line) <= TOAST_LINE else line[: TOAST_LINE - 1] + "…" for line in lines]


def wrap_up_choices(data: CustomerView, suggested_case: int | None) -> WrapUpChoices:
    """The caller's open cases to join and numbers to call back on, for the wrap-up.

    A number the customer asked us not to use is listed, marked, never preferred."""
    cases = tuple(
        (c.id, f"{c.reference} · {c.subject} ({c.contacts} contacts)")
        for c in data.cases
        if c.is_open
    )
    prefs = data.header.preferences
    avoided = {p.phone_id for p in prefs if p.avoid and p.phone_id is not None}
    ranked = sorted(
        (p for p in prefs if not p.avoid and p.phone_id is not None), key=lambda p: p.rank
    )
    phones = tuple(
        (
            phone.id,
            f"{phone.display or phone.raw} ({phone.kind})"
            + (" — asked not to use" if phone.id in avoided else ""),
        )
        for phone in data.header.phones
    )
    preferred = ranked[0].phone_id if ranked else None
    return WrapUpChoices(cases, suggested_case, phones, preferred, can_open_case=True)


class CallsController(QObject):
    popped = Signal(str, float)
    customer_popped = Signal(object, object)
    household_popped = Signal(object, str)
    new_caller = Signal(str, object)
    waiting_calls_changed = Signal(list)
    line_learnt = Signal(str)
    message = Signal(str, int)
    new_case_from_call = Signal(int, int, str)  # customer id, call (interaction) id, summary

    def __init__(
        self,
        bridge: DatabaseBridge,
        drafts: DraftStore,
        anchor: QWidget,
        parent: QObject | None = None,
    ) -> None:
        """`anchor`: the widget whose corner the toast sits in (and whose window flashes)."""
        super().__init__(parent)
        self.bridge = bridge
        self.anchor = anchor
        self.services: Services | None = None
        self.book = CallBook()
        self.line: str | None = None  # the line our calls ring on, learnt from them
        self.telephony: Any = None  # the TelephonyHub, for click-to-call (set by ui.main)
        self.toast = CallToast()
        self.call_label = QLabel("")
        self.wrap_up = WrapUpPanel()
        self.wrap_up.drafts = drafts
        self.wrap_up.submitted.connect(lambda form: bridge.spawn(self._save_wrap_up(form)))
        self._choices: dict[str, WrapUpChoices] = {}  # per call: what its wrap-up offers
        self._warned: tuple[Any, ...] | None = None  # the promise last warned about
        self._timer = QTimer(self, interval=1000)
        self._timer.timeout.connect(self._tick)
        self._unavailable = False  # connecting failed: held calls are shown as such
        self._last_task: dict[str, asyncio.Task[Any]] = {}  # per call: its latest event

    # -- the connection ------------------------------------------------------------

    def attach(self, services: Services) -> None:
        """A database is connected: pop what rang meanwhile."""
        self.services = services
        self._unavailable = False
        if self.book.held:
            self.bridge.spawn(self._pop_held())

    def detach(self) -> None:
        """The database is going away (switching). Its calls' interaction ids mean nothing
        in the next one: forget the calls, and put an open wrap-up away as a draft of
        this database (it comes back when this database is connected again)."""
        self.services = None
        self.wrap_up.keep_draft_now()
        self.wrap_up.hide()
        self.book.clear()
        self._timer.stop()
        self.call_label.setText("")

    def database_unavailable(self) -> None:
        """Connecting failed: show who rings meanwhile rather than nothing."""
        self._unavailable = True
        self._show_held()

    # -- events ----------------------------------------------------------------------

    def handle_call(self, event: CallEvent) -> None:
        """Entry point for every call event, whatever its source."""
        if self.services is None:
            dropped = self.book.hold(event)
            if dropped is not None:
                log.warning("database down: call %s no longer held", dropped.call_id)
            self.waiting_calls_changed.emit(self.book.held_numbers())
            if self._unavailable:
                self._show_held()
            return
        previous = self._last_task.get(event.call_id)
        task = self.bridge.spawn(self._on_call(event, after=previous))
        self._last_task[event.call_id] = task
        task.add_done_callback(functools.partial(self._forget_task, event.call_id))

    def _forget_task(self, call_id: str, task: asyncio.Task[Any]) -> None:
        if self._last_task.get(call_id) is task:
            del self._last_task[call_id]

    def _show_held(self) -> None:
        numbers = self.book.held_numbers()
        if not numbers:
            return
        title = (
            f"Incoming call: {numbers[0]}"
            if len(numbers) == 1
            else f"{len(numbers)} incoming calls"
        )
        lines = [*numbers[-5:], "Database unavailable: cannot look up the caller"]
        self.toast.show_call(title, lines, self.anchor)

    async def _pop_held(self) -> None:
        held = self.book.take_held()
        self.waiting_calls_changed.emit([])
        for event in held:  # in order: a call's ringing before its answer and hang-up
            await self._on_call(event)

    async def _on_call(self, event: CallEvent, after: asyncio.Task[Any] | None = None) -> None:
        if after is not None:
            await asyncio.wait([after])  # its failure is the bridge's to report, not ours
        services = self.services
        if services is None:
            self.handle_call(event)  # the database went away meanwhile: hold it
            return
        try:
            session = self.book.on_event(event, time.monotonic())
        except InvalidStep as refused:  # a source repeated itself or reported late
            log.warning("%s; event from %s ignored", refused, event.source)
            return
        if event.state == CallState.RINGING:
            await self._ringing(services, session, event)
        elif event.state == CallState.ANSWERED:
            await self._answered(services, session, event)
        else:
            await self._ended(services, session, event)

    async def _ringing(self, services: Services, session: CallSession, event: CallEvent) -> None:
        if event.line:
            self.line = event.line
            self.line_learnt.emit(event.line)
        # One trip to the worker: who is it and, for one match, their record.
        try:
            match, data = await self.bridge.run(services.calls.ring, event)
        except Exception as exc:  # the pop must not vanish silently: say why
            log.exception("pop of call %s failed", event.call_id)
            self.message.emit(f"Incoming call {event.number}: lookup failed ({exc})", 0)
            return
        from app import phones  # loaded with the services
        from app.operations import calls as call_ops
        from app.services.calls import pop_log_line

        shown = phones.display(match.e164 or event.number, services.settings.default_region)
        name = event.name or shown or "withheld number"
        session.matched(match.customer_id, match.case_id, name, shown)
        window = self.anchor.window()
        QApplication.alert(window)
        if services.settings.values.get("bring_to_front"):
            window.raise_()
            window.activateWindow()
        if match.result == "one" and data is not None:
            case = next((c for c in data.cases if c.id == match.case_id), None)
            self.customer_popped.emit(data, case.id if case is not None else None)
            self._choices[event.call_id] = wrap_up_choices(data, match.case_id)
            session.name = data.header.name
            self._toast(f"Incoming call: {data.header.name}", customer_toast_lines(data, case))
        elif match.result == "several":
            self.household_popped.emit(match.customers, f"Incoming call from {shown}")
            self._toast(
                f"Incoming call: {shown}",
                [
                    f"{len(match.customers)} customers share this number",
                    "Pick one in the list on the left",
                ],
            )
        elif match.result == "none":
            self._toast(
                f"Incoming call: {shown}",
                [event.name or "Unknown caller", "A new-customer form is ready"],
            )
            self.new_caller.emit(event.number, event)
        else:
            self._toast(
                "Incoming call: withheld number",
                ["Ask for a name or order number and search (Ctrl+K)"],
            )
        latency = (time.perf_counter() - event.received_monotonic) * 1000
        pop_log.info(pop_log_line(event, match, latency))
        self.popped.emit(event.call_id, latency)
        # After the paint: the call is in the call log as rung even if its source
        # never reports the answer or the hang-up (`rapport pop`).
        try:
            await self.bridge.perform(call_ops.record_ring, services, event, match)
        except Exception:  # the pop is shown; the log misses one ring, say so in the log
            log.exception("recording the ring of call %s failed", event.call_id)
        if match.result == "one" and data is not None:
            await self._suggest_in_toast(services, data)

    async def _suggest_in_toast(self, services: Services, data: CustomerView) -> None:
        """After the pop is painted: one read of the suggestions, their top one and the
        churn risk added to the toast if it still shows this caller."""
        try:
            suggestions = await self.bridge.run(services.suggestions.suggest, data.header.id)
        except Exception:  # the toast is shown without it; the section says more
            log.warning("suggestions for the toast of %s failed", data.header.id, exc_info=True)
            return
        title = f"Incoming call: {data.header.name}"
        self.toast.add_lines(title, suggestion_toast_lines(suggestions), self.anchor)

    def _toast(self, title: str, lines: list[str]) -> None:
        self.toast.show_call(title, lines, self.anchor)

    async def _answered(self, services: Services, session: CallSession, event: CallEvent) -> None:
        from app.operations import calls as call_ops

        # The call joins a case when the agent says so in the wrap-up (offered there).
        session.interaction_id = await self.bridge.perform(
            call_ops.answer_call, services, event, session.customer_id, None
        )
        self.toast.hide()
        self._timer.start()
        self._tick()

    async def _ended(self, services: Services, session: CallSession, event: CallEvent) -> None:
        from app.operations import calls as call_ops

        missed = session.phase is Phase.MISSED
        self._timer.stop()
        self.call_label.setText("")
        self.toast.hide()
        record = await self.bridge.perform(call_ops.end_call, services, event, session.customer_id)
        if missed:
            number = session.number_shown or event.number
            self.message.emit(missed_call_message(number, record), 10000)
            return
        session.open_wrap_up(record.interaction_id)
        self.wrap_up.begin(
            record.interaction_id,
            session.name,
            record.duration_s,
            services.agent.wrap_up_draft(record.interaction_id),
        )
        self.wrap_up.offer(self._choices.pop(event.call_id, WrapUpChoices()))
        self.wrap_up.summary.setFocus()

    def _tick(self) -> None:
        session = self.book.on_call()
        if session is None or session.answered_at is None:
            self._timer.stop()
            self.call_label.setText("")
            return
        seconds = int(time.monotonic() - session.answered_at)
        self.call_label.setText(f"On call with {session.name}  {seconds // 60}:{seconds % 60:02d}")

    # -- the wrap-up -------------------------------------------------------------------

    async def _save_wrap_up(self, form: WrapUpForm) -> None:
        assert self.services is not None
        from app.operations import calls as call_ops

        session = self.book.by_interaction(form.interaction_id)
        # A wrap-up recovered from a draft has no session: its customer is not known here.
        customer_id = session.customer_id if session is not None else None
        new_case = form.case_id == NEW_CASE
        case_id = None if new_case else form.case_id
        if customer_id is not None and not await self._promise_allowed(form, customer_id):
            return
        try:
            await self.bridge.perform(
                call_ops.wrap_up_call,
                self.services,
                form.interaction_id,
                customer_id,
                form.code,
                form.summary,
                form.follow_up,
                form.client_key,
                case_id,
                form.window,
                form.phone_id,
            )
        except KeyReusedError as exc:
            self.wrap_up.saved_elsewhere()
            self.wrap_up.message.setText(str(exc))
            return
        except Exception as exc:  # keep the panel and its text; say why
            self.wrap_up.message.setText(f"Not saved (your text is kept): {exc}")
            return
        self.wrap_up.finish()
        if session is not None and session.allows(Step.SAVE_WRAP_UP):
            session.save_wrap_up()
        self.message.emit("Wrap-up saved.", 5000)
        if new_case and customer_id is not None:
            self.new_case_from_call.emit(customer_id, form.interaction_id, form.summary)

    async def _promise_allowed(self, form: WrapUpForm, customer_id: int) -> bool:
        """A call-back window or number against what the customer asked ("office phone,
        weekdays after 6 pm"): the first save says why not and what is allowed; saving the
        same promise again keeps it."""
        if not form.follow_up.strip() or form.window is None or self.services is None:
            return True
        from models.enums import Channel

        asked = (form.client_key, form.window, form.phone_id)
        if self._warned == asked:
            return True  # the agent saw the warning and saves it as it is
        check = await self.bridge.run(
            self.services.commitments.check_contact,
            customer_id,
            Channel.PHONE,
            form.phone_id,
            *form.window,
        )
        if check.ok:
            return True
        self._warned = asked
        allowed = f" Allowed: {check.suggestion.describe()}." if check.suggestion else ""
        self.wrap_up.message.setText(
            "Not saved yet: " + "; ".join(check.violations) + "." + allowed
            + " Change the time or number, or save again to promise it anyway."
        )  # fmt: skip
        return False

    def resume_wrap_up(self, draft: Draft) -> None:
        """Put a wrap-up recovered after a crash back in the panel."""
        who = draft.label.removeprefix("call with ") or "a caller"
        self.wrap_up.begin(int(draft.key.subject), who, None, draft.key)
        self.wrap_up.restore(draft)
        self.wrap_up.summary.setFocus()

    # -- the caller saved as a customer, click-to-call -----------------------------------

    def caller_saved(self, event: CallEvent, saved: Any) -> None:
        """The unknown caller of `event` was saved (a SavedContact): the call is theirs."""
        self.bridge.spawn(self._link_caller(event, saved))

    async def _link_caller(self, event: CallEvent, saved: Any) -> None:
        assert self.services is not None
        from app.operations import calls as call_ops

        session = self.book.get(event.call_id)
        if session is not None:  # the answer and hang-up may still come
            name = f"{saved.details.first_name} {saved.details.last_name}".strip()
            session.name_caller(saved.customer_id, name)
        await self.bridge.perform(call_ops.link_caller, self.services, event, saved.customer_id)

    async def dial(self, entry: CallLogEntry) -> None:
        """Click-to-call: the softphone link dials; else the system's tel: handler."""
        assert self.services is not None and entry.number
        from app.operations import calls as call_ops

        number = entry.number
        try:
            if self.telephony is None:
                raise LookupError("no telephony hub")
            route = await self.telephony.dial(number)
        except LookupError:
            digits = "".join(c for c in number if c.isdigit() or c == "+")
            if not QDesktopServices.openUrl(QUrl(f"tel:{digits}")):
                QApplication.clipboard().setText(number)
                self.message.emit(
                    f"No softphone can dial from Rapport: {number} is copied to the clipboard.",
                    10000,
                )
                return
            route = "the system's phone app"
        except Exception as exc:  # the softphone refused or the link dropped
            log.warning("click-to-call %s failed: %s", number, exc)
            self.message.emit(f"Could not call {number}: {exc}", 10000)
            return
        callback = (
            entry.callback_task_id if entry.callback_status in ("open", "in_progress") else None
        )
        await self.bridge.perform(
            call_ops.record_dial, self.services, number, entry.customer_id, self.line, callback
        )
        self.message.emit(f"Calling {number} through {route}.", 8000)
