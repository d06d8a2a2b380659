"""app/mining.py: the same rules as efficient_apriori, counted in sparse matrices."""

from __future__ import annotations

import random
from collections.abc import Hashable, Sequence

import pytest
from efficient_apriori import apriori

from app.mining import (
    DEFAULT_MIN_BASKETS,
    DEFAULT_MIN_SUPPORT,
    MinedRules,
    Rule,
    default_min_support,
    mine,
    recommend,
)

# Ten baskets; by hand: bread 7, milk 6, butter 6, jam 3, tea 1; bread+milk 5,
# bread+butter 5, butter+milk 3, butter+jam 3, bread+jam 2, milk+jam 1;
# bread+butter+milk 3 (bread+butter+jam 2, and bread+jam is not frequent anyway).
SHOP = [
    ["bread", "milk"],
    ["bread", "butter", "milk"],
    ["bread", "butter"],
    ["bread", "butter", "milk", "jam"],
    ["milk"],
    ["bread", "butter", "jam"],
    ["butter", "jam"],
    ["bread", "milk", "milk"],  # twice in a basket counts once
    ["tea"],
    ["bread", "butter", "milk"],
]

Key = tuple[frozenset[Hashable], frozenset[Hashable]]


def by_sides(rules: Sequence[Rule[Hashable]]) -> dict[Key, tuple[float, float, float]]:
    out = {(frozenset(r.antecedents), frozenset(r.consequents)): r for r in rules}
    assert len(out) == len(rules), "a rule twice"
    return {key: (r.support, r.confidence, r.lift) for key, r in out.items()}


def reference(
    baskets: Sequence[Sequence[Hashable]], support: float, confidence: float, length: int
) -> dict[Key, tuple[float, float, float]]:
    _, rules = apriori(
        [tuple(b) for b in baskets],
        min_support=support,
        min_confidence=confidence,
        max_length=length,
    )
    return {(frozenset(r.lhs), frozenset(r.rhs)): (r.support, r.confidence, r.lift) for r in rules}


def assert_same(
    ours: dict[Key, tuple[float, float, float]], theirs: dict[Key, tuple[float, float, float]]
) -> None:
    assert ours.keys() == theirs.keys()
    for key, figures in ours.items():
        assert figures == pytest.approx(theirs[key], rel=1e-9, abs=1e-9), key


def test_the_shop_by_hand() -> None:
    mined = mine(SHOP, min_support=0.3, min_confidence=0.5, max_length=3)
    rules = by_sides(mined.rules)
    s = frozenset
    expected = {
        # pairs: support, confidence
        (s({"bread"}), s({"milk"})): (0.5, 5 / 7),
        (s({"milk"}), s({"bread"})): (0.5, 5 / 6),
        (s({"bread"}), s({"butter"})): (0.5, 5 / 7),
        (s({"butter"}), s({"bread"})): (0.5, 5 / 6),
        (s({"butter"}), s({"milk"})): (0.3, 0.5),  # exactly the threshold: kept
        (s({"milk"}), s({"butter"})): (0.3, 0.5),
        (s({"butter"}), s({"jam"})): (0.3, 0.5),
        (s({"jam"}), s({"butter"})): (0.3, 1.0),
        # the one frequent triple; bread => butter+milk (3/7) falls short
        (s({"bread", "butter"}), s({"milk"})): (0.3, 0.6),
        (s({"bread", "milk"}), s({"butter"})): (0.3, 0.6),
        (s({"butter", "milk"}), s({"bread"})): (0.3, 1.0),
        (s({"butter"}), s({"bread", "milk"})): (0.3, 0.5),
        (s({"milk"}), s({"bread", "butter"})): (0.3, 0.5),
    }
    assert rules.keys() == expected.keys()
    for key, (support, confidence) in expected.items():
        assert rules[key][:2] == pytest.approx((support, confidence), abs=1e-12), key
    assert rules[(s({"butter", "milk"}), s({"bread"}))][2] == pytest.approx(1 / 0.7)
    assert rules[(s({"jam"}), s({"butter"}))][2] == pytest.approx(1 / 0.6)
    assert (mined.baskets, mined.items, mined.itemsets) == (10, 5, 4 + 4 + 1)
    assert_same(rules, reference(SHOP, 0.3, 0.5, 3))
    # Items sort within a rule; the strongest rule (by lift) comes first.
    assert mined.rules[0].antecedents == ("jam",) and mined.rules[0].lift == pytest.approx(5 / 3)
    both = [r for r in mined.rules if len(r.antecedents) == 2]
    assert [r.antecedents for r in both][0] == ("butter", "milk")


def test_max_length_counts_every_item_of_a_rule() -> None:
    assert mine(SHOP, min_support=0.3, min_confidence=0.5, max_length=1).rules == ()
    two = mine(SHOP, min_support=0.3, min_confidence=0.5, max_length=2)
    assert {len(r.antecedents) + len(r.consequents) for r in two.rules} == {2}
    assert len(two.rules) == 8


