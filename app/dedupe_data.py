"""A generated set of people with known duplicates, to measure app/dedupe.py.

`generate(n, duplicates, seed)` makes `n` base persons (Faker, seeded: same seed, same
set), then copies of some of them spoiled the way legacy files spoil them: typos in a
name, first and last name swapped, a nickname (Bob for Robert), missing fields, a new
address, the phone written another way ("07700 900123", "+44 7700 900123",
"(0)7700-900-123", all one E.164 number after app/phones.py). Every copy keeps at least
one of e-mail, phone, date of birth or address: a copy with nothing in common but a
spoiled name is not findable by anyone, and a test asking for it would measure luck.

It adds the hard negatives a naive matcher flags: namesakes (same first and last name,
nothing else shared) and family members (spouse or sibling: same last name, same
address and landline, another first name, which may be close: Michelle beside Michael),
linked in one household as Rapport links them. `truth` is the set of true pairs.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterable
from dataclasses import dataclass

from faker import Faker

from app.dedupe import NICKNAMES, Address, PersonRecord, first_name_similarity
from app.phones import to_e164

_CORRUPTIONS = (
    "typo_first",
    "typo_last",
    "swap_names",
    "nickname",
    "drop_email",
    "drop_phone",
    "drop_birth_date",
    "drop_address",
    "move_address",
    "phone_format",
)
_STRONG = ("emails", "phones", "birth_date", "addresses")
_BY_CANONICAL: dict[str, list[str]] = {}
for _short, _canonical in NICKNAMES.items():
    if _short != _canonical:
        _BY_CANONICAL.setdefault(_canonical, []).append(_short)


@dataclass(frozen=True)
class GeneratedSet:
    people: list[PersonRecord]
    truth: frozenset[tuple[int, int]]
    corruptions: dict[int, tuple[str, ...]]  # duplicate id -> what was spoiled


@dataclass(frozen=True)
class Quality:
    found: int
    true_positives: int
    truth: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.truth if self.truth else 1.0


def measure(found: Iterable[tuple[int, int]], truth: frozenset[tuple[int, int]]) -> Quality:
    pairs = {(min(a, b), max(a, b)) for a, b in found}
    return Quality(len(pairs), len(pairs & truth), len(truth))


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word + word[-1]
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double", "replace"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeioulnrst") + word[i + 1 :]


def _phone(rng: random.Random) -> str:
    return f"+4477{rng.choice('789')}{rng.randint(0, 9_999_999):07d}"


def _reformat(e164: str, rng: random.Random) -> str:
    national = "0" + e164[3:]
    style = rng.choice(("spaced", "international", "dashed"))
    if style == "spaced":
        return f"{national[:5]} {national[5:]}"
    if style == "international":
        return f"+44 {e164[3:7]} {e164[7:]}"
    return f"(0){e164[3:7]}-{e164[7:10]}-{e164[10:]}"


def _address(fake: Faker) -> Address:
    return Address(fake.street_address(), fake.postcode(), fake.city())


def _base(fake: Faker, rng: random.Random, pid: int) -> PersonRecord:
    first, last = fake.first_name(), fake.last_name()
    email = f"{first}.{last}{rng.randint(1, 999)}@{fake.free_email_domain()}".lower()
    birth = fake.date_of_birth(minimum_age=18, maximum_age=90) if rng.random() < 0.7 else None
    return PersonRecord(
        id=pid,
        external_ref=None,
        first_name=first,
        last_name=last,
        emails=(email,) if rng.random() < 0.85 else (),
        phones=(_phone(rng),) if rng.random() < 0.9 else (),
        addresses=(_address(fake),) if rng.random() < 0.9 else (),
        birth_date=birth,
    )


def _spoil(
    base: PersonRecord, pid: int, fake: Faker, rng: random.Random
) -> tuple[PersonRecord, tuple[str, ...]]:
    copy = dataclasses.replace(base, id=pid, external_ref=f"LEG-{pid:06d}")
    done: list[str] = []
    for corruption in rng.sample(_CORRUPTIONS, rng.randint(1, 3)):
        changed = _apply(copy, corruption, fake, rng)
        if changed is not None and _keeps_an_identifier(changed, base):
            copy = changed
            done.append(corruption)
    return copy, tuple(done)


def _keeps_an_identifier(copy: PersonRecord, base: PersonRecord) -> bool:
    return any(getattr(copy, f) and getattr(copy, f) == getattr(base, f) for f in _STRONG)


def _apply(
    p: PersonRecord, corruption: str, fake: Faker, rng: random.Random
) -> PersonRecord | None:
    replace = dataclasses.replace
    if corruption == "typo_first":
        return replace(p, first_name=_typo(rng, p.first_name))
    if corruption == "typo_last":
        return replace(p, last_name=_typo(rng, p.last_name))
    if corruption == "swap_names":
        return replace(p, first_name=p.last_name, last_name=p.first_name)
    if corruption == "nickname":
        shorts = _BY_CANONICAL.get(p.first_name.lower())
        return replace(p, first_name=rng.choice(shorts).title()) if shorts else None
    if corruption == "move_address":
        return replace(p, addresses=(_address(fake),))
    if corruption == "phone_format":
        if not p.phones:
            return None
        # Written another way by the legacy system, and normalised again on the way in.
        return replace(p, phones=(to_e164(_reformat(p.phones[0], rng), "GB"),))
    if corruption.startswith("drop_"):
        attr = {"email": "emails", "phone": "phones", "address": "addresses"}.get(
            corruption.removeprefix("drop_"), "birth_date"
        )
        return replace(p, **{attr: None if attr == "birth_date" else ()})
    raise AssertionError(corruption)


def _relative(base: PersonRecord, pid: int, fake: Faker, rng: random.Random) -> PersonRecord:
    """A spouse or sibling: same surname, address and landline, their own first name."""
    while True:  # close names stay in (Michelle beside Michael): the household tells
        first = fake.first_name()
        if first_name_similarity(first, base.first_name) < 1.0:
            break
    birth = fake.date_of_birth(minimum_age=18, maximum_age=90) if rng.random() < 0.5 else None
    email = f"{first}.{base.last_name}@{fake.free_email_domain()}".lower()
    return PersonRecord(
        pid,
        None,
        first,
        base.last_name,
        (email,) if rng.random() < 0.5 else (),
        base.phones,
        base.addresses,
        birth,
        household_id=base.household_id,
    )


def _namesake(base: PersonRecord, pid: int, fake: Faker, rng: random.Random) -> PersonRecord:
    other = _base(fake, rng, pid)
    return dataclasses.replace(other, first_name=base.first_name, last_name=base.last_name)


def generate(
    n: int, duplicates: int, seed: int = 14, hard_negatives: int | None = None
) -> GeneratedSet:
    """`n` persons, `duplicates` spoiled copies of some of them, and `hard_negatives`
    (default: as many as duplicates) namesakes and relatives, half each; ids shuffled."""
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    people = [_base(fake, rng, pid) for pid in range(1, n + 1)]
    next_id = n + 1
    truth: set[tuple[int, int]] = set()
    corruptions: dict[int, tuple[str, ...]] = {}
    for base in rng.sample(people[:], duplicates):
        copy, done = _spoil(base, next_id, fake, rng)
        people.append(copy)
        truth.add((base.id, copy.id))
        corruptions[copy.id] = done
        next_id += 1
    negatives = duplicates if hard_negatives is None else hard_negatives
    for i, base in enumerate(rng.sample(people[:n], negatives)):
        if i % 2:  # a relative, linked with the base person in one household
            people[base.id - 1] = base = dataclasses.replace(base, household_id=base.id)
            people.append(dataclasses.replace(_relative(base, next_id, fake, rng)))
        else:
            people.append(_namesake(base, next_id, fake, rng))
        next_id += 1
    return GeneratedSet(people, frozenset(truth), corruptions)
