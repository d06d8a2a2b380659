"""The one call event every telephony source produces, and validation of hostile input.

Caller numbers and names arrive from softphone command lines, URLs, HTTP bodies and
SIP headers: all of it is attacker-controlled text, so every entry point goes
through the validators here before anything reaches the UI or the database.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.telephony.caller import Caller as Caller
from app.telephony.caller import parse_caller
from app.telephony.numbers import MAX_NUMBER_LENGTH as MAX_NUMBER_LENGTH
from app.telephony.numbers import WITHHELD_MARKERS as WITHHELD_MARKERS
from app.telephony.numbers import clean_peer_text as clean_peer_text
from app.telephony.numbers import is_withheld, shorten
from app.telephony.numbers import parse_number_argument as parse_number_argument
from models.limits import CALL_ID_LENGTH

MAX_NAME_LENGTH = 80
MAX_LINE_LENGTH = 80
MAX_CALL_ID_LENGTH = CALL_ID_LENGTH  # the column's length: nothing accepted can fail to store
MAX_URL_LENGTH = 2048


class CallState(StrEnum):
    """Where a call is in its life, as far as a screen pop cares."""

    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"


@dataclass(frozen=True)
class CallEvent:
    """One change of one call, whichever source reported it."""

    call_id: str
    number: str
    name: str | None
    line: str | None
    state: CallState
    at: datetime
    source: str
    # Digits of the caller's extension ("x12", ";ext=12"); the pop matches on `number`.
    extension: str | None = None
    # perf_counter at arrival: lets the UI log how long a pop took end to end.
    received_monotonic: float = field(default_factory=time.perf_counter, compare=False)

    @property
    def withheld(self) -> bool:
        return is_withheld(self.number)


def now_utc() -> datetime:
    return datetime.now(UTC)


def new_call_id() -> str:
    return uuid.uuid4().hex


def validate_text(value: object, what: str, limit: int) -> str:
    """A printable string of at most `limit` characters (control and bidi characters refused)."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text, not {type(value).__name__}")
    if len(value) > limit:
        raise ValueError(f"{what} is too long ({len(value)} characters, at most {limit})")
    # isprintable() refuses C0/C1 controls, line separators and format characters
    # such as RIGHT-TO-LEFT OVERRIDE, which could disguise a name in the pop-up.
    if not value.isprintable():
        bad = next(char for char in value if not char.isprintable())
        raise ValueError(f"{what} contains the control character {bad!r}")
    return value


def _optional_text(value: object, what: str, limit: int) -> str | None:
    if value is None:
        return None
    text = validate_text(value, what, limit).strip()
    return text or None


def parse_json(raw: bytes) -> Any:
    """Decode untrusted JSON; every way it can fail is a ValueError.

    json.loads has three more than JSONDecodeError: RecursionError for deep
    nesting ("[" x 1000), ValueError for integers over 4,300 digits, and
    UnicodeDecodeError for bytes that are not UTF-8.
    """
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(str(exc)[:120]) from None


def parse_state(value: object) -> CallState:
    if not isinstance(value, str):
        raise ValueError("state must be text")
    try:
        return CallState(value.strip().lower())
    except ValueError:
        allowed = ", ".join(state.value for state in CallState)
        raise ValueError(f"unknown state {shorten(value)} (expected {allowed})") from None


def parse_pop_url(url: str) -> CallEvent:
    """A `rapport://pop?number=...&name=...` URL as a ringing CallEvent (source "handoff")."""
    received = time.perf_counter()
    if not isinstance(url, str):
        raise ValueError("URL must be text")
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"URL is too long ({len(url)} characters, at most {MAX_URL_LENGTH})")
    if not url.isprintable():
        raise ValueError("URL contains control characters")
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "rapport":
        raise ValueError(f"URL scheme must be rapport://, not {shorten(parts.scheme)}")
    # Browsers and shells hand over both rapport://pop?... and rapport:pop?...
    target = (parts.netloc or parts.path).strip("/").lower()
    if target != "pop" or (parts.netloc and parts.path.strip("/")):
        raise ValueError(f"unknown rapport URL action {shorten(parts.netloc + parts.path)}")
    if parts.fragment:
        raise ValueError("rapport URL must not have a fragment")
    try:
        query = parse_qs(
            parts.query,
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
            max_num_fields=10,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"malformed query in rapport URL: {exc}") from None
    for key in ("number", "name", "line"):
        if len(query.get(key, [])) > 1:
            raise ValueError(f"rapport URL repeats {key}=")
    if "number" not in query:
        raise ValueError("rapport URL has no number=")
    caller = parse_caller(query["number"][0])
    name = _optional_text(query.get("name", [None])[0], "name", MAX_NAME_LENGTH)
    line = _optional_text(query.get("line", [None])[0], "line", MAX_LINE_LENGTH)
    return CallEvent(
        call_id=new_call_id(),
        number=caller.number,
        extension=caller.extension,
        name=name,
        line=line,
        state=CallState.RINGING,
        at=now_utc(),
        source="handoff",
        received_monotonic=received,
    )


def event_from_json(
    data: dict[str, Any], source: str, *, received_monotonic: float | None = None
) -> CallEvent:
    """A CallEvent from a decoded JSON object (webhook body); ValueError names the bad field."""
    received = time.perf_counter() if received_monotonic is None else received_monotonic
    if not isinstance(data, dict):
        raise ValueError("call event must be a JSON object")
    raw_id = data.get("call_id")
    call_id = (
        new_call_id() if raw_id is None else validate_text(raw_id, "call_id", MAX_CALL_ID_LENGTH)
    )
    if not call_id.strip():
        raise ValueError("call_id must not be blank")
    if "number" not in data:
        raise ValueError("number is missing (send an empty string for a withheld number)")
    raw_number = data["number"]
    if not isinstance(raw_number, str):
        raise ValueError(f"number must be text, not {type(raw_number).__name__}")
    caller = parse_caller(raw_number)
    name = _optional_text(data.get("name"), "name", MAX_NAME_LENGTH)
    line = _optional_text(data.get("line"), "line", MAX_LINE_LENGTH)
    state = parse_state(data.get("state", CallState.RINGING.value))
    return CallEvent(
        call_id=call_id.strip(),
        number=caller.number,
        extension=caller.extension,
        name=name,
        line=line,
        state=state,
        at=now_utc(),
        source=source,
        received_monotonic=received,
    )
