"""Duplicate customers (S8, S1): is this pair of records one person? Pure, no database.

Two steps, as in record linkage since Fellegi and Sunter:

1. Blocking: a record gets a few keys (each phone, each e-mail, the sounds of its
   names, its postcode with the sound of either name); only records sharing a key are
   compared. 100,000 customers make 5 billion pairs; the blocks make a few hundred
   thousand. A key shared by more than `MAX_BLOCK` records (a switchboard number, a
   "John Smith" in a big file) is skipped: comparing all its pairs costs quadratic
   time and such a key says little; the other keys still bring true duplicates in.
2. Scoring: each field agrees, half-agrees, disagrees or is missing, and adds a weight
   (log-odds, in bits: how much likelier the outcome is for one person than for two).
   The sum goes through a logistic in base 2 to a score in 0..1. Missing adds nothing, so a
   record without an e-mail is neither helped nor hurt by it.

Why these weights (measured on app/dedupe_data.py's generated set, 5,000 persons and
their corrupted copies, see docs/duplicates.md and tests/test_dedupe_quality.py):

- An e-mail address is personal (+6); families share a landline and an address, so
  a shared phone (+3.5) and address (+3) count less. Two records with different
  e-mails lose only a little (-1): people have several.
- A different first name under the same last name, at the same address and phone, is
  a spouse or a sibling, not a typo: -8 outweighs phone plus address. Typos (Jaro-
  Winkler >= 0.88) and nicknames (Bob and Robert, through `NICKNAMES`) still agree.
- Two dates of birth that differ are two people (-7), except a day/month swap.
- Two customers linked in one household are two people (-12): at one address and
  phone, Michelle and Michael (Jaro-Winkler 0.92) would otherwise look like a typo.
- First and last names are also compared crosswise, so "Whitfield Eleanor" (swapped
  in a legacy file) matches "Eleanor Whitfield".
- The default threshold `DEFAULT_MIN_SCORE` (0.5, a sum of 7 bits) needs the names and
  one strong identifier (e-mail, phone + address, date of birth) to agree: a namesake
  with nothing else in common scores 5.5 - 2.5 = 3 bits (0.02), a spouse at the same
  address and phone at most -8 + 3 + 3.5 + 3 = 1.5 bits.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from rapidfuzz.distance import JaroWinkler
from rapidfuzz.fuzz import token_sort_ratio

from models.names import fold

DEFAULT_MIN_SCORE = 0.5
MAX_BLOCK = 60  # records sharing one key; larger blocks are skipped (see above)
BITS_AT_HALF = 7.0  # the sum of weights that scores 0.5

# Given name -> the canonical form it is compared as. Written as data: diminutives
# and short forms, English first (the demo's and the generator's names are English).
_NICKNAME_GROUPS: Mapping[str, tuple[str, ...]] = {
    "robert": ("bob", "bobby", "rob", "robbie", "bert"),
    "william": ("bill", "billy", "will", "willie", "liam"),
    "elizabeth": ("liz", "lizzie", "beth", "betty", "eliza", "libby", "elisabeth"),
    "margaret": ("peggy", "maggie", "meg", "marge", "margie", "greta"),
    "james": ("jim", "jimmy", "jamie"),
    "richard": ("dick", "rick", "ricky", "rich", "richie"),
    "john": ("jack", "johnny", "jon"),
    "jonathan": ("jonny", "jon"),
    "michael": ("mike", "mikey", "mick", "mickey"),
    "thomas": ("tom", "tommy"),
    "charles": ("charlie", "chuck", "chas"),
    "joseph": ("joe", "joey"),
    "edward": ("ed", "eddie", "ted", "teddy", "ned"),
    "katherine": ("kate", "katie", "kathy", "kat", "catherine", "kathryn", "cathy"),
    "patricia": ("pat", "patty", "trish", "tricia"),
    "jennifer": ("jen", "jenny"),
    "christopher": ("chris", "kit"),
    "christine": ("chris", "chrissy", "christina", "tina"),
    "daniel": ("dan", "danny"),
    "matthew": ("matt", "matty"),
    "anthony": ("tony",),
    "andrew": ("andy", "drew"),
    "joshua": ("josh",),
    "nicholas": ("nick", "nicky"),
    "benjamin": ("ben", "benny"),
    "samuel": ("sam", "sammy"),
    "alexander": ("alex", "sandy", "xander"),
    "alexandra": ("alex", "sandra", "lexi"),
    "steven": ("steve", "stephen", "stevie"),
    "timothy": ("tim", "timmy"),
    "gregory": ("greg",),
    "kenneth": ("ken", "kenny"),
    "ronald": ("ron", "ronnie"),
    "donald": ("don", "donnie"),
    "david": ("dave", "davey"),
    "susan": ("sue", "susie", "suzanne"),
    "deborah": ("deb", "debbie", "debra"),
    "rebecca": ("becky", "becca"),
    "victoria": ("vicky", "tori"),
    "eleanor": ("ellie", "nora", "elly", "nell"),
    "dorothy": ("dot", "dottie", "dolly"),
    "frances": ("fran", "frankie"),
    "francis": ("frank",),
    "abigail": ("abby", "gail"),
    "jacqueline": ("jackie",),
    "barbara": ("barb", "babs"),
    "theodore": ("theo",),
    "zachary": ("zach", "zack"),
    "nathaniel": ("nate", "nathan"),
    "gerald": ("gerry", "jerry"),
    "lawrence": ("larry",),
    "raymond": ("ray",),
    "jeffrey": ("jeff",),
    "pamela": ("pam",),
    "cynthia": ("cindy",),
    "kimberly": ("kim",),
    "amanda": ("mandy",),
    "melissa": ("mel", "missy"),
}


def _nickname_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for canonical, others in _NICKNAME_GROUPS.items():
        table.setdefault(canonical, canonical)
        for other in others:
            # A short form of two names ("jon", "chris") keeps the first one written:
            # the comparison still treats both as a nickname match (`first_name_similarity`).
            table.setdefault(other, canonical)
    return table


NICKNAMES: Mapping[str, str] = _nickname_table()
_NICKNAME_SETS: Mapping[str, frozenset[str]] = {
    name: frozenset(
        canonical
        for canonical, others in _NICKNAME_GROUPS.items()
        if name == canonical or name in others
    )
    for name in NICKNAMES
}


@dataclass(frozen=True)
class Address:
    line1: str
    postcode: str | None
    city: str


@dataclass(frozen=True)
class PersonRecord:
    """One customer as the comparison sees it. Phones are E.164, e-mails lower-case."""

    id: int
    external_ref: str | None
    first_name: str
    last_name: str
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    addresses: tuple[Address, ...] = ()
    birth_date: dt.date | None = None
    # Customers linked in one household (customers.household_id) were known by someone
    # to be two people: a spouse called Michelle beside a Michael at one phone and
    # address is not a typo.
    household_id: int | None = None


@dataclass(frozen=True)
class PairScore:
    """The score in 0..1 and, per field, what was compared and how it came out."""

    score: float
    bits: float
    evidence: dict[str, object] = field(default_factory=dict)


@functools.lru_cache(maxsize=1 << 18)  # one call per record and field, not per pair
def name_key(name: str) -> str:
    """Letters only, folded: "O'Brien-Smith" -> "obriensmith"."""
    return re.sub(r"[^a-z]", "", fold(name))


@functools.lru_cache(maxsize=1 << 18)  # one call per record and field, not per pair
def canonical_first(name: str) -> str:
    key = name_key(name)
    return NICKNAMES.get(key, key)


_SOUNDEX_CODES = {
    **dict.fromkeys("bfpv", "1"),
    **dict.fromkeys("cgjkqsxz", "2"),
    **dict.fromkeys("dt", "3"),
    "l": "4",
    **dict.fromkeys("mn", "5"),
    "r": "6",
}


@functools.lru_cache(maxsize=1 << 18)  # one call per record and field, not per pair
def soundex(name: str) -> str:
    """American Soundex (letter + 3 digits): how the blocking hears a name.

    Written here (twenty lines) rather than adding a dependency; "Whitfield" and
    "Whitfeild" both give W314, "Smith" and "Smyth" S530."""
    letters = name_key(name)
    if not letters:
        return ""
    code = [letters[0].upper()]
    previous = _SOUNDEX_CODES.get(letters[0], "")
    for ch in letters[1:]:
        digit = _SOUNDEX_CODES.get(ch, "")
        if digit and digit != previous:
            code.append(digit)
            if len(code) == 4:
                break
        if ch not in "hw":  # h and w do not separate two letters of one code
            previous = digit
    return "".join(code).ljust(4, "0")


@functools.lru_cache(maxsize=1 << 18)  # one call per record and field, not per pair
def postcode_key(postcode: str | None) -> str:
    return re.sub(r"[^A-Z0-9]", "", (postcode or "").upper())


_STREET_WORDS = {
    "street": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "drive": "dr",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "boulevard": "blvd",
    "apartment": "apt",
    "suite": "ste",
}


@functools.lru_cache(maxsize=1 << 18)  # one call per record and field, not per pair
def line_key(line1: str) -> str:
    words = re.sub(r"[^a-z0-9 ]", " ", fold(line1)).split()
    return " ".join(_STREET_WORDS.get(w, w) for w in words)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A record's fields normalised once, so comparing a pair is a few C calls."""

    person: PersonRecord
    first: str  # name_key of the first name
    last: str
    first_nicknames: frozenset[str]  # the canonical names the first name may stand for
    last_nicknames: frozenset[str]  # the same for the last name (a swapped record)
    emails: frozenset[str]
    phones: frozenset[str]
    addresses: tuple[tuple[str, str, str], ...]  # (postcode key, line key, folded city)


