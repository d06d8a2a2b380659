"""`rapport tel:NUMBER`: the number is searched (a sole match opens), no call is recorded."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from models.seed import seed_database
from models.service import Interaction
from tests.conftest import LoopRunner
from ui.customer_panel import CustomerPanel
from ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parent.parent


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
    assert not window.toast.isVisible() and not window.calls
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


def test_tel_hand_off_between_two_processes(engine: Engine, tmp_path: Path) -> None:
    seed_database(engine, 10)
    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "RAPPORT_LOG_DIR": str(tmp_path)}
    running = subprocess.Popen(
        [sys.executable, "-m", "ui.main", "--db", url],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    log = tmp_path / "rapport.log"

    def logged(marker: str) -> list[str]:
        text = log.read_text() if log.exists() else ""
        return [line for line in text.splitlines() if marker in line]

    def wait_for(marker: str, deadline: float) -> None:
        while not logged(marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert logged(marker), f"never logged {marker!r}:\n{log.read_text()[-2000:]}"

    try:
        deadline = time.monotonic() + 60
        wait_for("hand-off listening", deadline)
        before = _interactions(engine)
        result = subprocess.run(
            [sys.executable, "-m", "ui.main", "tel:+1-617-555-0142"],
            cwd=ROOT,
            env={**env, "RAPPORT_LOG_DIR": str(tmp_path / "tel")},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
        wait_for("hand-off: look-up from tel", deadline)
        wait_for("look-up: 1 match(es); opened", deadline)
        assert not logged("rapport.pop:")  # a look-up is not a call
        assert _interactions(engine) == before
        garbage = subprocess.run(
            [sys.executable, "-m", "ui.main", "tel:+1415;$(reboot)"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert garbage.returncode == 2, garbage.stderr
        assert garbage.stderr.startswith("rapport: ") and garbage.stderr.count("\n") == 1
    finally:
        running.terminate()
        running.wait(timeout=30)
