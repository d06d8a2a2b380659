"""Association rules from baskets: which products are bought together (issue 13).

Pure: no database, no Qt. `mine` counts item-set supports in compiled code (scipy's
sparse matrices), never in a Python loop over baskets:

- items become column indices and the baskets a CSR 0/1 matrix X (one row per basket;
  an item twice in a basket counts once, quantities are not seen);
- single items: the column sums of X;
- pairs: X^T X (restricted to the frequent items and to baskets with two or more);
- longer sets, level by level (Apriori): the candidates of size k are the joins of two
  frequent (k-1)-sets sharing their first k-2 items whose every (k-1)-subset is frequent;
  they are counted by marking, in a block of rows, the baskets that hold each candidate's
  (k-1)-prefix (X A^T == k-1, A the prefixes' incidence matrix) and multiplying that
  0/1 matrix by X: entry (prefix, item) is the number of baskets holding prefix + item.

Rules are every split of every frequent item set of size >= 2 into non-empty
antecedents and consequents whose confidence reaches `min_confidence` (consequents grown
level-wise: if A => C falls short, so does every split with a larger consequent).

The thresholds mean what `efficient_apriori.apriori` means by them, so the two find
the same rules (tests/test_mining.py): an item set is frequent when
``count / baskets >= min_support``; a rule is kept when
``count(all) / count(antecedents) >= min_confidence``; `max_length` bounds the size of
an item set, so of a rule's antecedents and consequents together.

Defaults, and why (docs/rules.md):

- `DEFAULT_MIN_SUPPORT` = 0.00005 (0.005 % of baskets: 50 in a million), but never
  fewer than `DEFAULT_MIN_BASKETS` = 5 baskets (`default_min_support`). Retail baskets
  are long-tailed: most products are in well under 1 % of baskets and a pair of them
  in far fewer, so the 0.3 of Tryton's default (or any percent-level threshold) finds
  nothing beyond the best sellers. In the demo data (about 130 products; one to four
  lines a basket, built from a product and its companions, and many one-line
  re-orders; 759,392 baskets at 100,000 customers) a product is in up to 1.9 % of
  baskets, the commonest pairs in 0.1 % and the commonest triples in 0.009 %:
  0.005 % keeps the pairs and the commonest triples, so rules with two antecedents
  exist (2,070 of 2,610 there; none at 0.01 %). The floor of 5 baskets keeps a small
  file (or the 3,000-customer demo, 23,000 baskets: 24 rules with two antecedents) from
  taking one or two coincidences for a habit.
- `DEFAULT_MIN_CONFIDENCE` = 0.05: a suggestion is worth showing when at least one
  buyer in twenty of the antecedents also took the consequent; lift (how much likelier
  than chance) orders them, so the weak ones sink rather than vanish.
- `DEFAULT_MAX_LENGTH` = 3: rules of two antecedents and one consequent (or one and
  two). Demo baskets hold at most four lines and real ones rarely repeat longer sets
  often enough to pass the support threshold; each extra level costs a pass.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

if TYPE_CHECKING:  # at run time imported where counting starts (~0.3 s): rapportctl's
    # other commands and the app's services load without numpy and scipy
    import numpy as np
    import numpy.typing as npt
    from scipy import sparse


DEFAULT_MIN_SUPPORT = 0.00005
DEFAULT_MIN_BASKETS = 5
DEFAULT_MIN_CONFIDENCE = 0.05
DEFAULT_MAX_LENGTH = 3
ROW_BLOCK = 200_000  # baskets per sparse product when counting sets of 3 or more

T = TypeVar("T", bound=Hashable)
Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True)
class Rule(Generic[T]):
    """antecedents => consequents. Items in each tuple are in the miner's column order,
    which is sorted order when the items can be sorted."""

    antecedents: tuple[T, ...]
    consequents: tuple[T, ...]
    baskets: int  # baskets holding every item of the rule
    support: float  # baskets / all baskets
    confidence: float  # baskets / baskets holding the antecedents
    lift: float  # confidence / share of baskets holding the consequents


@dataclass(frozen=True)
class MinedRules(Generic[T]):
    rules: tuple[Rule[T], ...]  # by lift, then confidence, then support (descending)
    baskets: int  # all baskets read, empty ones included
    items: int  # distinct items in them
    itemsets: int  # frequent item sets of every size, single items included
    min_support: float
    min_confidence: float
    max_length: int


def default_min_support(baskets: int) -> float:
    """`DEFAULT_MIN_SUPPORT`, raised so that a frequent set is in 5 baskets or more."""
    return max(DEFAULT_MIN_SUPPORT, DEFAULT_MIN_BASKETS / baskets) if baskets else 1.0


def check_thresholds(min_support: float, min_confidence: float, max_length: int) -> None:
    """ValueError (one line, for the person who typed them) unless the thresholds hold."""
    if not 0 < min_support <= 1:
        raise ValueError(f"min_support must be above 0 and at most 1, not {min_support}")
    if not 0 <= min_confidence <= 1:
        raise ValueError(f"min_confidence must be between 0 and 1, not {min_confidence}")
    if max_length < 1:
        raise ValueError(f"max_length must be 1 or more, not {max_length}")


def mine(
    baskets: Iterable[Iterable[T]],
    *,
    min_support: float | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    max_length: int = DEFAULT_MAX_LENGTH,
    progress: Progress | None = None,
) -> MinedRules[T]:
    """The association rules of `baskets` (one iterable of items per order), read once.
    `min_support` None: `default_min_support` of the number of baskets."""
    check_thresholds(1.0 if min_support is None else min_support, min_confidence, max_length)
    report = progress or _quiet
    items, matrix = encode(baskets, report)
    if min_support is None:
        min_support = default_min_support(matrix.shape[0])
    counts = frequent_itemsets(matrix, min_support, max_length, report)
    rules = _rules(counts, items, matrix.shape[0], min_confidence, report)
    return MinedRules(
        rules=tuple(rules),
        baskets=matrix.shape[0],
        items=len(items),
        itemsets=len(counts),
        min_support=min_support,
        min_confidence=min_confidence,
        max_length=max_length,
    )


def _quiet(phase: str, done: int, total: int) -> None:
    return None


def encode(
    baskets: Iterable[Iterable[T]], progress: Progress = _quiet
) -> tuple[list[T], sparse.csr_matrix]:
    """The items (column order) and the baskets as a CSR 0/1 matrix of int32.

    Integers and strings (product ids, CSV names) are numbered by numpy over all the
    lines at once (a table of ids, or `np.unique`), in sorted order; anything else by a
    dict, in sorted order when the items sort and first-seen order when they do not."""
    import numpy as np
    from scipy import sparse

    rows: Sequence[Iterable[T]] = baskets if isinstance(baskets, Sequence) else list(baskets)
    try:
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))  # type: ignore[arg-type]
    except TypeError:  # baskets without a length (generators): hold each as a tuple
        rows = [tuple(basket) for basket in rows]
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))  # type: ignore[arg-type]
    flat: list[T] = list(itertools.chain.from_iterable(rows))
    progress("reading baskets", len(rows), len(rows))
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    items, cols = _numbered(flat)
    matrix = sparse.csr_matrix(
        (np.ones(len(cols), dtype=np.int32), cols, indptr), shape=(len(rows), len(items))
    )
    matrix.sum_duplicates()  # an item twice in a basket is one item
    matrix.data[:] = 1
    return items, matrix


def _numbered(flat: list[T]) -> tuple[list[T], npt.NDArray[np.int32]]:
    """The distinct items in column order, and each line's column."""
    import numpy as np

    if not flat:
        return [], np.zeros(0, dtype=np.int32)
    kinds = set(map(type, flat))
    values = np.asarray(flat) if kinds in ({int}, {str}) else np.zeros(0)
    if values.dtype.kind in "iu":  # not "O": Python ints beyond int64 go by the dict
        low, high = int(values.min()), int(values.max())
        if high - low <= 4 * len(values) + 1_000_000:  # ids: a table, not a sort
            offsets = values - low
            present = np.zeros(high - low + 1, dtype=np.bool_)
            present[offsets] = True
            rank = np.cumsum(present, dtype=np.int32) - 1
            ids = (np.flatnonzero(present) + low).tolist()
            return cast(list[T], ids), rank[offsets]
    if values.dtype.kind in "iuU":
        distinct, cols = np.unique(values, return_inverse=True)
        return cast(list[T], distinct.tolist()), cols.astype(np.int32).ravel()
    column: dict[T, int] = {}
    add = column.setdefault
    indices = np.fromiter((add(item, len(column)) for item in flat), np.int64, len(flat))
    items = list(column)
    sortable: list[Any] = items  # when they are not, TypeError says so
    try:  # sorted columns make sorted tuples (and product-id keys) when items sort
        order = sorted(range(len(items)), key=sortable.__getitem__)
    except TypeError:
        order = list(range(len(items)))
    rank = np.empty(len(items), dtype=np.int32)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(len(items), dtype=np.int32)
    return [items[i] for i in order], rank[indices]


