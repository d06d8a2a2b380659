"""`rapport tel:NUMBER`: the number is searched (a sole match opens), no call is recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from models.seed import seed_database
from models.service import Interaction
from tests.conftest import LoopRunner, RunningRapport
from ui.features.customer.panel import CustomerPanel
from ui.shell.main_window import MainWindow


def _interactions(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(Interaction)) or 0)


def _current_name(window: MainWindow) -> str | None:
    panel = window.tabs.currentWidget()
    return panel.data.header.name if isinstance(panel, CustomerPanel) else None


def test_look_up_opens_a_sole_match_and_records_nothing(
    window: MainWindow, engine: Engine, aloop: LoopRunner
) -> None:
    before = _interactions(engine)
    window.look_up("+16175550142")  # Sandra Kowalski (S2)
    aloop.until(lambda: _current_name(window) == "Sandra Kowalski")
    assert window.search.box.text() == "+16175550142"
    assert not window.calls.toast.isVisible() and not window.calls.book
    aloop.until(lambda: window.bridge.running == 0)
    assert _interactions(engine) == before


def test_look_up_of_a_shared_number_lists_the_household(
    window: MainWindow, aloop: LoopRunner
) -> None:
    window.look_up("+14155550188")  # the landline Eleanor and Thomas share
    aloop.until(lambda: window.search.model.rowCount() == 2)
    assert _current_name(window) is None  # the agent picks; nothing opened


def test_look_up_before_the_database_is_connected(
    engine: Engine, aloop: LoopRunner, qtbot: Any
) -> None:
    from app.config import load_settings
    from ui.bridge import DatabaseBridge

    seed_database(engine, 10, seed=2)
    settings = load_settings(cli={"db_url": engine.url.render_as_string(hide_password=False)})
    bridge = DatabaseBridge()
    main = MainWindow(settings, bridge)
    qtbot.addWidget(main)
    main.show()
    main.look_up("+442079460018")  # a tel: click started Rapport: not connected yet
    aloop.run(main.connect_database())
    aloop.until(lambda: _current_name(main) == "Priya Raman")
    aloop.until(lambda: bridge.running == 0)
    bridge.shutdown()
    assert main.services is not None
    main.services.close()


def test_tel_hand_off_between_two_processes(
    running_rapport: RunningRapport, engine: Engine, tmp_path: Path
) -> None:
    before = _interactions(engine)
    result = running_rapport.command("tel:+1-617-555-0142", log_dir=tmp_path / "tel")
    assert result.returncode == 0, result.stderr
    running_rapport.wait_for("hand-off: look-up from tel")
    running_rapport.wait_for("look-up: 1 match(es); opened")
    assert not running_rapport.logged("rapport.pop:")  # a look-up is not a call
    assert _interactions(engine) == before
    garbage = running_rapport.command("tel:+1415;$(reboot)")
    assert garbage.returncode == 2, garbage.stderr
    assert garbage.stderr.startswith("rapport: ") and garbage.stderr.count("\n") == 1
