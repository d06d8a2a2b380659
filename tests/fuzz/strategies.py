"""Hostile input for the fuzz suite: what a careless paste, a PBX or an attacker sends.

Every entry point fed with these must answer with a result or the project's own
validation error: never another exception, never a hang.
"""

from __future__ import annotations

from hypothesis import strategies as st

# Characters that have broken parsers, drivers and terminals before.
NASTY_CHARS = [
    "\x00",  # NUL: PostgreSQL refuses it in text
    "\ud800",  # a lone surrogate: cannot be encoded as UTF-8
    "\udfff",
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u2066",  # LEFT-TO-RIGHT ISOLATE
    "\u200b",  # zero width space
    "\ufeff",  # byte order mark
    "\r",
    "\n",
    "\t",
    "\x1b",
    "\x7f",
    "'",
    '"',
    "\\",
    "%",
    "_",
    "*",
    "{",
    "}",
    "[",
    "]",
    "<",
    ">",
    "&",
    ";",
    "--",
    "/*",
    "=",
    "+",
    "-",
    "@",
    "%s",
    "{0}",
    "$1",
    "NEAR",
    "AND",
    "OR",
    "NOT",
    "^",
]

SQL_AND_FORMAT = [
    "' OR '1'='1",
    "'; DROP TABLE customers; --",
    '" OR ""="',
    "%(name)s",
    "{__class__}",
    "{{7*7}}",
    "${jndi:ldap://x}",
    'name:"',
    "a*",
    '"unbalanced',
    "NEAR(a b)",
    "=cmd|' /C calc'!A0",
]

URI_JUNK = [
    "tel:",
    "sip:",
    "sips:",
    "tel:+",
    "sip:@",
    "sip:+14155550134@",
    "<sip:+14155550134@10.0.0.1:5060;transport=udp>",
    "tel:+1-415-555-0134;ext=12",
    "tel:555-0134;phone-context=",
    "sip:%00@host",
    "tel:" + "9" * 300,
    "sip:" + "a" * 500 + "@" + "b" * 500,
]

hostile_text = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(NASTY_CHARS), max_size=60).map("".join),
    st.lists(st.sampled_from(NASTY_CHARS + SQL_AND_FORMAT + URI_JUNK), max_size=12).map("".join),
    st.sampled_from(SQL_AND_FORMAT + URI_JUNK + ["", " ", "\x00", "\ud800"]),
    st.integers(min_value=1, max_value=5000).map(lambda n: "9" * n),  # long digit runs
    st.integers(min_value=1, max_value=20_000).map(lambda n: "x" * n),  # huge
    st.tuples(st.text(max_size=20), st.sampled_from(NASTY_CHARS), st.text(max_size=20)).map(
        "".join
    ),
)
"""One hostile string of any of the kinds above."""

hostile_phone = st.one_of(
    hostile_text,
    st.sampled_from(URI_JUNK),
    st.from_regex(r"\A[+(]?[0-9 ().\-]{0,40}(;ext=[0-9]{0,8}|x[0-9]{0,6})?\Z", fullmatch=True),
    st.from_regex(r"\A(tel|sip|sips):[^\s]{0,80}\Z", fullmatch=True),
)
"""Hostile strings shaped like phone numbers and telephony URIs."""
