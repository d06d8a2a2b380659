"""`rapport-machine-config`: write the machine config file for IT (run by the MSI).

    rapport-machine-config --db-url postgresql://agent@db:5432/rapport --region GB
    rapport-machine-config --remove

Sets keys in the `[rapport]` table of the machine config (platformdirs
site_config_dir, `C:\\ProgramData\\Rapport\\config.toml` on Windows) and leaves every
other line as it was, comments included, so an administrator's hand edits
survive an upgrade. The writer is `app/toml_file.py`, the same as for the user's
file (standard library and tomlkit only, so this program stays small). An empty
value means "not given": a silent upgrade without DBURL keeps the database URL
set at first install.

The Windows installer runs it as a deferred custom action (WiX has IniFile, but
Windows' INI writer can't quote TOML strings and writes the ANSI code page, and
wixl cannot build IniFile tables). It refuses a password in the URL: passwords
live in Windows Credential Manager, never in a file every user can read.

Exit codes: 0 done, 2 invalid value (nothing written), 1 the file could not be written.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

from app.toml_file import EVERYONE_READS, TomlFileError, update_file

APP_NAME = "Rapport"
# option -> (config key, kind); keep in step with KEYS in app/config.py.
OPTIONS: dict[str, tuple[str, str]] = {
    "db_url": ("db_url", "url"),
    "region": ("default_region", "region"),
    "webhook_port": ("webhook_port", "port"),
    "ami_host": ("ami_host", "text"),
    "ami_port": ("ami_port", "port"),
    "ami_user": ("ami_username", "text"),
    "ami_device": ("ami_device", "text"),
    "baresip_port": ("baresip_port", "port"),
}


class InvalidValue(ValueError):
    pass


def machine_config_path() -> Path:
    # Same call as app.config.machine_config_path (not imported: this tool stays tiny).
    return Path(platformdirs.site_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def validate(kind: str, key: str, value: str) -> str | int:
    value = value.strip()
    if kind == "port":
        if not value.isdigit() or not 0 < int(value) < 65536:
            raise InvalidValue(f"{key} must be a port number (1-65535), got {value!r}")
        return int(value)
    if kind == "region":
        if not re.fullmatch(r"[A-Za-z]{2}", value):
            raise InvalidValue(f"{key} must be a two-letter region such as US or GB, got {value!r}")
        return value.upper()
    if kind == "url":
        scheme = value.split(":", 1)[0].lower()
        if scheme not in ("postgresql", "postgres", "sqlite") or "://" not in value:
            raise InvalidValue(
                f"{key} must be postgresql://user@host:5432/database or sqlite:///path, "
                f"got {value[:60]!r}"
            )
        if scheme != "sqlite" and urlsplit(value).password is not None:
            raise InvalidValue(
                f"{key} holds a password; give the URL without it and store the password "
                "in Windows Credential Manager (Rapport asks for it at first start)"
            )
    if any(ord(c) < 32 for c in value):
        raise InvalidValue(f"{key} contains control characters")
    return value


def write_config(path: Path, values: Mapping[str, str | int]) -> None:
    # Everyone on the PC reads the machine config (it holds no secret); IT's comments stay.
    try:
        update_file(path, values, EVERYONE_READS)
    except TomlFileError as exc:
        raise InvalidValue(str(exc)) from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rapport-machine-config", description=(__doc__ or "").splitlines()[0]
    )
    for option, (key, _kind) in OPTIONS.items():
        parser.add_argument(f"--{option.replace('_', '-')}", dest=option, default="", help=key)
    parser.add_argument("--config", type=Path, help="file to edit (default: the machine config)")
    parser.add_argument(
        "--remove", action="store_true", help="delete the machine config file (REMOVECONFIG=1)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    path: Path = args.config or machine_config_path()
    try:
        if args.remove:
            path.unlink(missing_ok=True)
            print(f"removed {path}")
            return 0
        values: dict[str, str | int] = {}
        for option, (key, kind) in OPTIONS.items():
            given = getattr(args, option)
            if given.strip():
                values[key] = validate(kind, key, given)
        if not values:
            print(f"nothing to set; {path} left as it is")
            return 0
        write_config(path, values)
    except InvalidValue as exc:
        print(f"rapport-machine-config: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"rapport-machine-config: cannot write {path}: {exc}", file=sys.stderr)
        return 1
    print(f"{path}: set {', '.join(sorted(values))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
