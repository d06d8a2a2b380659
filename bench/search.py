"""bench.search: the search box, through SearchService, against raw-driver queries.

Exact lookups (a phone typed in national format, an e-mail, an order number)
and typo-tolerant names, including the worst cases: the most common surname
and 3-letter input. Seeds --size customers first if the database holds none.

    python -m bench.search --db sqlite:////tmp/bench.db --size 100000 --json
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import phonenumbers
from sqlalchemy import Engine, func, select, text

from app.services.customers import CustomerService
from app.services.search import SearchService, _like_escape, _words_meant, clean_query, fold
from bench.common import backend_name, emit, parser, summary, time_calls, with_baseline
from bench.lookup import ensure_seeded, raw_lookup, sample_keys
from models.database import Database, make_engine
from models.people import Customer

SAMPLES = 200


def typo(name: str, rng: random.Random) -> str:
    """Swap two neighbouring letters of the longest word: "Smith" -> "Smtih"."""
    words = name.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) > 3:
        i = rng.randint(1, len(word) - 3)
        word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    words[longest] = word
    return " ".join(words)


def national(e164: str) -> str:
    number = phonenumbers.parse(e164)
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))


def name_queries(engine: Engine, rng: random.Random) -> dict[str, list[str]]:
    with engine.connect() as conn:
        top = conn.scalar(select(func.max(Customer.id))) or 1
        ids = [rng.randint(1, top) for _ in range(SAMPLES)]
        names = [
            f"{first} {last}"
            for first, last in conn.execute(
                select(Customer.first_name, Customer.last_name).where(Customer.id.in_(ids))
            )
        ]
        common = conn.execute(
            select(Customer.last_name, func.count().label("n"))
            .group_by(Customer.last_name)
            .order_by(text("n DESC"))
            .limit(5)
        ).all()
    return {
        "name_typo": [typo(n, rng) for n in names],
        "name_common_surname": [row[0] for row in common],
        "name_3_letters": [n[:3] for n in names],
    }


def raw_name_candidates(engine: Engine) -> Callable[[str], list[Any]]:
    """The candidate queries alone on the raw driver (what the service then re-ranks),
    in the service's transaction mode (`Database.read()`: a transaction on both)."""
    connection: Any = engine.raw_connection()
    # The service reads the word list once per process too.
    name_words = _read_words(connection)
    if engine.dialect.name == "postgresql":
        typo_sql = (
            "SELECT id, search_name FROM customers WHERE %s <%% search_name "
            "AND status <> 'merged' LIMIT 200"
        )

        def typo_pass(cursor: Any, folded: str) -> list[Any]:
            meant = _words_meant(folded, name_words)
            if meant is None:
                cursor.execute("SET LOCAL pg_trgm.word_similarity_threshold = 0.5")
                cursor.execute(typo_sql, (folded,))
                return list(cursor.fetchall())
            if any(not words for words in meant):
                return []
            overlaps = " AND ".join(
                ["string_to_array(search_name, ' ') && %s::text[]"] * len(meant)
            )
            cursor.execute(
                f"SELECT id, search_name FROM customers WHERE {overlaps} "  # noqa: S608
                "AND status <> 'merged' LIMIT 200",
                meant,
            )
            return list(cursor.fetchall())

        def run(query: str) -> list[Any]:
            folded = fold(clean_query(query))
            words = [w for w in folded.split() if len(w) >= 3]
            cursor = connection.cursor()
            likes = " AND ".join(["search_name LIKE %s"] * len(words)) or "search_name LIKE %s"
            patterns = ["%" + _like_escape(w) + "%" for w in words] or [_like_escape(folded) + "%"]
            # Only placeholders are joined into the SQL; the words are parameters.
            sql = f"SELECT id, search_name FROM customers WHERE {likes} AND status <> 'merged'"  # noqa: S608
            cursor.execute(sql + " LIMIT 200", patterns)
            rows = cursor.fetchall()
            if len(rows) < 20 and len(folded) >= 3:  # the service's typo pass
                rows += typo_pass(cursor, folded)
            connection.rollback()
            return list(rows)

        return run

    fts = (
        "SELECT c.id, c.search_name FROM customer_name_fts f JOIN customers c ON c.id = f.rowid "
        "WHERE customer_name_fts MATCH ? AND c.status <> 'merged' "
    )

    def run_sqlite(query: str) -> list[Any]:
        folded = fold(clean_query(query))
        cursor = connection.cursor()
        cursor.execute("BEGIN")
        rows: list[Any] = []
        words = folded.split()
        if len(folded) < 3:
            cursor.execute(
                "SELECT id, search_name FROM customers WHERE search_name LIKE ? ESCAPE '\\' "
                "LIMIT 200",
                (_like_escape(folded) + "%",),
            )
            rows = cursor.fetchall()
        else:
            if all(len(word) >= 3 for word in words):  # the service's first pass
                exact = " AND ".join('"' + w.replace('"', '""') + '"' for w in words)
                cursor.execute(fts + "LIMIT 200", (exact,))
                rows = cursor.fetchall()
            if len(rows) < 20:  # and its typo pass when that found too few
                meant = _words_meant(folded, name_words)
                if meant is None:
                    grams = sorted({folded[i : i + 3] for i in range(len(folded) - 2)} - {"   "})
                    match = " OR ".join('"' + g.replace('"', '""') + '"' for g in grams)
                    cursor.execute(fts + "ORDER BY f.rank LIMIT 200", (match,))
                    rows += cursor.fetchall()
                elif all(meant):
                    match = " AND ".join(
                        "(" + " OR ".join('"' + w.replace('"', '""') + '"' for w in words) + ")"
                        for words in meant
                    )
                    cursor.execute(fts + "LIMIT 200", (match,))
                    rows += cursor.fetchall()
        connection.rollback()
        return list(rows)

    return run_sqlite


def _read_words(connection: Any) -> list[str]:
    cursor = connection.cursor()
    cursor.execute("SELECT word FROM customer_name_words ORDER BY id")
    words = [row[0] for row in cursor.fetchall()]
    connection.rollback()
    return words


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    engine = make_engine(args.db)
    size = ensure_seeded(engine, args.size)
    rng = random.Random(11)
    db = Database(engine)
    search = SearchService(db, CustomerService(db, "US"))
    keys = sample_keys(engine, rng)
    raw = raw_lookup(engine)
    exact = {
        "phone_national": ([national(k) for k in keys["phone"]], "phone", keys["phone"]),
        "email": (keys["email"], "email", keys["email"]),
        "order": (keys["order"], "order", keys["order"]),
    }
    for op, (typed, kind, stored) in exact.items():
        it, raw_it = iter(typed * 10), iter(stored * 10)
        ms = time_calls(lambda it=it: search.search(next(it)), len(typed))
        base = time_calls(lambda k=kind, it=raw_it: raw(k, next(it)), len(stored))
        record = {
            "bench": "search",
            "op": op,
            "backend": backend_name(engine),
            "size": size,
            **summary(ms),
        }
        emit(with_baseline(record, base), args.json)

    raw_names = raw_name_candidates(engine)
    for op, queries in name_queries(engine, rng).items():
        n = max(len(queries), 50)
        it, raw_it = iter(queries * 100), iter(queries * 100)
        ms = time_calls(lambda it=it: search.search(next(it)), n)
        base = time_calls(lambda it=raw_it: raw_names(next(it)), n)
        record = {
            "bench": "search",
            "op": op,
            "backend": backend_name(engine),
            "size": size,
            **summary(ms),
        }
        emit(with_baseline(record, base), args.json)
    engine.dispose()


if __name__ == "__main__":
    main()
