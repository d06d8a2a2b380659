"""Loopback HTTP webhook: softphones that open URLs and cloud contact-centre bridges POST calls.

HTTP/1.1 is parsed by h11 (the sans-I/O parser under httpx and uvicorn), on
asyncio streams, one request per connection; every limit is explicit because
any local process can connect. Wrong bearer tokens are answered ever more
slowly, and the token must be long enough to be worth guessing at that pace.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import h11

from app.telephony.adapter import Backoff, Emit, StatusCallback, StatusReporter, bounded, safe_emit
from app.telephony.events import event_from_json, parse_json

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
MAX_BODY = 16 * 1024
MAX_HEADER_BYTES = 8 * 1024
MAX_CONNECTIONS = 16
READ_CHUNK = 4096
HEADER_TIMEOUT = 5.0
BODY_TIMEOUT = 5.0
LINGER_SECONDS = 1.0
LINGER_BYTES = 64 * 1024
MIN_TOKEN_LENGTH = 16
# Wrong tokens: a few are typos; after that each answer waits twice as long as the last.
AUTH_FREE_FAILURES = 3
AUTH_DELAY = 0.25
AUTH_DELAY_MAX = 4.0
AUTH_FORGET_AFTER = 300.0
CALLS_PATH = "/v1/calls"
HEALTH_PATH = "/v1/health"

_REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    411: "Length Required",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class WebhookSettings:
    """Where the webhook listens, the bearer token callers must present, and its limits."""

    token: str
    port: int = 0  # 0: let the OS pick a free port (read it back from `bound_port`)
    header_timeout: float = HEADER_TIMEOUT
    body_timeout: float = BODY_TIMEOUT
    auth_free_failures: int = AUTH_FREE_FAILURES
    auth_delay: float = AUTH_DELAY
    auth_delay_max: float = AUTH_DELAY_MAX
    auth_forget_after: float = AUTH_FORGET_AFTER
    # Why there is no usable token (e.g. a token file others can read), shown as the status.
    token_problem: str = ""

    def __repr__(self) -> str:
        return f"WebhookSettings(port={self.port}, token=***)"


def token_problem(token: str) -> str | None:
    """Why `token` cannot guard the webhook, or None when it can."""
    if not token:
        # An open webhook would let any local process pop fake callers on an agent's screen.
        return "no webhook token configured"
    if len(token) < MIN_TOKEN_LENGTH:
        return (
            f"the webhook token is {len(token)} characters; use at least"
            f" {MIN_TOKEN_LENGTH} characters (a random one, e.g. from a password manager)"
        )
    if not token.isascii() or not token.isprintable() or " " in token:
        return "the webhook token must be printable ASCII without spaces"
    return None


class HttpError(Exception):
    """A request we answer with an error status instead of a call event."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class WebhookAdapter(StatusReporter):
    """Serves POST /v1/calls (bearer token) and GET /v1/health on 127.0.0.1 only."""

    def __init__(
        self,
        settings: WebhookSettings,
        on_status: StatusCallback | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(on_status)
        self.settings = settings
        self.bound_port: int | None = None
        self._emit: Emit | None = None
        self._port_ready = asyncio.Event()
        self._monotonic = monotonic
        self._auth_failures = 0
        self._last_auth_failure = 0.0
        self._connections = 0

    async def wait_listening(self) -> int:
        """The bound port, once the server listens (useful with port 0)."""
        await self._port_ready.wait()
        assert self.bound_port is not None
        return self.bound_port

    async def run(self, emit: Emit) -> None:
        self._emit = emit
        problem = self.settings.token_problem or token_problem(self.settings.token)
        if problem:
            self._set_status("error", problem)
            await asyncio.Event().wait()
        backoff = Backoff()
        while True:
            try:
                server = await asyncio.start_server(self._handle, HOST, self.settings.port)
            except OSError as exc:
                delay = backoff.next_delay()
                self._set_status("error", f"cannot listen on {HOST}:{self.settings.port}: {exc}")
                await asyncio.sleep(delay)
                continue
            try:
                self.bound_port = int(server.sockets[0].getsockname()[1])
                self._set_status("listening", f"{HOST}:{self.bound_port}")
                self._port_ready.set()
                async with server:
                    await server.serve_forever()
            finally:
                server.close()
                self._port_ready.clear()
                self._set_status("disconnected", "stopped")

    def register_auth_failure(self) -> float:
        """Count one wrong token; how long its answer must wait.

        Every caller is on this machine, so there is no per-address bookkeeping:
        one counter, forgotten after a quiet period. A right token is answered
        at once and does not reset the counter (a bridge posting calls must not
        give a guesser fresh attempts).
        """
        now = self._monotonic()
        if self._auth_failures and now - self._last_auth_failure > self.settings.auth_forget_after:
            self._auth_failures = 0
        self._auth_failures += 1
        self._last_auth_failure = now
        beyond = self._auth_failures - self.settings.auth_free_failures
        if beyond <= 0:
            return 0.0
        # min() before the power: a long attack must not overflow the float.
        delay: float = self.settings.auth_delay * 2.0 ** min(beyond - 1, 32)
        return min(delay, self.settings.auth_delay_max)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received = time.perf_counter()
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)
        self._connections += 1
        try:
            if self._connections > MAX_CONNECTIONS:
                # Bounds what parallel guessing or a connection flood can hold open.
                raise HttpError(503, "too many connections")
            status, payload, headers = await self._respond(connection, reader, received)
        except HttpError as exc:
            status, payload, headers = exc.status, {"error": exc.message}, exc.headers
        except Exception:
            log.exception("webhook request failed")
            status, payload, headers = 500, {"error": "internal error"}, {}
        finally:
            self._connections -= 1
        try:
            writer.write(_response(status, payload, headers))
            await writer.drain()
            if status >= 400:
                await _linger(reader, writer)
        except (ConnectionError, OSError):
            pass  # the client went away; nothing to tell it
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def _respond(
        self, connection: h11.Connection, reader: asyncio.StreamReader, received: float
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        # One deadline for the whole head: a slowloris client trickling bytes
        # must not hold a connection open indefinitely.
        try:
            request = await bounded(
                _next_event(connection, reader, head_budget=MAX_HEADER_BYTES + 1),
                self.settings.header_timeout,
            )
        except TimeoutError:
            raise HttpError(408, "request headers not received in time") from None
        if not isinstance(request, h11.Request):
            raise HttpError(400, "incomplete request")
        headers = _headers(request)
        method = request.method.decode("ascii", "replace")
        path = request.target.decode("ascii", "replace").split("?", 1)[0]
        if path == HEALTH_PATH:
            if method != "GET":
                raise HttpError(405, "use GET", {"Allow": "GET"})
            return 200, {"status": "ok"}, {}
        if path != CALLS_PATH:
            raise HttpError(404, "not found")
        if method != "POST":
            raise HttpError(405, "use POST", {"Allow": "POST"})
        await self._check_token(headers)
        if "transfer-encoding" in headers:
            raise HttpError(501, "chunked bodies are not supported; send Content-Length")
        if "content-length" not in headers:
            raise HttpError(411, "Content-Length required")
        if int(headers["content-length"]) > MAX_BODY:  # h11 checked it is digits only
            raise HttpError(413, f"body larger than {MAX_BODY} bytes")
        try:
            body = await bounded(_read_body(connection, reader), self.settings.body_timeout)
        except TimeoutError:
            raise HttpError(408, "request body not received in time") from None
        try:
            data = parse_json(body)
        except ValueError as exc:
            raise HttpError(400, f"malformed JSON: {exc}") from None
        if not isinstance(data, dict):
            raise HttpError(400, "body must be a JSON object")
        try:
            event = event_from_json(data, "webhook", received_monotonic=received)
        except ValueError as exc:
            raise HttpError(400, str(exc)) from None
        if self._emit is not None:
            safe_emit(self._emit, event)
        return 202, {"accepted": True, "call_id": event.call_id}, {}

    async def _check_token(self, headers: dict[str, str]) -> None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        expected = self.settings.token.encode()
        given = token.strip().encode("latin-1")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given, expected):
            # Only this connection waits: the sleep yields to every other request.
            await asyncio.sleep(self.register_auth_failure())
            raise HttpError(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})