def frequent_itemsets(
    matrix: sparse.csr_matrix,
    min_support: float,
    max_length: int,
    progress: Progress = _quiet,
) -> dict[tuple[int, ...], int]:
    """Every frequent item set (sorted column indices) with the baskets holding it."""
    import numpy as np
    from scipy import sparse

    n = matrix.shape[0]
    if n == 0:
        return {}
    singles = np.asarray(matrix.sum(axis=0), dtype=np.int64).ravel()
    frequent = np.flatnonzero(singles / n >= min_support)
    counts: dict[tuple[int, ...], int] = {(int(i),): int(singles[i]) for i in frequent}
    progress("counting sets of 1", n, n)
    if max_length < 2 or len(frequent) < 2:
        return counts
    # Only the frequent items, and only baskets holding two or more of them, matter now.
    narrow = matrix[:, frequent].tocsr()
    narrow = narrow[np.diff(narrow.indptr) >= 2]
    pairs = sparse.triu(narrow.T @ narrow, k=1).tocoo()
    keep = pairs.data / n >= min_support
    level: list[tuple[int, ...]] = sorted(
        (int(frequent[a]), int(frequent[b]))
        for a, b in zip(pairs.row[keep], pairs.col[keep], strict=True)
    )
    for a, b, c in zip(pairs.row[keep], pairs.col[keep], pairs.data[keep], strict=True):
        counts[(int(frequent[a]), int(frequent[b]))] = int(c)
    progress("counting sets of 2", n, n)
    # Column j of `narrow` is item frequent[j]; sets from here on are in narrow columns.
    position = {int(item): j for j, item in enumerate(frequent)}
    k = 3
    while level and k <= max_length:
        candidates = _candidates(level)
        if not candidates:
            break
        local = [tuple(position[i] for i in c) for c in candidates]
        found = _count_level(narrow, local, k, progress)
        level = []
        for candidate, count in zip(candidates, found, strict=True):
            if count / n >= min_support:
                counts[candidate] = int(count)
                level.append(candidate)
        k += 1
    return counts


