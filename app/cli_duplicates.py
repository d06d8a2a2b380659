"""`rapportctl duplicates find`: every likely duplicate pair of customers (S8).

With `--json`, stdout holds one JSON line per pair and nothing else:
{"id_a", "id_b", "external_ref_a", "external_ref_b", "score"}, `id_a < id_b`, best
score first; progress goes to stderr. `--store` also adds the pairs to the review
queue (duplicate_candidates, found_by scan) without reopening dismissed ones.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from app.credentials import with_stored_password
from app.dedupe import DEFAULT_MIN_SCORE
from app.errors import UserError
from models.database import check_connection, make_engine, normalize_url
from models.migrate import current_revision, head_revision


def register(commands: Any) -> None:
    """Add `duplicates find` to rapportctl's subcommands."""
    duplicates = commands.add_parser("duplicates", help="duplicate customers (S8)")
    duplicate_commands = duplicates.add_subparsers(dest="command", required=True)
    find = duplicate_commands.add_parser("find", help="list the likely duplicate pairs")
    find.add_argument("--db", help="database URL (default: the configured one)")
    find.add_argument(
        "--min-score",
        type=float,
        default=DEFAULT_MIN_SCORE,
        help=f"report pairs scoring this or more, 0..1 (default {DEFAULT_MIN_SCORE})",
    )
    find.add_argument("--json", action="store_true", help="one JSON line per pair")
    find.add_argument("--store", action="store_true", help="also add the pairs to the review queue")


def run(args: argparse.Namespace, db_url: str) -> int:
    from app.services.duplicates import DuplicateService
    from models.database import Database
    from models.enums import DuplicateFoundBy

    if not 0.0 <= args.min_score <= 1.0:
        raise UserError(f"--min-score must be between 0 and 1, not {args.min_score:g}")
    url = normalize_url(db_url)
    engine = make_engine(with_stored_password(url))
    shown = url.render_as_string(hide_password=True)
    started = time.perf_counter()
    try:
        check_connection(engine)
        current = current_revision(engine)
        if current != head_revision():
            raise UserError(
                f"{shown}: schema {current or 'empty'}, needs {head_revision()}: "
                "run rapportctl db upgrade first"
            )
        service = DuplicateService(Database(engine))

        def progress(phase: str, count: int) -> None:
            print(f"{phase}: {count:,}", file=sys.stderr, flush=True)

        pairs = sorted(
            service.find(args.min_score, progress), key=lambda p: (-p.score, p.id_a, p.id_b)
        )
        for pair in pairs:
            if args.json:
                print(pair.as_json_line())
            else:
                print(
                    f"{pair.score:.3f}  {pair.id_a} ({pair.external_ref_a or '-'})  "
                    f"{pair.id_b} ({pair.external_ref_b or '-'})"
                )
        summary = service.store(pairs, DuplicateFoundBy.SCAN) if args.store else None
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    stored = (
        f"; stored: {summary.added} new, {summary.refreshed} refreshed, "
        f"{summary.left_closed} dismissed or merged before and left so"
        if summary
        else ""
    )
    print(f"{shown}: {len(pairs):,} pairs in {elapsed:.1f} s{stored}", file=sys.stderr)
    return 0
