"""rapportctl duplicates find, and DuplicateService (find, store, find_matches) on
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import Engine, select

from app.cli import main
from app.dedupe import Address, PersonRecord
from app.services.duplicates import DuplicateService
from models.data_quality import DuplicateCandidate
from models.database import Database
from models.enums import CustomerStatus, DuplicateFoundBy, DuplicateStatus, KeyDateKind
from models.names import search_name
from models.people import Customer, CustomerAddress, CustomerEmail, CustomerPhone, KeyDate

KEYS = {"id_a", "id_b", "external_ref_a", "external_ref_b", "score"}


def _add(
    engine: Engine,
    first: str,
    last: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    address: tuple[str, str, str] | None = None,
    born: dt.date | None = None,
    ref: str | None = None,
    status: CustomerStatus = CustomerStatus.ACTIVE,
) -> int:
    with Database(engine).write() as session:
        customer = Customer(
            first_name=first,
            last_name=last,
            search_name=search_name(first, last),
            customer_since=dt.date(2020, 1, 1),
            external_ref=ref,
            status=status,
        )
        session.add(customer)
        session.flush()
        if email:
            session.add(
                CustomerEmail(
                    customer_id=customer.id, address=email, address_normalized=email.lower()
                )
            )
        if phone:
            session.add(
                CustomerPhone(
                    customer_id=customer.id,
                    raw=phone,
                    e164=phone,
                    digits_tail=phone[-7:],
                    kind="mobile",
                )
            )
        if address:
            line1, postcode, city = address
            session.add(
                CustomerAddress(
                    customer_id=customer.id,
                    line1=line1,
                    postal_code=postcode,
                    city=city,
                    country="GB",
                )
            )
        if born:
            session.add(
                KeyDate(
                    customer_id=customer.id,
                    kind=KeyDateKind.BIRTHDAY,
                    date=born,
                    month_day=born.strftime("%m-%d"),
                )
            )
        return customer.id


@pytest.fixture
def people(engine: Engine) -> dict[str, int]:
    mill = ("12 Mill Lane", "OX1 2AB", "Oxford")
    return {
        "eleanor": _add(
            engine,
            "Eleanor",
            "Whitfield",
            email="eleanor.w@example.org",
            phone="+447700900123",
            address=mill,
            born=dt.date(1961, 4, 2),
        ),
        "elenor": _add(
            engine, "Elenor", "Whitfield", email="Eleanor.W@example.org", ref="CRM-0042"
        ),
        "harold": _add(engine, "Harold", "Whitfield", phone="+447700900123", address=mill),
        "bob": _add(
            engine, "Bob", "Marsh", phone="+447700900555", born=dt.date(1970, 1, 9), ref="CRM-0007"
        ),
        "robert": _add(engine, "Robert", "Marsh", phone="+447700900555", born=dt.date(1970, 1, 9)),
        "gone": _add(
            engine,
            "Eleanor",
            "Whitfield",
            email="eleanor.w@example.org",
            status=CustomerStatus.MERGED,
        ),
        "namesake": _add(engine, "Robert", "Marsh", born=dt.date(1988, 6, 1)),
    }


def _json_lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_find_prints_one_json_line_per_pair_and_nothing_else(
    engine: Engine, people: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    assert main(["duplicates", "find", "--db", url, "--json"]) == 0
    captured = capsys.readouterr()
    records = _json_lines(captured.out)
    assert all(set(r) == KEYS for r in records)
    pairs = {(r["id_a"], r["id_b"]) for r in records}
    assert pairs == {(people["eleanor"], people["elenor"]), (people["bob"], people["robert"])}
    by_pair = {(r["id_a"], r["id_b"]): r for r in records}
    eleanor = by_pair[(people["eleanor"], people["elenor"])]
    assert eleanor["external_ref_a"] is None and eleanor["external_ref_b"] == "CRM-0042"
    assert 0.5 <= float(eleanor["score"]) <= 1.0  # type: ignore[arg-type]
    assert "pairs in" in captured.err  # the summary goes to stderr


def test_a_higher_min_score_reports_fewer_and_a_bad_one_is_one_line(
    engine: Engine, people: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    assert main(["duplicates", "find", "--db", url, "--json", "--min-score", "0.0"]) == 0
    everything = _json_lines(capsys.readouterr().out)
    assert main(["duplicates", "find", "--db", url, "--json", "--min-score", "0.999"]) == 0
    strict = _json_lines(capsys.readouterr().out)
    assert len(strict) < len(everything)
    assert main(["duplicates", "find", "--db", url, "--min-score", "2"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "rapportctl: --min-score must be between 0 and 1, not 2"


def test_store_adds_open_candidates_and_never_reopens_a_dismissed_one(
    engine: Engine, people: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    assert main(["duplicates", "find", "--db", url, "--store"]) == 0
    capsys.readouterr()
    with Database(engine).write() as session:
        rows = session.scalars(select(DuplicateCandidate)).all()
        assert {(r.customer_a_id, r.customer_b_id) for r in rows} == {
            (people["eleanor"], people["elenor"]),
            (people["bob"], people["robert"]),
        }
        assert {r.found_by for r in rows} == {DuplicateFoundBy.SCAN}
        assert json.loads(rows[0].evidence_json)["first_name"] > 0.8
        bob = next(r for r in rows if r.customer_a_id == people["bob"])
        bob.status = DuplicateStatus.DISMISSED
    summary = DuplicateService(Database(engine)).store(
        DuplicateService(Database(engine)).find(), DuplicateFoundBy.SCAN
    )
    assert (summary.added, summary.refreshed, summary.left_closed) == (0, 1, 1)
    with Database(engine).read() as session:
        statuses = dict(
            session.execute(
                select(DuplicateCandidate.customer_a_id, DuplicateCandidate.status)
            ).all()
        )
    assert statuses[people["bob"]] == DuplicateStatus.DISMISSED


def test_find_matches_for_one_new_person(engine: Engine, people: dict[str, int]) -> None:
    service = DuplicateService(Database(engine))
    typed = PersonRecord(0, None, "Eleanor", "Whitfield", ("eleanor.w@example.org",))
    matches = service.find_matches(typed)
    assert {m.customer_id for m in matches} == {people["eleanor"], people["elenor"]}
    assert "same e-mail" in matches[0].reasons
    swapped = PersonRecord(0, None, "Marsh", "Bobby", (), ("+447700900555",))
    assert {m.customer_id for m in service.find_matches(swapped)} == {
        people["bob"],
        people["robert"],
    }
    stranger = PersonRecord(
        0, None, "Ada", "Lovelace", (), (), (Address("12 Mill Lane", "OX1 2AB", "Oxford"),)
    )
    assert service.find_matches(stranger) == []


def test_an_old_schema_is_one_line(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main(["duplicates", "find", "--db", url, "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "run rapportctl db upgrade first" in captured.err