def _candidates(level: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """Apriori's join and prune: sets one longer whose every subset one shorter is in
    `level` (sorted tuples, the list sorted)."""
    known = set(level)
    out: list[tuple[int, ...]] = []
    for _prefix, group in itertools.groupby(level, key=lambda s: s[:-1]):
        members = list(group)
        for left, right in itertools.combinations(members, 2):
            candidate = left + right[-1:]
            # Dropping either of the last two items gives `left` or `right`; check the rest.
            if all(candidate[:i] + candidate[i + 1 :] in known for i in range(len(candidate) - 2)):
                out.append(candidate)
    return out


def _count_level(
    narrow: sparse.csr_matrix, candidates: list[tuple[int, ...]], k: int, progress: Progress
) -> npt.NDArray[np.int64]:
    """Baskets holding each candidate (sets of k columns of `narrow`), by sparse products
    over blocks of rows: rows holding a candidate's prefix, times the matrix."""
    import numpy as np
    from scipy import sparse

    rows = narrow[np.diff(narrow.indptr) >= k]
    prefixes: dict[tuple[int, ...], int] = {}
    prefix_of = np.fromiter(
        (prefixes.setdefault(c[:-1], len(prefixes)) for c in candidates),
        dtype=np.int64,
        count=len(candidates),
    )
    last = np.fromiter((c[-1] for c in candidates), dtype=np.int64, count=len(candidates))
    flat = np.fromiter(itertools.chain.from_iterable(prefixes), dtype=np.int32)
    incidence = sparse.csr_matrix(
        (
            np.ones(len(flat), dtype=np.int32),
            flat,
            np.arange(0, len(flat) + 1, k - 1, dtype=np.int64),
        ),
        shape=(len(prefixes), narrow.shape[1]),
    )
    incidence_t = incidence.T.tocsc()
    found = np.zeros(len(candidates), dtype=np.int64)
    total = rows.shape[0]
    for start in range(0, total, ROW_BLOCK):
        block = rows[start : start + ROW_BLOCK]
        holds = (block @ incidence_t).tocsr()  # items of each prefix in each basket
        holds.data = (holds.data == k - 1).astype(np.int32)
        holds.eliminate_zeros()
        together = (holds.T @ block).tocsr()  # (prefix, item) -> baskets
        found += np.asarray(together[prefix_of, last], dtype=np.int64).ravel()
        progress(f"counting sets of {k}", min(start + ROW_BLOCK, total), total)
    return found


def _rules(
    counts: dict[tuple[int, ...], int],
    items: Sequence[T],
    n: int,
    min_confidence: float,
    progress: Progress,
) -> list[Rule[T]]:
    found: list[tuple[tuple[int, ...], tuple[int, ...], int]] = []
    sets = [s for s in counts if len(s) >= 2]
    for done, itemset in enumerate(sets, 1):
        whole = counts[itemset]
        consequents: list[tuple[int, ...]] = [(i,) for i in itemset]
        while consequents and len(consequents[0]) < len(itemset):
            held: list[tuple[int, ...]] = []
            for consequent in consequents:
                antecedent = tuple(i for i in itemset if i not in consequent)
                if whole / counts[antecedent] >= min_confidence:
                    found.append((antecedent, consequent, whole))
                    held.append(consequent)
            # A consequent can grow only from consequents that all held.
            consequents = _candidates(held) if len(held) > 1 else []
        if done % 10_000 == 0:
            progress("splitting sets into rules", done, len(sets))
    progress("splitting sets into rules", len(sets), len(sets))
    rules = [
        Rule(
            antecedents=tuple(items[i] for i in a),
            consequents=tuple(items[i] for i in c),
            baskets=whole,
            support=whole / n,
            confidence=whole / counts[a],
            lift=(whole / counts[a]) / (counts[c] / n),
        )
        for a, c, whole in sorted(
            found,
            key=lambda r: (
                -(r[2] / counts[r[0]]) / (counts[r[1]] / n),
                -r[2] / counts[r[0]],
                -r[2],
                r[0],
                r[1],
            ),
        )
    ]
    return rules


def recommend(rules: Iterable[Rule[T]], basket: Iterable[T], size: int = 5) -> list[T]:
    """Up to `size` items to suggest for `basket`: the consequents (not already in it)
    of the rules whose antecedents it holds, strongest rule first (lift, then
    confidence; rules that tie keep their given order), each item once."""
    owned = set(basket)
    matching = [r for r in rules if owned.issuperset(r.antecedents)]
    matching.sort(key=lambda r: (-r.lift, -r.confidence))  # stable: ties keep order
    out: list[T] = []
    seen: set[T] = set()
    for rule in matching:
        for item in rule.consequents:
            if len(out) >= size:
                return out
            if item not in owned and item not in seen:
                seen.add(item)
                out.append(item)
    return out
