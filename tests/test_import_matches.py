"""The duplicate check asked once per batch finds what one query per row found: each
pair queued once, whether the rows share a batch or not, with its own evidence."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from app.clock import fixed_clock
from app.services.import_matches import (
    ImportPerson,
    find_import_matches,
    find_import_matches_batch,
)
from app.services.imports import ImportRequest, ImportService
from models.data_quality import DuplicateCandidate
from models.database import Database
from models.enums import ImportKind
from models.people import Customer

NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
HEADER = ["Customer ID", "First Name", "Surname", "Telephone", "E-mail", "Street", "Town", "Zip"]
ROWS = [
    ["A1", "Ann", "Lee", "+1 212 555 0101", "a1@example.com", "1 Elm St", "New York", "10001"],
    ["A2", "Bob", "Roe", "(212) 555-0101", "b2@example.com", "2 Elm St", "New York", "10002"],
    ["A3", "Ann", "Lee", "+1 212 555 0199", "a3@example.com", "3 Elm St", "New York", "10001"],
    ["A4", "Cy", "Dee", "+1 212 555 0150", "A1@example.com", "4 Elm St", "New York", "10004"],
]


def _import(engine: Engine, tmp_path: Path, batch_rows: int) -> int:
    path = tmp_path / "c.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows([HEADER, *ROWS])
    service = ImportService(Database(engine), actor="it", region="US", clock=fixed_clock(NOW))
    request = ImportRequest(path, ImportKind.CUSTOMERS, "oldcrm", batch_rows=batch_rows)
    return service.run(request).duplicate_candidates


@pytest.mark.parametrize("batch_rows", [1000, 2])
def test_pairs_in_and_across_batches_are_queued_once_with_their_evidence(
    engine: Engine, tmp_path: Path, batch_rows: int
) -> None:
    assert _import(engine, tmp_path, batch_rows) == 3
    with Database(engine).read() as session:
        ids = {ref: cid for ref, cid in session.execute(select(Customer.external_ref, Customer.id))}
        pairs = {
            (c.customer_a_id, c.customer_b_id): (c.score, json.loads(c.evidence_json))
            for c in session.scalars(select(DuplicateCandidate))
        }
    assert pairs == {
        (ids["A1"], ids["A2"]): (0.9, {"phone": "+12125550101"}),
        (ids["A1"], ids["A3"]): (0.8, {"name_postcode": "ann lee 10001"}),
        (ids["A1"], ids["A4"]): (0.9, {"email": "a1@example.com"}),
    }
    assert _import(engine, tmp_path, batch_rows) == 0  # unchanged rows: nothing queued again


def test_the_batch_answers_each_person_as_the_single_question_does(
    engine: Engine, tmp_path: Path
) -> None:
    _import(engine, tmp_path, 1000)
    people = [
        ImportPerson(None, "+12125550101", "a1@example.com", "ann lee", "10001"),
        ImportPerson(None, None, "b2@EXAMPLE.com", "nobody", None),
        ImportPerson(None, "+19995550000", None, "cy dee", "99999"),
    ]
    with Database(engine).read() as session:
        batch = find_import_matches_batch(session, people)
        single = [find_import_matches(session, person) for person in people]
        a1 = session.scalar(select(Customer.id).where(Customer.external_ref == "A1"))
    assert batch == single
    assert batch[0][0].customer_id == a1 and batch[0][0].score == 1.0  # phone + e-mail + name
    assert len(batch[0]) == 4 and [len(m) for m in batch[1:]] == [1, 0]
