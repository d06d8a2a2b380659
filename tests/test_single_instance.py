"""One Rapport per user: a second start hands over to the running one; the hand-off server
drops clients that send nothing or too much, and only its owner can reach it."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, RunningRapport
from ui.telephony import handoff_address


def _server_path() -> Path:
    return Path(handoff_address())


def _pop_reaches_the_first(running: RunningRapport, tmp_path: Path, number: str) -> None:
    before = len(running.logged("rapport.pop:"))
    result = running.command("pop", number, log_dir=tmp_path / f"pop-{number[-4:]}")
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 30
    while len(running.logged("rapport.pop:")) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    popped = json.loads(running.logged("rapport.pop:")[-1].split("rapport.pop: ", 1)[1])
    assert popped["normalized"] == "+1" + "".join(c for c in number[2:] if c.isdigit())


def test_a_second_start_hands_over_and_the_first_keeps_the_calls(
    running_rapport: RunningRapport, tmp_path: Path
) -> None:
    second = subprocess.Popen(
        [sys.executable, "-m", "ui.main", "--db", running_rapport.url],
        cwd=ROOT,
        env={**running_rapport.env, "RAPPORT_LOG_DIR": str(tmp_path / "second")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = second.communicate(timeout=30)
    finally:
        if second.poll() is None:  # it opened a window of its own: the defect
            second.kill()
            second.communicate()
    assert second.returncode == 0, err
    assert "already running" in out
    running_rapport.wait_for("hand-off: brought to the front")
    assert _server_path().is_socket()
    _pop_reaches_the_first(running_rapport, tmp_path, "+1 (617) 555-0142")


def test_the_server_drops_silent_and_oversized_clients_and_still_pops(
    running_rapport: RunningRapport, tmp_path: Path
) -> None:
    path = str(_server_path())
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    flood = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        silent.settimeout(15)
        silent.connect(path)
        flood.settimeout(15)
        flood.connect(path)
        try:
            flood.sendall(b"x" * 20_000)  # no newline, five times the limit
        except OSError:
            pass  # already dropped
        started = time.monotonic()
        assert silent.recv(100) == b""  # closed by the server, not by our timeout
        assert time.monotonic() - started < 10
        try:
            assert flood.recv(100) == b""
        except ConnectionResetError:
            pass
    finally:
        silent.close()
        flood.close()
    assert running_rapport.logged("hand-off: dropped a client")
    _pop_reaches_the_first(running_rapport, tmp_path, "+1 (617) 555-0142")


def test_only_the_owner_can_reach_the_hand_off_socket(running_rapport: RunningRapport) -> None:
    path = _server_path()
    assert path.is_socket()
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, oct(path.stat().st_mode)
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
    assert path.stat().st_uid == os.getuid()
