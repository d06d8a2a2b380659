"""Why the window cannot open: system libraries the Qt platform plugin needs, and no display.

Qt aborts (SIGABRT, exit 134) when no platform plugin loads, and says why only in
its own words ("xcb-cursor0 is needed" even when another library is missing). On
Linux this asks the dynamic loader (`ldd`) what the plugin and the Qt GUI modules
lack and names the Debian/Ubuntu packages that hold it. Used by `rapport` when Qt
gives up, by `rapport --check-gui`, and by `scripts/demo`, which installs the
packages when it runs as root on Debian/Ubuntu:

    python -m ui.gui_check              # one line and exit 1 if the window cannot open
    python -m ui.gui_check --packages   # the missing Debian packages, one line (may be empty)

Imports only the standard library and QtCore, which loads without a display.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

# soname -> Debian/Ubuntu package; the libraries PySide6's xcb plugin and Qt GUI link to.
DEBIAN_PACKAGES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
}
# What the README lists: enough for the window on a desktop that has X or XWayland.
GUI_PACKAGES = (
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-image0",
    "libxcb-render-util0",
    "libxcb-randr0",
    "libxcb-shape0",
    "libxcb-xkb1",
    "libxkbcommon-x11-0",
    "libegl1",
    "libgl1",
    "libfontconfig1",
    "libdbus-1-3",
)
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$")
LDD_TIMEOUT_S = 10


def missing_in_ldd_output(output: str) -> list[str]:
    """The sonames `ldd` reports as `not found`, each once, in order."""
    missing: list[str] = []
    for line in output.splitlines():
        match = _NOT_FOUND.match(line)
        if match and match.group(1) not in missing:
            missing.append(match.group(1))
    return missing


def debian_packages(libraries: Sequence[str]) -> list[str]:
    """Debian/Ubuntu packages for the sonames we know, each once, in order."""
    packages: list[str] = []
    for library in libraries:
        package = DEBIAN_PACKAGES.get(library)
        if package and package not in packages:
            packages.append(package)
    return packages


def install_command(packages: Sequence[str]) -> str:
    return "sudo apt-get install " + " ".join(packages)


def platform_name(environ: Mapping[str, str]) -> str:
    """The platform plugin Qt will try first (PySide6 on Linux defaults to xcb)."""
    requested = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    return requested or "xcb"


def platform_plugin(name: str, environ: Mapping[str, str]) -> Path | None:
    """The plugin file Qt loads for `name`: QT_QPA_PLATFORM_PLUGIN_PATH first, as Qt does."""
    folders: list[Path] = []
    if environ.get("QT_QPA_PLATFORM_PLUGIN_PATH"):
        folders.append(Path(environ["QT_QPA_PLATFORM_PLUGIN_PATH"]))
    from PySide6.QtCore import QLibraryInfo

    folders.append(Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms")
    for folder in folders:
        candidate = folder / f"libq{name}.so"
        if candidate.is_file():
            return candidate
    return None


def missing_libraries(binary: Path) -> list[str]:
    """What the dynamic loader cannot find for `binary` (empty when ldd is unavailable)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        result = subprocess.run(
            [ldd, str(binary)], capture_output=True, text=True, timeout=LDD_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return missing_in_ldd_output(result.stdout)


def _qt_gui_modules() -> list[Path]:
    modules: list[Path] = []
    for name in ("PySide6.QtGui", "PySide6.QtWidgets"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            modules.append(Path(spec.origin))
    return modules


def missing_for_window(environ: Mapping[str, str]) -> list[str]:
    """Libraries missing for the window on this machine (Linux; elsewhere none)."""
    if not sys.platform.startswith("linux"):
        return []
    name = platform_name(environ)
    if name in ("offscreen", "minimal"):
        return []
    binaries = _qt_gui_modules()
    plugin = platform_plugin(name, environ)
    if plugin is not None:
        binaries.append(plugin)
    missing: list[str] = []
    for binary in binaries:
        missing.extend(lib for lib in missing_libraries(binary) if lib not in missing)
    return missing


def diagnose(environ: Mapping[str, str] | None = None) -> str | None:
    """One sentence saying why the window cannot open, or None if nothing is found wrong."""
    environ = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return None
    name = platform_name(environ)
    missing = missing_for_window(environ)
    if missing:
        packages = debian_packages(missing)
        reason = f"the Qt platform plugin {name!r} needs {', '.join(missing)}, not installed"
        if packages:
            reason += f"; install them with: {install_command(packages)}"
        if any(lib.startswith("libQt6") for lib in missing):
            reason += "; the Qt libraries of this installation are incomplete: reinstall Rapport"
        return reason
    if name == "xcb" and not environ.get("DISPLAY"):
        return (
            "no X display (DISPLAY is not set): start Rapport inside a desktop session "
            "(QT_QPA_PLATFORM=offscreen runs it without a window, for tests)"
        )
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ui.gui_check", description="Can the Rapport window open here?"
    )
    parser.add_argument(
        "--packages", action="store_true", help="print the missing Debian packages, one line"
    )
    args = parser.parse_args(argv)
    if args.packages:
        print(" ".join(debian_packages(missing_for_window(os.environ))))
        return 0
    reason = diagnose()
    if reason is None:
        print("rapport: the window can open here")
        return 0
    print(f"rapport: the window cannot open: {reason}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
