"""Phone numbers as people say them, matched the way a call centre needs."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

# The kind of a phone follows its number; the seeder (models/) needs the same rule.
from models.phone_kinds import kind_for as kind_for
from models.phone_kinds import line_type as line_type

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


def _parsed(text: str, default_region: str) -> phonenumbers.PhoneNumber | None:
    try:
        parsed = phonenumbers.parse(text, default_region.upper())
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


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
