"""What next-best-action suggestions are made of: association rules mined from order
lines (one set at a time, each mining a `RuleRun`) and the offers kept ready for
retention and welcome. What was shown and what became of it is `OfferEvent`
(models/service.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow
from models.enums import ConcessionType, OfferKind, enum_type


class RuleRun(Base):
    """One mining: its thresholds, what it read and what it found."""

    __tablename__ = "rule_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    mined_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    mined_by: Mapped[str] = mapped_column(String(63))
    source: Mapped[str] = mapped_column(String(200))  # "order_lines" or a file name
    baskets: Mapped[int] = mapped_column(Integer)
    items: Mapped[int] = mapped_column(Integer)  # distinct products in the baskets
    min_support: Mapped[float] = mapped_column(Float)
    min_confidence: Mapped[float] = mapped_column(Float)
    max_length: Mapped[int] = mapped_column(SmallInteger)
    rule_count: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)


class AssociationRule(Base):
    """antecedents => consequents, with support, confidence and lift over the run's
    baskets. The item sets are also rows of `association_rule_items` (for lookup by
    product); `antecedent_key`/`consequent_key` are the sorted product ids, comma-joined.
    """

    __tablename__ = "association_rules"
    __table_args__ = (
        CheckConstraint("support > 0 AND support <= 1", name="support"),
        CheckConstraint("confidence > 0 AND confidence <= 1", name="confidence"),
        CheckConstraint("lift > 0", name="lift"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("rule_runs.id"), index=True)
    antecedent_key: Mapped[str] = mapped_column(String(200))
    consequent_key: Mapped[str] = mapped_column(String(200))
    antecedent_size: Mapped[int] = mapped_column(SmallInteger)
    consequent_size: Mapped[int] = mapped_column(SmallInteger)
    baskets: Mapped[int] = mapped_column(Integer)  # baskets holding every item of the rule
    support: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    lift: Mapped[float] = mapped_column(Float)


class AssociationRuleItem(Base):
    """One product of a rule, on its antecedent ('a') or consequent ('c') side."""

    __tablename__ = "association_rule_items"
    __table_args__ = (
        CheckConstraint("side IN ('a', 'c')", name="side"),
        Index("ix_association_rule_items_product", "product_id", "side"),
    )

    rule_id: Mapped[int] = mapped_column(
        ForeignKey("association_rules.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    side: Mapped[str] = mapped_column(String(1), primary_key=True)


class Offer(Base):
    """An offer kept ready: a retention offer for a customer at high churn risk, or a
    welcome offer for a newcomer who had a bad experience elsewhere. Granting it is a
    concession of `concession_type` through the authority rules."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("amount_cents IS NULL OR amount_cents >= 0", name="amount"),
        CheckConstraint("percent IS NULL OR (percent > 0 AND percent <= 100)", name="percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[OfferKind] = mapped_column(enum_type(OfferKind, "offer_kind"))
    concession_type: Mapped[ConcessionType] = mapped_column(
        enum_type(ConcessionType, "concession_type")
    )
    amount_cents: Mapped[int | None] = mapped_column(Integer)
    percent: Mapped[float | None] = mapped_column(Numeric(5, 2, asdecimal=False))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
