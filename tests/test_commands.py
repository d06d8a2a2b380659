"""The commands people type: rapportctl and rapport --self-test, on both databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from models.migrate import head_revision
from models.seed import seed_database

ROOT = Path(__file__).resolve().parent.parent


def _run(
    *args: str, timeout: float = 180, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})}
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=full_env,
        check=False,
    )


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_upgrade_then_seed_then_status(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    up = _run("-m", "app.cli", "db", "upgrade", "--db", url)
    assert up.returncode == 0, up.stderr
    assert f"-> {head_revision()}" in up.stdout
    seed = _run("-m", "app.cli", "db", "seed", "--db", url, "--customers", "25", "--seed", "4")
    assert seed.returncode == 0, seed.stderr
    # 25 asked for + the 6 story customers + the 9 of the demo's duplicates and namesakes
    assert "seeded 40 customers" in seed.stdout
    again = _run("-m", "app.cli", "db", "seed", "--db", url, "--customers", "25")
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1 and "Traceback" not in again.stderr
    status = _run("-m", "app.cli", "db", "status", "--db", url)
    assert "up to date" in status.stdout


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://nobody@127.0.0.1:1/rapport", "the server is unreachable"),
        ("mysql://root@localhost/rapport", "unsupported database"),
        ("not a url", "not a database URL"),
    ],
)
def test_bad_database_urls_give_one_line(url: str, expected: str) -> None:
    result = _run("-m", "app.cli", "db", "upgrade", "--db", url)
    assert result.returncode == 2
    assert expected in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_config_show_names_the_sources(tmp_path: Path) -> None:
    result = _run("-m", "app.cli", "config", "show", "--json", env={"RAPPORT_DEFAULT_REGION": "GB"})
    shown = json.loads(result.stdout)
    assert shown["default_region"] == {"value": "GB", "source": "environment"}
    assert shown["db_url"]["source"] == "demo default"


def test_self_test_on_both_databases(engine: Engine) -> None:
    seed_database(engine, 20)
    result = _run("-m", "ui.main", "--self-test", "--db", _url(engine))
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is True
    assert report["customer"] == "Eleanor Whitfield"
    assert report["backend"] == engine.dialect.name


def test_self_test_on_a_shared_database_without_schema(pg_admin_url: str) -> None:
    from tests import pg_cluster

    url = pg_cluster.create_database(pg_admin_url, "rapport_t_noschema")
    try:
        result = _run("-m", "ui.main", "--self-test", "--db", url)
    finally:
        pg_cluster.drop_database(pg_admin_url, "rapport_t_noschema")
    assert result.returncode == 1
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is False and "rapportctl db upgrade" in report["reason"]


def test_self_test_seeds_the_demo_database_on_first_use(isolated_config: Path) -> None:
    result = _run("-m", "ui.main", "--self-test", "--demo", env={"RAPPORT_DEMO_CUSTOMERS": "30"})
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is True and report["backend"] == "sqlite"
    assert report["db"].endswith("demo.db")


def test_self_test_on_an_empty_database_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/empty.db"
    assert _run("-m", "app.cli", "db", "upgrade", "--db", url).returncode == 0
    result = _run("-m", "ui.main", "--self-test", "--db", url)
    assert result.returncode == 1
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is False and "holds no customer" in report["reason"]
