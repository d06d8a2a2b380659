"""The first-run PostgreSQL connection dialog against the real test server."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, make_url

from tests import pg_cluster
from tests.conftest import PG_AGENT_PASSWORD, LoopRunner, MemoryKeyring
from ui import connection_dialog
from ui.connection_dialog import ConnectionDialog

pytestmark = pytest.mark.pg


def _fill(dialog: ConnectionDialog, url: str, *, tls: str = "disable", password: str = "") -> None:
    parsed = make_url(url)
    dialog.server.setText(parsed.host or "127.0.0.1")
    dialog.port.setValue(parsed.port or 5432)
    dialog.database.setText(parsed.database or "")
    dialog.user.setText(parsed.username or "")
    dialog.tls.setCurrentText(tls)
    dialog.password.setText(password)


@pytest.fixture
def dialog(qtbot: Any) -> Iterator[ConnectionDialog]:
    widget = ConnectionDialog()
    qtbot.addWidget(widget)
    widget.open()  # window-modal, never exec(): the qasync loop keeps running
    yield widget
    widget.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_test_and_save_on_the_real_server(
    pg_engine: Engine,
    dialog: ConnectionDialog,
    aloop: LoopRunner,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = pg_engine.url.render_as_string(hide_password=False)
    _fill(dialog, url, password="s3cret")
    seen_threads: list[str] = []
    real_probe = connection_dialog.probe

    def spying_probe(target: Any) -> connection_dialog.ProbeResult:
        seen_threads.append(threading.current_thread().name)
        return real_probe(target)

    monkeypatch.setattr(connection_dialog, "probe", spying_probe)
    chosen: list[str] = []
    dialog.connection_chosen.connect(chosen.append)
    assert aloop.run(dialog.test_connection())
    assert "schema is up to date" in dialog.status.text()
    assert aloop.run(dialog.save())
    assert seen_threads and threading.main_thread().name not in seen_threads  # never on GUI
    assert dialog.result() == dialog.DialogCode.Accepted
    assert chosen == [dialog.accepted_url]
    assert dialog.accepted_url is not None and "s3cret" not in dialog.accepted_url
    assert "sslmode=disable" in dialog.accepted_url
    parsed = make_url(dialog.accepted_url)
    account = f"{parsed.username}@{parsed.host}:{parsed.port}/{parsed.database}"
    assert memory_keyring.secrets[("Rapport", account)] == "s3cret"


def test_unreachable_server(dialog: ConnectionDialog, aloop: LoopRunner) -> None:
    _fill(dialog, f"postgresql://agent@127.0.0.1:{_free_port()}/rapport")
    assert not aloop.run(dialog.test_connection())
    assert dialog.status.text().startswith("the server is unreachable")
    assert not aloop.run(dialog.save())  # Save tests first and refuses
    assert dialog.accepted_url is None and dialog.isVisible()


def test_tls_required_but_not_offered(
    pg_admin_url: str, dialog: ConnectionDialog, aloop: LoopRunner
) -> None:
    _fill(dialog, pg_admin_url, tls="require")  # the throwaway test server has no TLS
    assert not aloop.run(dialog.test_connection())
    assert dialog.status.text().startswith("the TLS connection failed")


def test_database_without_schema(
    pg_admin_url: str, dialog: ConnectionDialog, aloop: LoopRunner
) -> None:
    name = f"rapport_empty_{uuid.uuid4().hex[:8]}"
    url = pg_cluster.create_database(pg_admin_url, name)
    try:
        _fill(dialog, url)
        assert not aloop.run(dialog.test_connection())
        assert "has no Rapport schema; run: rapportctl db upgrade" in dialog.status.text()
    finally:
        pg_cluster.drop_database(pg_admin_url, name)


def test_wrong_password_message(
    pg_password_db: tuple[str, str], dialog: ConnectionDialog, aloop: LoopRunner
) -> None:
    _fill(dialog, pg_password_db[1], password="wrong")  # a server that checks passwords
    assert not aloop.run(dialog.test_connection())
    assert dialog.status.text().startswith("wrong user or password")
    assert "password authentication failed" in dialog.status.text()
    assert ":wrong@" not in dialog.status.text()  # the password is never shown
    _fill(dialog, pg_password_db[1], password=PG_AGENT_PASSWORD)
    assert aloop.run(dialog.test_connection())


def test_incomplete_form_cannot_be_tested(dialog: ConnectionDialog) -> None:
    assert not dialog.test_button.isEnabled()
    dialog.server.setText("db")
    dialog.user.setText("agent01")
    assert dialog.test_button.isEnabled()
    assert dialog.password.echoMode() == dialog.password.EchoMode.Password
