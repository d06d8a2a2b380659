"""Database passwords live in the OS keyring (Windows Credential Manager, Keychain,
Secret Service), keyed by user, server and database; never in config files.

The webhook token is a secret too: from the keyring (account `webhook`), or from a
file only its owner can read (`webhook_token_file`); see `webhook_token`.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import UserError

if TYPE_CHECKING:
    from sqlalchemy import URL

# keyring is imported where a password is looked up, not here: it scans the installed
# packages for backends (40 ms, 3 MB), which a SQLite or passwordless start never needs.

SERVICE = "Rapport"
WEBHOOK_ACCOUNT = "webhook"
MAX_TOKEN_FILE_BYTES = 4096
log = logging.getLogger(__name__)


def keyring_account(url: URL) -> str:
    return f"{url.username}@{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def with_stored_password(url: URL) -> URL:
    """Fill in the password from the keyring when the URL names a user but no password."""
    if url.get_backend_name() != "postgresql" or not url.username or url.password:
        return url
    import keyring
    from keyring.errors import KeyringError

    try:
        password = keyring.get_password(SERVICE, keyring_account(url))
    except KeyringError as exc:  # no usable backend: connect without, the server decides
        log.info("keyring unavailable: %s", exc)
        return url
    return url.set(password=password) if password else url


def store_password(url: URL, password: str) -> None:
    import keyring

    keyring.set_password(SERVICE, keyring_account(url), password)


def readable_by_others(path: Path) -> str | None:
    """Why users other than the owner may read `path`, or None when they cannot.

    POSIX: any group/other permission bit, or another owner. Windows has no mode
    bits worth reading; a file inside the user's profile folder is private to
    that user by default, anything else (ProgramData, a share) is treated as shared.
    """
    if sys.platform == "win32":
        try:
            path.resolve().relative_to(Path.home().resolve())
        except ValueError:
            return f"{path} is outside your profile folder, where other users may read it"
        return None
    info = path.stat()
    if info.st_uid != os.getuid():
        return f"{path} belongs to another user"
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        return f"{path} has mode {stat.S_IMODE(info.st_mode):o}, other users can read it"
    return None


def webhook_token(values: Mapping[str, Any]) -> str:
    """The webhook's bearer token; "" when none is set. UserError for an unsafe file.

    In order: `webhook_token` (command line, environment, or an owner-only config
    file: the loader refuses it elsewhere), the file named by `webhook_token_file`,
    the keyring (service `Rapport`, account `webhook`).
    """
    token = values.get("webhook_token")
    if token:
        return str(token)
    file_name = values.get("webhook_token_file")
    if file_name:
        return _read_token_file(Path(str(file_name)).expanduser())
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(SERVICE, WEBHOOK_ACCOUNT) or ""
    except KeyringError as exc:
        log.info("keyring unavailable: %s", exc)
        return ""


def _read_token_file(path: Path) -> str:
    try:
        problem = readable_by_others(path)
        if problem is None:
            with path.open("rb") as handle:
                raw = handle.read(MAX_TOKEN_FILE_BYTES + 1)
    except OSError as exc:
        raise UserError(f"cannot read the webhook token file {path}: {exc.strerror}") from None
    if problem is not None:
        fix = "keep it in your profile folder" if sys.platform == "win32" else f"chmod 600 {path}"
        raise UserError(f"the webhook token file is refused: {problem}; {fix}")
    if len(raw) > MAX_TOKEN_FILE_BYTES:
        raise UserError(
            f"the webhook token file {path} is larger than {MAX_TOKEN_FILE_BYTES} bytes"
        )
    try:
        lines = raw.decode("utf-8-sig").strip().splitlines()
    except UnicodeDecodeError:
        raise UserError(f"the webhook token file {path} is not UTF-8 text") from None
    return lines[0].strip() if lines else ""
