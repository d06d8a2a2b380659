"""One search box that understands what was typed.

A phone number in any format, an e-mail, an order number, a case reference or a
name with typos. Exact lookups use their indexes; names use trigrams (pg_trgm
on PostgreSQL, the FTS5 trigram table on SQLite) and are re-ranked with
rapidfuzz so "Jon Smtih" finds John Smith. A typo is first resolved against
the distinct words of all names (`customer_name_words`), so only customers
holding a word close to each typed one are fetched.

What was typed is cleaned first (`clean_query`): capped at MAX_QUERY_CHARS, with
control, format (bidi, zero-width), surrogate and unassigned characters removed,
so neither driver sees what it cannot encode or parse. A name is listed only when
every word typed is close to a word of it (`name_score`), so a product name or
random text lists nobody rather than twenty weak look-alikes.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata

from rapidfuzz import process
from rapidfuzz.distance import OSA
from sqlalchemy import and_, bindparam, select, text
from sqlalchemy.orm import Session

from app import phones
from app.errors import UserError
from app.services import views as v
from app.services.lookups import CustomerLookups, summaries
from models.database import Database
from models.enums import CustomerStatus
from models.names import fold
from models.people import Customer

ORDER_NUMBER = re.compile(r"^[Rr]\d{6,}$")
CASE_REFERENCE = re.compile(r"^[Cc][Ss]-\d{2}-\d+$")
# A reference quoted without its prefix or with spaces ("26-000123", "cs 26 000123").
CASE_REFERENCE_LOOSE = re.compile(r"^(?:[Cc][Ss][- ]?)?(\d{2})[- ](\d{6})$")


def case_reference_in(query: str) -> str | None:
    """The case reference `query` quotes, spelt as stored ("CS-26-000123"), or None."""
    q = query.strip()
    if CASE_REFERENCE.match(q):
        return q.upper()
    loose = CASE_REFERENCE_LOOSE.match(q)
    return f"CS-{loose.group(1)}-{loose.group(2)}" if loose else None


NAME_CANDIDATES = 200
MAX_QUERY_CHARS = 200
PG_WORD_SIMILARITY = 0.5
# Below this a name is not shown at all (0..1; see `name_score`).
MIN_NAME_SCORE = 0.7
# A typed word that may mean more name words than this (a short or very common
# stem) does not narrow the typo pass; `name_score` still checks it.
MAX_WORD_ALTERNATIVES = 40
# Control, format (bidi overrides, zero-width, BOM), surrogate, private-use and
# unassigned characters: nobody searches for them and the drivers choke on some.
_UNSEARCHABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def clean_query(query: str) -> str:
    """What of `query` can be searched: at most MAX_QUERY_CHARS, no invisible characters,
    whitespace collapsed to single spaces."""
    # A huge paste is cut before it is looked at, so its cost stays bounded.
    head = query[: MAX_QUERY_CHARS * 4]
    kept = [
        (" " if ch.isspace() else "") if unicodedata.category(ch) in _UNSEARCHABLE else ch
        for ch in head
    ]
    return " ".join("".join(kept).split())[:MAX_QUERY_CHARS].strip()


class SearchService:
    def __init__(self, db: Database, customers: CustomerLookups) -> None:
        self._db = db
        self._customers = customers
        # The distinct words of all names (customer_name_words), read once and
        # then only what was added since: words are never removed from it.
        self._words: list[str] = []
        self._words_seen = 0
        self._words_lock = threading.Lock()

    def classify(self, query: str) -> str:
        q = clean_query(query)
        if "@" in q:
            return "email"
        if ORDER_NUMBER.match(q):
            return "order"
        if case_reference_in(q):
            return "case"
        if phones.looks_like_phone(q):
            return "phone"
        return "name"

    def search(self, query: str, limit: int = 20) -> list[v.SearchHit]:
        q = clean_query(query)
        if not q:
            return []
        kind = self.classify(q)
        if kind == "email":
            return self._customers.find_by_email(q)
        if kind == "order":
            return self._customers.find_by_order_number(q)
        if kind == "case":
            return self._customers.find_by_case_reference(case_reference_in(q) or q)
        if kind == "phone":
            try:
                return self._customers.find_by_phone(q)
            except UserError:
                return []
        return self.search_names(q, limit)

    def search_names(self, query: str, limit: int = 20) -> list[v.SearchHit]:
        folded = fold(clean_query(query))
        if len(folded) < 2:
            return []
        with self._db.read() as session:
            postgres = session.get_bind().dialect.name == "postgresql"
            if postgres:
                candidates = _pg_candidates(session, folded)
            else:
                candidates = _sqlite_candidates(session, folded)
            if len(candidates) < limit and len(folded) >= 3:
                meant = _words_meant(folded, self._name_words(session))
                if meant is None:  # nothing narrows it: every name, by trigrams
                    if not postgres:
                        typos = _sqlite_typos(session, folded)
                    elif any(len(word) >= 3 for word in folded.split()):
                        typos = _pg_typos(session, folded)
                    else:  # only short words: the prefix pass was all (as before)
                        typos = {}
                else:
                    typos = _customers_with_words(session, meant, postgres)
                for cid, name in typos.items():
                    candidates.setdefault(cid, name)
            scored = {cid: name_score(folded, name) for cid, name in candidates.items()}
            best = sorted(scored, key=lambda cid: -scored[cid])[:limit]
            best = [cid for cid in best if scored[cid] >= MIN_NAME_SCORE]
            if not best:
                return []
            return summaries(
                session,
                {cid: candidates[cid] for cid in best},
                "name",
                {cid: scored[cid] for cid in best},
            )

    def _name_words(self, session: Session) -> list[str]:
        with self._words_lock:
            added = session.execute(_NEW_NAME_WORDS, {"seen": self._words_seen}).all()
            if added:
                self._words = self._words + [word for _, word in added]
                self._words_seen = max(word_id for word_id, _ in added)
            return self._words


def _edits_allowed(length: int) -> int:
    # The usual fuzziness for a word of this length (as Lucene's AUTO): none up to
    # two letters, one up to five, two beyond.
    return 0 if length <= 2 else 1 if length <= 5 else 2


@functools.lru_cache(maxsize=65536)  # names share words: most pairs repeat
def _word_score(typed: str, word: str) -> float:
    """How well one typed word matches one word of a name, 0..1."""
    if word.startswith(typed):
        # Still typing: every "smi..." is a Smith; a longer prefix is a closer match.
        return 0.9 + 0.1 * len(typed) / len(word)
    full = OSA.distance(typed, word)  # a swapped pair of letters is one edit
    distance, longest = full, max(len(typed), len(word))
    if len(typed) >= 4 and len(word) > len(typed):
        # A prefix typed with a typo ("Kowasl" for Kowalski).
        prefix = OSA.distance(typed, word[: len(typed)])
        if prefix < full:
            distance, longest = prefix, len(typed)
    if distance > _edits_allowed(len(typed)):
        return 0.0
    return 1 - distance / longest


def name_score(query: str, name: str) -> float:
    """0..1: every typed word must be close to some word of the name, in any order."""
    typed, words = query.split(), name.split()
    if not typed or not words:
        return 0.0
    best = [max(_word_score(t, w) for w in words) for t in typed]
    if min(best) == 0:
        return 0.0
    return sum(best) / len(best)


def _pg_candidates(session: Session, folded: str) -> dict[int, str]:
    found: dict[int, str] = {}
    words = [word for word in folded.split() if len(word) >= 3]
    if words:
        # Every word as typed, anywhere in the name (the GIN trigram index serves
        # LIKE '%...%'); unordered, so it stops at n rows however common the surname.
        condition = and_(
            *(Customer.search_name.like(bindparam(f"w{i}"), escape="\\") for i in range(len(words)))
        )
        rows = session.execute(
            select(Customer.id, Customer.search_name)
            .where(condition, Customer.status != CustomerStatus.MERGED)
            .limit(NAME_CANDIDATES),
            {f"w{i}": "%" + _like_escape(word) + "%" for i, word in enumerate(words)},
        ).all()
        found = {cid: name for cid, name in rows}
    else:
        rows = session.execute(
            select(Customer.id, Customer.search_name)
            .where(
                Customer.search_name.like(bindparam("prefix"), escape="\\"),
                Customer.status != CustomerStatus.MERGED,
            )
            .limit(NAME_CANDIDATES),
            {"prefix": _like_escape(folded) + "%"},
        ).all()
        return {cid: name for cid, name in rows}
    return found


def _pg_typos(session: Session, folded: str) -> dict[int, str]:
    # Typos: word similarity (<%, the GIN index), with a lower cut-off than the
    # default 0.6, which loses "Whitfeld" for Whitfield (0.58). Unordered: any n
    # close names, not all of them scored and sorted (a typo in "Johnson" matches
    # 15,000 of 1,000,000); `name_score` ranks what comes back.
    session.execute(text(f"SET LOCAL pg_trgm.word_similarity_threshold = {PG_WORD_SIMILARITY}"))
    rows = session.execute(
        text(
            "SELECT id, search_name FROM customers "
            "WHERE :q <% search_name AND status <> 'merged' LIMIT :n"
        ),
        {"q": folded, "n": NAME_CANDIDATES},
    ).all()
    return {cid: name for cid, name in rows}


def _sqlite_candidates(session: Session, folded: str) -> dict[int, str]:
    if len(folded) < 3:
        rows = session.execute(
            select(Customer.id, Customer.search_name)
            .where(Customer.search_name.like(bindparam("prefix"), escape="\\"))
            .limit(NAME_CANDIDATES),
            {"prefix": _like_escape(folded) + "%"},
        ).all()
        return {cid: name for cid, name in rows}
    found: dict[int, str] = {}
    words = folded.split()
    if all(len(word) >= 3 for word in words):
        # Every word as typed, anywhere in the name (an FTS5 trigram phrase is a
        # substring): no ranking, so it stops after n rows however common the
        # surname. Enough of these and the typo pass below is not needed.
        exact = " AND ".join(_fts_string(word) for word in words)
        found = dict(session.execute(_SQLITE_FTS_ANY, {"match": exact, "n": NAME_CANDIDATES}).all())
    return found


def _sqlite_typos(session: Session, folded: str) -> dict[int, str]:
    # Typos: any trigram of what was typed, best ranked first.
    grams = sorted({folded[i : i + 3] for i in range(len(folded) - 2)} - {"   "})
    match = " OR ".join(_fts_string(g) for g in grams)
    return dict(session.execute(_SQLITE_FTS_RANKED, {"match": match, "n": NAME_CANDIDATES}).all())


def _words_meant(folded: str, words: list[str]) -> list[list[str]] | None:
    """For each typed word that narrows the search, the name words it may mean
    (those `_word_score` does not reject); None when no typed word narrows it."""
    meant: list[list[str]] = []
    typed_words = folded.split()
    for typed in dict.fromkeys(typed_words):
        if len(typed) < 3:
            continue
        allowed = _edits_allowed(len(typed))
        close = {
            w
            for w, _, _ in process.extract(
                typed, words, scorer=OSA.distance, score_cutoff=allowed, limit=None
            )
        }
        close.update(w for w in words if w.startswith(typed))
        if len(typed) >= 4:
            longer = [w for w in words if len(w) > len(typed)]
            prefixes = [w[: len(typed)] for w in longer]
            close.update(
                longer[i]
                for _, _, i in process.extract(
                    typed, prefixes, scorer=OSA.distance, score_cutoff=allowed, limit=None
                )
            )
        # A word typed exactly elsewhere in the query is not what this one means
        # ("maria garica": garcia, not maria again), else every Maria fills the limit.
        close = (close - (set(typed_words) - {typed})) or close
        if not close:
            return [[]]  # no name has a word close to this one: nobody matches
        # A substring lookup needs three letters (trigrams); too many
        # alternatives would not narrow anything.
        if len(close) <= MAX_WORD_ALTERNATIVES and all(len(w) >= 3 for w in close):
            meant.append(sorted(close))
    return meant or None


def _customers_with_words(
    session: Session, meant: list[list[str]], postgres: bool
) -> dict[int, str]:
    """Customers whose name holds, for every typed word, one of the words it may mean:
    the substring indexes, unranked, at most NAME_CANDIDATES."""
    if any(not alternatives for alternatives in meant):
        return {}
    if postgres:
        # Whole words: the GIN index on the name's word array (migration 0008).
        params: dict[str, object] = {f"g{i}": words for i, words in enumerate(meant)}
        params["n"] = NAME_CANDIDATES
        overlaps = " AND ".join(
            f"string_to_array(search_name, ' ') && CAST(:g{i} AS text[])" for i in range(len(meant))
        )
        # Only generated placeholder names are joined into the SQL.
        sql = (
            "SELECT id, search_name FROM customers WHERE "  # noqa: S608
            + overlaps
            + " AND status <> 'merged' LIMIT :n"
        )
        return {cid: name for cid, name in session.execute(text(sql), params).all()}
    match = " AND ".join(
        "(" + " OR ".join(_fts_string(word) for word in alternatives) + ")"
        for alternatives in meant
    )
    return dict(session.execute(_SQLITE_FTS_ANY, {"match": match, "n": NAME_CANDIDATES}).all())


_NEW_NAME_WORDS = text("SELECT id, word FROM customer_name_words WHERE id > :seen ORDER BY id")


def _fts_string(value: str) -> str:
    """An FTS5 string literal: double-quoted, inner quotes doubled (never syntax)."""
    return '"' + value.replace('"', '""') + '"'


_SQLITE_FTS_ANY = text(
    "SELECT c.id, c.search_name FROM customer_name_fts f "
    "JOIN customers c ON c.id = f.rowid "
    "WHERE customer_name_fts MATCH :match AND c.status <> 'merged' LIMIT :n"
)
_SQLITE_FTS_RANKED = text(
    "SELECT c.id, c.search_name FROM customer_name_fts f "
    "JOIN customers c ON c.id = f.rowid "
    "WHERE customer_name_fts MATCH :match AND c.status <> 'merged' "
    "ORDER BY f.rank LIMIT :n"
)


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


__all__ = ["MAX_QUERY_CHARS", "SearchService", "clean_query", "fold", "name_score"]
