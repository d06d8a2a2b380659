"""Where the webhook token comes from: the keyring, an owner-only file, never a file
other users can read."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from app.config import load_settings
from app.credentials import SERVICE, WEBHOOK_ACCOUNT, webhook_token
from app.errors import UserError
from tests.conftest import MemoryKeyring

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
TOKEN = "k3yr1ng-t0ken-0123456789"


def _settings(
    tmp_path: Path, user_text: str = "", environ: dict[str, str] | None = None
) -> dict[str, object]:
    user = tmp_path / "user.toml"
    user.write_text("[rapport]\nwebhook_port = 8765\n" + user_text, encoding="utf-8")
    user.chmod(0o600)
    settings = load_settings(environ=environ or {}, user_file=user, machine_file=tmp_path / "m")
    return dict(settings.values)


def test_token_comes_from_the_keyring(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    assert webhook_token(_settings(tmp_path)) == ""
    memory_keyring.secrets[(SERVICE, WEBHOOK_ACCOUNT)] = TOKEN
    assert webhook_token(_settings(tmp_path)) == TOKEN


@posix_only
def test_token_file_must_be_readable_by_its_owner_only(tmp_path: Path) -> None:
    secret = tmp_path / "webhook.token"
    secret.write_text(TOKEN + "\n", encoding="utf-8")
    secret.chmod(0o600)
    values = _settings(tmp_path, f'webhook_token_file = "{secret}"\n')
    assert webhook_token(values) == TOKEN
    for mode in (0o644, 0o640, 0o604):
        secret.chmod(mode)
        with pytest.raises(UserError, match="chmod 600"):
            webhook_token(values)
    missing = _settings(tmp_path, f'webhook_token_file = "{tmp_path / "none"}"\n')
    with pytest.raises(UserError, match="cannot read the webhook token file"):
        webhook_token(missing)


@posix_only
def test_token_in_a_config_file_others_can_read_is_refused(tmp_path: Path) -> None:
    user = tmp_path / "user.toml"
    user.write_text(f'[rapport]\nwebhook_token = "{TOKEN}"\n', encoding="utf-8")
    user.chmod(0o644)
    with pytest.raises(UserError, match="other users can read"):
        load_settings(environ={}, user_file=user, machine_file=tmp_path / "m")
    machine = tmp_path / "machine.toml"
    machine.write_text(f'[rapport]\nwebhook_token = "{TOKEN}"\n', encoding="utf-8")
    machine.chmod(0o644)
    with pytest.raises(UserError, match="webhook_token"):
        load_settings(environ={}, user_file=tmp_path / "u", machine_file=machine)
    # Owner-only, it is still read (existing per-user set-ups keep working).
    user.chmod(0o600)
    values = load_settings(environ={}, user_file=user, machine_file=tmp_path / "m").values
    assert webhook_token(dict(values)) == TOKEN
    # Other keys in a world-readable file are fine.
    user.write_text("[rapport]\nwebhook_port = 8765\n", encoding="utf-8")
    user.chmod(0o644)
    assert (
        load_settings(environ={}, user_file=user, machine_file=tmp_path / "m").values[
            "webhook_port"
        ]
        == 8765
    )


def test_explicit_token_wins_over_file_and_keyring(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.secrets[(SERVICE, WEBHOOK_ACCOUNT)] = "from-the-keyring-000000"
    values = _settings(tmp_path, environ={"RAPPORT_WEBHOOK_TOKEN": TOKEN})
    assert webhook_token(values) == TOKEN
    assert os.environ.get("RAPPORT_WEBHOOK_TOKEN") is None


@posix_only
def test_the_app_builds_the_webhook_from_the_keyring_and_reports_an_unsafe_file(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    import asyncio

    from app.config import Settings
    from tests.telephony.helpers import Collector, cancel, run, until
    from ui.telephony import build_adapters

    memory_keyring.secrets[(SERVICE, WEBHOOK_ACCOUNT)] = TOKEN
    adapter = build_adapters(Settings(_settings(tmp_path)))["webhook"]
    assert adapter.settings.token == TOKEN and not adapter.settings.token_problem

    secret = tmp_path / "webhook.token"
    secret.write_text(TOKEN, encoding="utf-8")
    secret.chmod(0o644)
    values = _settings(tmp_path, f'webhook_token_file = "{secret}"\n')
    adapter = build_adapters(Settings(values))["webhook"]

    async def scenario() -> None:
        task = asyncio.create_task(adapter.run(Collector()))
        await until(lambda: adapter.status == "error")
        assert "chmod 600" in adapter.status_detail and adapter.bound_port is None
        await cancel(task)

    run(scenario())
