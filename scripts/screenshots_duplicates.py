"""The duplicate review and a merge, for docs/screenshots/ (`screenshots.py --duplicates`).

On the database given (a demo copy: it writes), agent01 finds a customer entered twice
(a second record with the same name and e-mail, made here through the contact service,
and the pair put in the review queue as the detection would), reviews the pair side by
side, confirms the merge, and then undoes it so the next window size starts again from
the same queue.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication

from app.config import load_settings
from ui.bridge import DatabaseBridge
from ui.shell.main_window import MainWindow
from ui.theme import apply_theme


def _entered_twice(services: Any) -> int:
    """A second record of a customer with an e-mail, and the pair as a candidate."""
    from sqlalchemy import select

    from app.services.contacts import ContactDetails
    from models.data_quality import DuplicateCandidate
    from models.enums import CustomerStatus, DuplicateFoundBy, DuplicateStatus
    from models.people import Customer, CustomerEmail

    with services.db.read() as session:
        waiting = session.scalar(
            select(DuplicateCandidate.id).where(DuplicateCandidate.status == DuplicateStatus.OPEN)
        )
        if waiting is not None:
            return int(waiting)
        row = session.execute(
            select(Customer, CustomerEmail.address)
            .join(CustomerEmail, CustomerEmail.customer_id == Customer.id)
            .where(Customer.status == CustomerStatus.ACTIVE)
            .order_by(Customer.id)
            .limit(1)
        ).one()
        original, address = row
        first, last, language = original.first_name, original.last_name, original.preferred_language
    twin = services.contacts.create(
        ContactDetails(first_name=first, last_name=last, preferred_language=language,
                       emails=(address.upper(),))
    )  # fmt: skip
    a, b = sorted((original.id, twin.customer_id))
    with services.db.write() as session:
        candidate = DuplicateCandidate(
            customer_a_id=a,
            customer_b_id=b,
            score=0.97,
            evidence_json=json.dumps({"email": 1.0, "name": 1.0}),
            found_by=DuplicateFoundBy.CREATION,
        )
        session.add(candidate)
        session.flush()
        return int(candidate.id)


async def run_duplicates(app: QApplication, db: str, out: Path, sizes: Any, shots: Any) -> None:
    """`shots`: the screenshots module (settle, shoot, shoot_dialogs)."""
    out.mkdir(parents=True, exist_ok=True)
    apply_theme(app, "light")
    bridge = DatabaseBridge()
    window = MainWindow(load_settings(cli={"db_url": db, "user": "agent01"}), bridge)
    window.show()
    await window.connect_database()
    services = window.services
    assert services is not None, window.connection.error
    await bridge.run(_entered_twice, services)
    for width, height in sizes:
        window.setGeometry(0, 0, width, height)
        suffix = f"{width}x{height}"
        window.show_duplicates()
        page = window.duplicates
        assert page is not None
        await shots.settle(app, window, 0.8)
        await shots.shoot(app, window, out, f"duplicates-review-{suffix}")
        page.merge()
        box = await page.wait_confirmation()
        await shots.shoot_dialogs(app, window, [box], out, f"duplicates-confirm-{suffix}")
        box.buttons()[0].click()  # Merge
        while not page.done:
            await asyncio.sleep(0.05)
        await shots.settle(app, window, 0.8)
        page.merge_table.selectRow(0)
        await shots.shoot(app, window, out, f"duplicates-merged-{suffix}")
        page.unmerge()
        while len(page.done) < 2:
            await asyncio.sleep(0.05)
        page.done.clear()
        await shots.settle(app, window, 0.5)
    window.close()
    bridge.shutdown()
    services.close()
