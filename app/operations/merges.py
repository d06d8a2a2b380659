"""Operations on duplicate customers: merge, unmerge, "not a duplicate", identify a
staged caller (app/services/merge.py).

A merge or an unmerge moves rows of every kind between two customers (cases, orders,
notes, calls...), so the change named is `everything`: every open view re-reads what it
shows. Merges are rare, and a tab still showing the merged customer must learn it."""

from __future__ import annotations

from collections.abc import Mapping

from app.bootstrap import Services
from app.changes import Change, Changes, Entity
from app.operations import Done
from app.services.merge import MergeResult, UnmergeResult


def _both(survivor_id: int, merged_id: int) -> Changes:
    return (
        Changes.of(
            Change(Entity.CUSTOMER, survivor_id, survivor_id),
            Change(Entity.CUSTOMER, merged_id, merged_id),
        )
        | Changes.all()
    )


def merge_customers(
    services: Services,
    survivor_id: int,
    merged_id: int,
    choices: Mapping[str, int],
    expected_versions: Mapping[int, int],
    candidate_id: int | None = None,
) -> Done[MergeResult]:
    result = services.merges.merge(
        survivor_id, merged_id, choices, expected_versions, candidate_id=candidate_id
    )
    return Done(result, _both(survivor_id, merged_id))


def unmerge_customers(services: Services, merge_id: int) -> Done[UnmergeResult]:
    result = services.merges.unmerge(merge_id)
    return Done(result, _both(result.survivor_id, result.merged_id))


def dismiss_candidate(services: Services, candidate_id: int) -> Done[int]:
    """ "Not the same person": only the review queue shows candidates, and it re-reads
    after its own actions, so nothing else needs to know."""
    return Done(services.merges.dismiss(candidate_id), Changes())


def identify_caller(services: Services, staged_id: int, customer_id: int) -> Done[MergeResult]:
    result = services.merges.identify_staged(staged_id, customer_id)
    return Done(result, _both(result.survivor_id, result.merged_id))
