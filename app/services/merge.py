"""Merging duplicate customers, and undoing it (S8).

A merge folds `merged` into `survivor`: the agent picks, field by field, which value
survives; every row of every table that points at the merged customer moves to the
survivor (`merge_moves`: discovered from the schema, never a hand list); the merged
customer keeps its row, `status=merged` and `merged_into_id=survivor`, so an old link
or a printed id still leads somewhere (`resolve`). `customer_merges.log_json` records
what moved and both customers' fields before, so `unmerge` within `UNMERGE_WINDOW` puts
both back row for row.

Concurrency: the merge names the versions the agent reviewed (`expected_versions`); the
two customer rows are locked (in id order, so two merges cannot deadlock) and compared,
and their UPDATEs carry `WHERE version = …` (optimistic lock). An edit saved meanwhile
makes the merge refuse with `MergeConflict`; an edit arriving after the merge finds the
version bumped and is refused by its own check. Neither is ever silently overwritten.

On PostgreSQL agents cannot UPDATE concessions and override_requests: the SECURITY
DEFINER functions of migration 0014 move those, for this merge's two customers only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from app.agent import AgentContext
from app.clock import Clock, system_clock
from app.errors import ConflictError, UserError
from app.services import merge_moves as moves
from app.services.merge_views import (
    FIELDS,
    CandidateRow,
    MergePreview,
    MergeResult,
    MergeRow,
    UnmergeResult,
    default_choices,
    evidence_of,
    field_values,
    jsonable,
    reasons,
    side_of,
    typed,
)
from models.authority import AuditEntry
from models.data_quality import CustomerMerge, DuplicateCandidate
from models.database import Database
from models.enums import CustomerStatus, DuplicateStatus
from models.names import fold
from models.people import Customer

__all__ = [
    "FIELDS",
    "CandidateRow",
    "MergeConflict",
    "MergePreview",
    "MergeResult",
    "MergeRow",
    "MergeService",
    "UnmergeResult",
]

UNMERGE_WINDOW = dt.timedelta(days=30)
LOG_FORMAT = 1
# What the merge changes on the merged customer (restored by the unmerge too).
_STATE = ("status", "merged_into_id")


class MergeConflict(ConflictError):
    """One of the two customers changed since the agent reviewed them."""


class MergeService:
    def __init__(self, db: Database, clock: Clock = system_clock, *, agent: AgentContext) -> None:
        self._db = db
        self.clock = clock
        self.agent = agent

    # -- reads -----------------------------------------------------------------------

    def queue(self, limit: int = 200) -> list[CandidateRow]:
        """Open candidate pairs, best score first; a pair with a side merged since (into
        someone else) is not offered."""
        with self._db.read() as session:
            rows = session.scalars(
                select(DuplicateCandidate)
                .where(DuplicateCandidate.status == DuplicateStatus.OPEN)
                .order_by(DuplicateCandidate.score.desc(), DuplicateCandidate.id)
                .limit(limit)
            ).all()
            result = []
            for row in rows:
                a = session.get(Customer, row.customer_a_id)
                b = session.get(Customer, row.customer_b_id)
                if a is None or b is None or CustomerStatus.MERGED in (a.status, b.status):
                    continue
                result.append(
                    CandidateRow(
                        row.id,
                        row.score,
                        a.id,
                        a.display_name,
                        b.id,
                        b.display_name,
                        row.found_by.value,
                        row.found_at,
                        reasons(evidence_of(row)),
                    )  # fmt: skip
                )
            return result

    def preview(
        self, candidate_id: int | None = None, pair: tuple[int, int] | None = None
    ) -> MergePreview:
        """Both customers side by side with the counts of what each has."""
        with self._db.read() as session:
            candidate = None
            if candidate_id is not None:
                candidate = session.get(DuplicateCandidate, candidate_id)
                if candidate is None:
                    raise UserError(f"duplicate candidate {candidate_id} does not exist")
                pair = (candidate.customer_a_id, candidate.customer_b_id)
            if pair is None:
                raise UserError("name a candidate or two customers")
            a, b = (self._customer(session, i) for i in pair)
            if a.id == b.id:
                raise UserError("a customer cannot be merged with itself")
            sides = (side_of(session, a), side_of(session, b))
            return MergePreview(
                candidate_id,
                *sides,
                score=candidate.score if candidate else None,
                evidence=evidence_of(candidate) if candidate else {},
                defaults=default_choices(a, b),
            )

    def resolve(self, customer_id: int) -> int:
        """The customer an id stands for today: a merged id leads to its survivor."""
        with self._db.lookup() as session:
            return _resolve(session, customer_id)

    def recent_merges(self, limit: int = 50) -> list[MergeRow]:
        now = self.clock()
        with self._db.read() as session:
            merges = session.scalars(
                select(CustomerMerge).order_by(CustomerMerge.merged_at.desc()).limit(limit)
            ).all()
            rows = []
            for m in merges:
                survivor = session.get(Customer, m.survivor_id)
                merged = session.get(Customer, m.merged_id)
                assert survivor is not None and merged is not None
                rows.append(
                    MergeRow(
                        m.id,
                        m.survivor_id,
                        survivor.display_name,
                        m.merged_id,
                        merged.display_name,
                        m.merged_by,
                        m.merged_at,
                        m.unmerged_at,
                        m.unmerged_at is None and now - m.merged_at <= UNMERGE_WINDOW,
                    )  # fmt: skip
                )
            return rows

    # -- writes ----------------------------------------------------------------------

    def merge(
        self,
        survivor_id: int,
        merged_id: int,
        choices: Mapping[str, int],
        expected_versions: Mapping[int, int],
        candidate_id: int | None = None,
    ) -> MergeResult:
        """Fold `merged_id` into `survivor_id`. `choices`: field -> the id of the customer
        whose value survives (a field not named keeps the survivor's). Refuses with
        `MergeConflict` if either customer's version is not the one reviewed."""
        if survivor_id == merged_id:
            raise UserError("a customer cannot be merged with itself")
        for field, chosen in choices.items():
            if field not in FIELDS:
                raise UserError(f"{field!r} is not a field a merge chooses")
            if chosen not in (survivor_id, merged_id):
                raise UserError(f"the value of {field} must come from one of the two customers")
        try:
            with self._db.write() as session:
                survivor, merged = self._lock_pair(session, survivor_id, merged_id)
                for customer in (survivor, merged):
                    if customer.status == CustomerStatus.MERGED:
                        raise UserError(f"customer {customer.id} was already merged")
                    if expected_versions.get(customer.id) != customer.version:
                        raise MergeConflict(
                            f"{customer.display_name} was changed by someone else since you "
                            "looked; review the pair again"
                        )
                return self._merge(session, survivor, merged, choices, candidate_id)
        except StaleDataError:
            raise MergeConflict(
                "one of the customers was changed while merging; review the pair again"
            ) from None

    def _merge(
        self,
        session: Session,
        survivor: Customer,
        merged: Customer,
        choices: Mapping[str, int],
        candidate_id: int | None,
    ) -> MergeResult:
        survivor_before = field_values(survivor, FIELDS)
        merged_before = field_values(merged, [*FIELDS, *_STATE])
        for field, chosen in choices.items():
            if chosen == merged.id:
                setattr(survivor, field, getattr(merged, field))
        survivor.search_name = fold(f"{survivor.first_name} {survivor.last_name}")
        survivor.updated_at = self.clock()
        merged.status = CustomerStatus.MERGED
        merged.merged_into_id = survivor.id
        merged.updated_at = self.clock()
        _bump(survivor, merged)
        session.flush()  # the version checks happen here
        entries = []
        protected_by_function = self._db.backend == "postgresql"
        for link in moves.customer_links():
            if protected_by_function and link.table in moves.PROTECTED:
                continue
            entries.append(moves.move_rows(session, link, merged.id, survivor.id).as_json())
        log: dict[str, Any] = {
            "format": LOG_FORMAT,
            "survivor_before": survivor_before,
            "survivor_after": field_values(survivor, FIELDS),
            "merged_before": merged_before,
            "moved": entries,
        }
        record = CustomerMerge(
            survivor_id=survivor.id,
            merged_id=merged.id,
            candidate_id=candidate_id,
            merged_by=self.agent.actor,
            merged_at=self.clock(),
            log_json=json.dumps(log),
        )
        session.add(record)
        session.flush()
        if protected_by_function:
            done = session.scalar(
                text("SELECT rapport_merge_move_protected(:id)::text"), {"id": record.id}
            )
            log["moved"] = [*entries, *json.loads(done or "[]")]
            record.log_json = json.dumps(log)
        self._decide_candidates(session, survivor.id, merged.id, candidate_id)
        session.add(
            AuditEntry(
                actor=self.agent.actor,
                action="customer.merge",
                entity="customer",
                entity_id=survivor.id,
                detail={"merge_id": record.id, "merged_id": merged.id},
            )
        )
        session.flush()
        moved_counts = {f"{e['table']}.{e['column']}": len(e["rows"]) for e in log["moved"]}
        kept_counts = {f"{e['table']}.{e['column']}": len(e["kept"]) for e in log["moved"]}
        return MergeResult(
            record.id,
            survivor.id,
            merged.id,
            {k: n for k, n in moved_counts.items() if n},
            {k: n for k, n in kept_counts.items() if n},
        )

    def _decide_candidates(
        self, session: Session, survivor_id: int, merged_id: int, candidate_id: int | None
    ) -> None:
        a, b = sorted((survivor_id, merged_id))
        pair = session.scalar(
            select(DuplicateCandidate).where(
                DuplicateCandidate.customer_a_id == a, DuplicateCandidate.customer_b_id == b
            )
        )
        if candidate_id is not None and (pair is None or pair.id != candidate_id):
            raise UserError(f"candidate {candidate_id} is not the pair {a} and {b}")
        if pair is not None and pair.status == DuplicateStatus.OPEN:
            pair.status = DuplicateStatus.MERGED
            pair.decided_by = self.agent.actor
            pair.decided_at = self.clock()

    def unmerge(self, merge_id: int) -> UnmergeResult:
        """Put both customers back as they were, row for row. Refused after
        `UNMERGE_WINDOW`, or when rows the merge moved were moved again (or deleted)
        since: undoing then would take the wrong rows."""
        try:
            with self._db.write() as session:
                return self._unmerge(session, merge_id)
        except StaleDataError:
            raise MergeConflict("a customer changed during the unmerge; try again") from None

    def _unmerge(self, session: Session, merge_id: int) -> UnmergeResult:
        record = session.get(CustomerMerge, merge_id, with_for_update=True)
        if record is None:
            raise UserError(f"merge {merge_id} does not exist")
        if record.unmerged_at is not None:
            raise UserError(f"merge {merge_id} was already undone")
        age = self.clock() - record.merged_at
        if age > UNMERGE_WINDOW:
            raise UserError(
                f"merge {merge_id} is {age.days} days old: a merge can be undone within "
                f"{UNMERGE_WINDOW.days} days only"
            )
        survivor, merged = self._lock_pair(session, record.survivor_id, record.merged_id)
        if merged.status != CustomerStatus.MERGED or merged.merged_into_id != survivor.id:
            raise UserError(f"customer {merged.id} is no longer merged into {survivor.id}")
        if survivor.status == CustomerStatus.MERGED:
            raise UserError(
                f"{survivor.display_name} was merged into customer {survivor.merged_into_id} "
                "since: undo that merge first"
            )
        log = json.loads(record.log_json)
        gone = sum(moves.still_with(session, e, survivor.id) for e in log["moved"])
        if gone:
            raise UserError(
                f"{gone} of the rows this merge moved were moved or deleted since; "
                "the merge cannot be undone exactly"
            )
        by_function = self._db.backend == "postgresql"
        restored = 0
        for entry in log["moved"]:
            restored += len(entry["rows"])
            if not (by_function and entry["table"] in moves.PROTECTED):
                moves.move_back(session, entry, merged.id)
        if by_function:
            session.execute(text("SELECT rapport_unmerge_move_protected(:id)"), {"id": record.id})
        kept_edits = []
        for field, before in log["survivor_before"].items():
            if jsonable(getattr(survivor, field)) != log["survivor_after"][field]:
                kept_edits.append(field)  # edited after the merge: the edit stands
            else:
                setattr(survivor, field, typed(field, before))
        survivor.search_name = fold(f"{survivor.first_name} {survivor.last_name}")
        survivor.updated_at = self.clock()
        for field, before in log["merged_before"].items():
            setattr(merged, field, typed(field, before))
        merged.updated_at = self.clock()
        _bump(survivor, merged)
        record.unmerged_by = self.agent.actor
        record.unmerged_at = self.clock()
        if record.candidate_id is not None:
            candidate = session.get(DuplicateCandidate, record.candidate_id)
            if candidate is not None:
                candidate.status = DuplicateStatus.OPEN
                candidate.decided_by = candidate.decided_at = None
        session.add(
            AuditEntry(
                actor=self.agent.actor,
                action="customer.unmerge",
                entity="customer",
                entity_id=survivor.id,
                detail={"merge_id": record.id, "merged_id": merged.id},
            )
        )
        session.flush()
        return UnmergeResult(record.id, survivor.id, merged.id, restored, tuple(kept_edits))

    def dismiss(self, candidate_id: int) -> int:
        """ "Not the same person": the pair leaves the queue for good. Returns the id."""
        with self._db.write() as session:
            candidate = session.get(DuplicateCandidate, candidate_id, with_for_update=True)
            if candidate is None:
                raise UserError(f"duplicate candidate {candidate_id} does not exist")
            if candidate.status != DuplicateStatus.OPEN:
                raise UserError(f"candidate {candidate_id} was already {candidate.status.value}")
            candidate.status = DuplicateStatus.DISMISSED
            candidate.decided_by = self.agent.actor
            candidate.decided_at = self.clock()
            return candidate.id

    def identify_staged(self, staged_id: int, customer_id: int) -> MergeResult:
        """A staged unknown caller turned out to be `customer_id`: everything recorded
        on the staged record (the call, its task, a note) moves to the customer and the
        staged record is marked merged (kept for history, never shown in search). The
        customer's own fields win; the staged record's details are what was typed in a
        hurry during the pop."""
        with self._db.read() as session:
            staged = self._customer(session, staged_id)
            real = self._customer(session, _resolve(session, customer_id))
            if staged.status != CustomerStatus.STAGED:
                raise UserError(f"customer {staged_id} is not a staged caller")
            versions = {staged.id: staged.version, real.id: real.version}
        return self.merge(real.id, staged.id, {}, versions)

    # -- helpers ---------------------------------------------------------------------

    def _customer(self, session: Session, customer_id: int) -> Customer:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise UserError(f"customer {customer_id} does not exist")
        return customer

    def _lock_pair(self, session: Session, first: int, second: int) -> tuple[Customer, Customer]:
        locked = {
            c.id: c
            for c in session.scalars(
                select(Customer)
                .where(Customer.id.in_((first, second)))
                .order_by(Customer.id)
                .with_for_update()
            )
        }
        for customer_id in (first, second):
            if customer_id not in locked:
                raise UserError(f"customer {customer_id} does not exist")
        return locked[first], locked[second]


def _bump(*customers: Customer) -> None:
    """Both rows get a new version even when no field changed (a merge that keeps every
    value of the survivor, a clock that says the same instant): an agent who loaded
    either before the merge must get a conflict, not save over the merge."""
    for customer in customers:
        flag_modified(customer, "updated_at")


def _resolve(session: Session, customer_id: int) -> int:
    seen = set()
    current = customer_id
    while current not in seen:
        seen.add(current)
        row = session.execute(
            select(Customer.status, Customer.merged_into_id).where(Customer.id == current)
        ).first()
        if row is None:
            raise UserError(f"customer {customer_id} does not exist")
        if row.status != CustomerStatus.MERGED or row.merged_into_id is None:
            return current
        current = row.merged_into_id
    raise UserError(f"customer {customer_id} is merged in a loop")  # never made by merge()
