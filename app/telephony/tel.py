"""`tel:` links (RFC 3966): "find this person", never an incoming call.

Windows offers Rapport as a handler for `tel:`; a click on `tel:+1-415-555-0134`
in a browser or mail client starts `rapport tel:+1-415-555-0134`. The number is
hostile text like every other hand-off argument: it is validated here, then
handed to the running instance, which searches for it. It creates no call
record.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from urllib.parse import unquote

from app.telephony.numbers import parse_number_argument

MAX_TEL_URL_LENGTH = 256
MAX_TEL_PARAMETERS = 8
MAX_PARAMETER_LENGTH = 64
VISUAL_SEPARATORS = frozenset("-.()")
_PARAM_NAME = re.compile(r"^[A-Za-z0-9-]{1,32}$")
# RFC 3966 paramchar, without '%' escapes that would decode to something odd.
_PARAM_VALUE = re.compile(r"^[A-Za-z0-9\-_.!~*'()\[\]/:&+$%]*$")
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})*\.?$")


@dataclass(frozen=True)
class LookupRequest:
    """Someone asked to look a number up (a `tel:` click): search it, record nothing."""

    number: str
    source: str = "tel"
    received_monotonic: float = field(default_factory=time.perf_counter, compare=False)


def is_tel_argument(arg: str) -> bool:
    return arg[:4].lower() == "tel:"


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _digits_with_separators(text: str, what: str) -> str:
    """Digits and RFC 3966 visual separators only; returns the digits."""
    for char in text:
        if not (char.isascii() and char.isdigit()) and char not in VISUAL_SEPARATORS:
            raise ValueError(
                f"{what} {_short(text)} contains {char!r}; a tel: number holds digits"
                " and - . ( ) only"
            )
    digits = "".join(char for char in text if char.isdigit())
    if not digits:
        raise ValueError(f"{what} {_short(text)} has no digits")
    return digits


def parse_tel_url(url: str) -> LookupRequest:
    """Validate `tel:+1-415-555-0134;ext=12`, `tel:555-0134;phone-context=+1-415`, ...

    Global numbers keep their leading `+`; a local number with a global
    `phone-context` is prefixed with it; a local number with a domain context
    (or none) is searched as given, in the default region. `ext`, `isub` and
    other parameters are checked and then ignored: the search is on the number.
    """
    received = time.perf_counter()
    number, _extension = parse_tel_number(url)
    return LookupRequest(number=number, received_monotonic=received)


def parse_tel_number(url: str) -> tuple[str, str | None]:
    """The number and the `ext` parameter's digits (None without one) of a `tel:` URI."""
    if not isinstance(url, str):
        raise ValueError("tel: URL must be text")
    text = url.strip()
    if len(text) > MAX_TEL_URL_LENGTH:
        raise ValueError(
            f"tel: URL is too long ({len(text)} characters, at most {MAX_TEL_URL_LENGTH})"
        )
    if not text.isprintable():
        raise ValueError("tel: URL contains control characters")
    if not is_tel_argument(text):
        raise ValueError(f"not a tel: URL: {_short(text)}")
    body = text[4:]
    if body.startswith("//"):  # tel://+1... is wrong but common in web pages
        body = body[2:]
    if "?" in body or "#" in body:
        raise ValueError("tel: URL must not have a query or a fragment")
    try:
        body = unquote(body, errors="strict")
    except UnicodeDecodeError:
        raise ValueError("tel: URL has a malformed %-escape") from None
    if not body.isprintable():  # %0a, %00 and friends, now decoded
        raise ValueError("tel: URL contains control characters")
    return telephone_subscriber(body, "tel:")


def telephone_subscriber(body: str, what: str) -> tuple[str, str | None]:
    """RFC 3966 `number;param=value...` (a tel: URI's body, a SIP URI's user part).

    Returns the number to search and the extension's digits; ValueError otherwise.
    """
    number_part, *raw_params = body.split(";")
    number_part = number_part.replace(" ", "")  # %20 between digit groups
    if len(raw_params) > MAX_TEL_PARAMETERS:
        raise ValueError(f"{what} URL has more than {MAX_TEL_PARAMETERS} parameters")
    params: dict[str, str] = {}
    for raw in raw_params:
        name, _, value = raw.partition("=")
        name = name.strip().lower()
        if not _PARAM_NAME.match(name):
            raise ValueError(f"bad {what} parameter name {_short(name)}")
        if name in params:
            raise ValueError(f"{what} URL repeats {name}")
        if len(value) > MAX_PARAMETER_LENGTH or not _PARAM_VALUE.match(value):
            raise ValueError(f"bad value for {what} parameter {name}: {_short(value)}")
        params[name] = value
    extension = None
    if "ext" in params:
        extension = _digits_with_separators(params["ext"], "extension")

    if number_part.startswith("+"):
        digits = _digits_with_separators(number_part[1:], "number")
        number = "+" + digits
    else:
        digits = _digits_with_separators(number_part, "number")
        context = params.get("phone-context", "")
        if context.startswith("+"):
            number = "+" + _digits_with_separators(context[1:], "phone-context") + digits
        else:
            if context and not _DOMAIN.match(context):
                raise ValueError(f"bad phone-context {_short(context)}")
            number = digits
    if len(digits) < 3:
        raise ValueError(f"number {_short(number_part)} is too short to look up")
    return parse_number_argument(number), extension
