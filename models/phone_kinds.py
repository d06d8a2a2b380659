"""The kind of a phone (mobile, home, work, other) as its number says it.

In `models/` because the demo seeder labels its phones with the same rule that the
contact service applies (`app.phones` re-exports it).
"""

from __future__ import annotations

import phonenumbers

# What the number itself says about the line: libphonenumber's type, folded to the
# two answers an agent cares about. North American numbers (FIXED_LINE_OR_MOBILE)
# and special services say neither.
_LANDLINE = frozenset({phonenumbers.PhoneNumberType.FIXED_LINE})
_MOBILE = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.PAGER})


def line_type(e164: str | None) -> str | None:
    """The line as the number says it: "landline", "mobile", or None (does not say)."""
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


def _parsed(e164: str) -> phonenumbers.PhoneNumber | None:
    # No is_valid_number here: number_type answers UNKNOWN (neither kind) for a number
    # that is not valid, and asking both doubled the cost of an import's phones.
    try:
        return phonenumbers.parse(e164.strip(), None)
    except phonenumbers.NumberParseException:
        return None
