"""Fuzz the drafts: any text, label or key round-trips exactly and never breaks another
draft; any bytes in a draft file read as a draft or are skipped, never raise."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from app.drafts import DraftKey, DraftStore
from tests.fuzz.strategies import hostile_text

kinds = st.sampled_from(["note", "wrap_up"])


@given(
    database=hostile_text,
    kind=kinds,
    subject=hostile_text,
    text=hostile_text,
    label=hostile_text,
    follow_up=hostile_text,
)
def test_any_draft_round_trips_beside_a_plain_one(
    database: str,
    kind: str,
    subject: str,
    text: str,
    label: str,
    follow_up: str,
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = DraftStore(Path(folder))
        key = DraftKey(database, kind, subject)  # type: ignore[arg-type]
        plain = DraftKey("sqlite:/plain.db", "note", "1")
        store.put(key, text, label=label, extra={"follow_up": follow_up})
        store.put(plain, "plain")
        store.close()
        assert store.failures == 0
        again = DraftStore(Path(folder))
        draft = again.get(key)
        if not text.strip() and not follow_up.strip():
            assert draft is None
        else:
            assert draft is not None
            assert (draft.text, draft.label, draft.extra) == (text, label, {"follow_up": follow_up})
            assert draft in again.drafts(database)
            assert isinstance(draft.preview(), str)
        assert again.text(plain) == "plain"


@given(
    raw=st.one_of(
        st.binary(max_size=400), hostile_text.map(lambda t: t.encode("utf-8", "surrogatepass"))
    )
)
def test_any_bytes_in_a_draft_file_are_read_or_skipped(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        key = DraftKey.note("sqlite:/x.db", 1)
        (Path(folder) / key.file_name).write_bytes(raw)
        store = DraftStore(Path(folder))
        assert store.get(key) is None or store.get(key) == store.drafts("sqlite:/x.db")[0]
        assert isinstance(store.drafts("sqlite:/x.db"), list)
