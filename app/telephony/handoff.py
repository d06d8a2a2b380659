"""Hand-off from a softphone's "run a program" hook to the running Rapport (pure parts).

The softphone starts `rapport pop NUMBER [--name NAME]` or `rapport "rapport://pop?..."`;
a `tel:` link starts `rapport tel:+14155550134` (a look-up, not a call). That second
process forwards one wire line over a QLocalServer (ui/, Qt) to the instance
already running, which decodes and validates it again.

Wire format, version 1: one JSON object per line. A call event has no `kind`
field (as before `tel:` existed, so both sides stay compatible with older
builds); a look-up is `{"v": 1, "kind": "lookup", "number": ..., "source": "tel"}`.
A second plain start sends `ACTIVATE_LINE` (`"kind": "activate"`): the running
window comes to the front, and the second process exits (ui/telephony.py).
"""

from __future__ import annotations

import getpass
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from app.telephony.caller import Caller, parse_caller
from app.telephony.events import (
    MAX_CALL_ID_LENGTH,
    MAX_LINE_LENGTH,
    MAX_NAME_LENGTH,
    CallEvent,
    CallState,
    new_call_id,
    now_utc,
    parse_json,
    parse_number_argument,
    parse_pop_url,
    parse_state,
    validate_text,
)
from app.telephony.tel import LookupRequest, is_tel_argument, parse_tel_url
from models.limits import PHONE_EXTENSION_LENGTH

WIRE_VERSION = 1
MAX_WIRE_BYTES = 4096
MAX_SOURCE_LENGTH = 32
_SOURCE = re.compile(r"^[a-z][a-z0-9_-]*$")
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")
LOOKUP_KIND = "lookup"
ACTIVATE_LINE = b'{"v":1,"kind":"activate"}\n'

HandoffRequest = CallEvent | LookupRequest


def is_handoff_argv(argv: Sequence[str]) -> bool:
    """True when the command line asks for a pop or a look-up rather than a plain start."""
    return bool(argv) and (
        argv[0] == "pop" or argv[0].lower().startswith("rapport:") or is_tel_argument(argv[0])
    )


def parse_handoff_args(argv: Sequence[str]) -> HandoffRequest:
    """`pop NUMBER [--name NAME]`, one `rapport://pop?...` URL or one `tel:` URL.

    The program name is excluded. A `tel:` URL gives a `LookupRequest`, the
    others a ringing `CallEvent`.

    Hand-written instead of argparse: argparse prints and exits on bad input,
    and a softphone may pass anything as the caller ID.
    """
    received = time.perf_counter()
    args = list(argv)
    if not args:
        raise ValueError("nothing to pop: expected 'pop NUMBER [--name NAME]' or a rapport:// URL")
    if is_tel_argument(args[0]):
        if len(args) != 1:
            raise ValueError("a tel: URL must be the only argument")
        return parse_tel_url(args[0])
    if args[0].lower().startswith("rapport:"):
        if len(args) != 1:
            raise ValueError("a rapport:// URL must be the only argument")
        return parse_pop_url(args[0])
    if args[0] != "pop":
        raise ValueError(f"unknown command {args[0][:40]!r} (expected 'pop' or a rapport:// URL)")
    rest = args[1:]
    caller: Caller | None = None
    name: str | None = None
    while rest:
        arg = rest.pop(0)
        if arg == "--name" or arg.startswith("--name="):
            if name is not None:
                raise ValueError("--name given twice")
            if arg == "--name":
                if not rest:
                    raise ValueError("--name needs a value")
                value = rest.pop(0)
            else:
                value = arg.split("=", 1)[1]
            name = validate_text(value, "name", MAX_NAME_LENGTH).strip()
        elif arg.startswith("--") and len(arg) > 2:
            raise ValueError(f"unknown option {arg[:40]!r}")
        elif caller is None:
            caller = parse_caller(arg)
        else:
            raise ValueError("more than one number given (quote a number that contains spaces)")
    if caller is None:
        raise ValueError("pop needs a NUMBER (use an empty string for a withheld number)")
    return CallEvent(
        call_id=new_call_id(),
        number=caller.number,
        extension=caller.extension,
        name=name or None,
        line=None,
        state=CallState.RINGING,
        at=now_utc(),
        source="handoff",
        received_monotonic=received,
    )


def local_server_name() -> str:
    """The QLocalServer name, unique per user session.

    On a Windows terminal server several agents (and one agent in several
    sessions) share the machine, so the session id is part of the name; on Unix
    the uid is (local sockets live in a shared /tmp).
    """
    try:
        user = getpass.getuser()
    except Exception:  # no login name (containers, services): fall back, never fail start-up
        user = "user"
    user = _UNSAFE_NAME_CHARS.sub("_", user).strip("_.")[:32] or "user"
    return f"rapport-{user}-{_session_id()}"


