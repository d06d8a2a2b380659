from __future__ import annotations

from pathlib import Path

from app.drafts import DraftStore


def test_drafts_survive_a_restart_and_are_dropped_when_empty(tmp_path: Path) -> None:
    path = tmp_path / "drafts.json"
    store = DraftStore(path)
    store.put("note:7", "Called about the engraving — wants a")
    assert DraftStore(path).get("note:7").endswith("wants a")
    store.discard("note:7")
    assert DraftStore(path).get("note:7") == ""
    assert DraftStore(path).keys() == []


def test_a_corrupt_drafts_file_does_not_stop_the_app(tmp_path: Path) -> None:
    path = tmp_path / "drafts.json"
    path.write_text("{not json", encoding="utf-8")
    store = DraftStore(path)
    assert store.get("x") == ""
    store.put("x", "kept")
    assert DraftStore(path).get("x") == "kept"
