"""Asterisk Manager Interface client: ring, answer and hang-up of one agent's device.

Recommended manager.conf user (a dedicated one, least privilege):

    [rapport]
    secret = ...
    read = call,agent
    write = originate          ; only if click-to-call is used
    eventfilter = Event: (DialBegin|AgentCalled|Newstate|Hangup)
    permit = <agent PC or PBX-local bridge>

The Login asks for `call,agent` events only; the server-side eventfilter keeps
the rest of the PBX's traffic off the wire (the Filter action itself needs the
`system` privilege, which this user should not have).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from dataclasses import dataclass

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
)

log = logging.getLogger(__name__)

Message = dict[str, str]
MAX_LINE_BYTES = 8 * 1024
MAX_MESSAGE_LINES = 200


class AmiError(Exception):
    """Asterisk refused an action (bad credentials, missing privilege, bad originate)."""


class AmiAuthError(AmiError):
    """Login was refused; retrying quickly would only fill Asterisk's security log."""


@dataclass(frozen=True)
class AmiSettings:
    """How to reach the AMI and which device is the agent's phone."""

    host: str
    username: str
    secret: str
    device: str  # e.g. "PJSIP/agent01"
    port: int = 5038
    originate_context: str = "from-internal"
    ping_interval: float = 20.0
    ping_timeout: float = 10.0
    connect_timeout: float = 5.0

    def __repr__(self) -> str:
        return (
            f"AmiSettings(host={self.host!r}, port={self.port}, username={self.username!r},"
            f" secret=***, device={self.device!r})"
        )


@dataclass
class _Call:
    """One ringing channel on the agent's device, keyed by that channel's Uniqueid."""

    call_id: str
    number: str
    name: str | None
    line: str | None
    extension: str | None = None
    answered: bool = False


