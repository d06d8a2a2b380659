"""Recency, frequency and monetary value (RFM) scores and the named segments they make
(pure: no database). docs/segments.md says why these rules.

Scores are quintiles from 1 (lowest) to 5 (best) among the customers who bought:
`score = 1 + (rank - 1) * 5 // n`, where `rank` is the SQL RANK() of the value in
ascending order (ties share the lowest rank) and `n` the number of buyers. Ties get the
same score, so two customers with the same last order day never land in different
quintiles (NTILE would split them arbitrarily). app/services/segments.py computes the
same formula in SQL; `quintile_scores` is its reference, and the tests hold them equal.

Recency ranks the last order date (the most recent scores 5), frequency the orders of
the last 12 months, monetary value what was spent over 24 months (orders not cancelled).

The segments come from one ordered table, `RULES`: the first rule a customer's scores
fall in names her segment. The same table builds the SQL CASE the refresh uses
(`app.services.segments`), so the database and `segment_for` cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

NEW = "New"
NO_PURCHASE = "No purchase"
NEW_WITHIN_DAYS = 90  # first order this recent: too early to judge her by her scores


@dataclass(frozen=True)
class SegmentRule:
    """A named segment: the inclusive score ranges (recency, frequency, monetary) it takes."""

    name: str
    recency: tuple[int, int] = (1, 5)
    frequency: tuple[int, int] = (1, 5)
    monetary: tuple[int, int] = (1, 5)
    why: str = ""

    def matches(self, recency: int, frequency: int, monetary: int) -> bool:
        return (
            self.recency[0] <= recency <= self.recency[1]
            and self.frequency[0] <= frequency <= self.frequency[1]
            and self.monetary[0] <= monetary <= self.monetary[1]
        )


# In order: the first that matches names the segment. The last matches everyone.
RULES: tuple[SegmentRule, ...] = (
    SegmentRule(
        "Champions",
        (4, 5),
        (4, 5),
        (4, 5),
        why="bought recently, often and much: thank them, first to hear of new products",
    ),
    SegmentRule(
        "Loyal",
        (3, 5),
        (3, 5),
        why="buy regularly and not long ago: keep them close, offer the range's news",
    ),
    SegmentRule(
        "Promising",
        (4, 5),
        why="bought recently but not yet often: a second purchase makes a regular",
    ),
    SegmentRule(
        "At risk",
        (1, 2),
        (3, 5),
        why="used to buy often but not lately: worth a personal word before they go",
    ),
    SegmentRule(
        "Cannot lose",
        (1, 2),
        (1, 2),
        (4, 5),
        why="spent much but long ago and rarely: win them back",
    ),
    SegmentRule(
        "Hibernating",
        (1, 2),
        why="long since the last order, little and rarely: a low-cost reminder at most",
    ),
    SegmentRule(
        "Needs attention",
        why="middling on every count: a nudge may move them up",
    ),
)

SEGMENTS: tuple[str, ...] = (NEW, *(rule.name for rule in RULES), NO_PURCHASE)


def segment_for(recency: int, frequency: int, monetary: int, *, is_new: bool = False) -> str:
    """The named segment of one customer's scores; `is_new`: her first order is within
    `NEW_WITHIN_DAYS`, whatever her scores (one recent order scores high on recency and
    low on the rest, which says nothing yet)."""
    if is_new:
        return NEW
    for rule in RULES:
        if rule.matches(recency, frequency, monetary):
            return rule.name
    raise AssertionError("the last rule matches every score")  # pragma: no cover


def quintile_scores(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Scores 1..5 of `values` (higher value, higher score; ties share a score)."""
    array = np.asarray(values, dtype=float)
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    ranks = rankdata(array, method="min").astype(np.int64)
    scores: np.ndarray = 1 + (ranks - 1) * 5 // array.size
    return scores
