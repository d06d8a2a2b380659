"""Packaging for IT: the PyInstaller bundle works like the source, and the MSI definition builds.

The bundle is built with scripts/build-bundle (about two minutes on two cores) only when
dist/rapport is missing or older than a source file; otherwise it is reused. The Windows
installer cannot be built for real on Linux, so its WiX definition is built with wixl
(Debian's msitools) against the Linux bundle as a stand-in payload and its tables are
inspected with msiinfo: a broken definition fails here rather than on the build machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from installer import machine_config
from installer.windows.harvest import harvest

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "rapport"
WXS = ROOT / "installer" / "windows" / "rapport.wxs"
ICON = ROOT / "resources" / "icons" / "rapport.ico"
PUBLIC_PROPERTIES = {
    # MSI property -> (rapport-machine-config option, config key)
    "DBURL": ("--db-url", "db_url"),
    "PHONEREGION": ("--region", "default_region"),
    "WEBHOOKPORT": ("--webhook-port", "webhook_port"),
    "AMIHOST": ("--ami-host", "ami_host"),
    "AMIPORT": ("--ami-port", "ami_port"),
    "AMIUSER": ("--ami-user", "ami_username"),
    "AMIDEVICE": ("--ami-device", "ami_device"),
    "BARESIPPORT": ("--baresip-port", "baresip_port"),
}
WIX_NS = {"w": "http://schemas.microsoft.com/wix/2006/wi"}


# -- the bundle ------------------------------------------------------------------------


def _newest_source() -> float:
    # What goes into the bundle. installer/windows/ only shapes the MSI, not the bundle.
    skip = {ROOT / "installer" / "windows", ROOT / "installer" / "version_info.txt"}
    newest = (ROOT / "pyproject.toml").stat().st_mtime
    for folder in ("app", "ui", "models", "resources", "installer"):
        for path in (ROOT / folder).rglob("*"):
            if (
                not path.is_file()
                or "__pycache__" in path.parts
                or any(path == s or s in path.parents for s in skip)
            ):
                continue
            newest = max(newest, path.stat().st_mtime)
    return newest


def _bundle_is_fresh() -> bool:
    programs = [BUNDLE / "rapport", BUNDLE / "rapportctl", BUNDLE / "rapport-machine-config"]
    if not all(p.is_file() for p in programs):
        return False
    built = min(p.stat().st_mtime for p in programs)
    return built > _newest_source()


@pytest.fixture(scope="module")
def bundle() -> Path:
    if not _bundle_is_fresh():
        result = subprocess.run(
            [str(ROOT / "scripts" / "build-bundle")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=540,
        )
        assert result.returncode == 0, (
            f"scripts/build-bundle failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return BUNDLE


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)


@pytest.mark.timeout(600)
def test_bundle_self_test_on_a_fresh_database(bundle: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bundle.db'}"
    for command in (["db", "upgrade"], ["db", "seed", "--customers", "50"]):
        done = _run([str(bundle / "rapportctl"), *command, "--db", url])
        assert done.returncode == 0, done.stderr
    done = _run([str(bundle / "rapport"), "--self-test", "--db", url])
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, f"expected one JSON line:\n{done.stdout}\n{done.stderr[-2000:]}"
    report = json.loads(lines[0])
    assert report["ok"] is True, report
    assert done.returncode == 0
    assert report["customer"] == "Eleanor Whitfield"
    # The libraries the case rules load by name (holidays' countries, time zones, the
    # sentiment lexicon, the language profiles) are in the bundle and answer right.
    assert any(c.startswith("case rules:") for c in report["checks"]), report["checks"]


@pytest.mark.timeout(600)
def test_bundle_refuses_an_empty_database_like_the_source(bundle: Path, tmp_path: Path) -> None:
    # Packaging must not change behaviour: the same one-line refusal, frozen or not.
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert _run([str(bundle / "rapportctl"), "db", "upgrade", "--db", url]).returncode == 0
    frozen = _run([str(bundle / "rapport"), "--self-test", "--db", url])
    source = _run([sys.executable, "-m", "ui.main", "--self-test", "--db", url])
    reports = [json.loads(done.stdout.strip().splitlines()[-1]) for done in (frozen, source)]
    assert frozen.returncode == source.returncode == 1
    assert reports[0]["ok"] is reports[1]["ok"] is False
    assert reports[0]["reason"] == reports[1]["reason"]


@pytest.mark.timeout(600)
def test_bundle_ships_the_migrations_and_the_icon(bundle: Path) -> None:
    internal = bundle / "_internal"
    assert (internal / "models" / "migrations" / "env.py").is_file()
    assert (internal / "models" / "migrations" / "script.py.mako").is_file()
    # Every migration ships, with the SQL a migration reads beside it (0011's functions).
    source = ROOT / "models" / "migrations" / "versions"
    shipped = internal / "models" / "migrations" / "versions"
    for pattern in ("*.py", "*.sql"):
        assert {p.name for p in shipped.glob(pattern)} == {p.name for p in source.glob(pattern)}
    assert (shipped / "0011_authority.sql").is_file()
    assert (internal / "resources" / "icons" / "rapport.ico").is_file()
    # Trimmed on purpose (see installer/hooks): unused Qt modules and phone geodata.
    assert not list(internal.rglob("libQt6WebEngine*"))
    assert not (internal / "phonenumbers" / "geodata").exists()
    version = (ROOT / "installer" / "version_info.txt").read_text(encoding="utf-8")
    from app import __version__

    assert f"StringStruct('ProductVersion', '{__version__}')" in version


@pytest.mark.timeout(600)
def test_bundle_draws_the_dashboards_with_pyqtgraph_on_pyside6(bundle: Path) -> None:
    """pyqtgraph ships (the dashboards' chart, imported when first opened), and no
    second Qt binding with it: the modules in the executable's PYZ archive."""
    from PyInstaller.archive.readers import CArchiveReader

    archive = CArchiveReader(str(bundle / "rapport"))
    pyz = next(name for name in archive.toc if name.endswith(".pyz"))
    modules = set(archive.open_embedded_archive(pyz).toc)
    assert {"pyqtgraph", "ui.features.dashboards.page", "ui.features.dashboards.chart"} <= modules
    assert not {m for m in modules if m.split(".")[0] in ("PyQt5", "PyQt6", "OpenGL")}
    assert not {m for m in modules if m.startswith(("pyqtgraph.examples", "pyqtgraph.opengl"))}


# -- the machine config tool (run by the MSI) ------------------------------------------


def test_machine_config_sets_keys_and_keeps_other_lines(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('# set by IT\n[rapport]\nuser = "x"\ndb_url = "old"\n\n[other]\na = 1\n')
    code = machine_config.main(
        ["--config", str(path), "--db-url", r"sqlite:///C:\data\r.db", "--region", "gb",
         "--webhook-port", "8085", "--ami-host", ""]
    )  # fmt: skip
    assert code == 0
    text = path.read_text(encoding="utf-8")
    assert text.startswith('# set by IT\n[rapport]\nuser = "x"\n')
    from app.config import load_settings

    settings = load_settings(environ={}, user_file=tmp_path / "none", machine_file=path)
    assert settings.values["db_url"] == r"sqlite:///C:\data\r.db"
    assert settings.default_region == "GB"
    assert settings.values["webhook_port"] == 8085
    assert settings.values["ami_host"] is None  # empty property: left alone
    assert settings.sources["db_url"].startswith("machine config")


def test_machine_config_refuses_a_password_and_bad_ports(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert machine_config.main(["--config", str(path), "--db-url", "postgresql://a:pw@h/db"]) == 2
    assert machine_config.main(["--config", str(path), "--ami-port", "99999"]) == 2
    assert not path.exists()
    assert machine_config.main(["--config", str(path), "--ami-user", "agent7"]) == 0
    assert machine_config.main(["--config", str(path), "--remove"]) == 0
    assert not path.exists()


# -- the Windows installer definition ------------------------------------------------------


def _ensure_msitools() -> None:
    if shutil.which("wixl") and shutil.which("msiinfo"):
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        apt = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=120"]
        install = [*apt, "install", "--no-install-recommends", "msitools", "wixl"]
        if subprocess.run(install, env=env, capture_output=True, check=False).returncode:
            subprocess.run([*apt, "update"], env=env, capture_output=True, check=False)
            subprocess.run(install, env=env, capture_output=True, check=False)
    if not (shutil.which("wixl") and shutil.which("msiinfo")):
        pytest.fail(
            "wixl and msiinfo are needed to validate the Windows installer: "
            "apt-get install msitools wixl (Debian/Ubuntu)",
            pytrace=False,
        )


def build_msi(payload: Path, work: Path, version: str = "0.1.0") -> Path:
    """Build the MSI from installer/windows/rapport.wxs with wixl; raise on any error."""
    _ensure_msitools()
    files = work / "files.wxs"
    files.write_text(harvest(payload), encoding="utf-8")
    msi = work / "Rapport.msi"
    # wixl resolves File/@Source relative to the working directory and rejects absolute paths.
    command = [
        "wixl", "-a", "x64", "-D", f"Version={version}",
        "-D", f"SourceDir={os.path.relpath(payload, ROOT)}",
        "-D", f"IconFile={os.path.relpath(ICON, ROOT)}",
        "-o", str(msi), str(WXS), str(files),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    errors = [line for line in done.stderr.splitlines() if "ERROR" in line or "CRITICAL" in line]
    if done.returncode != 0 or errors or not msi.is_file():
        raise AssertionError(f"wixl failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return msi


def msi_table(msi: Path, table: str) -> list[list[str]]:
    done = subprocess.run(
        ["msiinfo", "export", str(msi), table], capture_output=True, text=True, check=True
    )
    # Three header lines (names, types, table name), then tab-separated rows.
    return [line.split("\t") for line in done.stdout.splitlines()[3:] if line]


def inspect_msi(msi: Path) -> None:
    """What IT relies on; raises AssertionError naming what is missing."""
    tables = subprocess.run(
        ["msiinfo", "tables", str(msi)], capture_output=True, text=True, check=True
    ).stdout.split()
    for name in ("File", "Component", "Registry", "CustomAction", "Shortcut", "Upgrade"):
        assert name in tables, f"table {name} missing"
    props = {row[0]: row[1] for row in msi_table(msi, "Property")}
    assert props.get("ALLUSERS") == "1", "not a per-machine install"
    assert props.get("UpgradeCode") == "{3B3FF9BA-5197-493A-A2BE-F160969ED6DA}"
    upgrade = msi_table(msi, "Upgrade")
    assert any(row[-1] == "WIX_UPGRADE_DETECTED" for row in upgrade), "no major upgrade"

    actions = {row[0]: row for row in msi_table(msi, "CustomAction")}
    write = actions["WriteMachineConfig"]
    assert write[2] == "RapportMachineConfigExe"
    for prop, (option, _key) in PUBLIC_PROPERTIES.items():
        assert f'{option} "[{prop}]"' in write[3], f"{prop} is not passed to the config tool"
    assert int(write[1]) & 0x0C00 == 0x0C00, "config must be written deferred, not impersonated"
    assert "--remove" in actions["RemoveMachineConfig"][3]
    sequence = {row[0]: row[1] for row in msi_table(msi, "InstallExecuteSequence")}
    assert 'REMOVECONFIG="1"' in sequence["RemoveMachineConfig"]
    assert "NOT UPGRADINGPRODUCTCODE" in sequence["RemoveMachineConfig"]

    registry = {(row[1], row[2], row[3]): row[4] for row in msi_table(msi, "Registry")}
    hklm = "2"
    assert (hklm, "Software\\Classes\\rapport\\", "URL Protocol") in registry
    command = registry[(hklm, "Software\\Classes\\rapport\\shell\\open\\command", "")]
    assert command == '"[INSTALLDIR]rapport.exe" "%1"'
    assert registry[(hklm, "Software\\RegisteredApplications", "Rapport")] == (
        "Software\\Rapport\\Capabilities"
    )
    assert registry[(hklm, "Software\\Rapport\\Capabilities\\URLAssociations", "tel")]

    shortcuts = msi_table(msi, "Shortcut")
    assert any(row[1] == "ProgramMenuFolder" and "rapport.exe" in row[4] for row in shortcuts)
    files = {row[0] for row in msi_table(msi, "File")}
    assert {"RapportExe", "RapportctlExe", "RapportMachineConfigExe"} <= files


def test_wxs_public_properties_are_secure() -> None:
    # wixl ignores Secure="yes", so the built MSI cannot show it; WiX needs it to pass the
    # properties from msiexec's client to the elevated install. Check the source instead.
    tree = ET.parse(WXS)
    declared = {
        p.get("Id"): p.get("Secure") for p in tree.getroot().iterfind(".//w:Property", WIX_NS)
    }
    for prop in [*PUBLIC_PROPERTIES, "REMOVECONFIG"]:
        assert declared.get(prop) == "yes", f"{prop} must be declared Secure"


def test_msi_definition_fails_when_broken(tmp_path: Path) -> None:
    payload = tmp_path / "payload"
    payload.mkdir()
    (payload / "rapport").write_text("stand-in")
    (payload / "rapportctl").write_text("stand-in")
    (payload / "rapport-machine-config").write_text("stand-in")
    work = tmp_path / "ok"
    work.mkdir()
    inspect_msi(build_msi(payload, work))  # the small payload passes
    # Without the config tool in the payload the custom action has no file: wixl must fail.
    (payload / "rapport-machine-config").unlink()
    broken = tmp_path / "broken"
    broken.mkdir()
    with pytest.raises(AssertionError):
        build_msi(payload, broken)


@pytest.fixture
def msi_work(tmp_path: Path) -> Iterator[Path]:
    work = tmp_path / "msi"
    work.mkdir()
    yield work


@pytest.mark.timeout(600)
def test_msi_builds_from_the_bundle(bundle: Path, msi_work: Path) -> None:
    from app import __version__

    msi = build_msi(bundle, msi_work, __version__)
    inspect_msi(msi)
    assert len(msi_table(msi, "File")) == sum(1 for p in bundle.rglob("*") if p.is_file())
