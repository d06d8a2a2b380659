"""Caller numbers as text from untrusted sources: the checks every parser shares.

Kept apart from `events` so that the `tel:` and caller-ID parsers, which
`events` uses, can use these without an import cycle.
"""

from __future__ import annotations

MAX_NUMBER_LENGTH = 32
WITHHELD_MARKERS = frozenset({"anonymous", "unknown", "private", "restricted", "withheld"})
_NUMBER_CHARS = frozenset("0123456789 +()-./")


def is_withheld(number: str) -> bool:
    """True for an empty number or a marker such as "anonymous" or Asterisk's "<unknown>"."""
    text = number.strip().strip("<>").strip().lower()
    return not text or text in WITHHELD_MARKERS


def shorten(text: str, limit: int = 40) -> str:
    """A hostile value quoted in an error message must not flood logs or dialogs."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def parse_number_argument(text: str) -> str:
    """Validate a caller number from an untrusted source; return it stripped.

    Accepts digits with the usual punctuation (space + ( ) - . /) or a withheld
    marker ("anonymous", "<unknown>", ...); an empty string means withheld.
    """
    if not isinstance(text, str):
        raise ValueError("number must be text")
    value = text.strip()
    if len(value) > MAX_NUMBER_LENGTH:
        raise ValueError(
            f"number is too long ({len(value)} characters, at most {MAX_NUMBER_LENGTH})"
        )
    if is_withheld(value):
        return value
    for char in value:
        if char not in _NUMBER_CHARS:
            raise ValueError(
                f"number {shorten(value)} contains {char!r}; only digits, spaces"
                " and + ( ) - . / are allowed"
            )
    if not any(char.isdigit() for char in value):
        raise ValueError(f"number {shorten(value)} has no digits")
    return value


def clean_peer_text(value: str | None, limit: int) -> str | None:
    """Best effort for text a PBX or SIP peer sent: drop non-printables and truncate.

    Network adapters must not lose a call because a carrier put odd bytes in a
    display name, so they clean instead of refusing.
    """
    if value is None:
        return None
    text = "".join(char for char in value if char.isprintable()).strip()[:limit]
    return text or None