class AmiAdapter(StatusReporter):
    """Follows DialBegin/AgentCalled/Newstate/Hangup for one device and emits CallEvents."""

    def __init__(self, settings: AmiSettings, on_status: StatusCallback | None = None) -> None:
        super().__init__(on_status)
        self.settings = settings
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[str, asyncio.Future[Message]] = {}
        self._action_ids = itertools.count(1)
        self._calls: dict[str, _Call] = {}
        self._emit: Emit | None = None
        self.peer_banner = ""

    # -- public --------------------------------------------------------------------------

    async def run(self, emit: Emit) -> None:
        """Follow the device's calls until cancelled, reconnecting with backoff."""
        self._emit = emit
        await self.keep_connected(
            f"{self.settings.host}:{self.settings.port}",
            self._session,
            closed="connection closed by Asterisk",
            dropped=(OSError, asyncio.IncompleteReadError, TimeoutError, AmiError),
            refused=(AmiAuthError,),
        )

    async def originate(self, number: str) -> None:
        """Click-to-call: ring the agent's device, then dial `number` in the configured context."""
        clean = parse_number_argument(number)
        dial = "".join(char for char in clean if char.isdigit() or char == "+")
        if not dial:
            raise ValueError("cannot dial a withheld number")
        response = await self._action(
            "Originate",
            Channel=self.settings.device,
            Context=self.settings.originate_context,
            Exten=dial,
            Priority="1",
            CallerID=dial,
            Async="true",
        )
        if response.get("Response", "").lower() != "success":
            raise AmiError(response.get("Message", "originate refused"))

    # -- connection ----------------------------------------------------------------------

    async def _session(self, connected: Connected) -> None:
        reader, writer = await bounded(
            asyncio.open_connection(self.settings.host, self.settings.port, limit=MAX_LINE_BYTES),
            self.settings.connect_timeout,
        )
        reader_task: asyncio.Task[None] | None = None
        ping_task: asyncio.Task[None] | None = None
        try:
            banner = await bounded(reader.readline(), self.settings.connect_timeout)
            if not banner.startswith(b"Asterisk Call Manager"):
                raise AmiError(f"not an AMI server (banner {banner[:60]!r})")
            self.peer_banner = banner.decode("utf-8", "replace").strip()
            self._writer = writer
            self._calls.clear()
            reader_task = asyncio.create_task(self._read_loop(reader))
            response = await bounded(
                self._action(
                    "Login",
                    Username=self.settings.username,
                    Secret=self.settings.secret,
                    Events="call,agent",
                ),
                self.settings.connect_timeout,
            )
            if response.get("Response", "").lower() != "success":
                raise AmiAuthError(f"login refused: {response.get('Message', 'no reason given')}")
            connected(f"{self.peer_banner} as {self.settings.username}")
            ping_task = asyncio.create_task(self._ping_loop())
            done, _ = await asyncio.wait(
                {reader_task, ping_task}, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                task.result()  # re-raise why the session ended
        finally:
            self._writer = None
            children = [child for child in (reader_task, ping_task) if child is not None]
            for child in children:
                child.cancel()
            # gather (not a suppress block) so a cancel of run() itself still propagates.
            await asyncio.gather(*children, return_exceptions=True)
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("AMI connection lost"))
            self._pending.clear()
            writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()

    async def _ping_loop(self) -> None:
        # AMI sends nothing on an idle PBX; without pings a dead peer (PBX
        # rebooted, NAT dropped the flow) would look connected forever.
        while True:
            await asyncio.sleep(self.settings.ping_interval)
            try:
                await bounded(self._action("Ping"), self.settings.ping_timeout)
            except TimeoutError:
                raise TimeoutError("no answer to Ping") from None

    async def _action(self, action: str, **fields: str) -> Message:
        writer = self._writer
        if writer is None:
            raise ConnectionError("not connected to Asterisk")
        action_id = f"rapport-{next(self._action_ids)}"
        lines = [f"Action: {action}", f"ActionID: {action_id}"]
        for key, value in fields.items():
            # A CR/LF in a value would inject extra AMI headers or actions.
            if "\r" in value or "\n" in value:
                raise ValueError(f"{key} must not contain line breaks")
            lines.append(f"{key}: {value}")
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = future
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            await writer.drain()
            return await future
        finally:
            self._pending.pop(action_id, None)

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                message = await read_message(reader)
                received = time.perf_counter()
                if "Response" in message:
                    future = self._pending.get(message.get("ActionID", ""))
                    if future is not None and not future.done():
                        future.set_result(message)
                elif "Event" in message:
                    self._on_event(message, received)
        finally:
            # Asterisk hangs up right after a refused login: fail waiters now, not at timeout.
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("AMI connection lost"))

    # -- events --------------------------------------------------------------------------

    def _is_agent_channel(self, channel: str) -> bool:
        # Channel names are "<device>-<sequence>", e.g. PJSIP/agent01-0000002a.
        return bool(self.settings.device) and channel.startswith(self.settings.device + "-")

    def _on_event(self, message: Message, received: float) -> None:
        kind = message["Event"]
        if kind == "DialBegin":
            if self._is_agent_channel(message.get("DestChannel", "")):
                key = message.get("DestUniqueid") or message.get("DestChannel", "")
                self._ringing(
                    key,
                    call_id=message.get("DestLinkedid") or message.get("Linkedid") or key,
                    number=message.get("CallerIDNum", ""),
                    name=message.get("CallerIDName"),
                    line=message.get("Exten") or self.settings.device,
                    received=received,
                )
        elif kind == "AgentCalled":
            interface = message.get("Interface", "")
            dest = message.get("DestChannel", "")
            if interface == self.settings.device or self._is_agent_channel(dest):
                key = message.get("DestUniqueid") or dest or message.get("Uniqueid", "")
                self._ringing(
                    key,
                    call_id=message.get("Linkedid") or message.get("Uniqueid") or key,
                    number=message.get("CallerIDNum", ""),
                    name=message.get("CallerIDName"),
                    line=message.get("Queue") or self.settings.device,
                    received=received,
                )
        elif kind == "Newstate":
            if not self._is_agent_channel(message.get("Channel", "")):
                return
            key = message.get("Uniqueid", "")
            state = message.get("ChannelStateDesc", "")
            if state == "Ringing":
                # Direct dials without DialBegin (originate, old dialplans): on the
                # agent's own channel the caller is the connected line.
                self._ringing(
                    key,
                    call_id=message.get("Linkedid") or key,
                    number=message.get("ConnectedLineNum", ""),
                    name=message.get("ConnectedLineName"),
                    line=self.settings.device,
                    received=received,
                )
            elif state == "Up":
                call = self._calls.get(key)
                if call is not None and not call.answered:
                    call.answered = True
                    self._send(call, CallState.ANSWERED, received)
        elif kind == "Hangup":
            if self._is_agent_channel(message.get("Channel", "")):
                call = self._calls.pop(message.get("Uniqueid", ""), None)
                if call is not None:
                    self._send(call, CallState.ENDED, received)

    def _ringing(
        self,
        key: str,
        *,
        call_id: str,
        number: str,
        name: str | None,
        line: str | None,
        received: float,
    ) -> None:
        if not key or key in self._calls:
            return  # a queue sends AgentCalled and DialBegin for the same ring: pop once
        # Asterisk writes "<unknown>" for an absent caller ID; CallEvent.withheld reads it so.
        caller = caller_from_peer(number)
        call = _Call(
            call_id=clean_peer_text(call_id, 128) or key,
            number=caller.number,
            name=_clean_name(name),
            line=clean_peer_text(line, MAX_LINE_LENGTH),
            extension=caller.extension,
        )
        self._calls[key] = call
        self._send(call, CallState.RINGING, received)

    def _send(self, call: _Call, state: CallState, received: float) -> None:
        if self._emit is None:
            return
        event = CallEvent(
            call_id=call.call_id,
            number=call.number,
            extension=call.extension,
            name=call.name,
            line=call.line,
            state=state,
            at=now_utc(),
            source="ami",
            received_monotonic=received,
        )
        safe_emit(self._emit, event)


def _clean_name(value: str | None) -> str | None:
    text = clean_peer_text(value, MAX_NAME_LENGTH)
    if text is None or text.strip("<>").lower() == "unknown":
        return None
    return text


async def read_message(reader: asyncio.StreamReader) -> Message:
    """One AMI message: "Key: Value" lines up to a blank line (IncompleteReadError at EOF)."""
    message: Message = {}
    for _ in range(MAX_MESSAGE_LINES):
        try:
            raw = await reader.readuntil(b"\n")
        except asyncio.LimitOverrunError:
            raise AmiError("AMI line too long") from None
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if message:
                return message
            continue  # stray blank lines between messages
        key, sep, value = line.partition(":")
        if sep:
            # First value wins: a later duplicate cannot overwrite what identified the event.
            message.setdefault(key.strip(), value.strip())
    raise AmiError("AMI message too long")
