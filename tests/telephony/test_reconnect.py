"""The reconnect loop the AMI and baresip adapters share, on a fake clock.

A scripted session stands in for the peer and a fake sleep records each delay, so
the backoff sequence and the statuses are checked exactly, without waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from app.telephony.adapter import Connected, StatusReporter
from tests.telephony.helpers import Collector, cancel, run, until


class Refused(Exception):
    pass


# One entry per connection attempt: what the peer does this time.
Attempt = Callable[[Connected], None]


def drop(_connected: Connected) -> None:
    raise OSError("no route to host")


def refuse(_connected: Connected) -> None:
    raise Refused("login refused: Authentication failed")


def work_then_drop(connected: Connected) -> None:
    connected("peer 1.0")
    raise ConnectionResetError()


def work_then_close(connected: Connected) -> None:
    connected("peer 1.0")


class Scripted:
    """The session and the sleep of one scenario; out of script, the link just works."""

    def __init__(self, attempts: list[Attempt]) -> None:
        self.attempts = list(attempts)
        self.delays: list[float] = []
        self.idle = asyncio.Event()

    async def session(self, connected: Connected) -> None:
        if self.attempts:
            self.attempts.pop(0)(connected)
            return
        connected("peer 1.0")
        self.idle.set()
        await asyncio.Event().wait()  # connected until cancelled

    async def sleep(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)  # a turn of the loop, no wall-clock time


def _loop(script: Scripted, reporter: StatusReporter) -> asyncio.Task[None]:
    return asyncio.ensure_future(
        reporter.keep_connected(
            "pbx:5038",
            script.session,
            closed="closed by peer",
            dropped=(OSError,),
            refused=(Refused,),
            sleep=script.sleep,
        )
    )


def _scenario(attempts: list[Attempt]) -> tuple[Scripted, Collector]:
    script, collector = Scripted(attempts), Collector()

    async def scenario() -> None:
        task = _loop(script, StatusReporter(collector.on_status))
        await until(script.idle.is_set, what="the scripted attempts")
        await cancel(task)
        assert task.cancelled()

    run(scenario())
    return script, collector


def test_the_delay_doubles_from_half_a_second_to_thirty() -> None:
    script, _ = _scenario([drop] * 9)
    assert script.delays == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]


def test_a_connection_that_worked_starts_the_backoff_again() -> None:
    script, _ = _scenario([drop, drop, drop, work_then_drop, drop, work_then_close, drop])
    assert script.delays == [0.5, 1, 2, 0.5, 1, 0.5, 1]


def test_what_each_attempt_reports() -> None:
    script, collector = _scenario([drop, refuse, work_then_drop, work_then_close])
    assert script.delays == [0.5, 1, 0.5, 0.5]
    assert collector.statuses == [
        ("connecting", "pbx:5038"),
        ("disconnected", "OSError: no route to host; retrying in 0.5 s"),
        ("connecting", "pbx:5038"),
        ("error", "login refused: Authentication failed"),  # backs off like a drop
        ("connecting", "pbx:5038"),
        ("connected", "peer 1.0"),
        ("disconnected", "ConnectionResetError; retrying in 0.5 s"),
        ("connecting", "pbx:5038"),
        ("connected", "peer 1.0"),
        ("disconnected", "closed by peer; retrying in 0.5 s"),
        ("connecting", "pbx:5038"),
        ("connected", "peer 1.0"),
        ("disconnected", "stopped"),
    ]


def test_an_unexpected_error_stops_the_loop_instead_of_spinning() -> None:
    def bug(_connected: Connected) -> None:
        raise KeyError("bug")

    script, collector = Scripted([drop, bug]), Collector()
    reporter = StatusReporter(collector.on_status)

    async def scenario() -> None:
        with pytest.raises(KeyError):
            await _loop(script, reporter)

    run(scenario())
    assert script.delays == [0.5]
    assert (reporter.status, reporter.status_detail) == ("disconnected", "stopped")


def test_cancelling_during_the_backoff_stops_cleanly() -> None:
    collector = Collector()
    reporter = StatusReporter(collector.on_status)

    async def scenario() -> None:
        waiting = asyncio.Event()

        async def session(_connected: Connected) -> None:
            raise OSError("refused")

        async def sleep(_delay: float) -> None:
            waiting.set()
            await asyncio.Event().wait()  # a long backoff, cut short by the cancel

        task = asyncio.ensure_future(
            reporter.keep_connected("pbx:5038", session, closed="", dropped=(OSError,), sleep=sleep)
        )
        await until(waiting.is_set, what="the backoff")
        await cancel(task)
        assert task.cancelled()

    run(scenario())
    assert collector.statuses[-1] == ("disconnected", "stopped")
