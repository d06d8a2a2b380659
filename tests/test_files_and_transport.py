"""Files only their owner reads (rapport.log, the user config), one TOML writer that keeps
comments, and a status bar that says when the PostgreSQL connection is not encrypted."""

from __future__ import annotations

import logging
import os
import stat
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from app.config import load_settings, user_config_path, write_user_config
from app.logs import setup_logging
from installer import machine_config

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual desktop umask (022): files come out world-readable unless we say otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@posix_only
def test_rapport_log_and_its_rotations_are_the_owners_only(
    tmp_path: Path, open_umask: None
) -> None:
    old = tmp_path / "rapport.log"
    old.write_text("from an older version\n")
    old.chmod(0o644)
    root = logging.getLogger()
    before = list(root.handlers)
    path = setup_logging(tmp_path)
    handler = next(h for h in root.handlers if h not in before)
    try:
        assert path == old
        assert _mode(path) == 0o600
        assert isinstance(handler, logging.handlers.RotatingFileHandler)
        handler.doRollover()
        logging.getLogger("rapport").info("after the rollover")
        assert _mode(path) == 0o600
        assert _mode(tmp_path / "rapport.log.1") == 0o600
    finally:
        root.removeHandler(handler)
        handler.close()


@posix_only
def test_the_user_config_is_the_owners_only(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "config.toml"
    write_user_config({"user": "ann"}, path)
    assert _mode(path) == 0o600
    path.chmod(0o644)  # written by an older version
    write_user_config({"user": "bob"}, path)
    assert _mode(path) == 0o600


USER_CONFIG_WITH_COMMENTS = """\
# My Rapport settings -- ask Jo before changing them
[rapport]
"db_url" = "sqlite:///old.db"  # the old demo file
note = '''
db_url = "inside a multi-line string, not a key"
'''
user = "ann"   # my login

# telephony
[rapport.extra]
x = 1
"""


def test_saving_in_the_connection_dialog_keeps_the_users_comments(
    isolated_config: Path,
) -> None:
    from ui.connection_setup import remember_database

    path = user_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(USER_CONFIG_WITH_COMMENTS, encoding="utf-8")
    url = "postgresql://ann@db.example.com:5432/rapport?sslmode=verify-full"
    remembered = remember_database(load_settings(environ={}), url)
    assert "saved in" in remembered.note, remembered.note
    text = path.read_text(encoding="utf-8")
    for kept in (
        "# My Rapport settings -- ask Jo before changing them",
        "# the old demo file",
        'user = "ann"   # my login',
        "# telephony",
        'db_url = "inside a multi-line string, not a key"',
    ):
        assert kept in text, text
    data = tomllib.loads(text)
    assert data["rapport"]["db_url"] == url
    assert data["rapport"]["extra"] == {"x": 1}
    assert load_settings(environ={}).values["db_url"] == url


def test_the_installer_writes_the_machine_config_with_the_same_writer(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(USER_CONFIG_WITH_COMMENTS.replace('"db_url"', "db_url"), encoding="utf-8")
    assert machine_config.main(["--config", str(path), "--region", "gb"]) == 0
    text = path.read_text(encoding="utf-8")
    assert "# the old demo file" in text and "# telephony" in text
    assert tomllib.loads(text)["rapport"]["default_region"] == "GB"
    if sys.platform != "win32":
        assert _mode(path) & 0o044 == 0o044  # every agent on the PC reads it


def test_the_status_bar_says_when_postgresql_is_not_encrypted(window: Any, engine: Engine) -> None:
    text = window.connection.db_label.text()
    if engine.dialect.name == "postgresql":
        # The test server runs without SSL.
        assert "not encrypted" in text, text
        assert "sslmode=verify-full" in window.connection.db_label.toolTip()
    else:
        assert "encrypted" not in text, text  # a local file: nothing to say