def _session_id() -> str:
    if sys.platform == "win32":
        import ctypes
        from ctypes import wintypes

        session = wintypes.DWORD()
        kernel32 = ctypes.windll.kernel32
        if kernel32.ProcessIdToSessionId(kernel32.GetCurrentProcessId(), ctypes.byref(session)):
            return f"s{session.value}"
        name = os.environ.get("SESSIONNAME", "console")
        return _UNSAFE_NAME_CHARS.sub("_", name)[:32] or "console"
    return f"u{os.getuid()}"


def encode_event(event: HandoffRequest) -> bytes:
    """One call event or look-up as one JSON line (UTF-8, newline-terminated)."""
    payload: dict[str, object]
    if isinstance(event, LookupRequest):
        payload = {
            "v": WIRE_VERSION,
            "kind": LOOKUP_KIND,
            "number": event.number,
            "source": event.source,
        }
    else:
        payload = {
            "v": WIRE_VERSION,
            "call_id": event.call_id,
            "number": event.number,
            "name": event.name,
            "line": event.line,
            "state": event.state.value,
            "at": event.at.astimezone(UTC).isoformat(),
            "source": event.source,
        }
        if event.extension is not None:
            # Only when there is one: a running instance of an older build refuses
            # unknown fields, and plain numbers must keep popping on it.
            payload["extension"] = event.extension
    line = json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode() + b"\n"
    if len(line) > MAX_WIRE_BYTES:
        raise ValueError("call event too large for the wire")
    return line


def decode_event(line: bytes) -> HandoffRequest:
    """Parse and re-validate a wire line: the sender may be any local process."""
    received = time.perf_counter()
    if len(line) > MAX_WIRE_BYTES:
        raise ValueError(f"wire line longer than {MAX_WIRE_BYTES} bytes")
    try:
        data = parse_json(line)
    except ValueError as exc:
        raise ValueError(f"wire line is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("wire line must be a JSON object")
    if data.get("v") != WIRE_VERSION:
        raise ValueError(f"unsupported wire version {data.get('v')!r}")
    if "kind" in data:
        if data["kind"] != LOOKUP_KIND:
            raise ValueError(f"unknown wire kind {str(data['kind'])[:20]!r}")
        return _decode_lookup(data, received)
    expected = {"v", "call_id", "number", "name", "line", "state", "at", "source", "extension"}
    unknown = set(data) - expected
    if unknown:
        raise ValueError(f"unknown wire fields: {sorted(unknown)[:5]}")
    call_id = validate_text(data.get("call_id"), "call_id", MAX_CALL_ID_LENGTH)
    if not call_id.strip():
        raise ValueError("call_id must not be blank")
    number = data.get("number")
    if not isinstance(number, str):
        raise ValueError("number must be text")
    name = data.get("name")
    line_value = data.get("line")
    source = validate_text(data.get("source"), "source", MAX_SOURCE_LENGTH)
    if not _SOURCE.match(source):
        raise ValueError(f"bad source {source!r}")
    extension = data.get("extension")
    if extension is not None and not (
        isinstance(extension, str)
        and extension.isascii()
        and extension.isdigit()
        and len(extension) <= PHONE_EXTENSION_LENGTH
    ):
        raise ValueError(f"bad extension {str(extension)[:20]!r}")
    return CallEvent(
        call_id=call_id,
        number=parse_number_argument(number),
        extension=extension,
        name=None if name is None else validate_text(name, "name", MAX_NAME_LENGTH),
        line=None if line_value is None else validate_text(line_value, "line", MAX_LINE_LENGTH),
        state=parse_state(data.get("state")),
        at=_parse_at(data.get("at")),
        source=source,
        received_monotonic=received,
    )


def _decode_lookup(data: dict[str, object], received: float) -> LookupRequest:
    unknown = set(data) - {"v", "kind", "number", "source"}
    if unknown:
        raise ValueError(f"unknown wire fields: {sorted(unknown)[:5]}")
    number = data.get("number")
    if not isinstance(number, str):
        raise ValueError("number must be text")
    source = validate_text(data.get("source"), "source", MAX_SOURCE_LENGTH)
    if not _SOURCE.match(source):
        raise ValueError(f"bad source {source!r}")
    checked = parse_number_argument(number)
    if not any(char.isdigit() for char in checked):
        raise ValueError("a look-up needs a number")
    return LookupRequest(number=checked, source=source, received_monotonic=received)


def _parse_at(value: object) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("at must be an ISO 8601 timestamp")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"at {value!r} is not an ISO 8601 timestamp") from None
    if at.tzinfo is None:
        raise ValueError("at must carry a UTC offset")
    try:
        return at.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is before year 1 in UTC
        raise ValueError(f"at {value!r} is out of range") from None
