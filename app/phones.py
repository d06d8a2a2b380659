"""Phone numbers as people say them, matched the way a call centre needs."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

TAIL_DIGITS = 7
_DIGITS = re.compile(r"\D+")
# Something a person could mean as a phone number: digits with the usual punctuation.
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]{3,30}$")


@dataclass(frozen=True)
class PhoneQuery:
    """A typed or received number: its E.164 form when valid, and its last digits."""

    raw: str
    e164: str | None
    tail: str | None


def looks_like_phone(text: str) -> bool:
    return bool(_PHONE_LIKE.match(text.strip())) and len(digits(text)) >= 3


def digits(text: str) -> str:
    return _DIGITS.sub("", text)


def normalize(raw: str, default_region: str) -> PhoneQuery:
    """Parse `raw` with the default region; fall back to its last digits.

    "0415 555 0134" is not a valid number anywhere, but its last digits still
    find "+1 415 555 0134"; that fallback is what keeps a pop from failing.
    """
    text = raw.strip()
    e164: str | None = None
    try:
        parsed = phonenumbers.parse(text, default_region.upper())
        if phonenumbers.is_valid_number(parsed):
            e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        e164 = None
    only_digits = digits(text)
    tail = only_digits[-TAIL_DIGITS:] if len(only_digits) >= TAIL_DIGITS else None
    return PhoneQuery(raw=raw, e164=e164, tail=tail)


def to_e164(raw: str, default_region: str) -> str:
    """The E.164 form of a number a user is saving; ValueError with a clear message if invalid."""
    query = normalize(raw, default_region)
    if query.e164 is None:
        raise ValueError(
            f"{raw.strip()!r} is not a valid phone number"
            f" (for numbers outside {default_region.upper()} start with + and the country code)"
        )
    return query.e164


def tail_of(e164: str) -> str:
    return digits(e164)[-TAIL_DIGITS:]


# What the number itself says about the line: libphonenumber's type, folded to the
# two answers an agent cares about. North American numbers (FIXED_LINE_OR_MOBILE)
# and special services say neither.
_LANDLINE = frozenset({phonenumbers.PhoneNumberType.FIXED_LINE})
_MOBILE = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.PAGER})


def _parsed(number: str, default_region: str = "US") -> phonenumbers.PhoneNumber | None:
    try:
        parsed = phonenumbers.parse(number.strip(), default_region.upper())
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


def line_type(e164: str | None) -> str | None:
    """"landline", "mobile", or None when the number does not say (or is not valid)."""
    parsed = _parsed(e164) if e164 else None
    if parsed is None:
        return None
    kind = phonenumbers.number_type(parsed)
    if kind in _LANDLINE:
        return "landline"
    if kind in _MOBILE:
        return "mobile"
    return None


def kind_for(e164: str | None, chosen: str | None = None, hint: str | None = None) -> str:
    """The phone kind to store (mobile, home, work, other).

    What the agent chose wins. Otherwise the number decides: a mobile number is
    "mobile"; a landline is the hint when that is a landline kind (home, work),
    else "home". A number that does not say (North America) keeps the hint, or
    "other": calling a landline "mobile" misleads the agent who texts it.
    """
    if chosen:
        return chosen
    line = line_type(e164)
    if line == "mobile":
        return "mobile"
    if line == "landline":
        return hint if hint in ("home", "work") else "home"
    return hint or "other"


def display(number: str | None, default_region: str) -> str:
    """One way to show a phone number everywhere (header, household, call log, toast, search).

    From its E.164 value: national format for the default region's country code
    ("(415) 555-0134" in the US), international for others ("+44 20 7946 0018"), so
    an agent reads local numbers as they dial them and foreign ones unambiguously.
    Text that is not a valid number is shown as given, trimmed.
    """
    text = (number or "").strip()
    parsed = _parsed(text, default_region) if text else None
    if parsed is None:
        return text
    home = phonenumbers.country_code_for_region(default_region.upper())
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, style)
