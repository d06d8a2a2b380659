"""The self-test's check of the case rules answers from this installation's libraries."""

from __future__ import annotations

import pytest

from app import self_check


def test_the_case_rules_check_passes_here_and_names_what_it_checked() -> None:
    assert self_check.case_rules().startswith("case rules: SLA calendar with US holidays")


def test_a_wrong_answer_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(self_check, "render", lambda body, context: "Hello Bob")
    with pytest.raises(self_check.SelfCheckError, match="macro sandbox"):
        self_check.case_rules()
