"""`rapportctl`: administration from the command line (migrate, seed, roles and logins,
association rules, show config).

Every failure a person can cause prints one line on stderr and exits non-zero.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from app import cli_import, cli_segments
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
    roles = db_commands.add_parser(
        "provision-roles",
        help="PostgreSQL: create the group roles, hand the tables to rapport_owner, set grants",
    )
    roles.add_argument("--db", help="database URL (default: the configured one)")

    user = commands.add_parser("user", help="staff logins (PostgreSQL)")
    user_commands = user.add_subparsers(dest="command", required=True)
    add = user_commands.add_parser(
        "add", help="create or update a login role, its group and its users row"
    )
    add.add_argument("login", help="the PostgreSQL login (lower-case letters, digits, _)")
    add.add_argument(
        "--role", required=True, help="agent, senior_agent, supervisor, manager, admin"
    )
    add.add_argument("--db", help="database URL (default: the configured one)")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from standard input (never from the command line)",
    )
    add.add_argument("--name", help="display name (default: the login)")
    set_role = user_commands.add_parser("set-role", help="move a login to another role")
    set_role.add_argument("login")
    set_role.add_argument("--role", required=True)
    set_role.add_argument("--db", help="database URL (default: the configured one)")
    disable = user_commands.add_parser("disable", help="stop a login (NOLOGIN, users.active off)")
    disable.add_argument("login")
    disable.add_argument("--db", help="database URL (default: the configured one)")

    rules = commands.add_parser("rules", help="association rules for suggestions")
    rules_commands = rules.add_subparsers(dest="command", required=True)
    mine = rules_commands.add_parser(
        "mine",
        help="mine the database's order lines and replace its rules (one transaction), "
        "or mine a CSV of baskets and print the rules as JSON lines",
    )
    source = mine.add_mutually_exclusive_group()
    source.add_argument("--db", help="database URL (default: the configured one)")
    source.add_argument("--baskets", metavar="FILE", help="CSV: one basket per line")
    _mining_options(mine)
    recommend = rules_commands.add_parser(
        "recommend", help="mine a CSV of baskets and print what to suggest for one basket"
    )
    recommend.add_argument("--baskets", metavar="FILE", required=True)
    recommend.add_argument("--basket", required=True, help='the items, "item a,item b"')
    recommend.add_argument("--size", type=int, default=5, help="at most this many (default 5)")
    _mining_options(recommend)

    cli_segments.register(commands)
    from app import cli_duplicates

    cli_duplicates.register(commands)

    config = commands.add_parser("config", help="configuration")
    config_commands = config.add_subparsers(dest="command", required=True)
    show = config_commands.add_parser("show", help="effective configuration and its sources")
    show.add_argument("--db", help="database URL as if given on the command line")
    show.add_argument("--json", action="store_true")
    cli_import.register(commands)
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

    if args.area == "rules":
        return _rules(args, settings.db_url)

    if args.area == "segments":
        return cli_segments.run(args, settings.db_url)
    if args.area == "import":
        return cli_import.run(args, settings.db_url, settings.default_region)
    if args.area == "duplicates":
        from app import cli_duplicates

        return cli_duplicates.run(args, settings.db_url)

    if args.area == "user" or args.command == "provision-roles":
        return _roles_and_logins(args, settings.db_url)

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


def _roles_and_logins(args: argparse.Namespace, db_url: str) -> int:
    """provision-roles and user add|set-role|disable (app/provisioning.py)."""
    from app import provisioning

    url = normalize_url(db_url)
    if url.get_backend_name() != "postgresql":
        raise UserError(
            "roles and logins exist on PostgreSQL only: give --db postgresql://USER@HOST/DB"
        )
    if args.area == "user":
        provisioning.check_login(args.login)
        role = provisioning.parse_role(args.role) if getattr(args, "role", None) else None
        password = _read_password(args.login) if args.command == "add" else ""
        if args.command == "add":
            provisioning.check_password(password)
    conninfo = with_stored_password(url).set(drivername="postgresql")
    shown = url.render_as_string(hide_password=True)
    with provisioning.connect(conninfo.render_as_string(hide_password=False)) as conn:
        if args.area == "db":
            summary = provisioning.provision_roles(conn)
            print(f"{shown}: provisioned")
            print("\n".join(summary.lines()))
            return 0
        if args.command == "add":
            assert role is not None
            print(provisioning.add_user(conn, args.login, role, password, args.name))
        elif args.command == "set-role":
            assert role is not None
            print(provisioning.set_role(conn, args.login, role))
        else:
            print(provisioning.disable_user(conn, args.login))
    return 0


def _read_password(login: str) -> str:
    """The password from standard input: typed twice at a terminal, else read whole
    (one trailing newline, which `echo` and files add, is not part of it)."""
    if sys.stdin.isatty():
        first = getpass.getpass(f"Password for {login}: ")
        if getpass.getpass("Same password again: ") != first:
            raise UserError("the two passwords differ")
        return first
    text = sys.stdin.read()
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text


def _mining_options(command: argparse.ArgumentParser) -> None:
    from app import mining

    command.add_argument(
        "--min-support",
        type=float,
        help=f"share of baskets holding an item set (default {mining.DEFAULT_MIN_SUPPORT}, "
        f"and at least {mining.DEFAULT_MIN_BASKETS} baskets)",
    )
    command.add_argument(
        "--min-confidence",
        type=float,
        default=mining.DEFAULT_MIN_CONFIDENCE,
        help=f"share of the antecedents' baskets holding the consequents too "
        f"(default {mining.DEFAULT_MIN_CONFIDENCE})",
    )
    command.add_argument(
        "--max-length",
        type=int,
        default=mining.DEFAULT_MAX_LENGTH,
        help=f"items in a rule, both sides (default {mining.DEFAULT_MAX_LENGTH})",
    )


def _rules(args: argparse.Namespace, db_url: str) -> int:
    """rules mine (--db or --baskets) and rules recommend (docs/rules.md)."""
    from app import mining

    try:
        mining.check_thresholds(
            1.0 if args.min_support is None else args.min_support,
            args.min_confidence,
            args.max_length,
        )
    except ValueError as exc:
        raise UserError(str(exc).replace("_", "-")) from None
    thresholds = {
        "min_support": args.min_support,
        "min_confidence": args.min_confidence,
        "max_length": args.max_length,
    }
    if args.command == "recommend":
        if args.size < 1:
            raise UserError("--size must be 1 or more")
        basket = next(csv.reader([args.basket]), [])
        found = mining.mine(_read_baskets(args.baskets), **thresholds)
        items = mining.recommend(found.rules, [i.strip() for i in basket], args.size)
        print(json.dumps(items))
        return 0
    if args.baskets is not None:
        found = mining.mine(_read_baskets(args.baskets), **thresholds)
        for rule in found.rules:
            record = {
                "antecedents": sorted(rule.antecedents),
                "consequents": sorted(rule.consequents),
                "support": rule.support,
                "confidence": rule.confidence,
                "lift": rule.lift,
            }
            print(json.dumps(record))
        return 0
    return _mine_database(db_url, thresholds)


def _read_baskets(path: str) -> list[list[str]]:
    """The baskets of a CSV file: one a line, comma-separated item names (quoted when
    they hold a comma), blank lines skipped, UTF-8 with or without a BOM."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as file:
            reader = csv.reader(file)
            baskets = []
            for row in reader:
                basket = [name.strip() for name in row if name.strip()]
                if basket:
                    baskets.append(basket)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text: save it as UTF-8") from None
    except csv.Error as exc:
        raise UserError(f"{path} line {reader.line_num}: {exc}") from None
    return baskets


