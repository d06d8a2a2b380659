"""The loopback webhook, exercised with real HTTP over TCP."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from app.telephony import CallState
from app.telephony.adapter import bounded
from app.telephony.webhook import WebhookAdapter, WebhookSettings
from tests.telephony.helpers import Collector, cancel, run, until

TOKEN = "test-token-9f2c-4a7e"
SUPERSCRIPT_TWO_LENGTH = "Content-Length: \u00b2".encode("latin-1")


@asynccontextmanager
async def webhook(**settings: Any) -> AsyncIterator[tuple[WebhookAdapter, Collector, int]]:
    collector = Collector()
    adapter = WebhookAdapter(
        WebhookSettings(token=settings.pop("token", TOKEN), **settings),
        on_status=collector.on_status,
    )
    task = asyncio.create_task(adapter.run(collector))
    try:
        port = await bounded(adapter.wait_listening(), 5)
        yield adapter, collector, port
    finally:
        await cancel(task)


async def http(port: int, raw: bytes, host: str = "127.0.0.1") -> tuple[int, dict[str, Any]]:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(raw)
    await writer.drain()
    response = await bounded(reader.read(), 10)
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body else {}


def post(body: bytes, token: str | None = TOKEN, path: str = "/v1/calls") -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token is not None else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{auth}Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def test_accepts_a_call_and_emits_it() -> None:
    async def scenario() -> None:
        async with webhook() as (adapter, collector, port):
            assert adapter.status == "listening"
            assert adapter.status_detail == f"127.0.0.1:{port}"
            body = json.dumps(
                {"call_id": "abc-1", "number": "+14155550134", "name": "Jane", "line": "Sales"}
            ).encode()
            status, answer = await http(port, post(body))
            assert (status, answer) == (202, {"accepted": True, "call_id": "abc-1"})
            (event,) = await collector.wait_events(1)
            assert (event.call_id, event.number, event.name, event.line, event.source) == (
                "abc-1",
                "+14155550134",
                "Jane",
                "Sales",
                "webhook",
            )
            assert event.state is CallState.RINGING
            status, answer = await http(port, post(b'{"number": "", "state": "ended"}'))
            assert status == 202 and len(answer["call_id"]) == 32
            await until(lambda: len(collector.events) == 2)
            assert collector.events[1].withheld
            status, answer = await http(port, b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (status, answer) == (200, {"status": "ok"})
        assert collector.statuses[0] == ("listening", f"127.0.0.1:{port}")
        assert collector.statuses[-1] == ("disconnected", "stopped")

    run(scenario())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (post(b'{"number": "1"}', token="wrong"), 401),
        (post(b'{"number": "1"}', token=None), 401),
        (post(b'{"number": "1"}', token=TOKEN + "x"), 401),
        (post(b'{"number": "1"}').replace(b"Bearer", b"Basic"), 401),
        (post(b"{" * 20_000), 413),
        (post(b'{"number": '), 400),
        (post(b"\xff\xfe"), 400),
        (post(b'["number"]'), 400),
        (post(b'{"number": "1; rm -rf"}'), 400),
        (post(b'{"number": "1"}', path="/v1/other"), 404),
        (post(b'{"number": "1"}', path="/"), 404),
        (b"GET /v1/calls HTTP/1.1\r\nHost: x\r\n\r\n", 405),
        (b"DELETE /v1/calls HTTP/1.1\r\nHost: x\r\n\r\n", 405),
        (b"POST /v1/health HTTP/1.1\r\nHost: x\r\n\r\n", 405),
        (post(b"{}").replace(b"Content-Length: 2", b"Transfer-Encoding: chunked"), 501),
        (post(b"").replace(b"Content-Length: 0\r\n", b""), 411),
        (b"garbage\r\n\r\n", 400),
        (b"GET /v1/health SPDY/3\r\n\r\n", 400),
        (b"GET /v1/health HTTP/1.1\r\nX-" + b"a" * 9000 + b": 1\r\n\r\n", 431),
        # str.isdigit() says yes to a superscript two; int() does not.
        (post(b"{}").replace(b"Content-Length: 2", SUPERSCRIPT_TWO_LENGTH), 400),
        (post(b"{}").replace(b"Content-Length: 2", b"Content-Length: +2"), 400),
        (post(b"{}").replace(b"Content-Length: 2", b"Content-Length: " + b"9" * 4301), 400),
        (post(b"{}").replace(b"Content-Length: 2", b"Content-Length: 2\r\nContent-Length: 3"), 400),
        # Python refuses to convert integers over 4,300 digits, and JSON nests by recursion.
        (post(b'{"number": "1", "call_id": ' + b"9" * 4301 + b"}"), 400),
        (post(b"[" * (16 * 1024)), 400),
        (post(b'{"number": "1", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}"), 400),
    ],
)
def test_refuses_bad_requests(raw: bytes, expected: int) -> None:
    async def scenario() -> None:
        async with webhook() as (_, collector, port):
            status, answer = await http(port, raw)
            assert status == expected, answer
            assert "error" in answer
            assert collector.events == []

    run(scenario())


def test_slowloris_times_out_with_408() -> None:
    async def scenario() -> None:
        # The default deadline is 5 s; a shorter one keeps the suite fast.
        async with webhook(header_timeout=0.5, body_timeout=0.5) as (_, collector, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for chunk in (b"POST /v1/calls HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"X-Slow: 1"):
                writer.write(chunk)
                await writer.drain()
                await asyncio.sleep(0.2)
            response = await bounded(reader.read(), 5)
            assert response.startswith(b"HTTP/1.1 408 ")
            writer.close()
            # A complete head whose body never arrives is cut off just the same.
            status, _ = await http(port, post(b'{"number": "1"}')[:-5])
            assert status == 408
            assert collector.events == []

    run(scenario())


def test_listens_on_loopback_127_0_0_1_only() -> None:
    async def scenario() -> None:
        async with webhook() as (_, _collector, port):
            # Linux routes all of 127/8 to lo: a wildcard bind would answer on 127.0.0.2.
            with pytest.raises(OSError):
                await http(port, b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n", host="127.0.0.2")
            external = _external_address()
            if external is not None:
                with pytest.raises(OSError):
                    await http(port, b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n", host=external)
            status, _ = await http(port, b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert status == 200

    run(scenario())


def _external_address() -> str | None:
    # A connected UDP socket reveals the outgoing interface address without sending anything.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


def test_fixed_port_and_missing_token() -> None:
    async def scenario() -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            free = int(sock.getsockname()[1])
        async with webhook(port=free) as (adapter, _, port):
            assert port == free == adapter.bound_port

        collector = Collector()
        adapter = WebhookAdapter(WebhookSettings(token=""), on_status=collector.on_status)
        task = asyncio.create_task(adapter.run(collector))
        await until(lambda: adapter.status == "error")
        assert "no webhook token" in adapter.status_detail
        await cancel(task)
        assert "token=***" in repr(WebhookSettings(token="secret"))

    run(scenario())


def test_refuses_a_short_token_at_start_up() -> None:
    async def scenario() -> None:
        collector = Collector()
        adapter = WebhookAdapter(WebhookSettings(token="x" * 15), on_status=collector.on_status)
        task = asyncio.create_task(adapter.run(collector))
        await until(lambda: adapter.status == "error")
        assert "at least 16 characters" in adapter.status_detail
        assert adapter.bound_port is None  # it never listened
        await cancel(task)

    run(scenario())


async def _timed(port: int, raw: bytes) -> tuple[int, float]:
    started = time.perf_counter()
    status, _ = await http(port, raw)
    return status, time.perf_counter() - started


def test_repeated_wrong_tokens_are_answered_ever_more_slowly() -> None:
    async def scenario() -> None:
        async with webhook(auth_free_failures=2, auth_delay=0.3, auth_delay_max=1.2) as (
            _,
            collector,
            port,
        ):
            wrong = post(b'{"number": "1"}', token="wrong-token-guess-1234")
            # A delay is a lower bound whatever the machine's load: the k-th failure
            # after the free ones waits at least 0.3 * 2**(k-1) s, up to the cap.
            for expected_at_least in (0.0, 0.0, 0.3, 0.6, 1.2, 1.2):
                status, elapsed = await _timed(port, wrong)
                assert status == 401
                assert elapsed >= expected_at_least, (expected_at_least, elapsed)
            # A delayed wrong attempt does not hold up anyone else.
            slow = asyncio.create_task(_timed(port, wrong))
            await asyncio.sleep(0.05)
            good = await http(port, post(b'{"number": "1", "call_id": "ok-1"}'))
            health = await http(port, b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert not slow.done()  # still waiting out its 1.2 s
            assert good == (202, {"accepted": True, "call_id": "ok-1"})
            assert health[0] == 200
            assert (await slow)[0] == 401
            assert [event.call_id for event in collector.events] == ["ok-1"]

    run(scenario())


def test_wrong_token_penalty_is_forgotten_after_a_quiet_period() -> None:
    now = [1000.0]
    collector = Collector()
    adapter = WebhookAdapter(
        WebhookSettings(token=TOKEN, auth_free_failures=1, auth_delay=5.0, auth_delay_max=60.0),
        on_status=collector.on_status,
        monotonic=lambda: now[0],
    )
    # The penalty is a pure function of the failures seen and the injected clock.
    assert adapter.register_auth_failure() == 0.0
    assert adapter.register_auth_failure() == 5.0
    now[0] += 30.0
    assert adapter.register_auth_failure() == 10.0
    now[0] += 301.0  # quiet for longer than the memory of failures
    assert adapter.register_auth_failure() == 0.0
