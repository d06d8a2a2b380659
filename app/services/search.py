"""One search box that understands what was typed.

A phone number in any format, an e-mail, an order number, a case reference or a
name with typos. Exact lookups use their indexes; names use trigrams (pg_trgm
on PostgreSQL, the FTS5 trigram table on SQLite) and are re-ranked with
rapidfuzz so "Jon Smtih" finds John Smith.
"""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz
from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from app import phones
from app.errors import UserError
from app.services import views as v
from app.services.customers import CustomerService, summaries
from models.database import Database
from models.enums import CustomerStatus
from models.people import Customer

ORDER_NUMBER = re.compile(r"^[Rr]\d{6,}$")
CASE_REFERENCE = re.compile(r"^[Cc][Ss]-\d{2}-\d+$")
NAME_CANDIDATES = 200


def fold(name: str) -> str:
    """Lower-case without accents and extra spaces: how `search_name` is stored."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.lower().split())


class SearchService:
    def __init__(self, db: Database, customers: CustomerService) -> None:
        self._db = db
        self._customers = customers

    def classify(self, query: str) -> str:
        q = query.strip()
        if "@" in q:
            return "email"
        if ORDER_NUMBER.match(q):
            return "order"
        if CASE_REFERENCE.match(q):
            return "case"
        if phones.looks_like_phone(q):
            return "phone"
        return "name"

    def search(self, query: str, limit: int = 20) -> list[v.SearchHit]:
        q = query.strip()
        if not q:
            return []
        kind = self.classify(q)
        if kind == "email":
            return self._customers.find_by_email(q)
        if kind == "order":
            return self._customers.find_by_order_number(q)
        if kind == "case":
            return self._customers.find_by_case_reference(q)
        if kind == "phone":
            try:
                return self._customers.find_by_phone(q)
            except UserError:
                return []
        return self.search_names(q, limit)

    def search_names(self, query: str, limit: int = 20) -> list[v.SearchHit]:
        folded = fold(query)
        if len(folded) < 2:
            return []
        with self._db.read() as session:
            if session.get_bind().dialect.name == "postgresql":
                candidates = _pg_candidates(session, folded)
            else:
                candidates = _sqlite_candidates(session, folded)
            scored = {cid: _score(folded, name) for cid, name in candidates.items()}
            best = sorted(scored, key=lambda cid: -scored[cid])[:limit]
            best = [cid for cid in best if scored[cid] >= 50]
            if not best:
                return []
            return summaries(
                session,
                {cid: candidates[cid] for cid in best},
                "name",
                {cid: scored[cid] / 100 for cid in best},
            )


def _score(query: str, name: str) -> float:
    # token_sort handles "Smith John"; partial handles a prefix while typing.
    return max(
        fuzz.token_sort_ratio(query, name),
        fuzz.ratio(query, name),
        fuzz.partial_ratio(query, name) * 0.9 if len(query) >= 3 else 0,
    )


def _pg_candidates(session: Session, folded: str) -> dict[int, str]:
    # Prefix match first (cheap, exact intent while typing), then trigram similarity.
    rows = session.execute(
        select(Customer.id, Customer.search_name)
        .where(
            Customer.search_name.like(bindparam("prefix"), escape="\\"),
            Customer.status != CustomerStatus.MERGED,
        )
        .limit(NAME_CANDIDATES),
        {"prefix": _like_escape(folded) + "%"},
    ).all()
    found = {cid: name for cid, name in rows}
    if len(found) < NAME_CANDIDATES:
        # word_similarity (<% operator) uses the GIN index and tolerates typos.
        rows = session.execute(
            text(
                "SELECT id, search_name FROM customers "
                "WHERE :q <% search_name AND status <> 'merged' "
                "ORDER BY word_similarity(:q, search_name) DESC LIMIT :n"
            ),
            {"q": folded, "n": NAME_CANDIDATES},
        ).all()
        for cid, name in rows:
            found.setdefault(cid, name)
    return found


def _sqlite_candidates(session: Session, folded: str) -> dict[int, str]:
    if len(folded) < 3:
        rows = session.execute(
            select(Customer.id, Customer.search_name)
            .where(Customer.search_name.like(bindparam("prefix"), escape="\\"))
            .limit(NAME_CANDIDATES),
            {"prefix": _like_escape(folded) + "%"},
        ).all()
        return {cid: name for cid, name in rows}
    grams = sorted({folded[i : i + 3] for i in range(len(folded) - 2)} - {"   "})
    match = " OR ".join('"' + g.replace('"', '""') + '"' for g in grams)
    rows = session.execute(
        text(
            "SELECT c.id, c.search_name FROM customer_name_fts f "
            "JOIN customers c ON c.id = f.rowid "
            "WHERE customer_name_fts MATCH :match AND c.status <> 'merged' "
            "ORDER BY f.rank LIMIT :n"
        ),
        {"match": match, "n": NAME_CANDIDATES},
    ).all()
    return {cid: name for cid, name in rows}


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


__all__ = ["SearchService", "fold"]
