"""The baresip adapter against REAL baresip processes ringing each other on loopback."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.telephony import CallState
from app.telephony.baresip import (
    BaresipAdapter,
    BaresipError,
    BaresipSettings,
    encode_netstring,
    read_netstring,
)
from tests.telephony.baresip_process import INSTALL_HINT, Baresip
from tests.telephony.helpers import Collector, cancel, run, until

CALLER_NUMBER = "+14155550134"

Factory = Callable[[str, str, str | None], Baresip]


@pytest.fixture
def baresips(tmp_path: Path) -> Iterator[Factory]:
    """Creates baresip instances; every process is stopped afterwards, whatever happened."""
    created: list[Baresip] = []

    def make(name: str, user: str, display_name: str | None = None) -> Baresip:
        # Checked in the test body, not at fixture setup: a missing baresip is a
        # FAILED test with the install hint, never an error or a skip.
        if shutil.which("baresip") is None:
            pytest.fail(INSTALL_HINT, pytrace=False)
        instance = Baresip(tmp_path / name, user, display_name)
        created.append(instance)
        return instance

    try:
        yield make
    finally:
        for instance in created:
            instance.stop()


def test_real_incoming_call_rings_answers_and_ends(baresips: Factory) -> None:
    agent = baresips("agent", "agent", None)
    caller = baresips("caller", CALLER_NUMBER, "Jane Caller")

    async def scenario() -> None:
        agent.start()
        caller.start()
        await asyncio.gather(agent.wait_ready(), caller.wait_ready())
        events = Collector()
        adapter = BaresipAdapter(BaresipSettings(port=agent.ctrl_port), on_status=events.on_status)
        # The caller side is driven through the same adapter class: its own
        # outgoing call must not produce events.
        caller_events = Collector()
        phone = BaresipAdapter(BaresipSettings(port=caller.ctrl_port))
        tasks = [
            asyncio.create_task(adapter.run(events)),
            asyncio.create_task(phone.run(caller_events)),
        ]
        try:
            await until(lambda: adapter.status == phone.status == "connected")
            await phone.dial(agent.aor)
            (ring,) = await events.wait_events(1)
            assert ring.state is CallState.RINGING
            assert ring.number == CALLER_NUMBER
            assert ring.name == "Jane Caller"
            assert ring.line == agent.aor
            assert ring.source == "baresip"
            assert not ring.withheld

            await adapter.answer()
            await events.wait_events(2)
            assert events.events[1].state is CallState.ANSWERED

            await phone.hangup()
            await events.wait_events(3)
            assert events.states() == ["ringing", "answered", "ended"]
            assert len({event.call_id for event in events.events}) == 1
            assert caller_events.events == []

            with pytest.raises(BaresipError, match="command not found"):
                await phone.command("no_such_command")
        finally:
            for task in tasks:
                await cancel(task)

    run(scenario(), timeout=20)


def test_reconnects_when_the_softphone_restarts(baresips: Factory) -> None:
    agent = baresips("agent", "agent", None)
    caller = baresips("caller", CALLER_NUMBER, None)

    async def scenario() -> None:
        agent.start()
        caller.start()
        await asyncio.gather(agent.wait_ready(), caller.wait_ready())
        events = Collector()
        adapter = BaresipAdapter(BaresipSettings(port=agent.ctrl_port), on_status=events.on_status)
        phone = BaresipAdapter(BaresipSettings(port=caller.ctrl_port))
        tasks = [
            asyncio.create_task(adapter.run(events)),
            asyncio.create_task(phone.run(Collector())),
        ]
        try:
            await until(lambda: adapter.status == phone.status == "connected")
            agent.kill()
            await until(lambda: adapter.status == "disconnected", what="disconnect")
            assert "retrying in 0.5 s" in adapter.status_detail
            agent.start()
            await agent.wait_ready()
            await until(lambda: adapter.status == "connected", timeout=8, what="reconnect")

            await phone.dial(agent.aor)
            (ring,) = await events.wait_events(1)
            assert (ring.state, ring.number, ring.name) == (
                CallState.RINGING,
                CALLER_NUMBER,
                None,
            )
            await phone.hangup()
            await events.wait_events(2)
            assert events.states() == ["ringing", "ended"]
            statuses = [status for status, _ in events.statuses]
            assert statuses[:4] == ["connecting", "connected", "disconnected", "connecting"]
        finally:
            for task in tasks:
                await cancel(task)

    run(scenario(), timeout=20)


def test_dial_refuses_hostile_targets_and_needs_a_connection() -> None:
    async def scenario() -> None:
        adapter = BaresipAdapter()
        with pytest.raises(ValueError, match="control character"):
            await adapter.dial("sip:x@y\r\n{}")
        with pytest.raises(ValueError, match="spaces"):
            await adapter.dial("sip:a b@host")
        with pytest.raises(ValueError, match="contains"):
            await adapter.dial("123;reboot")
        with pytest.raises(ConnectionError):
            await adapter.dial("+1 415 555 0134")

    run(scenario())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"abc:x,", "length prefix"),
        (b":x,", "empty netstring"),
        (b"3:abcd", "not terminated"),
        (b"9999999:", "too large"),
        (b"1234567890:", "length prefix"),
    ],
)
def test_netstring_framing_errors(data: bytes, message: str) -> None:
    async def scenario() -> None:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        with pytest.raises(BaresipError, match=message):
            await read_netstring(reader)

    run(scenario())


def test_netstring_round_trip() -> None:
    async def scenario() -> None:
        reader = asyncio.StreamReader()
        reader.feed_data(encode_netstring(b'{"a":1}') + encode_netstring(b""))
        reader.feed_eof()
        assert await read_netstring(reader) == b'{"a":1}'
        assert await read_netstring(reader) == b""

    run(scenario())
