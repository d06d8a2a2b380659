"""Effective configuration and where each value came from.

Precedence, highest first: command line, `RAPPORT_*` environment variables,
the user's config file, the machine config file (for IT), defaults. Config
files are TOML with a `[rapport]` table. Passwords never live here: they are
read from the OS keyring (see `app.credentials`).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from app.errors import UserError
from app.toml_file import OWNER_ONLY, TomlFileError, update_file

APP_NAME = "Rapport"

# key -> (type, default). Keep in step with docs (README configuration table).
KEYS: dict[str, tuple[type, Any]] = {
    "db_url": (str, None),
    "default_region": (str, "US"),
    "log_dir": (str, None),
    "demo_customers": (int, 3000),
    "user": (str, None),  # the agent's login; in shared mode also the database role
    "webhook_port": (int, None),  # loopback webhook for call events; unset: off
    "webhook_token": (str, None),  # better: the keyring or webhook_token_file (owner-only)
    "webhook_token_file": (str, None),
    "ami_host": (str, None),  # Asterisk AMI; unset: off (secret from the OS keyring)
    "ami_port": (int, 5038),
    "ami_username": (str, None),
    "ami_device": (str, None),
    "baresip_port": (int, None),  # baresip ctrl_tcp on 127.0.0.1; unset: off
    "bring_to_front": (bool, False),  # raise the window on an incoming call
    # Where the change feed LISTENs when db_url goes through PgBouncer in transaction
    # pooling (which drops LISTEN): postgresql://HOST:PORT[/DATABASE] of the server
    # itself or a session-pooled port; the login and password stay db_url's.
    "listen_url": (str, None),
    # Where the dashboards read on PostgreSQL: a hot-standby replica, so reporting never
    # slows the agents; postgresql://HOST:PORT[/DATABASE], the login stays db_url's.
    "analytics_db_url": (str, None),
}
SECRET_KEYS = frozenset({"webhook_token"})  # shown as "(set)" in `config show` and diagnostics


def user_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def machine_config_path() -> Path:
    return Path(platformdirs.site_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def demo_db_path() -> Path:
    return user_data_dir() / "demo.db"


def demo_db_url() -> str:
    return f"sqlite:///{demo_db_path().as_posix()}"


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Any]
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def db_url(self) -> str:
        url = self.values.get("db_url")
        return str(url) if url else demo_db_url()

    @property
    def is_demo(self) -> bool:
        return not self.values.get("db_url")

    @property
    def default_region(self) -> str:
        return str(self.values["default_region"]).upper()

    @property
    def log_dir(self) -> Path:
        value = self.values.get("log_dir")
        return Path(value) if value else default_log_dir()

    @property
    def demo_customers(self) -> int:
        return int(self.values["demo_customers"])

    def with_value(self, key: str, value: Any, source: str) -> Settings:
        """A copy with one value replaced (e.g. the database chosen in the first-run dialog)."""
        return Settings(values={**self.values, key: value}, sources={**self.sources, key: source})

    def redacted(self) -> dict[str, Any]:
        """The values as they may be printed or copied: no token, no password in a URL."""
        shown: dict[str, Any] = {}
        for key, value in self.values.items():
            if key in SECRET_KEYS and value:
                shown[key] = "(set)"
            elif key in ("db_url", "analytics_db_url") and value:
                shown[key] = hide_url_password(str(value))
            else:
                shown[key] = value
        return shown


def hide_url_password(url: str) -> str:
    # SQLAlchemy is imported here, not at the top: the first window paints without it.
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return "(not a valid URL)"


def describe_database(settings: Settings) -> str:
    """The database as a person names it, for the status bar: never a driver or password.

    "Demo database (SQLite) ~/.local/share/Rapport/demo.db", "SQLite ~/work/r.db",
    "PostgreSQL agent01@dbhost/rapport" (the port only when it is not 5432).
    """
    from sqlalchemy import make_url  # after the first paint, like hide_url_password
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(settings.db_url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return "(not a valid database URL)"
    backend = url.get_backend_name()
    if backend == "sqlite":
        where = _home_relative(url.database or "") or "in memory"
        return f"Demo database (SQLite) {where}" if settings.is_demo else f"SQLite {where}"
    name = {"postgresql": "PostgreSQL"}.get(backend, backend)
    port = f":{url.port}" if url.port and not (backend == "postgresql" and url.port == 5432) else ""
    user = f"{url.username}@" if url.username else ""
    return f"{name} {user}{url.host or 'localhost'}{port}/{url.database or ''}"


def _home_relative(path: str) -> str:
    home = str(Path.home())
    return "~" + path[len(home) :] if home != "/" and path.startswith(home + os.sep) else path


def _read_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"cannot read the configuration file {path}: {exc}") from exc
    table = data.get("rapport", {})
    if not isinstance(table, dict):
        raise UserError(f"{path}: [rapport] must be a table")
    if "db_password" in table or "password" in table:
        raise UserError(f"{path}: passwords do not belong in config files; use the OS keyring")
    if table.get("webhook_token"):
        from app.credentials import readable_by_others

        problem = readable_by_others(path)
        if problem is not None:
            raise UserError(
                f"webhook_token is refused: {problem}; put the token in the keyring"
                " (service Rapport, account webhook) or in a webhook_token_file only you can read"
            )
    return table


def _coerce(key: str, value: Any, origin: str) -> Any:
    kind, _default = KEYS[key]
    if kind is bool and isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise UserError(f"{origin}: {key} must be true or false, got {value!r}")
    try:
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise UserError(f"{origin}: {key} must be {kind.__name__}, got {value!r}") from exc


def load_settings(
    cli: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    user_file: Path | None = None,
    machine_file: Path | None = None,
) -> Settings:
    environ = os.environ if environ is None else environ
    layers: list[tuple[str, Mapping[str, Any]]] = [
        ("command line", {k: v for k, v in (cli or {}).items() if v is not None}),
        (
            "environment",
            {
                key: environ[f"RAPPORT_{key.upper()}"]
                for key in KEYS
                if f"RAPPORT_{key.upper()}" in environ
            },
        ),
    ]
    user_path = user_file or user_config_path()
    machine_path = machine_file or machine_config_path()
    layers.append((f"user config {user_path}", _read_file(user_path)))
    layers.append((f"machine config {machine_path}", _read_file(machine_path)))

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, (_kind, default) in KEYS.items():
        for origin, layer in layers:
            if key in layer and layer[key] not in (None, ""):
                values[key] = _coerce(key, layer[key], origin)
                sources[key] = origin
                break
        else:
            values[key] = default
            sources[key] = "default"
    return Settings(values=values, sources=sources)


# -- writing the user file ---------------------------------------------------------------


def write_user_config(values: Mapping[str, str | int | bool], path: Path | None = None) -> Path:
    """Set keys in the user's config file, keeping its other keys, comments and layout.

    Used by the first-run dialog to remember the database URL (never a password).
    """
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    path = path or user_config_path()
    for key, value in values.items():
        if key not in KEYS:
            raise UserError(f"unknown configuration key {key!r}")
        if key == "db_url" and isinstance(value, str):
            try:
                has_password = make_url(value).password is not None
            except ArgumentError as exc:
                raise UserError(f"not a database URL: {value[:60]!r}") from exc
            if has_password:
                raise UserError("a password does not belong in a config file")
    try:
        update_file(path, values, OWNER_ONLY)  # the agent's own settings: not for others
    except TomlFileError as exc:
        raise UserError(str(exc)) from exc
    return path