_folded = functools.lru_cache(maxsize=1 << 16)(fold)  # cities repeat


def prepare(person: PersonRecord) -> _Prepared:
    first, last = name_key(person.first_name), name_key(person.last_name)
    return _Prepared(
        person,
        first,
        last,
        _NICKNAME_SETS.get(first, frozenset()),
        _NICKNAME_SETS.get(last, frozenset()),
        frozenset(person.emails),
        frozenset(person.phones),
        tuple(
            (postcode_key(a.postcode), line_key(a.line1), _folded(a.city)) for a in person.addresses
        ),
    )


def blocking_keys(person: PersonRecord) -> set[str]:
    """The keys that put `person` in the same block as its likely duplicates."""
    keys = {f"p:{phone}" for phone in person.phones}
    keys |= {f"e:{email}" for email in person.emails}
    first, last = soundex(person.first_name), soundex(person.last_name)
    if first and last:
        keys.add("n:" + "|".join(sorted((first, last))))  # swapped names block together
        keys.add(f"n:{soundex(canonical_first(person.first_name))}|{last}")
    # A postcode holds many people: with the sound of either name it holds few, and a
    # typo in one name still leaves the other's key.
    sounds = {first, last} - {""}
    for address in person.addresses:
        postcode = postcode_key(address.postcode)
        if postcode:
            keys |= {f"z:{postcode}|{sound}" for sound in sounds}
    return keys


