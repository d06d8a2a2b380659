"""What is sold and where: products, stores and stock per store."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow
from models.enums import ProductRelationKind, enum_type


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    category: Mapped[str] = mapped_column(String(60), index=True)
    price_cents: Mapped[int] = mapped_column(Integer)
    # Typical days between re-purchases of a consumable; None for durables.
    replenish_days: Mapped[int | None] = mapped_column(Integer)
    launch_date: Mapped[dt.date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text)
    # The range it belongs to ("Day Cream"): a down-sell is a cheaper one of the same line.
    product_line: Mapped[str | None] = mapped_column(String(60))


class ProductRelation(Base):
    """A catalogue relation an admin maintains: `related` is the counterpart of,
    complements, or replaces `product` (one row per pair and kind)."""

    __tablename__ = "product_relations"
    __table_args__ = (
        UniqueConstraint("product_id", "related_product_id", "kind"),
        CheckConstraint("product_id <> related_product_id", name="not_itself"),
        Index("ix_product_relations_related", "related_product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    related_product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    kind: Mapped[ProductRelationKind] = mapped_column(
        enum_type(ProductRelationKind, "product_relation_kind")
    )
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(80))
    country: Mapped[str] = mapped_column(String(2))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    phone: Mapped[str | None] = mapped_column(String(20))


class StoreStock(Base):
    __tablename__ = "store_stock"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True, index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    expected_at: Mapped[dt.date | None] = mapped_column(Date)  # next delivery if out of stock
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
