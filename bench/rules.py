"""bench.rules: mining association rules from a database's order lines (issue 13).

Reads the baskets once (`RuleService.baskets()`: one per order not cancelled, streamed),
then, on that same list in memory:

- ours: `app.mining.mine`, three runs; time median and spread;
- memory: a fourth run of ours under `tracemalloc` (peak of the allocations Python and
  numpy report to it: the item index, the lists, the numpy arrays scipy's products
  make), and `resource.getrusage(RUSAGE_SELF).ru_maxrss` (the process's peak resident
  set, everything included: the baskets list, the interpreter) after reading and
  after our runs, before the reference runs;
- reference: `efficient_apriori.apriori` with the same thresholds, three runs, on the
  same baskets, or on a random sample of them (`--sample N`, seeded) when the full set
  would take too long; ours is timed on that sample too, so `speedup` (reference time /
  ours, medians) compares the same baskets. Every run's rules must equal the
  reference's: the same item sets, support and confidence within 1e-9, else it fails.

With `--store`, one `mine_and_store` (read, mine, replace the rules in one transaction)
is timed as `rapportctl rules mine --db` does it; it writes the database.

    python -m bench.rules --db sqlite:////tmp/bench100k.db --size 100000 --json
    python -m bench.rules --db postgresql://postgres@127.0.0.1:5432/rapport_bench1m \\
        --size 1000000 --sample 1000000 --json
"""

from __future__ import annotations

import gc
import random
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from efficient_apriori import apriori

from app.mining import DEFAULT_MAX_LENGTH, DEFAULT_MIN_CONFIDENCE, MinedRules, mine
from app.services.rules import RuleService
from bench.common import backend_name, emit, parser
from models.database import Database, make_engine

RUNS = 3
TOLERANCE = 1e-9


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    seconds, result = [], None
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - started)
    return seconds, result


def _figures(prefix: str, seconds: list[float]) -> dict[str, Any]:
    return {
        f"{prefix}seconds": round(statistics.median(seconds), 3),
        f"{prefix}seconds_spread": [round(min(seconds), 3), round(max(seconds), 3)],
    }


def _same_rules(ours: MinedRules[Hashable], reference: Sequence[Any]) -> None:
    theirs = {(frozenset(r.lhs), frozenset(r.rhs)): (r.support, r.confidence) for r in reference}
    mine_ = {
        (frozenset(r.antecedents), frozenset(r.consequents)): (r.support, r.confidence)
        for r in ours.rules
    }
    if len(mine_) != len(ours.rules) or mine_.keys() != theirs.keys():
        raise SystemExit(
            f"rules differ: ours {len(mine_)}, reference {len(theirs)}, "
            f"only ours {len(mine_.keys() - theirs.keys())}, "
            f"only theirs {len(theirs.keys() - mine_.keys())}"
        )
    for key, (support, confidence) in mine_.items():
        their_support, their_confidence = theirs[key]
        if abs(support - their_support) > TOLERANCE or abs(confidence - their_confidence) > (
            TOLERANCE
        ):
            raise SystemExit(f"rule {key} differs: {(support, confidence)} vs {theirs[key]}")


