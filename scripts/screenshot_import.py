"""The import wizard's rejected-rows step (issue 14, S8), for docs/screenshots/.

    PYTHONPATH=. QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshot_import.py --db URL

Opens the wizard on resources/legacy/legacy-customers.csv (source "oldcrm"), maps the
columns by their names, and saves the preview with only the rejected rows shown
(`import-rejected-rows.png`), then imports and saves the counts (`import-summary.png`).
The import writes to the database given: use a copy of the demo database.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QApplication

from app.bootstrap import build_services
from app.config import load_settings
from models.database import make_engine
from ui.bridge import DatabaseBridge
from ui.features.imports.wizard import ImportWizard
from ui.theme import apply_theme

ROOT = Path(__file__).resolve().parents[1]


async def until(check: object, seconds: float = 60) -> None:
    for _ in range(int(seconds / 0.05)):
        if callable(check) and check():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the wizard did not get there")


async def shoot(app: QApplication, db: str, out: Path) -> None:
    apply_theme(app)
    services = build_services(load_settings(), make_engine(db))
    bridge = DatabaseBridge()
    wizard = ImportWizard(services, bridge)
    wizard.resize(1200, 640)
    wizard.show()
    # A copy: the rejected rows' file is written beside it, not into resources/.
    legacy = Path(tempfile.mkdtemp()) / "legacy-customers.csv"
    legacy.write_bytes((ROOT / "resources/legacy/legacy-customers.csv").read_bytes())
    wizard.path.setText(str(legacy))
    wizard.source.setText("oldcrm")
    wizard.next.click()
    await until(lambda: wizard.pages.currentIndex() == 1)
    wizard.next.click()
    await until(lambda: wizard.pages.currentIndex() == 2)
    wizard.only_rejected.setChecked(True)
    await asyncio.sleep(0.3)
    out.mkdir(parents=True, exist_ok=True)
    wizard.grab().save(str(out / "import-rejected-rows.png"))
    print(out / "import-rejected-rows.png")
    wizard.next.click()
    await until(lambda: wizard.pages.currentIndex() == 4)
    await asyncio.sleep(0.3)
    wizard.grab().save(str(out / "import-summary.png"))
    print(out / "import-summary.png")
    bridge.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--out", default="docs/screenshots")
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(shoot(app, args.db, Path(args.out)))


if __name__ == "__main__":
    main()
