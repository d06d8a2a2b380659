"""`rapportctl`: administration from the command line (migrate, seed, roles and logins,
show config).

Every failure a person can cause prints one line on stderr and exits non-zero.
"""

from __future__ import annotations

import argparse
import getpass
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