def candidate_pairs(people: Iterable[PersonRecord]) -> Iterator[tuple[int, int]]:
    """Each pair of ids (smaller first) sharing a blocking key, once."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for person in people:
        for key in blocking_keys(person):
            blocks[key].append(person.id)
    seen: set[tuple[int, int]] = set()
    for ids in blocks.values():
        if len(ids) < 2 or len(ids) > MAX_BLOCK:
            continue
        for pair in itertools.combinations(sorted(ids), 2):
            if pair not in seen:
                seen.add(pair)
                yield pair


def _similarity(a: str, b: str) -> float:
    return JaroWinkler.similarity(a, b) if a and b else 0.0


def first_name_similarity(a: str, b: str) -> float:
    key_a, key_b = name_key(a), name_key(b)
    nick_a = _NICKNAME_SETS.get(key_a, frozenset())
    return _given_similarity(key_a, nick_a, key_b, _NICKNAME_SETS.get(key_b, frozenset()))


def _given_similarity(a: str, nick_a: frozenset[str], b: str, nick_b: frozenset[str]) -> float:
    if nick_a and nick_a & nick_b:
        return 1.0
    return _similarity(a, b)


def _name_weight(similarity: float, *, agree: float) -> float:
    if similarity >= 0.97:
        return agree
    if similarity >= 0.88:  # one typo in a name of six letters or more
        return agree - 1.0
    if similarity >= 0.8:
        return -2.0
    return -8.0


def _names(a: _Prepared, b: _Prepared) -> tuple[float, float, float, bool]:
    straight = (
        _given_similarity(a.first, a.first_nicknames, b.first, b.first_nicknames),
        _similarity(a.last, b.last),
    )
    crossed = (  # a's last name is its given name, a's first its surname
        _given_similarity(a.last, a.last_nicknames, b.first, b.first_nicknames),
        _similarity(a.first, b.last),
    )
    swapped = sum(crossed) > sum(straight) + 0.1
    first, last = crossed if swapped else straight
    bits = _name_weight(first, agree=2.5) + _name_weight(last, agree=3.0)
    if swapped:
        bits -= 0.5  # a swap is an error in one record: a little less sure
    return bits, first, last, swapped


def _set_field(
    a: frozenset[str], b: frozenset[str], *, agree: float, disagree: float
) -> tuple[float, str]:
    if not a or not b:
        return 0.0, "missing"
    if a & b:
        return agree, "same"
    return disagree, "different"


def _addresses(a: _Prepared, b: _Prepared) -> tuple[float, str]:
    if not a.addresses or not b.addresses:
        return 0.0, "missing"
    best = (-0.5, "different")
    for code_a, line_a, city_a in a.addresses:
        for code_b, line_b, city_b in b.addresses:
            same_code = code_a == code_b and bool(code_a)
            if not same_code and city_a != city_b:
                continue
            if token_sort_ratio(line_a, line_b) >= 90:
                return 3.0, "same"
            if same_code:
                best = (1.0, "same postcode")
    return best


def _birth_dates(a: dt.date | None, b: dt.date | None) -> tuple[float, str]:
    if a is None or b is None:
        return 0.0, "missing"
    if a == b:
        return 4.0, "same"
    if (a.year, a.month, a.day) == (b.year, b.day, b.month):
        return 0.0, "day and month swapped"
    return -7.0, "different"


def _score(a: _Prepared, b: _Prepared, min_bits: float = -math.inf) -> PairScore | None:
    """The pair's score, or None below `min_bits` (most blocked pairs: no evidence
    is built for them, which halves the time of a scan)."""
    name_bits, first, last, swapped = _names(a, b)
    email_bits, email = _set_field(a.emails, b.emails, agree=6.0, disagree=-1.0)
    phone_bits, phone = _set_field(a.phones, b.phones, agree=3.5, disagree=-1.0)
    address_bits, address = _addresses(a, b)
    birth_bits, birth = _birth_dates(a.person.birth_date, b.person.birth_date)
    bits = name_bits + email_bits + phone_bits + address_bits + birth_bits
    household = a.person.household_id
    same_household = household is not None and household == b.person.household_id
    if same_household:
        bits -= 12.0
    if bits < min_bits:
        return None
    score = 1.0 / (1.0 + 2.0 ** (BITS_AT_HALF - bits))
    evidence: dict[str, object] = {
        "first_name": round(first, 3),
        "last_name": round(last, 3),
        "swapped": swapped,
        "email": email,
        "phone": phone,
        "address": address,
        "birth_date": birth,
        "household": "same" if same_household else "not linked",
    }
    return PairScore(round(score, 4), round(bits, 2), evidence)


def bits_for(score: float) -> float:
    """The sum of weights at which a pair scores `score` (the logistic's inverse)."""
    if score <= 0.0:
        return -math.inf
    if score >= 1.0:
        return math.inf
    return BITS_AT_HALF + math.log2(score / (1.0 - score))


def score_pair(a: PersonRecord, b: PersonRecord) -> PairScore:
    """How likely `a` and `b` are one person, and why (see the module docstring)."""
    scored = _score(prepare(a), prepare(b))
    assert scored is not None  # no minimum given
    return scored


@dataclass(frozen=True)
class ScoredPair:
    a: PersonRecord
    b: PersonRecord
    score: PairScore


def find_duplicates(
    people: Iterable[PersonRecord], min_score: float = DEFAULT_MIN_SCORE
) -> Iterator[ScoredPair]:
    """Every blocked pair scoring `min_score` or more, smaller id first."""
    prepared = {person.id: prepare(person) for person in people}
    # A little under the bound: rounding must not drop a pair that scores min_score.
    min_bits = bits_for(min_score) - 0.01
    for a, b in candidate_pairs(p.person for p in prepared.values()):
        scored = _score(prepared[a], prepared[b], min_bits)
        if scored is not None and scored.score >= min_score:
            yield ScoredPair(prepared[a].person, prepared[b].person, scored)
