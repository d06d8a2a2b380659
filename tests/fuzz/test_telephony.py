"""Fuzz the telephony entry points: numbers, tel: and caller URIs, the hand-off wire,
and the webhook over real HTTP. Every input gives a result or a ValueError (the
documented error of these parsers); the webhook answers every request, never 500."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app import phones
from app.telephony.caller import Caller, parse_caller
from app.telephony.events import CallEvent, parse_number_argument
from app.telephony.handoff import decode_event, encode_event, parse_handoff_args
from app.telephony.tel import LookupRequest, parse_tel_url
from app.telephony.webhook import WebhookAdapter, WebhookSettings
from models.limits import PHONE_EXTENSION_LENGTH
from tests.fuzz.strategies import hostile_phone, hostile_text

TOKEN = "fuzz-token-0123456789abcdef"
SUPERSCRIPT_TWO = "\u00b2".encode("latin-1")  # str.isdigit() says yes


@given(raw=hostile_phone)
def test_phone_normaliser_never_raises(raw: str) -> None:
    query = phones.normalize(raw, "US")
    assert query.e164 is None or query.e164.startswith("+")
    assert query.tail is None or (query.tail.isdigit() and len(query.tail) == phones.TAIL_DIGITS)
    try:
        assert phones.to_e164(raw, "US") == query.e164
    except ValueError:
        assert query.e164 is None


@given(raw=hostile_phone)
def test_tel_parser_gives_a_lookup_or_a_value_error(raw: str) -> None:
    try:
        request = parse_tel_url(raw)
    except ValueError:
        return
    assert isinstance(request, LookupRequest)
    assert parse_number_argument(request.number) == request.number


@given(raw=hostile_phone)
def test_caller_parser_gives_a_caller_or_a_value_error(raw: str) -> None:
    try:
        caller = parse_caller(raw)
    except ValueError:
        return
    assert isinstance(caller, Caller)
    # Whatever form came in, what reaches the pop and the database is a plain number.
    assert parse_number_argument(caller.number) == caller.number
    if caller.extension is not None:
        assert caller.extension.isdigit() and len(caller.extension) <= PHONE_EXTENSION_LENGTH
    # And `rapport pop` agrees, through the wire to the running instance.
    event = parse_handoff_args(["pop", raw])
    assert isinstance(event, CallEvent)
    assert decode_event(encode_event(event)) == event


_json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=10,
)
_wire_field = st.sampled_from(
    ["v", "kind", "call_id", "number", "name", "line", "state", "at", "source", "extension"]
)
_wire_object = st.dictionaries(
    _wire_field,
    st.one_of(_json_value, hostile_phone, st.just(1), st.just("lookup"), st.just("ringing")),
    max_size=10,
).map(lambda data: {"v": 1, **data})
_wire_line = st.one_of(
    st.binary(max_size=5000),
    hostile_text.map(lambda text: text.encode("utf-8", "surrogatepass")),
    _wire_object.map(lambda data: json.dumps(data).encode()),
    st.integers(min_value=1, max_value=3000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2024-13-01"]).map(
        lambda at: json.dumps(
            {"v": 1, "call_id": "c", "number": "1", "state": "ringing", "at": at, "source": "x"}
        ).encode()
    ),
)


@given(line=_wire_line)
def test_handoff_decoder_gives_a_request_or_a_value_error(line: bytes) -> None:
    try:
        decoded = decode_event(line)
    except ValueError:
        return
    # A line it accepts is one it can send again unchanged.
    assert decode_event(encode_event(decoded)) == decoded


# -- the webhook, over real HTTP ---------------------------------------------------------


@pytest.fixture(scope="module")
def webhook_port() -> Iterator[int]:
    """One webhook on its own loop in a thread for all examples (a server per example
    would spend the time budget on start-up)."""
    loop = asyncio.new_event_loop()
    # Wrong tokens are part of the fuzz; their growing delay is tested elsewhere.
    adapter = WebhookAdapter(
        WebhookSettings(token=TOKEN, header_timeout=1.0, body_timeout=1.0, auth_delay=0.0)
    )
    task = loop.create_task(adapter.run(lambda event: None))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    port = asyncio.run_coroutine_threadsafe(adapter.wait_listening(), loop).result(10)
    yield port
    loop.call_soon_threadsafe(task.cancel)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def _exchange(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(raw)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # it may answer (413, 431) and close before reading everything
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


_header_name = st.sampled_from(
    ["Host", "Content-Length", "Authorization", "Transfer-Encoding", "Content-Type", "X-A"]
)
_header_value = st.one_of(
    hostile_text.map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [b"2", "\u00b2".encode("latin-1"), b"9" * 4301, b"-1", b"Bearer " + TOKEN.encode()]
    ),
)
_body = st.one_of(
    st.binary(max_size=2000),
    hostile_text.map(lambda text: text.encode("utf-8", "surrogatepass")[:17000]),
    st.fixed_dictionaries(
        {"number": hostile_phone},
        optional={"name": hostile_text, "state": hostile_text, "call_id": _json_value},
    ).map(lambda data: json.dumps(data).encode()),
    st.integers(min_value=1, max_value=16384).map(lambda n: b"[" * n),
    st.just(b'{"number": "1", "call_id": ' + b"9" * 4301 + b"}"),
)


@given(
    method=st.sampled_from([b"POST", b"GET", b"PUT", b"", b"P\x00ST"]),
    path=st.sampled_from([b"/v1/calls", b"/v1/health", b"/", b"/v1/calls?x=1", b"*"]),
    version=st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2", b""]),
    headers=st.lists(st.tuples(_header_name, _header_value), max_size=6),
    body=_body,
    well_formed=st.booleans(),
)
def test_webhook_answers_every_request_without_a_server_error(
    webhook_port: int,
    method: bytes,
    path: bytes,
    version: bytes,
    headers: list[tuple[str, bytes]],
    body: bytes,
    well_formed: bool,
) -> None:
    if well_formed:  # also the requests that get past the parser to the JSON
        lines = [
            b"Host: 127.0.0.1",
            b"Authorization: Bearer " + TOKEN.encode(),
            b"Content-Length: " + str(len(body)).encode(),
        ]
        head = b"POST /v1/calls HTTP/1.1\r\n" + b"\r\n".join(lines)
    else:
        head = b" ".join([method, path, version]) + b"".join(
            b"\r\n" + name.encode() + b": " + value for name, value in headers
        )
    response = _exchange(webhook_port, head + b"\r\n\r\n" + body)
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 "), response[:200]
    status = int(status_line.split(b" ", 2)[1])
    assert status in {200, 202, 400, 401, 404, 405, 408, 411, 413, 431, 501, 503}, response
    answer = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert isinstance(answer, dict)