def _random_baskets(rng: random.Random, count: int, items: int) -> list[list[str]]:
    names = [f"p{i:03d}" for i in range(items)]
    weights = [1 / (i + 1) for i in range(items)]  # long-tailed, as shops are
    baskets = []
    for _ in range(count):
        size = rng.choice([0, 1, 1, 2, 2, 3, 4, 5, 7])
        basket = rng.choices(names, weights, k=size)  # duplicates on purpose
        if rng.random() < 0.2:
            basket += ["p001", "p002", "p003"][: rng.randint(1, 3)]
        baskets.append(basket)
    return baskets


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("length", [2, 3, 4])
def test_same_rules_as_efficient_apriori(seed: int, length: int) -> None:
    rng = random.Random(seed)
    baskets = _random_baskets(rng, rng.randint(200, 1500), rng.randint(10, 60))
    for support, confidence in [(0.005, 0.0), (0.01, 0.1), (0.02, 0.3), (0.05, 0.6), (0.1, 1.0)]:
        ours = by_sides(
            mine(baskets, min_support=support, min_confidence=confidence, max_length=length).rules
        )
        assert_same(ours, reference(baskets, support, confidence, length))


def test_items_that_do_not_sort_and_empty_input() -> None:
    # efficient_apriori sorts items (and fails here); the miner keeps first-seen order.
    baskets: list[list[Hashable]] = [[1, "a"], [1, "a", (2,)], ["a", (2,)], [1]]
    ours = by_sides(mine(baskets, min_support=0.5, min_confidence=0.5, max_length=3).rules)
    s = frozenset
    assert ours == {
        (s({1}), s({"a"})): (0.5, 2 / 3, (2 / 3) / 0.75),
        (s({"a"}), s({1})): (0.5, 2 / 3, (2 / 3) / 0.75),
        (s({"a"}), s({(2,)})): (0.5, 2 / 3, (2 / 3) / 0.5),
        (s({(2,)}), s({"a"})): (0.5, 1.0, 1 / 0.75),
    }
    empty: MinedRules[str] = mine([], min_support=0.1)
    assert (empty.rules, empty.baskets, empty.items) == ((), 0, 0)
    with pytest.raises(ValueError, match="min_support"):
        mine(SHOP, min_support=0)
    with pytest.raises(ValueError, match="max_length"):
        mine(SHOP, min_support=0.1, max_length=0)


def test_default_support_has_a_floor_of_baskets() -> None:
    assert default_min_support(10_000_000) == DEFAULT_MIN_SUPPORT
    assert default_min_support(1000) == DEFAULT_MIN_BASKETS / 1000
    assert mine(SHOP).min_support == DEFAULT_MIN_BASKETS / 10


def test_rules_with_two_antecedents_from_companion_baskets() -> None:
    """Baskets shaped like the demo's: a product, each companion with some chance."""
    rng = random.Random(7)
    companions = {f"main{i}": [f"side{i}a", f"side{i}b", f"side{i}c"] for i in range(40)}
    baskets = []
    for _ in range(20_000):
        first = rng.choice(list(companions))
        basket = [first] + [c for c in companions[first] if rng.random() < 0.55]
        baskets.append(basket[:4] if rng.random() < 0.3 else [first])
    mined = mine(baskets)
    assert any(len(r.antecedents) >= 2 for r in mined.rules)
    ours = by_sides(mined.rules)
    assert_same(ours, reference(baskets, mined.min_support, mined.min_confidence, 3))


def test_recommend_by_lift_without_what_the_basket_holds() -> None:
    rules = mine(SHOP, min_support=0.3, min_confidence=0.5, max_length=3).rules
    # butter => jam (lift 1.67) before butter+milk => bread (1.43); milk is owned.
    assert recommend(rules, ["butter", "milk"]) == ["jam", "bread"]
    assert recommend(rules, ["butter", "milk"], size=1) == ["jam"]
    assert recommend(rules, ["tea"]) == []
    assert recommend(rules, ["bread", "butter", "milk", "jam"]) == []


def test_recommend_breaks_ties_by_confidence_then_given_order() -> None:
    def rule(a: str, c: str, confidence: float, lift: float) -> Rule[str]:
        return Rule((a,), (c,), 1, 0.1, confidence, lift)

    rules = [
        rule("x", "first-given", 0.5, 2.0),
        rule("x", "more-confident", 0.6, 2.0),
        rule("x", "second-given", 0.5, 2.0),
        rule("x", "x", 0.9, 9.0),  # owned already
        rule("y", "not-mine", 0.9, 9.0),  # antecedent not in the basket
        rule("x", "more-confident", 0.1, 1.0),  # once only
    ]
    assert recommend(rules, ["x"]) == ["more-confident", "first-given", "second-given"]
