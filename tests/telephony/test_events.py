"""Validation of hostile numbers, URLs, JSON bodies, hand-off arguments and the wire format."""

from __future__ import annotations

import json
import re
from datetime import UTC

import pytest

from app.telephony import CallEvent, CallState, TelephonySettings
from app.telephony.baresip import number_from_uri
from app.telephony.events import event_from_json, parse_number_argument, parse_pop_url
from app.telephony.handoff import (
    decode_event,
    encode_event,
    is_handoff_argv,
    local_server_name,
    parse_handoff_args,
)


@pytest.mark.parametrize(
    "text",
    ["+1 (415) 555-0134", "0415 555 0134", "+44 20 7946 0018", "030/1234.567", "  0123  "],
)
def test_plain_numbers_are_accepted(text: str) -> None:
    assert parse_number_argument(text) == text.strip()


@pytest.mark.parametrize(
    "marker", ["", "anonymous", "Anonymous", "UNKNOWN", "<unknown>", "private", "Restricted"]
)
def test_withheld_markers_are_accepted_and_read_as_withheld(marker: str) -> None:
    number = parse_number_argument(marker)
    event = parse_handoff_args(["pop", number])
    assert event.withheld


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1" * 33, "too long"),
        ("+1 415; rm -rf ~", "contains ';'"),
        ("0415\n555", "contains '\\n'"),
        ("0415\x00", "contains '\\x00'"),
        ("$(reboot)", "contains '$'"),
        ("'; DROP TABLE customers; --", "contains"),
        ("+-()", "no digits"),
        ("４１５", "contains"),  # full-width digits are not what a PBX sends
        ("%0a123", "contains '%'"),
    ],
)
def test_garbage_numbers_are_refused_with_a_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_number_argument(text)


def test_pop_url_round_trip() -> None:
    event = parse_pop_url("rapport://pop?number=%2B14155550134&name=Jane%20Doe")
    assert (event.number, event.name, event.state, event.source) == (
        "+14155550134",
        "Jane Doe",
        CallState.RINGING,
        "handoff",
    )
    assert event.at.tzinfo is UTC
    assert not event.withheld
    assert parse_pop_url("RAPPORT:pop?number=anonymous").withheld


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://pop?number=123", "scheme must be rapport"),
        ("javascript:alert(1)", "scheme must be rapport"),
        ("rapport://admin?number=123", "unknown rapport URL action"),
        ("rapport://pop/../../etc?number=123", "unknown rapport URL action"),
        ("rapport://pop?name=x", "no number"),
        ("rapport://pop?number=123&number=456", "repeats number"),
        ("rapport://pop?number=123%0Aevil", "contains '\\n'"),
        ("rapport://pop?number=123&name=Jane%0D%0AX-Evil:1", "control character"),
        ("rapport://pop?number=123&name=%E2%80%AEeoD", "control character"),  # RTL override
        ("rapport://pop?number=123&name=" + "a" * 81, "too long"),
        ("rapport://pop?number=123&name=%FF%FE", "malformed query"),
        ("rapport://pop?number=1#frag", "fragment"),
        ("rapport://pop?number=1\x07", "control characters"),
        ("rapport://pop?number=" + "1" * 3000, "URL is too long"),
    ],
)
def test_hostile_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_pop_url(url)


