"""Loopback HTTP webhook: softphones that open URLs and cloud contact-centre bridges POST calls.

A deliberately tiny HTTP/1.1 server on asyncio streams (one request per
connection, no keep-alive) so no web framework is needed; every limit is
explicit because any local process can connect.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from app.telephony.adapter import Backoff, Emit, StatusCallback, StatusReporter, bounded, safe_emit
from app.telephony.events import event_from_json

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
MAX_BODY = 16 * 1024
MAX_HEADER_BYTES = 8 * 1024
HEADER_TIMEOUT = 5.0
BODY_TIMEOUT = 5.0
LINGER_SECONDS = 1.0
LINGER_BYTES = 64 * 1024
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
}


@dataclass(frozen=True)
class WebhookSettings:
    """Where the webhook listens and the bearer token callers must present."""

    token: str
    port: int = 0  # 0: let the OS pick a free port (read it back from `bound_port`)
    header_timeout: float = HEADER_TIMEOUT
    body_timeout: float = BODY_TIMEOUT

    def __repr__(self) -> str:
        return f"WebhookSettings(port={self.port}, token=***)"


class HttpError(Exception):
    """A request we answer with an error status instead of a call event."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class _Request:
    method: str
    path: str
    headers: dict[str, str]


class WebhookAdapter(StatusReporter):
    """Serves POST /v1/calls (bearer token) and GET /v1/health on 127.0.0.1 only."""

    def __init__(self, settings: WebhookSettings, on_status: StatusCallback | None = None) -> None:
        super().__init__(on_status)
        self.settings = settings
        self.bound_port: int | None = None
        self._emit: Emit | None = None
        self._port_ready = asyncio.Event()

    async def wait_listening(self) -> int:
        """The bound port, once the server listens (useful with port 0)."""
        await self._port_ready.wait()
        assert self.bound_port is not None
        return self.bound_port

    async def run(self, emit: Emit) -> None:
        self._emit = emit
        if not self.settings.token:
            # An open webhook would let any local process pop fake callers on an agent's screen.
            self._set_status("error", "no webhook token configured")
            await asyncio.Event().wait()
        backoff = Backoff()
        while True:
            try:
                server = await asyncio.start_server(
                    self._handle, HOST, self.settings.port, limit=MAX_HEADER_BYTES
                )
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

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received = time.perf_counter()
        try:
            status, payload, headers = await self._respond(reader, received)
        except HttpError as exc:
            status, payload, headers = exc.status, {"error": exc.message}, exc.headers
        except Exception:
            log.exception("webhook request failed")
            status, payload, headers = 500, {"error": "internal error"}, {}
        try:
            await self._write(writer, status, payload, headers)
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
        self, reader: asyncio.StreamReader, received: float
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        request = await self._read_head(reader)
        if request.path == HEALTH_PATH:
            if request.method != "GET":
                raise HttpError(405, "use GET", {"Allow": "GET"})
            return 200, {"status": "ok"}, {}
        if request.path != CALLS_PATH:
            raise HttpError(404, "not found")
        if request.method != "POST":
            raise HttpError(405, "use POST", {"Allow": "POST"})
        self._check_token(request.headers)
        body = await self._read_body(reader, request.headers)
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
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

    async def _read_head(self, reader: asyncio.StreamReader) -> _Request:
        # One deadline for the whole head: a slowloris client trickling bytes
        # must not hold a connection open indefinitely.
        try:
            raw = await bounded(reader.readuntil(b"\r\n\r\n"), self.settings.header_timeout)
        except TimeoutError:
            raise HttpError(408, "request headers not received in time") from None
        except asyncio.LimitOverrunError:
            raise HttpError(431, "request headers too large") from None
        except asyncio.IncompleteReadError:
            raise HttpError(400, "incomplete request") from None
        try:
            text = raw.decode("latin-1")
            request_line, *header_lines = text[:-4].split("\r\n")
            method, target, version = request_line.split(" ")
        except ValueError:
            raise HttpError(400, "malformed request line") from None
        if not version.startswith("HTTP/1."):
            raise HttpError(400, "only HTTP/1.x is spoken here")
        headers: dict[str, str] = {}
        for line in header_lines:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise HttpError(400, "malformed header line")
            key = name.lower()
            if key in headers and key in ("content-length", "authorization"):
                # Duplicates are a request-smuggling trick; refuse instead of guessing.
                raise HttpError(400, f"duplicate {name} header")
            headers[key] = value.strip()
        path = target.split("?", 1)[0]
        return _Request(method=method, path=path, headers=headers)

    def _check_token(self, headers: dict[str, str]) -> None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        expected = self.settings.token.encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
            raise HttpError(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})

    async def _read_body(self, reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
        if "transfer-encoding" in headers:
            raise HttpError(501, "chunked bodies are not supported; send Content-Length")
        raw_length = headers.get("content-length")
        if raw_length is None:
            raise HttpError(411, "Content-Length required")
        if not raw_length.isdigit() or len(raw_length) > 9:
            raise HttpError(400, "bad Content-Length")
        length = int(raw_length)
        if length > MAX_BODY:
            raise HttpError(413, f"body larger than {MAX_BODY} bytes")
        try:
            return await bounded(reader.readexactly(length), self.settings.body_timeout)
        except TimeoutError:
            raise HttpError(408, "request body not received in time") from None
        except asyncio.IncompleteReadError:
            raise HttpError(400, "body shorter than Content-Length") from None

    @staticmethod
    async def _write(
        writer: asyncio.StreamWriter, status: int, payload: dict[str, Any], headers: dict[str, str]
    ) -> None:
        body = json.dumps(payload).encode()
        lines = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            "Connection: close",
            "Cache-Control: no-store",
            *(f"{key}: {value}" for key, value in headers.items()),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()


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
