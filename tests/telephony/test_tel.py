"""`tel:` links: hostile-input validation and the hand-off wire format for look-ups."""

from __future__ import annotations

import json
import re

import pytest

from app.telephony.events import CallEvent
from app.telephony.handoff import decode_event, encode_event, is_handoff_argv, parse_handoff_args
from app.telephony.tel import LookupRequest, parse_tel_url


@pytest.mark.parametrize(
    ("url", "number"),
    [
        ("tel:+14155550134", "+14155550134"),
        ("tel:+1-415-555-0134", "+14155550134"),
        ("TEL:+1.415.555.0134", "+14155550134"),
        ("tel:+1(415)555-0134", "+14155550134"),
        ("tel:%2B1-415-555-0134", "+14155550134"),
        ("tel:+1%20415%20555%200134", "+14155550134"),
        ("tel://+14155550134", "+14155550134"),
        ("tel:+1-415-555-0134;ext=12", "+14155550134"),
        ("tel:555-0134;phone-context=+1-415", "+14155550134"),
        ("tel:5550134;PHONE-CONTEXT=+1-415;ext=7", "+14155550134"),
        ("tel:020-7946-0018;phone-context=example.co.uk", "02079460018"),
        ("tel:02079460018", "02079460018"),
        ("  tel:+442079460018  ", "+442079460018"),
    ],
)
def test_tel_urls_are_understood(url: str, number: str) -> None:
    request = parse_tel_url(url)
    assert request == LookupRequest(number=number)
    assert request.source == "tel"
    assert is_handoff_argv([url.strip()])
    assert parse_handoff_args([url.strip()]) == request


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("tel:", "has no digits"),
        ("tel:+", "has no digits"),
        ("tel:anonymous", "contains 'a'"),
        ("tel:12", "too short"),
        ("tel:+1415;rm -rf ~", "bad tel: parameter name"),
        ("tel:+1415$(reboot)", "contains '$'"),
        ("tel:+1415%0a5550134", "control characters"),
        ("tel:+1415%00", "control characters"),
        ("tel:+1415\n5550134", "control characters"),
        ("tel:+1415%ff", "malformed %-escape"),
        ("tel:+1%E2%80%AE4155550134", "control characters"),  # right-to-left override
        ("tel:+１４１５５５５０１３４", "contains"),  # full-width digits
        ("tel:+14155550134?body=x", "query or a fragment"),
        ("tel:+14155550134#x", "query or a fragment"),
        ("tel:+1" + "5" * 40, "too long"),
        ("tel:+1" + "5" * 300, "too long"),
        ("tel:+14155550134;ext=12;ext=13", "repeats ext"),
        ("tel:+14155550134;ext=1x", "contains 'x'"),
        ("tel:+14155550134" + ";a=1" * 9, "more than 8 parameters"),
        ("tel:+14155550134;x=" + "a" * 65, "bad value"),
        ("tel:+14155550134;x=<script>", "bad value"),
        ("tel:5550134;phone-context=evil domain", "bad value"),
        ("tel:5550134;phone-context=-x-", "bad phone-context"),
        ("tel:5550134;phone-context=+1-4a5", "contains 'a'"),
        ("tel:*21", "contains '*'"),
        ("sip:+14155550134", "not a tel: URL"),
    ],
)
def test_hostile_tel_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_tel_url(url)


def test_tel_must_be_the_only_argument() -> None:
    with pytest.raises(ValueError, match="only argument"):
        parse_handoff_args(["tel:+14155550134", "--name", "x"])


def test_lookup_wire_round_trip_and_old_call_events_still_decode() -> None:
    request = parse_tel_url("tel:+1-415-555-0134")
    line = encode_event(request)
    assert json.loads(line) == {"v": 1, "kind": "lookup", "number": "+14155550134", "source": "tel"}
    assert decode_event(line) == request
    # A call event is encoded without "kind", exactly as before tel: existed.
    call = parse_handoff_args(["pop", "+14155550134"])
    assert isinstance(call, CallEvent)
    assert "kind" not in json.loads(encode_event(call))
    old_line = (
        b'{"v":1,"call_id":"c1","number":"+14155550134","name":null,"line":null,'
        b'"state":"ringing","at":"2024-05-01T10:00:00+00:00","source":"handoff"}\n'
    )
    old = decode_event(old_line)
    assert isinstance(old, CallEvent) and old.call_id == "c1"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"kind": "dial", "number": "123", "source": "tel"}, "unknown wire kind"),
        ({"kind": "lookup", "number": "123", "source": "tel", "call_id": "x"}, "unknown wire"),
        ({"kind": "lookup", "number": "1;2", "source": "tel"}, "contains ';'"),
        ({"kind": "lookup", "number": "", "source": "tel"}, "needs a number"),
        ({"kind": "lookup", "number": 123, "source": "tel"}, "must be text"),
        ({"kind": "lookup", "number": "123", "source": "Bad Source"}, "bad source"),
    ],
)
def test_lookup_wire_decode_validates(payload: dict[str, object], message: str) -> None:
    line = json.dumps({"v": 1, **payload}).encode()
    with pytest.raises(ValueError, match=re.escape(message)):
        decode_event(line)
