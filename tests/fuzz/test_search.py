"""Fuzz: the search box's service on both databases never raises on hostile text.

Every string returns a list of hits (possibly empty): no driver error, no encoding
error, no full-text syntax error. A 10 MB paste costs no more than its first
MAX_QUERY_CHARS characters.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from app.errors import UserError
from app.services.customers import CustomerService
from app.services.search import MAX_QUERY_CHARS, SearchService, clean_query
from models.database import Database
from models.seed import seed_database
from tests.fuzz.strategies import NASTY_CHARS, hostile_text

NOW = dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def search(engine: Engine) -> SearchService:
    seed_database(engine, 0, now=NOW)  # the story customers: real names to be near
    db = Database(engine)
    return SearchService(db, CustomerService(db, "US"))


def _answers(search: SearchService, query: str) -> None:
    try:
        hits = search.search(query)
    except UserError:
        return  # the project's own validation error is an answer too
    assert isinstance(hits, list)
    assert all(0 < h.score <= 1 for h in hits)


@given(query=hostile_text)
def test_any_hostile_text_gets_an_answer(search: SearchService, query: str) -> None:
    _answers(search, query)


@given(
    name=st.sampled_from(["Kowalski", "Whitfield", "Raman", "sandra", "R20150912", "@example"]),
    junk=st.lists(st.sampled_from(NASTY_CHARS), min_size=1, max_size=8).map("".join),
    at=st.integers(min_value=0, max_value=8),
)
def test_a_real_query_with_junk_inside_gets_an_answer(
    search: SearchService, name: str, junk: str, at: int
) -> None:
    _answers(search, name[:at] + junk + name[at:])


def test_a_10_mb_query_gets_an_answer(search: SearchService) -> None:
    for huge in ("Kowalski " * 1_200_000, "\x00" * 10_000_000, '"' * 10_000_000):
        _answers(search, huge)
        assert len(clean_query(huge)) <= MAX_QUERY_CHARS


@given(query=hostile_text)
def test_cleaned_text_is_encodable_and_short(query: str) -> None:
    cleaned = clean_query(query)
    cleaned.encode("utf-8")  # no lone surrogate left
    assert "\x00" not in cleaned and len(cleaned) <= MAX_QUERY_CHARS
    assert cleaned == cleaned.strip()
