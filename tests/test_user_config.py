"""Writing the user's config file and `rapportctl config show` over all five layers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from app.config import load_settings, machine_config_path, user_config_path, write_user_config
from app.errors import UserError

ROOT = Path(__file__).resolve().parent.parent


def test_write_user_config_keeps_everything_else(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    write_user_config({"db_url": "postgresql://ann@db:5432/rapport"}, path)
    assert tomllib.loads(path.read_text())["rapport"]["db_url"].startswith("postgresql://ann@")
    path.write_text(
        '# kept\n[rapport]\ndb_url = "sqlite:///old.db"  # old\nuser = "ann"\n\n[other]\nk = 1\n'
    )
    write_user_config({"db_url": r"sqlite:///C:\Users\ann\x.db", "bring_to_front": True}, path)
    text = path.read_text()
    assert text.startswith("# kept\n[rapport]\n")
    data = tomllib.loads(text)
    assert data["rapport"] == {
        "db_url": r"sqlite:///C:\Users\ann\x.db",
        "user": "ann",
        "bring_to_front": True,
    }
    assert data["other"] == {"k": 1}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"db_url": "postgresql://ann:pw@db/rapport"}, "password"),
        ({"password": "x"}, "unknown configuration key"),
        ({"user": "a\x00b"}, "control characters"),
    ],
)
def test_write_user_config_refuses(tmp_path: Path, values: dict[str, str], message: str) -> None:
    path = tmp_path / "config.toml"
    with pytest.raises(UserError, match=message):
        write_user_config(values, path)
    assert not path.exists()


def test_config_show_every_layer_and_no_secrets(isolated_config: Path) -> None:
    for path, body in (
        (machine_config_path(), 'db_url = "sqlite:///m.db"\nuser = "m"\nami_host = "pbx"\n'),
        (user_config_path(), 'user = "u"\nami_username = "u"\nwebhook_token = "t0ps3cret"\n'),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"[rapport]\n{body}", encoding="utf-8")
    # A token in a config file is read only when no one else can read the file.
    user_config_path().chmod(0o600)
    env = {
        **os.environ,
        "RAPPORT_AMI_USERNAME": "e",
        "RAPPORT_DEFAULT_REGION": "gb",
    }
    db = "postgresql://ann:hunter2@db:5432/rapport"
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "config", "show", "--json", "--db", db],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["db_url"]["source"] == "command line"
    assert shown["db_url"]["value"] == "postgresql://ann:***@db:5432/rapport"
    assert shown["ami_username"] == {"value": "e", "source": "environment"}
    assert shown["user"]["value"] == "u" and shown["user"]["source"].startswith("user config")
    assert shown["ami_host"]["source"].startswith("machine config")
    assert shown["ami_port"] == {"value": 5038, "source": "default"}
    assert shown["webhook_token"]["value"] == "(set)"
    assert "hunter2" not in result.stdout and "t0ps3cret" not in result.stdout
    text = subprocess.run(
        [sys.executable, "-m", "app.cli", "config", "show"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "t0ps3cret" not in text and "(machine config" in text
    assert load_settings(environ={"RAPPORT_DEFAULT_REGION": "gb"}).default_region == "GB"
