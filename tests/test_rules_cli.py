"""rapportctl rules mine / recommend, and RuleService storing and reading rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from efficient_apriori import apriori
from sqlalchemy import Engine, func, select

from app.cli import main
from app.mining import mine
from app.services.rules import RuleService
from models.commerce import Order, OrderLine
from models.database import Database
from models.enums import OrderStatus
from models.seed import seed_database
from models.suggestions import AssociationRule, AssociationRuleItem, RuleRun

BASKETS = (
    "\ufeffbread,milk\n"  # a BOM, as Excel writes
    '"jam, strawberry",bread\n'
    "\n"
    'bread,"jam, strawberry",milk\n'
    "bread, milk\n"
    "   \n"
    "tea\n"
)
KEYS = {"antecedents", "consequents", "support", "confidence", "lift"}


def _csv(tmp_path: Path, text: str = BASKETS) -> str:
    path = tmp_path / "baskets.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_csv_rules_are_json_lines_with_the_exact_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _csv(tmp_path)
    args = ["--min-support", "0.4", "--min-confidence", "0.5", "--max-length", "3"]
    assert main(["rules", "mine", "--baskets", path, *args]) == 0
    lines = capsys.readouterr().out.splitlines()
    records = [json.loads(line) for line in lines]
    assert records and all(set(r) == KEYS for r in records)
    ours = {
        (frozenset(r["antecedents"]), frozenset(r["consequents"])): (
            r["support"],
            r["confidence"],
        )
        for r in records
    }
    baskets = [
        ("bread", "milk"),
        ("jam, strawberry", "bread"),
        ("bread", "jam, strawberry", "milk"),
        ("bread", "milk"),
        ("tea",),
    ]
    _, reference = apriori(baskets, min_support=0.4, min_confidence=0.5, max_length=3)
    assert ours == {
        (frozenset(r.lhs), frozenset(r.rhs)): (r.support, r.confidence) for r in reference
    }
    assert (frozenset({"jam, strawberry"}), frozenset({"bread"})) in ours  # quoted name
    assert all(r["antecedents"] == sorted(r["antecedents"]) for r in records)


def test_recommend_prints_one_json_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path)
    code = main(
        ["rules", "recommend", "--baskets", path, "--basket", '"jam, strawberry",milk']
        + ["--min-support", "0.2", "--size", "5"]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert json.loads(out) == ["bread"]  # what the basket holds is never suggested


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, [], "cannot read"),
        (b"bread,\xff\xfemilk\n", [], "is not UTF-8 text"),
        (BASKETS.encode(), ["--min-support", "0"], "min-support must be above 0"),
        (BASKETS.encode(), ["--max-length", "0"], "max-length must be 1 or more"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    args: list[str],
    message: str,
) -> None:
    path = tmp_path / "baskets.csv"
    if content is not None:
        path.write_bytes(content)
    assert main(["rules", "mine", "--baskets", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rapportctl: ") and message in err
    assert err.count("\n") == 1


def test_a_directory_is_not_a_baskets_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rules", "recommend", "--baskets", str(tmp_path), "--basket", "a"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


# -- the database ------------------------------------------------------------------


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _stored(engine: Engine) -> tuple[list[int], int, int]:
    """Rule ids, item rows, runs."""
    with Database(engine).read() as session:
        ids = list(session.scalars(select(AssociationRule.id).order_by(AssociationRule.id)))
        items = session.scalar(select(func.count()).select_from(AssociationRuleItem))
        runs = session.scalar(select(func.count()).select_from(RuleRun))
    return ids, items or 0, runs or 0


def _plain_baskets(engine: Engine) -> list[tuple[int, ...]]:
    """Every order not cancelled, its products: read without the service."""
    baskets: dict[int, set[int]] = {}
    with Database(engine).read() as session:
        rows = session.execute(
            select(OrderLine.order_id, OrderLine.product_id)
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.status != OrderStatus.CANCELLED)
        )
        for order_id, product_id in rows:
            baskets.setdefault(order_id, set()).add(product_id)
    return [tuple(sorted(b)) for b in baskets.values()]


@pytest.fixture
def shop(engine: Engine) -> Engine:
    seed_database(engine, 150, seed=3)
    with Database(engine).read() as session:
        cancelled = session.scalar(
            select(func.count()).select_from(Order).where(Order.status == OrderStatus.CANCELLED)
        )
    assert cancelled, "the seed has cancelled orders to leave out"
    return engine


SMALL = ["--min-support", "0.001", "--min-confidence", "0.05", "--max-length", "3"]


def test_mine_the_database_then_replace_the_rules(
    shop: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rules", "mine", "--db", _url(shop), *SMALL]) == 0
    captured = capsys.readouterr()
    assert "rules in" in captured.out and "min support 0.001" in captured.out
    assert "counting sets of 2" in captured.err  # progress goes to stderr
    first, items, runs = _stored(shop)
    assert first and runs == 1

    baskets = _plain_baskets(shop)
    expected = mine(baskets, min_support=0.001, min_confidence=0.05, max_length=3)
    assert len(first) == len(expected.rules)
    assert f"{len(baskets):,} baskets" in captured.out
    assert items == sum(len(r.antecedents) + len(r.consequents) for r in expected.rules)
    assert any(len(r.antecedents) >= 2 for r in expected.rules)

    assert main(["rules", "mine", "--db", _url(shop), *SMALL]) == 0
    second, items_again, runs = _stored(shop)
    assert len(second) == len(first) and items_again == items and runs == 2
    assert not set(first) & set(second)  # a new set, not the old one kept


def test_the_stored_rules_read_back_by_product(shop: Engine) -> None:
    rules = RuleService(Database(shop))
    assert rules.latest_run() is None and rules.current_rules_for([1, 2]) == []
    summary = rules.mine_and_store(0.001, 0.05, 3, mined_by="tester")
    latest = rules.latest_run()
    assert latest is not None and latest.run_id == summary.run_id
    assert (latest.rules, latest.baskets, latest.mined_by) == (
        summary.rules,
        summary.baskets,
        "tester",
    )

    mined = mine(_plain_baskets(shop), min_support=0.001, min_confidence=0.05, max_length=3)
    product = mined.rules[0].antecedents[0]
    views = rules.current_rules_for([product])
    wanted = {(r.antecedents, r.consequents) for r in mined.rules if product in r.antecedents}
    assert {(v.antecedents, v.consequents) for v in views} == wanted
    assert [v.lift for v in views] == sorted((v.lift for v in views), reverse=True)
    strongest = views[0]
    assert strongest.ref == (
        ",".join(map(str, strongest.antecedents)) + "=>" + ",".join(map(str, strongest.consequents))
    )
    pair = [r for r in mined.rules if len(r.antecedents) == 2][0]
    found = rules.current_rules_for([pair.antecedents[1], 10**9])
    assert (pair.antecedents, pair.consequents) in {(v.antecedents, v.consequents) for v in found}


def test_a_failure_half_way_leaves_the_old_rules(
    shop: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = RuleService(Database(shop))
    rules.mine_and_store(0.001, 0.05, 3, mined_by="tester")
    before = _stored(shop)

    def broken(*_args: object) -> None:  # after the new rules, before their items
        raise RuntimeError("disk full")

    monkeypatch.setattr("app.services.rules._insert_items", broken)
    with pytest.raises(RuntimeError):
        rules.mine_and_store(0.003, 0.1, 2, mined_by="tester")
    assert _stored(shop) == before
    latest = rules.latest_run()
    assert latest is not None and latest.min_support == 0.001


def test_mining_needs_a_migrated_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/empty.db"
    assert main(["rules", "mine", "--db", url]) == 2
    err = capsys.readouterr().err
    assert "run rapportctl db upgrade first" in err and err.count("\n") == 1


def test_the_services_carry_the_rules(sqlite_engine: Engine) -> None:
    from app.bootstrap import build_services
    from app.config import load_settings

    services = build_services(load_settings(), sqlite_engine)
    assert isinstance(services.rules, RuleService)
    assert services.rules.latest_run() is None
    assert services.acting_as(services.agent).rules is services.rules
