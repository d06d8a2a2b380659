"""baresip softphone over its `ctrl_tcp` module: netstring-framed JSON events and commands.

baresip needs `module_app menu.so` besides `ctrl_tcp.so`: ctrl_tcp only carries
commands, and "dial", "accept" and "hangup" are registered by the menu module.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from app.telephony.adapter import (
    Connected,
    Emit,
    StatusCallback,
    StatusReporter,
    bounded,
    safe_emit,
)
from app.telephony.caller import caller_from_peer
from app.telephony.events import (
    MAX_LINE_LENGTH,
    MAX_NAME_LENGTH,
    CallEvent,
    CallState,
    clean_peer_text,
    now_utc,
    parse_number_argument,
    validate_text,
)

log = logging.getLogger(__name__)

MAX_NETSTRING = 256 * 1024
MAX_URI_LENGTH = 256
COMMAND_TIMEOUT = 5.0

_STATES = {
    "CALL_INCOMING": CallState.RINGING,
    "CALL_ESTABLISHED": CallState.ANSWERED,
    "CALL_CLOSED": CallState.ENDED,
}


class BaresipError(Exception):
    """baresip answered a command with ok=false, or broke the framing."""


@dataclass(frozen=True)
class BaresipSettings:
    """Where baresip's ctrl_tcp listens (its `ctrl_tcp_listen` setting)."""

    host: str = "127.0.0.1"
    port: int = 4444
    connect_timeout: float = 5.0
    command_timeout: float = COMMAND_TIMEOUT


def encode_netstring(payload: bytes) -> bytes:
    return str(len(payload)).encode() + b":" + payload + b","


async def read_netstring(reader: asyncio.StreamReader) -> bytes:
    """One "<len>:<payload>," frame (IncompleteReadError at EOF, BaresipError if malformed)."""
    length_text = b""
    while True:
        char = await reader.readexactly(1)
        if char == b":":
            break
        if not char.isdigit() or len(length_text) >= 9:
            raise BaresipError(f"bad netstring length prefix {length_text + char!r}")
        length_text += char
    if not length_text:
        raise BaresipError("empty netstring length")
    length = int(length_text)
    if length > MAX_NETSTRING:
        raise BaresipError(f"netstring of {length} bytes is too large")
    payload = await reader.readexactly(length)
    if await reader.readexactly(1) != b",":
        raise BaresipError("netstring not terminated by ','")
    return payload


def number_from_uri(uri: str) -> str:
    """The user part of a SIP/tel URI: "sip:+14155550134@host;transport=udp" -> "+14155550134"."""
    text = uri.strip()
    if "<" in text and ">" in text:
        text = text[text.index("<") + 1 : text.index(">")]
    for scheme in ("sips:", "sip:", "tel:"):
        if text.lower().startswith(scheme):
            text = text[len(scheme) :]
            break
    user = text.split("@", 1)[0] if "@" in text else text
    user = user.split(";", 1)[0].split("?", 1)[0].split(":", 1)[0]  # params, headers, password
    return unquote(user)


class BaresipAdapter(StatusReporter):
    """Streams incoming-call events from a local baresip and sends dial/answer/hang-up."""

    def __init__(
        self, settings: BaresipSettings | None = None, on_status: StatusCallback | None = None
    ) -> None:
        super().__init__(on_status)
        self.settings = settings or BaresipSettings()
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._tokens = itertools.count(1)
        self._incoming: set[str] = set()
        self._emit: Emit | None = None

    async def run(self, emit: Emit) -> None:
        """Stream baresip's call events until cancelled, reconnecting with backoff."""
        self._emit = emit
        await self.keep_connected(
            self.address,
            self._session,
            closed="baresip closed the connection",
            dropped=(OSError, asyncio.IncompleteReadError, TimeoutError, BaresipError),
        )

    @property
    def address(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    async def dial(self, uri: str) -> str:
        """Click-to-call: a SIP/tel URI, or a phone number baresip completes with its account."""
        text = validate_text(uri, "URI", MAX_URI_LENGTH).strip()
        if not text.lower().startswith(("sip:", "sips:", "tel:")):
            number = parse_number_argument(text)
            text = "".join(char for char in number if char.isdigit() or char == "+")
            if not text:
                raise ValueError("cannot dial a withheld number")
        elif " " in text:
            raise ValueError("URI must not contain spaces")
        return await self.command("dial", text)

    async def answer(self) -> str:
        return await self.command("accept")

    async def hangup(self) -> str:
        return await self.command("hangup")

    async def command(self, name: str, params: str = "") -> str:
        """Send one ctrl_tcp command; its `data` text, or BaresipError when ok is false."""
        writer = self._writer
        if writer is None:
            raise ConnectionError("not connected to baresip")
        token = f"rapport-{next(self._tokens)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[token] = future
        try:
            body = json.dumps({"command": name, "params": params, "token": token}).encode()
            writer.write(encode_netstring(body))
            await writer.drain()
            response = await bounded(future, self.settings.command_timeout)
        finally:
            self._pending.pop(token, None)
        data = str(response.get("data", "")).strip()
        if not response.get("ok"):
            raise BaresipError(f"{name} failed: {data or 'no reason given'}")
        return data

    async def _session(self, connected: Connected) -> None:
        reader, writer = await bounded(
            asyncio.open_connection(self.settings.host, self.settings.port),
            self.settings.connect_timeout,
        )
        # ctrl_tcp sends no greeting: an accepted connection is as good as it gets.
        self._writer = writer
        self._incoming.clear()
        connected(self.address)
        try:
            while True:
                payload = await read_netstring(reader)
                received = time.perf_counter()
                try:
                    message = json.loads(payload)
                except (UnicodeDecodeError, json.JSONDecodeError):
                    log.warning("baresip sent a frame that is not JSON: %r", payload[:80])
                    continue
                if isinstance(message, dict):
                    self._on_message(message, received)
        finally:
            self._writer = None
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("baresip connection lost"))
            writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()

    def _on_message(self, message: dict[str, Any], received: float) -> None:
        if message.get("response") is True:
            future = self._pending.get(str(message.get("token", "")))
            if future is not None and not future.done():
                future.set_result(message)
            return
        if message.get("event") is not True or message.get("class") != "call":
            return
        state = _STATES.get(str(message.get("type", "")))
        call_id = str(message.get("id", ""))
        if state is None or not call_id:
            return
        if state is CallState.RINGING:
            # Our own click-to-call dials are outgoing; only incoming calls pop.
            if message.get("direction") != "incoming":
                return
            self._incoming.add(call_id)
        elif call_id not in self._incoming:
            return
        if state is CallState.ENDED:
            self._incoming.discard(call_id)
        peer_uri = str(message.get("peeruri", ""))
        name = message.get("peerdisplayname")
        caller = caller_from_peer(peer_uri, fallback=number_from_uri(peer_uri))
        event = CallEvent(
            call_id=clean_peer_text(call_id, 128) or call_id[:128],
            number=caller.number,
            extension=caller.extension,
            name=clean_peer_text(name if isinstance(name, str) else None, MAX_NAME_LENGTH),
            line=clean_peer_text(str(message.get("accountaor", "")), MAX_LINE_LENGTH),
            state=state,
            at=now_utc(),
            source="baresip",
            received_monotonic=received,
        )
        if self._emit is not None:
            safe_emit(self._emit, event)
