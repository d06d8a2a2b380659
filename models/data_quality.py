"""Clean data (S8): legacy imports with every row accounted for, the source records that
make a re-import idempotent, duplicate candidates waiting for review, and merges that
can be undone."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow
from models.enums import (
    DuplicateFoundBy,
    DuplicateStatus,
    ImportKind,
    ImportStatus,
    enum_type,
)

SOURCE_LENGTH = 40
EXTERNAL_REF_LENGTH = 64


class ImportMapping(Base):
    """A saved column mapping: file column -> Rapport field, as JSON text."""

    __tablename__ = "import_mappings"
    __table_args__ = (Index("uq_import_mappings_name_kind", "name", "kind", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[ImportKind] = mapped_column(enum_type(ImportKind, "import_kind"))
    mapping_json: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ImportRun(Base):
    """One import of one file: its honest counts (read = imported + updated + unchanged +
    rejected), where its rejected rows were written, and how far it got (`last_line`,
    committed with each batch, so a crashed run resumes after it)."""

    __tablename__ = "import_runs"
    __table_args__ = (
        Index("ix_import_runs_source_sha", "source", "kind", "file_sha256"),
        CheckConstraint(
            "read_rows = imported + updated + unchanged + rejected", name="counts_add_up"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH))
    kind: Mapped[ImportKind] = mapped_column(enum_type(ImportKind, "import_kind"))
    file_name: Mapped[str] = mapped_column(String(260))
    file_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[ImportStatus] = mapped_column(enum_type(ImportStatus, "import_status"))
    started_by: Mapped[str] = mapped_column(String(63))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    read_rows: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_candidates: Mapped[int] = mapped_column(Integer, default=0)
    last_line: Mapped[int] = mapped_column(Integer, default=0)
    rejected_file: Mapped[str | None] = mapped_column(String(500))
    message: Mapped[str | None] = mapped_column(Text)


class SourceRecord(Base):
    """A row of a legacy system as Rapport holds it: (source, kind, external ref) is
    unique, so importing the same file again finds the row (unchanged when `row_hash`
    is the same) instead of adding one."""

    __tablename__ = "source_records"
    __table_args__ = (
        Index("uq_source_records_ref", "source", "kind", "external_ref", unique=True),
        Index("ix_source_records_entity", "kind", "entity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH))
    kind: Mapped[ImportKind] = mapped_column(enum_type(ImportKind, "import_kind"))
    external_ref: Mapped[str] = mapped_column(String(EXTERNAL_REF_LENGTH))
    # customers.id, orders.id or interactions.id, by kind.
    entity_id: Mapped[int] = mapped_column(Integer)
    row_hash: Mapped[str] = mapped_column(String(64))
    import_run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DuplicateCandidate(Base):
    """Two customers that may be one person, with the score and the evidence (JSON: the
    fields compared and their similarities). `customer_a_id < customer_b_id`."""

    __tablename__ = "duplicate_candidates"
    __table_args__ = (
        Index("uq_duplicate_candidates_pair", "customer_a_id", "customer_b_id", unique=True),
        Index("ix_duplicate_candidates_status_score", "status", "score"),
        Index("ix_duplicate_candidates_b", "customer_b_id"),
        CheckConstraint("customer_a_id < customer_b_id", name="ordered_pair"),
        CheckConstraint("score >= 0 AND score <= 1", name="score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_a_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    customer_b_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    score: Mapped[float] = mapped_column(Float)
    evidence_json: Mapped[str] = mapped_column(Text)
    status: Mapped[DuplicateStatus] = mapped_column(
        enum_type(DuplicateStatus, "duplicate_status"), default=DuplicateStatus.OPEN
    )
    found_by: Mapped[DuplicateFoundBy] = mapped_column(
        enum_type(DuplicateFoundBy, "duplicate_found_by")
    )
    found_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    import_run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))
    decided_by: Mapped[str | None] = mapped_column(String(63))
    decided_at: Mapped[dt.datetime | None]


class CustomerMerge(Base):
    """One merge: `merged_id` folded into `survivor_id`. `log_json` records everything
    that moved (table -> row ids) and the survivor's fields as they were before the
    chosen values replaced them, so an unmerge within 30 days restores both exactly."""

    __tablename__ = "customer_merges"
    __table_args__ = (
        Index("ix_customer_merges_merged", "merged_id"),
        Index("ix_customer_merges_survivor", "survivor_id"),
        CheckConstraint("survivor_id <> merged_id", name="not_itself"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    merged_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("duplicate_candidates.id"))
    merged_by: Mapped[str] = mapped_column(String(63))
    merged_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    log_json: Mapped[str] = mapped_column(Text)
    unmerged_by: Mapped[str | None] = mapped_column(String(63))
    unmerged_at: Mapped[dt.datetime | None]
