"""The AMI adapter against the fake Asterisk in fake_ami.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from app.telephony import CallState
from app.telephony.ami import AmiAdapter, AmiSettings
from tests.telephony.fake_ami import FakeAmi, FakeCall
from tests.telephony.helpers import Collector, cancel, run, until


@asynccontextmanager
async def session(fake: FakeAmi, **overrides: Any) -> AsyncIterator[tuple[AmiAdapter, Collector]]:
    await fake.start()
    collector = Collector()
    fields: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": fake.port,
        "username": "rapport",
        "secret": "s3cret",
        "device": "PJSIP/agent01",
    } | overrides
    adapter = AmiAdapter(AmiSettings(**fields), on_status=collector.on_status)
    task = asyncio.create_task(adapter.run(collector))
    try:
        yield adapter, collector
    finally:
        await cancel(task)
        await fake.stop()


def test_login_and_a_call_rings_answers_and_ends() -> None:
    async def scenario() -> None:
        fake = FakeAmi()
        async with session(fake) as (adapter, collector):
            await fake.wait_logged_in()
            await until(lambda: adapter.status == "connected")
            assert "Asterisk Call Manager/7.0.3" in adapter.status_detail
            login = fake.actions[0]
            assert (login["Action"], login["Username"], login["Secret"]) == (
                "Login",
                "rapport",
                "s3cret",
            )
            assert login["Events"] == "call,agent"

            call = FakeCall()
            await fake.push(call.dial_begin())
            await fake.push(call.ringing())  # same ring: must not pop twice
            await fake.push(call.answered())
            await fake.push(call.hangup())
            events = await collector.wait_events(3)
            assert [e.state for e in events] == [
                CallState.RINGING,
                CallState.ANSWERED,
                CallState.ENDED,
            ]
            assert {e.call_id for e in events} == {call.linkedid}
            ring = events[0]
            assert (ring.number, ring.name, ring.line, ring.source) == (
                "+14155550134",
                "Jane Doe",
                "5551000",
                "ami",
            )
            await asyncio.sleep(0.05)
            assert len(collector.events) == 3
        assert collector.statuses[:2] == [
            ("connecting", f"127.0.0.1:{fake.port}"),
            ("connected", "Asterisk Call Manager/7.0.3 as rapport"),
        ]

    run(scenario())


def test_other_devices_are_ignored() -> None:
    async def scenario() -> None:
        fake = FakeAmi()
        async with session(fake) as (_, collector):
            await fake.wait_logged_in()
            # agent010 shares a prefix with agent01: only "PJSIP/agent01-" may match.
            for device in ("PJSIP/agent02", "PJSIP/agent010", "SIP/agent01"):
                other = FakeCall(device=device)
                for block in (other.dial_begin(), other.ringing(), other.answered()):
                    await fake.push(block)
                await fake.push(other.hangup())
            mine = FakeCall(caller_num="<unknown>", caller_name="<unknown>")
            await fake.push(mine.dial_begin())
            (event,) = await collector.wait_events(1)
            assert event.call_id == mine.linkedid
            assert event.withheld and event.name is None
            await asyncio.sleep(0.05)
            assert len(collector.events) == 1

    run(scenario())


def test_queue_agent_called_pops_once_with_queue_as_line() -> None:
    async def scenario() -> None:
        fake = FakeAmi()
        async with session(fake) as (_, collector):
            await fake.wait_logged_in()
            call = FakeCall(caller_num="0415 555 0134")
            await fake.push(call.agent_called("support"))
            await fake.push(call.dial_begin())
            await fake.push(call.hangup())
            events = await collector.wait_events(2)
            assert [e.state for e in events] == [CallState.RINGING, CallState.ENDED]
            assert (events[0].line, events[0].number) == ("support", "0415 555 0134")

    run(scenario())


def test_hostile_caller_id_is_cleaned() -> None:
    async def scenario() -> None:
        fake = FakeAmi()
        async with session(fake) as (_, collector):
            await fake.wait_logged_in()
            call = FakeCall(caller_name="Evil\x1b[2J\u202eeman" + "x" * 200)
            await fake.push(call.dial_begin())
            (event,) = await collector.wait_events(1)
            assert event.name is not None and event.name.isprintable()
            assert len(event.name) <= 80

    run(scenario())


def test_login_failure_reports_error_and_retries() -> None:
    async def scenario() -> None:
        fake = FakeAmi()
        async with session(fake, secret="wrong") as (adapter, collector):
            await until(lambda: adapter.status == "error", what="error status")
            assert "Authentication failed" in adapter.status_detail
            assert fake.logins == 0
            await until(lambda: len(fake.actions) >= 2, what="a retry")  # 0.5 s backoff
            assert collector.events == []

    run(scenario())


def test_reconnects_after_the_server_restarts() -> None:
    async def scenario() -> None:
        fake = FakeAmi()
        async with session(fake) as (adapter, collector):
            await fake.wait_logged_in()
            first = FakeCall()
            await fake.push(first.dial_begin())
            await collector.wait_events(1)

            await fake.stop()
            await until(lambda: adapter.status == "disconnected", what="disconnect")
            assert "retrying in 0.5 s" in adapter.status_detail
            await fake.start()  # same port
            await fake.wait_logged_in(2)
            await until(lambda: adapter.status == "connected", what="reconnect")

            second = FakeCall(caller_num="+442079460018")
            await fake.push(second.dial_begin())
            events = await collector.wait_events(2)
            assert events[1].number == "+442079460018"

            # The backoff was reset by the successful login: the next drop retries fast again.
            await fake.stop()
            await until(lambda: adapter.status == "disconnected")
            assert "retrying in 0.5 s" in adapter.status_detail
            await fake.start()
            await fake.wait_logged_in(3)

    run(scenario())


def test_dead_peer_is_detected_by_ping() -> None:
    async def scenario() -> None:
        fake = FakeAmi()
        async with session(fake, ping_interval=0.1, ping_timeout=0.2) as (adapter, _):
            await fake.wait_logged_in()
            await until(lambda: any(a.get("Action") == "Ping" for a in fake.actions))
            await asyncio.sleep(0.3)
            assert adapter.status == "connected"  # pongs keep it alive
            fake.answer_pings = False  # the PBX hangs but keeps the TCP connection
            await until(lambda: adapter.status == "disconnected", what="ping timeout")
            assert "no answer to Ping" in adapter.status_detail
            fake.answer_pings = True
            await fake.wait_logged_in(2)

    run(scenario())


def test_originate_click_to_call() -> None:
    async def scenario() -> None:
        fake = FakeAmi()
        async with session(fake, originate_context="agents") as (adapter, _):
            await fake.wait_logged_in()
            await until(lambda: adapter.status == "connected")
            await adapter.originate("+1 (415) 555-0134")
            originate = next(a for a in fake.actions if a["Action"] == "Originate")
            assert originate["Channel"] == "PJSIP/agent01"
            assert originate["Exten"] == "+14155550134"
            assert originate["Context"] == "agents"
            with pytest.raises(ValueError, match="contains"):
                await adapter.originate("123\r\nAction: Command")

    run(scenario())