def main(argv: list[str] | None = None) -> int:
    p = parser("Mine the order lines; time and memory against efficient_apriori.")
    p.add_argument("--min-support", type=float, help="default: the miner's for the baskets")
    p.add_argument("--min-confidence", type=float, default=DEFAULT_MIN_CONFIDENCE)
    p.add_argument("--max-length", type=int, default=DEFAULT_MAX_LENGTH)
    p.add_argument("--sample", type=int, default=0, help="reference on N random baskets")
    p.add_argument("--store", action="store_true", help="also time mine_and_store once")
    args = p.parse_args(argv)
    engine = make_engine(args.db)
    backend = backend_name(engine)
    say = (lambda m: None) if args.json else (lambda m: print(m, file=sys.stderr, flush=True))
    base = {"bench": "rules", "backend": backend, "size": args.size}
    try:
        service = RuleService(Database(engine))
        started = time.perf_counter()
        baskets = list(service.baskets())
        read_s = time.perf_counter() - started
        lines = sum(len(b) for b in baskets)
        rss_read = _maxrss_mb()
        say(f"read {len(baskets):,} baskets ({lines:,} lines) in {read_s:.1f} s")
        emit(
            {
                **base,
                "op": "read",
                "n": 1,
                "baskets": len(baskets),
                "lines": lines,
                "seconds": round(read_s, 3),
                "maxrss_mb": round(rss_read, 1),
                "p50_ms": round(read_s * 1000, 1),
                "p95_ms": round(read_s * 1000, 1),
            },
            args.json,
        )

        def ours_on(data: list[tuple[int, ...]]) -> Callable[[], MinedRules[int]]:
            return lambda: mine(
                data,
                min_support=args.min_support,
                min_confidence=args.min_confidence,
                max_length=args.max_length,
            )

        seconds, mined = _timed(ours_on(baskets), RUNS)
        rss_mined = _maxrss_mb()
        gc.collect()
        tracemalloc.start()
        ours_on(baskets)()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        say(f"ours: {statistics.median(seconds):.2f} s, {len(mined.rules):,} rules")
        emit(
            {
                **base,
                "op": "mine",
                "n": RUNS,
                "baskets": mined.baskets,
                "items": mined.items,
                "itemsets": mined.itemsets,
                "rules": len(mined.rules),
                "rules_2plus_antecedents": sum(len(r.antecedents) >= 2 for r in mined.rules),
                "min_support": mined.min_support,
                "min_confidence": mined.min_confidence,
                "max_length": mined.max_length,
                **_figures("", seconds),
                "p50_ms": round(statistics.median(seconds) * 1000, 1),
                "p95_ms": round(max(seconds) * 1000, 1),
                "tracemalloc_peak_mb": round(peak / 2**20, 1),
                "maxrss_after_read_mb": round(rss_read, 1),
                "maxrss_after_mining_mb": round(rss_mined, 1),
            },
            args.json,
        )

        sample = baskets
        if 0 < args.sample < len(baskets):
            sample = random.Random(1).sample(baskets, args.sample)
        support = mined.min_support  # the effective one, resolved on the full set
        thresholds = {
            "min_support": support,
            "min_confidence": args.min_confidence,
            "max_length": args.max_length,
        }
        ours_seconds, ours_sample = _timed(lambda: mine(sample, **thresholds), RUNS)
        say(f"reference on {len(sample):,} baskets ...")
        ref_seconds = []
        for _ in range(RUNS):
            gc.collect()
            started = time.perf_counter()
            _, reference = apriori(sample, **thresholds)
            ref_seconds.append(time.perf_counter() - started)
            _same_rules(ours_sample, reference)
        speedup = statistics.median(ref_seconds) / statistics.median(ours_seconds)
        say(f"reference: {statistics.median(ref_seconds):.2f} s; speedup {speedup:.1f}x")
        emit(
            {
                **base,
                "op": "reference",
                "n": RUNS,
                "baskets": len(sample),
                "sample": len(sample) < len(baskets),
                "rules": len(ours_sample.rules),
                "identical": True,
                **_figures("ours_", ours_seconds),
                **_figures("reference_", ref_seconds),
                "speedup": round(speedup, 1),
                "p50_ms": round(statistics.median(ref_seconds) * 1000, 1),
                "p95_ms": round(max(ref_seconds) * 1000, 1),
            },
            args.json,
        )
        if args.store:
            del baskets, sample
            gc.collect()
            started = time.perf_counter()
            summary = service.mine_and_store(
                args.min_support, args.min_confidence, args.max_length, mined_by="bench.rules"
            )
            store_s = time.perf_counter() - started
            emit(
                {
                    **base,
                    "op": "mine_and_store",
                    "n": 1,
                    "rules": summary.rules,
                    "seconds": round(store_s, 3),
                    "p50_ms": round(store_s * 1000, 1),
                    "p95_ms": round(store_s * 1000, 1),
                },
                args.json,
            )
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
