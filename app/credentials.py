"""Database passwords live in the OS keyring (Windows Credential Manager, Keychain,
Secret Service), keyed by user, server and database; never in config files."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import URL

# keyring is imported where a password is looked up, not here: it scans the installed
# packages for backends (40 ms, 3 MB), which a SQLite or passwordless start never needs.

SERVICE = "Rapport"
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
