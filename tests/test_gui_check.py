"""The first start on a machine the window cannot open on: one clear line, not a silent abort."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QLibraryInfo

from ui.gui_check import GUI_PACKAGES, debian_packages, missing_in_ldd_output, missing_libraries

ROOT = Path(__file__).resolve().parent.parent
REAL_XCB = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms/libqxcb.so"
pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("ldd") is None,
    reason="the loader check is for Linux",
)

LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /opt/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f93)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f93)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibQt6Gui.so.6 => not found
"""


def test_ldd_output_gives_the_missing_libraries_and_their_debian_packages() -> None:
    missing = missing_in_ldd_output(LDD_OUTPUT)
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libQt6Gui.so.6"]
    assert debian_packages(missing) == ["libxcb-icccm4", "libxcb-keysyms1"]


def test_the_readme_names_the_system_packages() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [p for p in GUI_PACKAGES if p not in readme] == []


def _broken_plugin_folder(tmp_path: Path) -> Path:
    """A copy of the xcb plugin away from the Qt libraries: the loader cannot resolve it,
    as on a machine that lacks its libraries (whatever this machine has installed)."""
    folder = tmp_path / "platforms"
    folder.mkdir()
    shutil.copy(REAL_XCB, folder / "libqxcb.so")
    assert "libQt6XcbQpa.so.6" in missing_libraries(folder / "libqxcb.so")
    return folder


def _desktop_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=":99", RAPPORT_LOG_DIR=str(tmp_path / "logs"), **extra)
    return env


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_window_that_cannot_open_says_why_on_the_terminal(tmp_path: Path) -> None:
    env = _desktop_env(tmp_path, QT_QPA_PLATFORM_PLUGIN_PATH=str(_broken_plugin_folder(tmp_path)))
    result = subprocess.run(
        [sys.executable, "-m", "ui.main", "--demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, (result.returncode, result.stderr)
    line = _one_line(result.stderr)
    assert line.startswith("rapport: the window cannot open: the Qt platform plugin 'xcb' needs")
    assert "libQt6XcbQpa.so.6" in line and "reinstall Rapport" in line
    assert str(tmp_path / "logs" / "rapport.log") in line


def test_demo_names_the_missing_packages_and_how_to_install_them(tmp_path: Path) -> None:
    missing = debian_packages(missing_libraries(REAL_XCB))
    if not missing:
        pytest.skip("this machine has the xcb plugin's libraries (the demo would open)")
    result = subprocess.run(
        [str(ROOT / "scripts" / "demo")],
        cwd=ROOT,
        env=_desktop_env(tmp_path, RAPPORT_APT="0"),  # as a user who cannot install them
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    line = _one_line(result.stderr)
    assert f"sudo apt-get install {' '.join(missing)}" in line, line
    assert "libxcb-icccm4" in line


def test_rapport_check_gui_answers_without_opening_a_window(tmp_path: Path) -> None:
    env = _desktop_env(tmp_path, QT_QPA_PLATFORM_PLUGIN_PATH=str(_broken_plugin_folder(tmp_path)))
    result = subprocess.run(
        [sys.executable, "-m", "ui.main", "--check-gui"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "libQt6XcbQpa.so.6" in _one_line(result.stderr)
    fine = subprocess.run(
        [sys.executable, "-m", "ui.main", "--check-gui"],
        cwd=ROOT,
        env={**env, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert fine.returncode == 0, fine.stderr
