"""The one writer of Rapport's TOML config files (the user's and, via the installer, IT's).

tomlkit edits the document in place, so comments, blank lines, key order, quoting
and every other table stay as the person who wrote the file left them. Standard
library and tomlkit only: `installer/machine_config.py` (a tiny bundled program)
imports it too.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Table

TABLE = "rapport"
OWNER_ONLY = 0o600
EVERYONE_READS = 0o644

Value = str | int | bool


class TomlFileError(ValueError):
    """The file is not valid TOML, or the value cannot be written; nothing was written."""


def set_values(text: str, values: Mapping[str, Value], table: str = TABLE) -> str:
    """`text` with `values` set in `[table]` (created at the end when missing)."""
    for key, value in values.items():
        if isinstance(value, str) and any(ord(c) < 32 and c != "\t" for c in value):
            raise TomlFileError(f"{key} contains control characters")
    try:
        document = tomlkit.parse(text)
        section = document.get(table)
        if section is None:
            section = tomlkit.table()
            document.add(table, section)
        if not isinstance(section, Table):
            raise TomlFileError(f"[{table}] must be a table")
        for key, value in values.items():
            section[key] = value
        result = tomlkit.dumps(document)
        tomllib.loads(result)  # never write a file Rapport cannot read back
    except (TOMLKitError, tomllib.TOMLDecodeError) as exc:
        raise TomlFileError(f"not valid TOML ({exc})") from exc
    return result


def update_file(path: Path, values: Mapping[str, Value], mode: int = OWNER_ONLY) -> None:
    """Set `values` in the file at `path`, created with `mode` (also applied to an old file).

    Atomic: the new text goes to a sibling file made with `mode` from the start (never
    readable by others, not even for a moment) and replaces the old one, so a crash
    never leaves half a file. TomlFileError names the file when its TOML is broken.
    """
    old = path.read_text(encoding="utf-8-sig") if path.is_file() else ""
    try:
        new = set_values(old, values)
    except TomlFileError as exc:
        if "control characters" in str(exc):
            raise
        raise TomlFileError(f"{path} is {exc}; fix or delete it") from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    temporary.unlink(missing_ok=True)  # a leftover may carry other modes
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
        handle.write(new)
    os.chmod(temporary, mode)  # the umask may have taken bits we want (the 0644 case)
    os.replace(temporary, path)