def test_event_from_json_fills_defaults() -> None:
    event = event_from_json({"number": "+1 415 555 0134", "name": "Jane"}, "webhook")
    assert event.state is CallState.RINGING
    assert len(event.call_id) == 32
    assert event.line is None
    ended = event_from_json({"call_id": "c-1", "number": "", "state": "ENDED"}, "webhook")
    assert (ended.call_id, ended.state, ended.withheld) == ("c-1", CallState.ENDED, True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "x"}, "number is missing"),
        ({"number": 4155550134}, "number must be text"),
        ({"number": "1", "state": "on-hold"}, "unknown state"),
        ({"number": "1", "state": 3}, "state must be text"),
        ({"number": "1", "name": ["a"]}, "name must be text"),
        ({"number": "1", "name": "x" * 81}, "name is too long"),
        ({"number": "1", "line": "a\tb"}, "control character"),
        ({"number": "1", "call_id": "x" * 129}, "call_id is too long"),
        ({"number": "1", "call_id": "  "}, "call_id must not be blank"),
    ],
)
def test_event_from_json_refuses_bad_fields(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        event_from_json(data, "webhook")


def test_handoff_arguments() -> None:
    event = parse_handoff_args(["pop", "+14155550134", "--name", "Jane Doe"])
    assert (event.number, event.name, event.source) == ("+14155550134", "Jane Doe", "handoff")
    assert parse_handoff_args(["pop", "0415 555 0134", "--name=Ann"]).name == "Ann"
    assert parse_handoff_args(["rapport://pop?number=123"]).number == "123"
    assert is_handoff_argv(["pop", "1"]) and is_handoff_argv(["rapport://pop?number=1"])
    assert not is_handoff_argv([]) and not is_handoff_argv(["--debug"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "nothing to pop"),
        (["dial", "123"], "unknown command"),
        (["pop"], "needs a NUMBER"),
        (["pop", "1", "2"], "more than one number"),
        (["pop", "1", "--name"], "--name needs a value"),
        (["pop", "1", "--name", "a", "--name", "b"], "--name given twice"),
        (["pop", "1", "--exec", "x"], "unknown option"),
        (["pop", "1", "--name", "a\x1b[31m"], "control character"),
        (["pop", "1;id"], "contains ';'"),
        (["rapport://pop?number=1", "extra"], "must be the only argument"),
    ],
)
def test_hostile_handoff_arguments_are_refused(argv: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_handoff_args(argv)


def test_wire_format_round_trip() -> None:
    event = parse_handoff_args(["pop", "+14155550134", "--name", "Zoë Ünal"])
    line = encode_event(event)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    decoded = decode_event(line)
    assert decoded == event  # received_monotonic is not part of equality
    assert decoded.received_monotonic >= event.received_monotonic


def _wire(**changes: object) -> bytes:
    base = json.loads(encode_event(parse_handoff_args(["pop", "123"])))
    base.update(changes)
    return json.dumps(base).encode()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[]", "JSON object"),
        (b"x" * 5000, "longer than"),
        (_wire(v=2), "unsupported wire version"),
        (_wire(extra=1), "unknown wire fields"),
        (_wire(number="1;2"), "contains ';'"),
        (_wire(state="hold"), "unknown state"),
        (_wire(at="yesterday"), "not an ISO 8601"),
        (_wire(at="2024-01-01T10:00:00"), "UTC offset"),
        (_wire(source="Evil Source"), "bad source"),
        (_wire(name="a\u2028b"), "control character"),
        (_wire(call_id=None), "call_id must be text"),
        # Any local process can write to the hand-off socket: deep nesting and a
        # timestamp that leaves the calendar in UTC are refused, not crashes.
        (b"[" * 1000, "not JSON"),
        (b'{"v": 1, "x": ' + b"[" * 1500 + b"]" * 1500 + b"}", "not JSON"),
        (_wire(extension="12a"), "bad extension"),
        (_wire(extension=12), "bad extension"),
        (_wire(at="0001-01-01T00:00:00+14:00"), "out of range"),
        (_wire(at="9999-12-31T23:59:59-14:00"), "out of range"),
    ],
)
def test_wire_decode_validates_everything(line: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        decode_event(line)


def test_local_server_name_is_per_user_and_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "DOMAIN\\jane doe/../x")
    name = local_server_name()
    assert re.fullmatch(r"rapport-[A-Za-z0-9_.-]+-u\d+", name), name
    assert "/" not in name and "\\" not in name and " " not in name


@pytest.mark.parametrize(
    ("uri", "number"),
    [
        ("sip:+14155550134@127.0.0.1:5060", "+14155550134"),
        ("sips:0415550134@pbx.example;transport=tls", "0415550134"),
        ('"Jane" <sip:%2B4420794600@host>', "+4420794600"),
        ("sip:+1415;phone-context=x@host", "+1415"),
        ("tel:+14155550134", "+14155550134"),
        ("sip:anonymous@anonymous.invalid", "anonymous"),
    ],
)
def test_number_from_sip_uri(uri: str, number: str) -> None:
    assert number_from_uri(uri) == number


def test_settings_repr_hides_secrets() -> None:
    settings = TelephonySettings(webhook_token="tok-123", ami_secret="pw-456")
    assert "tok-123" not in repr(settings) and "pw-456" not in repr(settings)
    assert isinstance(parse_pop_url("rapport://pop?number=1"), CallEvent)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sip:alice@pbx.example.com", "is not a phone number"),
        ("sip:pbx.example.com", "no user part"),
        ("sip:+16175550142@pbx?Subject=x", "must not carry headers"),
        ("sip:+16175550142@bad host", "bad host"),
        ("sip:+1617%ff@pbx", "malformed %-escape"),
        ("<http://example.com/+16175550142>", "is not a sip:, sips: or tel: URI"),
        ("617-555-0142 x" + "1" * 17, "extension is too long"),
        ("x12", "has an extension but no number"),
        ("+1 617; rm -rf ~", "contains ';'"),
        ("sip:+1617\n5550142@pbx", "control character"),
        ("1" * 300, "too long"),
    ],
)
def test_caller_forms_that_are_not_numbers_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_handoff_args(["pop", text])


def test_extension_travels_the_wire_only_when_there_is_one() -> None:
    plain = encode_event(parse_handoff_args(["pop", "+16175550142"]))
    assert b"extension" not in plain  # an older running instance refuses unknown fields
    with_extension = parse_handoff_args(["pop", "sip:+16175550142;ext=7@pbx"])
    assert (with_extension.number, with_extension.extension) == ("+16175550142", "7")
    assert decode_event(encode_event(with_extension)) == with_extension
    anonymous = parse_handoff_args(["pop", '"Anonymous" <sip:anonymous@anonymous.invalid>'])
    assert anonymous.withheld and anonymous.extension is None
