"""Configuration precedence, keyring passwords and phone normalization."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import phones
from app.config import load_settings
from app.credentials import store_password, with_stored_password
from app.errors import UserError
from models.database import normalize_url


def _write(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path


def test_precedence_cli_env_user_machine_default(tmp_path: Path) -> None:
    user = _write(
        tmp_path / "user.toml", '[rapport]\ndb_url = "sqlite:///user.db"\ndefault_region = "GB"\n'
    )
    machine = _write(
        tmp_path / "machine.toml",
        '[rapport]\ndb_url = "sqlite:///machine.db"\ndefault_region = "DE"\ndemo_customers = 50\n',
    )
    env = {"RAPPORT_DB_URL": "sqlite:///env.db"}
    settings = load_settings(
        cli={"db_url": "sqlite:///cli.db"}, environ=env, user_file=user, machine_file=machine
    )
    assert settings.db_url == "sqlite:///cli.db"
    assert settings.sources["db_url"] == "command line"
    assert settings.default_region == "GB"
    assert settings.sources["default_region"].startswith("user config")
    assert settings.demo_customers == 50
    assert settings.sources["demo_customers"].startswith("machine config")

    settings = load_settings(cli={}, environ=env, user_file=user, machine_file=machine)
    assert (settings.db_url, settings.sources["db_url"]) == ("sqlite:///env.db", "environment")

    settings = load_settings(
        cli={}, environ={}, user_file=tmp_path / "none.toml", machine_file=tmp_path / "none2.toml"
    )
    assert settings.is_demo and settings.db_url.endswith("demo.db")
    assert settings.sources["db_url"] == "default"


def test_password_in_config_file_is_refused(tmp_path: Path) -> None:
    user = _write(tmp_path / "user.toml", '[rapport]\npassword = "secret"\n')
    with pytest.raises(UserError, match="keyring"):
        load_settings(environ={}, user_file=user, machine_file=tmp_path / "x.toml")


def test_bad_values_get_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="demo_customers must be int"):
        load_settings(
            environ={"RAPPORT_DEMO_CUSTOMERS": "many"},
            user_file=tmp_path / "a",
            machine_file=tmp_path / "b",
        )
    broken = _write(tmp_path / "broken.toml", "[rapport\n")
    with pytest.raises(UserError, match="cannot read the configuration file"):
        load_settings(environ={}, user_file=broken, machine_file=tmp_path / "b")


def test_password_comes_from_the_keyring() -> None:
    url = normalize_url("postgresql://ann@db.example:5432/rapport")
    assert with_stored_password(url).password is None
    store_password(url, "s3cret")
    assert with_stored_password(url).password == "s3cret"
    # An explicit password in the URL wins; SQLite never asks.
    assert with_stored_password(url.set(password="given")).password == "given"
    sqlite = normalize_url("sqlite:///x.db")
    assert with_stored_password(sqlite) == sqlite


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("+1 (415) 555-0134", "US", "+14155550134"),
        ("(415) 555-0134", "US", "+14155550134"),
        ("415.555.0134", "US", "+14155550134"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("+44 20 7946 0018", "US", "+442079460018"),
        ("0044 20 7946 0018", "GB", "+442079460018"),
    ],
)
def test_numbers_in_any_format_normalize(typed: str, region: str, e164: str) -> None:
    assert phones.normalize(typed, region).e164 == e164


def test_unparseable_number_keeps_its_last_digits() -> None:
    query = phones.normalize("0415 555 0134", "US")
    assert query.e164 is None
    assert query.tail == "5550134"


def test_invalid_number_is_refused_with_a_message() -> None:
    with pytest.raises(ValueError, match="is not a valid phone number"):
        phones.to_e164("12", "US")
    assert not phones.looks_like_phone("Jon Smith")
    assert phones.looks_like_phone("0415 555 0134")
