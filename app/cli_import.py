"""`rapportctl import customers|orders|interactions FILE --source NAME`: a legacy file
into Rapport (S8), with honest counts. With `--json` the last line is the summary as one
JSON object (read, imported, updated, unchanged, rejected, duplicate_candidates,
rejected_file); when the file stops half-way (truncated, a bad encoding further on) that
line counts the rows before it and the exit code is 2.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from app.errors import UserError
from models.database import DatabaseError
from models.enums import ImportKind


def register(commands: Any) -> None:
    """Add the `import` command to rapportctl's subparsers."""
    parser = commands.add_parser("import", help="import a legacy CSV or XLSX file")
    parser.add_argument("kind", choices=[k.value for k in ImportKind])
    parser.add_argument("file", help="the .csv or .xlsx file")
    parser.add_argument("--source", required=True, help="the legacy system's name, e.g. oldcrm")
    parser.add_argument("--mapping", help='JSON or TOML file {"file column": "field"}')
    parser.add_argument("--dry-run", action="store_true", help="judge and count, write nothing")
    parser.add_argument("--region", help="default phone region (default: the configured one)")
    parser.add_argument("--rejected", help="where to write the rejected rows (a .csv)")
    parser.add_argument("--batch", type=int, default=1000, help="rows per transaction")
    parser.add_argument("--json", action="store_true", help="last line: the summary as JSON")
    parser.add_argument("--db", help="database URL (default: the configured one)")


def read_mapping(path: str) -> dict[str, str]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UserError(f"cannot read the mapping {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text) if path.lower().endswith(".toml") else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"{path} is not a valid mapping file: {exc}") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise UserError(f'{path}: a mapping is {{"file column": "field", ...}}')
    return data


def run(args: argparse.Namespace, db_url: str, region: str) -> int:
    from app.credentials import with_stored_password
    from app.legacy_files import FileProblem
    from app.services.imports import (
        ImportProgress,
        ImportRequest,
        ImportService,
        ImportSummary,
    )
    from models.database import Database, check_connection, make_engine, normalize_url
    from models.migrate import current_revision, head_revision

    mapping = read_mapping(args.mapping) if args.mapping else None
    if args.batch < 1:
        raise UserError("--batch must be 1 or more")
    url = normalize_url(db_url)
    engine = make_engine(with_stored_password(url))
    shown = url.render_as_string(hide_password=True)
    request = ImportRequest(
        path=Path(args.file),
        kind=ImportKind(args.kind),
        source=args.source,
        mapping=mapping,
        dry_run=args.dry_run,
        rejected_path=Path(args.rejected) if args.rejected else None,
        batch_rows=args.batch,
    )

    def show(step: ImportProgress) -> None:
        share = f" ({step.bytes_done * 100 // max(step.bytes_total, 1)}%)"
        print(f"{step.rows:,} rows read, line {step.line:,}{share}", file=sys.stderr, flush=True)

    try:
        check_connection(engine)
        if current_revision(engine) != head_revision():
            raise UserError(f"{shown}: the schema is not current: run rapportctl db upgrade")
        service = ImportService(
            Database(engine),
            actor=url.username or getpass.getuser(),
            region=(args.region or region).upper(),
        )
        try:
            summary = service.run(request, progress=show)
        except FileProblem as exc:
            if args.json and isinstance(exc.summary, ImportSummary):
                print(json.dumps(exc.summary.as_json()))  # the rows before it, counted
            print(f"rapportctl: {exc}", file=sys.stderr)
            return 2
        except DatabaseError as exc:
            if "42501" in str(exc):
                raise UserError(
                    f"{shown}: only rapport_admin may import: run rapportctl import as an "
                    "admin login"
                ) from None
            raise
    finally:
        engine.dispose()
    if summary.resumed_after_line:
        print(f"resumed run {summary.run_id} after line {summary.resumed_after_line:,}")
    verb = "judged (dry run)" if args.dry_run else "imported"
    print(
        f"{args.file}: {verb}: {summary.read:,} read, {summary.imported:,} imported, "
        f"{summary.updated:,} updated, {summary.unchanged:,} unchanged, "
        f"{summary.rejected:,} rejected, {summary.duplicate_candidates:,} duplicate candidates"
    )
    if summary.rejected:
        print(f"rejected rows (line and reasons): {summary.rejected_file}")
    if args.json:
        print(json.dumps(summary.as_json()))
    return 0
