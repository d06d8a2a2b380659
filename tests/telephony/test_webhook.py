"""The loopback webhook, exercised with real HTTP over TCP."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from app.telephony import CallState
from app.telephony.adapter import bounded
from app.telephony.webhook import WebhookAdapter, WebhookSettings
from tests.telephony.helpers import Collector, cancel, run, until

TOKEN = "test-token-9f2c"


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
        (b"POST /v1/calls HTTP/1.1\r\nAuthorization: Bearer " + TOKEN.encode() + b"\r\n\r\n", 411),
        (b"garbage\r\n\r\n", 400),
        (b"GET /v1/health SPDY/3\r\n\r\n", 400),
        (b"GET /v1/health HTTP/1.1\r\nX-" + b"a" * 9000 + b": 1\r\n\r\n", 431),
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
                await http(port, b"GET /v1/health HTTP/1.1\r\n\r\n", host="127.0.0.2")
            external = _external_address()
            if external is not None:
                with pytest.raises(OSError):
                    await http(port, b"GET /v1/health HTTP/1.1\r\n\r\n", host=external)
            status, _ = await http(port, b"GET /v1/health HTTP/1.1\r\n\r\n")
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
