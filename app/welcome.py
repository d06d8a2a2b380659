"""Did a newcomer have a bad experience elsewhere? (S2: "the new provider's agent notes at
sign-up that she had a bad experience elsewhere; the next agent sees it and a welcome
offer is suggested"). Pure: a few phrases over the note's text, no guessing beyond them.
"""

from __future__ import annotations

import re

# Lower-case phrases that say so outright.
_PHRASES = re.compile(
    r"\b(?:bad|poor|terrible|awful|horrible|awful|unhappy) experiences?\b"
    r"|\bswitched (?:over )?from\b"
    r"|\bcame (?:over )?from\b"
    r"|\bmoved (?:over )?from\b"
    r"|\bleft (?:her|his|their|my|the) (?:old |previous |last |former )?"
    r"(?:provider|operator|carrier|bank|supplier|company|network|shop|store)\b"
    r"|\b(?:previous|old|former) (?:provider|operator|carrier|supplier)\b",
    re.IGNORECASE,
)
# "left Verizon": a capitalised name after "left" (case-sensitive, so "left a message"
# and "left voicemail" do not count); a few capitalised words that are no competitor.
_LEFT_NAME = re.compile(r"\b[Ll]eft ([A-Z][\w&'-]+)")
_NOT_A_COMPETITOR = frozenset(
    {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "I", "It"}
)


def bad_experience_elsewhere(text: str | None) -> str | None:
    """The phrase that says the customer came unhappy from elsewhere, or None."""
    if not text:
        return None
    found = _PHRASES.search(text)
    if found:
        return found.group(0)
    for match in _LEFT_NAME.finditer(text):
        if match.group(1) not in _NOT_A_COMPETITOR:
            return match.group(0)
    return None
