"""First run against PostgreSQL: the connection dialog opens by itself when the login
fails, stores the password in the keyring, the URL in the user config, and connects.
The four failures an agent meets get one clear line each, against real servers."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import Engine, make_url, text

from app.bootstrap import open_services
from app.config import load_settings, machine_config_path, user_config_path
from models.database import DatabaseError, make_engine
from tests import pg_cluster
from tests.conftest import PG_AGENT_PASSWORD, LoopRunner, MemoryKeyring
from ui.bridge import DatabaseBridge
from ui.connection_dialog import ConnectionDialog
from ui.features.customer.panel import CustomerPanel
from ui.shell.main_window import MainWindow

pytestmark = pytest.mark.pg


def _write(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")


def _account(url: str) -> str:
    parsed = make_url(url)
    return f"{parsed.username}@{parsed.host}:{parsed.port}/{parsed.database}"


@pytest.fixture
def make_window(aloop: LoopRunner, qtbot: Any) -> Iterator[Any]:
    made: list[tuple[MainWindow, DatabaseBridge]] = []

    def make() -> MainWindow:
        bridge = DatabaseBridge()
        window = MainWindow(load_settings(), bridge)
        qtbot.addWidget(window)
        window.show()
        made.append((window, bridge))
        return window

    yield make
    for window, bridge in made:
        aloop.until(lambda b=bridge: b.running == 0)
        bridge.shutdown()
        if window.services is not None:
            window.services.close()
        window.calls.toast.close()
    aloop.run(asyncio.sleep(0.05))


def _dialog(window: MainWindow) -> ConnectionDialog:
    dialog = window.connection.dialog
    assert isinstance(dialog, ConnectionDialog) and dialog.isVisible()
    return dialog


def test_first_run_asks_for_the_password_stores_it_and_remembers_the_url(
    pg_password_db: tuple[str, str],
    make_window: Any,
    aloop: LoopRunner,
    memory_keyring: MemoryKeyring,
    qtbot: Any,
) -> None:
    _admin, agent_url = pg_password_db
    # What the MSI wrote; the user's own file holds other settings that must survive.
    _write(machine_config_path(), f'[rapport]\ndb_url = "{agent_url}"\n')
    _write(user_config_path(), '# mine\n[rapport]\ndefault_region = "GB"\n\n[extra]\nx = 1\n')
    window = make_window()
    assert window.settings.sources["db_url"].startswith("machine config")
    aloop.run(window.connect_database())

    assert window.services is None
    assert window.connection.error and window.connection.error.startswith("wrong user or password")
    dialog = _dialog(window)
    assert dialog.windowModality() == Qt.WindowModality.WindowModal  # open(), not exec()
    assert dialog.status.text().startswith("wrong user or password")
    parsed = make_url(agent_url)
    assert (dialog.server.text(), dialog.port.value()) == (parsed.host, parsed.port)
    assert (dialog.user.text(), dialog.database.text()) == ("rapport_agent", "rapport_pw")

    dialog.password.setText(PG_AGENT_PASSWORD)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    aloop.until(lambda: window.services is not None)

    assert memory_keyring.secrets[("Rapport", _account(agent_url))] == PG_AGENT_PASSWORD
    saved = user_config_path().read_text(encoding="utf-8")
    assert PG_AGENT_PASSWORD not in saved
    assert saved.startswith('# mine\n[rapport]\ndefault_region = "GB"\n')
    assert "[extra]\nx = 1" in saved
    settings = load_settings()
    assert settings.sources["db_url"].startswith("user config")
    assert make_url(settings.db_url).username == "rapport_agent"
    assert settings.default_region == "GB"
    assert window.connection.error is None and not window.banner.isVisible()
    assert window.connection.db_label.text().startswith("PostgreSQL rapport_agent@")
    assert "saved in" in window.statusBar().currentMessage()

    # The next start finds the password in the keyring and connects without asking.
    again = make_window()
    aloop.run(again.connect_database())
    assert again.services is not None and again.connection.dialog is None


def test_a_wrong_stored_password_opens_the_dialog_again(
    pg_password_db: tuple[str, str],
    make_window: Any,
    aloop: LoopRunner,
    memory_keyring: MemoryKeyring,
) -> None:
    _admin, agent_url = pg_password_db
    memory_keyring.secrets[("Rapport", _account(agent_url))] = "an-old-password"
    _write(user_config_path(), f'[rapport]\ndb_url = "{agent_url}"\n')
    window = make_window()
    aloop.run(window.connect_database())
    dialog = _dialog(window)
    assert dialog.status.text().startswith("wrong user or password")
    assert "an-old-password" not in dialog.status.text() + window.banner.text()
    dialog.reject()
    assert window.services is None and window.banner.isVisible()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _failure(url: str) -> DatabaseError:
    with pytest.raises(DatabaseError) as caught:
        open_services(load_settings(cli={"db_url": url}))
    assert "\n" not in str(caught.value)
    return caught.value


def test_the_four_failures_each_get_one_clear_line(
    pg_password_db: tuple[str, str], pg_admin_url: str, memory_keyring: MemoryKeyring
) -> None:
    _admin, agent_url = pg_password_db
    none_stored = _failure(agent_url)
    assert none_stored.kind == "auth" and str(none_stored).startswith("wrong user or password")
    memory_keyring.secrets[("Rapport", _account(agent_url))] = "wrong"
    wrong = _failure(agent_url)
    assert wrong.kind == "auth" and "password authentication failed" in str(wrong)
    assert ":wrong@" not in str(wrong)

    unreachable = _failure(f"postgresql://agent@127.0.0.1:{_free_port()}/rapport")
    assert unreachable.kind == "unreachable"
    assert str(unreachable).startswith("the server is unreachable")

    tls = _failure(pg_admin_url + "?sslmode=require")  # the test servers offer no TLS
    assert tls.kind == "tls" and str(tls).startswith("the TLS connection failed")

    name = f"rapport_future_{uuid.uuid4().hex[:8]}"
    url = pg_cluster.create_database(pg_admin_url, name)
    engine: Engine = make_engine(url)
    try:
        with engine.begin() as conn:  # a schema from a newer Rapport
            conn.execute(text("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)"))
            conn.execute(text("INSERT INTO alembic_version VALUES ('9999_future')"))
        newer = _failure(url)
        assert newer.kind == "schema"
        assert "newer than this Rapport" in str(newer)
    finally:
        engine.dispose()
        pg_cluster.drop_database(pg_admin_url, name)


def test_unreachable_server_shows_the_banner_but_does_not_push_the_dialog(
    make_window: Any, aloop: LoopRunner
) -> None:
    _write(user_config_path(), f'[rapport]\ndb_url = "postgresql://a@127.0.0.1:{_free_port()}/r"\n')
    window = make_window()
    aloop.run(window.connect_database())
    assert window.connection.dialog is None
    assert "the server is unreachable" in window.banner.text()
    assert "File → Database connection…" in window.banner.text()


def test_from_the_demo_database_to_the_shared_one_via_the_menu(
    sqlite_engine: Engine,
    pg_password_db: tuple[str, str],
    make_window: Any,
    aloop: LoopRunner,
    memory_keyring: MemoryKeyring,
) -> None:
    from models.seed import seed_database

    seed_database(sqlite_engine, 5, seed=4)
    _write(user_config_path(), f'[rapport]\ndb_url = "{sqlite_engine.url}"\n')
    window = make_window()
    aloop.run(window.connect_database())
    assert window.services is not None and window.services.backend == "sqlite"
    customer_id = aloop.run(window.bridge.run(window.services.customers.first_customer_id))
    assert customer_id is not None
    aloop.run(window.tabs.load_customer(customer_id))
    assert isinstance(window.tabs.currentWidget(), CustomerPanel)

    window.menu_actions["database.connection"].trigger()
    dialog = _dialog(window)
    assert dialog.server.text() == "" and dialog.status.text() == ""
    window.menu_actions["database.connection"].trigger()  # a second click raises the same dialog
    assert _dialog(window) is dialog
    parsed = make_url(pg_password_db[1])
    dialog.server.setText(parsed.host or "")
    dialog.port.setValue(parsed.port or 5432)
    dialog.database.setText(parsed.database or "")
    dialog.user.setText(parsed.username or "")
    dialog.tls.setCurrentText("disable")
    dialog.password.setText(PG_AGENT_PASSWORD)
    assert aloop.run(dialog.save())
    aloop.until(lambda: window.services is not None and window.services.backend == "postgresql")
    assert not any(
        isinstance(window.tabs.widget(i), CustomerPanel) for i in range(window.tabs.count())
    )
    assert "sslmode=disable" in load_settings().db_url
