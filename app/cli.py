"""`rapportctl`: administration from the command line (migrate, seed, show config).

Every failure a person can cause prints one line on stderr and exits non-zero.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

from app.config import KEYS, demo_db_path, load_settings
from app.credentials import with_stored_password
from app.errors import UserError
from models.database import DatabaseError, check_connection, make_engine, normalize_url
from models.migrate import current_revision, head_revision, upgrade


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rapportctl", description=__doc__)
    commands = parser.add_subparsers(dest="area", required=True)

    db = commands.add_parser("db", help="database administration")
    db_commands = db.add_subparsers(dest="command", required=True)
    up = db_commands.add_parser("upgrade", help="migrate the database to the newest schema")
    up.add_argument("--db", help="database URL (default: the configured one)")
    status = db_commands.add_parser("status", help="show the schema version")
    status.add_argument("--db", help="database URL (default: the configured one)")
    seed = db_commands.add_parser("seed", help="fill an empty database with demo data")
    seed.add_argument("--db", help="database URL (default: the configured one)")
    seed.add_argument("--customers", type=int, required=True, help="how many random customers")
    seed.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")

    config = commands.add_parser("config", help="configuration")
    config_commands = config.add_subparsers(dest="command", required=True)
    show = config_commands.add_parser("show", help="effective configuration and its sources")
    show.add_argument("--db", help="database URL as if given on the command line")
    show.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (UserError, DatabaseError) as exc:
        print(f"rapportctl: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rapportctl: interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    settings = load_settings(cli={"db_url": getattr(args, "db", None)})
    if args.area == "config":
        # Secrets (the webhook token, a password typed into --db) are never printed.
        values, sources = settings.redacted(), dict(settings.sources)
        if settings.is_demo:  # no URL configured: the demo database is the one used
            values["db_url"] = str(demo_db_path())
            sources["db_url"] = "demo default"
        return _show_config(values, sources, as_json=args.json)

    url = normalize_url(settings.db_url)
    engine = make_engine(with_stored_password(url))
    shown = url.render_as_string(hide_password=True)
    try:
        check_connection(engine)
        if args.command == "upgrade":
            before = current_revision(engine)
            upgrade(engine)
            print(f"{shown}: schema {before or 'empty'} -> {current_revision(engine)}")
        elif args.command == "status":
            current = current_revision(engine)
            state = "up to date" if current == head_revision() else f"needs {head_revision()}"
            print(f"{shown}: schema {current or 'empty'} ({state})")
        elif args.command == "seed":
            if args.customers < 0:
                raise UserError("--customers must be 0 or more")
            from app.seeding import seed_demo
            from models.seed import SeedError

            upgrade(engine)
            started = time.perf_counter()
            try:
                report = seed_demo(
                    engine, args.customers, args.seed, progress=lambda m: print(m, flush=True)
                )
            except SeedError as exc:
                raise UserError(str(exc)) from exc
            elapsed = time.perf_counter() - started
            print(
                f"{shown}: seeded {report.customers} customers, "
                f"{report.total_rows} rows in {elapsed:.1f} s"
            )
    finally:
        engine.dispose()
    return 0


def _show_config(values: object, sources: dict[str, str] | object, *, as_json: bool) -> int:
    assert isinstance(values, dict) and isinstance(sources, dict)
    if as_json:
        print(json.dumps({k: {"value": values[k], "source": sources[k]} for k in KEYS}))
        return 0
    width = max(len(k) for k in KEYS)
    for key in KEYS:
        print(f"{key:<{width}}  {values[key]!s:<40}  ({sources[key]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
