"""Caller IDs in the forms PBXs and softphones really send them.

Accepted (docs/it-deployment.md lists them for IT):

- a plain number with the usual punctuation: `+1 617 555 0142`, `(617) 555-0142`,
  `617.555.0142`, `0016175550142`;
- the same with an extension: `+16175550142;ext=12`, `617-555-0142 x12`,
  `617-555-0142 ext. 12`;
- `tel:` URIs (RFC 3966) with parameters: `tel:+1-617-555-0142;ext=12`,
  `tel:5550142;phone-context=+1-617`;
- `sip:` and `sips:` URIs whose user part is a number, with a host name, an IPv4
  or [IPv6] address, a port and URI parameters: `sip:+16175550142@pbx;user=phone`,
  `sip:6175550142@192.0.2.10:5060;transport=udp`;
- either URI in angle brackets, with a display name and header parameters
  as in a From header: `"Sandra" <sip:+16175550142@pbx>;tag=as5f1`;
- a withheld marker (`anonymous`, `<unknown>`, `sip:anonymous@anonymous.invalid`).

The number is what the pop matches on; the extension is kept on the call record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from app.telephony.numbers import MAX_NUMBER_LENGTH, clean_peer_text, is_withheld
from app.telephony.numbers import parse_number_argument as _plain_number
from app.telephony.tel import is_tel_argument, parse_tel_number, telephone_subscriber
from models.limits import PHONE_EXTENSION_LENGTH

MAX_CALLER_LENGTH = 256
MAX_SIP_PARAMETERS = 12
_SIP_SCHEMES = ("sip:", "sips:")
# A From-header style name-addr: an optional display name, then <URI>, then ;params.
_NAME_ADDR = re.compile(r'^(?:"(?:[^"\\]|\\.)*"\s*|[^"<>]*)<([^<>]*)>((?:;[^<>]*)?)$')
# A plain number's extension suffix: ";ext=12", " x12", " ext 12", "ext.12".
_EXTENSION_SUFFIX = re.compile(r"(?:;ext=|\s*(?:ext\.?|x)\s*)(\d+)$", re.IGNORECASE)
_HOST = re.compile(
    r"^(?:\[[0-9A-Fa-f:.]{2,45}\]"  # [IPv6]
    r"|[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.?)"
    r"(?::\d{1,5})?$"
)
_SIP_PARAM = re.compile(
    r"^[A-Za-z0-9\-_.!~*'()%]{1,32}"  # name
    r"(?:=[A-Za-z0-9\-_.!~*'()%\[\]/:&+$]{0,64})?$"  # an optional value
)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the number to match (or a withheld marker) and an extension."""

    number: str
    extension: str | None = None


def parse_caller(text: object) -> Caller:
    """A caller ID from an untrusted source in any accepted form; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError("number must be text")
    value = text.strip()
    if len(value) > MAX_CALLER_LENGTH:
        raise ValueError(
            f"number is too long ({len(value)} characters, at most {MAX_CALLER_LENGTH})"
        )
    if not value.isprintable():
        bad = next(char for char in value if not char.isprintable())
        raise ValueError(f"number contains {bad!r}, a control character")
    if is_withheld(value):
        return Caller(value)
    bracketed = _NAME_ADDR.match(value)
    if bracketed:
        value = bracketed.group(1).strip()
        if is_withheld(value):
            return Caller(value)
        if not (is_tel_argument(value) or _is_sip(value)):
            raise ValueError(f"<{_short(value)}> is not a sip:, sips: or tel: URI")
    if is_tel_argument(value):
        number, extension = parse_tel_number(value)
        return Caller(number, _extension(extension))
    if _is_sip(value):
        return _parse_sip(value)
    suffix = _EXTENSION_SUFFIX.search(value)
    if suffix is not None:
        number = _plain_number(value[: suffix.start()])
        if not any(char.isdigit() for char in number):
            raise ValueError(f"{_short(value)} has an extension but no number")
        return Caller(number, _extension(suffix.group(1)))
    return Caller(_plain_number(value))


def caller_from_peer(text: str | None, fallback: str | None = None) -> Caller:
    """Best effort for a PBX or SIP peer: the parsed caller, else the cleaned
    `fallback` (or text).

    Network adapters must not lose a call over an odd caller ID; the pop then
    shows what was sent and matches nobody.
    """
    try:
        return parse_caller(text or "")
    except ValueError:
        shown = text if fallback is None else fallback
        return Caller(clean_peer_text(shown, MAX_NUMBER_LENGTH) or "")


def _is_sip(value: str) -> bool:
    return value[:5].lower() in _SIP_SCHEMES or value[:4].lower() in _SIP_SCHEMES


def _parse_sip(uri: str) -> Caller:
    """`sip:USER[:PASSWORD]@HOST[:PORT][;PARAMS]`, USER being a telephone number."""
    rest = uri.split(":", 1)[1]
    if "?" in rest:
        raise ValueError("a caller's SIP URI must not carry headers (?...)")
    userinfo, at, hostport_params = rest.rpartition("@")
    if not at or not userinfo:
        raise ValueError(f"SIP URI {_short(uri)} has no user part (no number)")
    hostport, *params = hostport_params.split(";")
    if not _HOST.match(hostport):
        raise ValueError(f"SIP URI has a bad host {_short(hostport)}")
    if len(params) > MAX_SIP_PARAMETERS or not all(_SIP_PARAM.match(p) for p in params):
        raise ValueError(f"SIP URI has bad parameters: {_short(';'.join(params))}")
    user = userinfo.split(":", 1)[0]  # a password has no business here; ignore it
    try:
        user = unquote(user, errors="strict")
    except UnicodeDecodeError:
        raise ValueError("SIP URI has a malformed %-escape") from None
    if not user.isprintable():
        raise ValueError("SIP URI contains control characters")
    if is_withheld(user):  # sip:anonymous@anonymous.invalid (RFC 3323)
        return Caller(user)
    try:
        number, extension = telephone_subscriber(user, "sip:")
    except ValueError as exc:
        raise ValueError(f"SIP URI user {_short(user)} is not a phone number ({exc})") from None
    return Caller(number, _extension(extension))


def _extension(digits: str | None) -> str | None:
    if digits is None:
        return None
    if len(digits) > PHONE_EXTENSION_LENGTH:
        raise ValueError(f"extension is too long (at most {PHONE_EXTENSION_LENGTH} digits)")
    return digits


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")