def _mine_database(db_url: str, thresholds: dict[str, Any]) -> int:
    """Mine the order lines and replace the stored rules, progress on stderr."""
    from app.services.rules import RuleService
    from models.database import Database

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
        mined_by = url.username or getpass.getuser()
        try:
            summary = RuleService(Database(engine)).mine_and_store(
                progress=_progress_on_stderr(), mined_by=mined_by, **thresholds
            )
        except DatabaseError as exc:
            if "SQLSTATE 42501" in str(exc):  # insufficient privilege
                raise UserError(
                    f"{shown}: only rapport_admin may replace the rules: "
                    "run rules mine as an admin login or the DBA"
                ) from None
            raise
    finally:
        engine.dispose()
    print(
        f"{shown}: {summary.baskets:,} baskets, {summary.items:,} items, "
        f"{summary.itemsets:,} frequent item sets, {summary.rules:,} rules in "
        f"{summary.seconds:.1f} s (min support {summary.min_support:.6g}, min confidence "
        f"{summary.min_confidence:g}, max length {summary.max_length}); "
        f"stored as run {summary.run_id}, in place of any rules stored before"
    )
    return 0


def _progress_on_stderr() -> Callable[[str, int, int], None]:
    def show(phase: str, done: int, total: int) -> None:
        of = f" of {total:,}" if total else ""
        print(f"{phase}: {done:,}{of}", file=sys.stderr, flush=True)

    return show


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
