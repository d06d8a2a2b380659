"""Run one benchmark several times and report each figure's median and spread.

Each run is a fresh process (`python -m bench.NAME ARGS --json`); for every op it
prints the median of each figure over the runs with its [min, max], the number of
runs, when they ran and the load average before and after each (the machine may be
shared: a high load makes every figure slower).

    python -m bench.repeat --runs 3 search --db sqlite:////tmp/bench100k.db --size 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
from typing import Any

SKIP = {"bench", "op", "backend", "size", "orders", "customers", "n", "statements"}


def run_once(name: str, args: list[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    before = os.getloadavg()[0]
    started = dt.datetime.now().astimezone()
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *args, "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"bench.{name} failed with exit code {done.returncode}")
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    info = {
        "started": started.isoformat(timespec="seconds"),
        "load_before": round(before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    return records, info


def combine(runs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One record per op: the median of each numeric figure and its [min, max]."""
    by_op: dict[str, list[dict[str, Any]]] = {}
    for records in runs:
        for record in records:
            by_op.setdefault(record["op"], []).append(record)
    combined = []
    for op, records in by_op.items():
        first = records[0]
        out: dict[str, Any] = {k: first[k] for k in first if k in SKIP}
        out["runs"] = len(records)
        for key in first:
            values = [r.get(key) for r in records]
            if key in SKIP or not all(isinstance(v, int | float) for v in values):
                continue
            out[key] = round(statistics.median(values), 3)
            out[f"{key}_spread"] = [min(values), max(values)]
        combined.append(out)
        _ = op
    return combined


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("name", help="the benchmark module under bench/ (search, lookup, ...)")
    p.add_argument("args", nargs=argparse.REMAINDER, help="its arguments (--db, --size)")
    options = p.parse_args(argv)
    runs, infos = [], []
    for _ in range(options.runs):
        records, info = run_once(options.name, options.args)
        runs.append(records)
        infos.append(info)
    print(json.dumps({"bench": options.name, "op": "runs", "runs": infos}), flush=True)
    for record in combine(runs):
        print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