async def _next_event(
    connection: h11.Connection, reader: asyncio.StreamReader, head_budget: int | None = None
) -> Any:
    """The next h11 event, reading as much as it needs; protocol errors as HttpError.

    With `head_budget`, at most that many bytes are fed: h11 checks its size
    limit only on a head it has not completed, so a long head must not arrive whole.
    """
    fed = 0
    while True:
        try:
            event = connection.next_event()
        except h11.RemoteProtocolError as exc:
            raise HttpError(exc.error_status_hint, f"malformed request: {exc}") from None
        if event is not h11.NEED_DATA:
            return event
        size = READ_CHUNK if head_budget is None else min(READ_CHUNK, head_budget - fed)
        if size <= 0:
            raise HttpError(431, "request headers too large")
        chunk = await reader.read(size)
        if not chunk:
            raise HttpError(400, "incomplete request")
        fed += len(chunk)
        connection.receive_data(chunk)


async def _read_body(connection: h11.Connection, reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        event = await _next_event(connection, reader)
        if isinstance(event, h11.EndOfMessage):
            return bytes(body)
        if isinstance(event, h11.Data):
            body += event.data
            if len(body) > MAX_BODY:
                raise HttpError(413, f"body larger than {MAX_BODY} bytes")
        elif isinstance(event, h11.ConnectionClosed):
            raise HttpError(400, "body shorter than Content-Length")


def _headers(request: h11.Request) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in request.headers:
        name = raw_name.decode("ascii")  # h11 lower-cases names and allows only token chars
        if name in headers and name == "authorization":
            # Two tokens is a confused or hostile client; refuse instead of guessing.
            raise HttpError(400, "duplicate Authorization header")
        headers[name] = raw_value.decode("latin-1")
    return headers


def _response(status: int, payload: dict[str, Any], headers: dict[str, str]) -> bytes:
    # A fresh h11 connection formats the answer: the request's own may be in an
    # error state, and every answer here closes the connection anyway.
    writer = h11.Connection(h11.SERVER)
    body = json.dumps(payload).encode()
    fields = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
        ("Cache-Control", "no-store"),
        *headers.items(),
    ]
    events = (
        h11.Response(status_code=status, headers=fields, reason=_REASONS.get(status, "Error")),
        h11.Data(data=body),
        h11.EndOfMessage(),
    )
    return b"".join(writer.send(event) or b"" for event in events)


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Swallow what the client still sends (briefly) before closing.

    Closing a socket with unread input makes the kernel send RST, which can
    destroy our error response before the client reads it (e.g. after a 413).
    """
    if writer.can_write_eof():
        writer.write_eof()
    budget = LINGER_BYTES
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LINGER_SECONDS
    while budget > 0:
        remaining = deadline - loop.time()
        if remaining <= 0:
            return
        try:
            chunk = await bounded(reader.read(budget), remaining)
        except TimeoutError:
            return
        if not chunk:
            return
        budget -= len(chunk)
