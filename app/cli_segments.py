"""`rapportctl segments refresh|show`: recompute every customer's RFM values and value
segment now (the housekeeping sweep does it once a day by itself), or count customers
per segment."""

from __future__ import annotations

import argparse
import time
from typing import Any

from app.credentials import with_stored_password
from app.errors import UserError
from app.services.segments import SegmentService
from models.database import Database, check_connection, make_engine, normalize_url
from models.migrate import current_revision, head_revision


def register(commands: Any) -> None:
    """Add `segments` to rapportctl's sub-commands."""
    segments = commands.add_parser("segments", help="value segments (RFM) of the customers")
    segment_commands = segments.add_subparsers(dest="command", required=True)
    refresh = segment_commands.add_parser(
        "refresh", help="recompute every active customer's RFM scores and segment now"
    )
    refresh.add_argument("--db", help="database URL (default: the configured one)")
    show = segment_commands.add_parser("show", help="customers per value segment")
    show.add_argument("--db", help="database URL (default: the configured one)")


def run(args: argparse.Namespace, db_url: str) -> int:
    url = normalize_url(db_url)
    engine = make_engine(with_stored_password(url))
    shown = url.render_as_string(hide_password=True)
    try:
        check_connection(engine)
        current = current_revision(engine)
        if current != head_revision():
            raise UserError(
                f"{shown}: schema {current or 'empty'}, needs {head_revision()}: "
                "run rapportctl db upgrade first"
            )
        service = SegmentService(Database(engine))
        if args.command == "refresh":
            started = time.perf_counter()
            summary = service.refresh()
            if summary.skipped:
                print(f"{shown}: another client is refreshing the segments; nothing done")
                return 0
            print(
                f"{shown}: {summary.customers:,} customers scored ({summary.buyers:,} "
                f"with orders) in {time.perf_counter() - started:.1f} s"
            )
        else:
            counts = service.counts()
            if not counts:
                print(f"{shown}: no values yet: run rapportctl segments refresh")
            for count in counts:
                print(f"{count.segment:<20} {count.customers:>10,}")
    finally:
        engine.dispose()
    return 0
