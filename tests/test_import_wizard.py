"""The import wizard driven step by step on a real SQLite database, SQL refused on the
GUI thread: file -> columns guessed -> preview with the rejected rows -> import -> counts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from app.bootstrap import Services, build_services
from app.config import load_settings
from models.database import Database
from models.people import Customer
from tests.conftest import LoopRunner
from tests.factories import agent_context

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def services(sqlite_engine: Engine) -> Services:
    settings = load_settings()
    return build_services(settings, sqlite_engine).acting_as(agent_context(sqlite_engine))


@pytest.fixture
def wizard(services: Services, aloop: LoopRunner, gui_sql_guard: Any, qapp: Any) -> Iterator[Any]:
    from ui.bridge import DatabaseBridge
    from ui.features.imports.wizard import ImportWizard

    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    bridge = DatabaseBridge()
    gui_sql_guard.attach(services.engine)
    wizard = ImportWizard(services, bridge)
    wizard.show()
    yield wizard
    gui_sql_guard.detach(services.engine)
    aloop.until(lambda: bridge.running == 0)
    bridge.shutdown()
    wizard.close()
    wizard.deleteLater()
    bridge.deleteLater()
    aloop.run(asyncio.sleep(0.05))
    qapp.setQuitOnLastWindowClosed(quit_on_close)


def test_the_wizard_imports_and_shows_the_rejected_rows(
    wizard: Any, services: Services, aloop: LoopRunner, tmp_path: Path
) -> None:
    legacy = tmp_path / "legacy-customers.csv"
    legacy.write_bytes((ROOT / "resources/legacy/legacy-customers.csv").read_bytes())
    wizard.path.setText(str(legacy))
    wizard.source.setText("oldcrm")
    wizard.next.click()
    aloop.until(lambda: wizard.pages.currentIndex() == 1)
    assert wizard.columns.rowCount() == 10
    assert wizard.columns.cellWidget(2, 1).currentData() == "last_name"  # "Surname"
    wizard.next.click()
    aloop.until(lambda: wizard.pages.currentIndex() == 2)
    assert "5 would be rejected" in wizard.preview_note.text()
    wizard.only_rejected.setChecked(True)
    shown = [r for r in range(wizard.preview.rowCount()) if not wizard.preview.isRowHidden(r)]
    assert [wizard.preview.item(r, 0).text() for r in shown] == ["7", "13", "19", "25", "31"]
    assert wizard.preview.item(shown[1], 1).text().startswith("Phone: '555-CALL-NOW'")
    wizard.next.click()
    aloop.until(lambda: wizard.pages.currentIndex() == 4)
    assert "imported 38" in wizard.counts.text() and "rejected 5" in wizard.counts.text()
    assert "Duplicate candidates queued for review: 0" in wizard.counts.text()
    assert wizard.open_rejected.isEnabled()

    def count() -> int:  # on a worker: the guard refuses SQL on the GUI thread
        with Database(services.engine).read() as session:
            return int(session.scalar(select(func.count()).select_from(Customer)) or 0)

    assert aloop.run(asyncio.to_thread(count)) == 38


def test_a_bad_file_is_one_line_on_the_first_step(
    wizard: Any, aloop: LoopRunner, tmp_path: Path
) -> None:
    cut = tmp_path / "cut.csv"
    cut.write_text('Customer ID,First Name,Surname\n1,"Ann', encoding="utf-8")
    wizard.path.setText(str(cut))
    wizard.source.setText("oldcrm")
    wizard.next.click()
    aloop.until(lambda: bool(wizard.error.text()))
    assert "looks truncated" in wizard.error.text() and wizard.pages.currentIndex() == 0
