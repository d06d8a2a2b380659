"""What customers bought: orders, their lines and shipments; contracts and bundles."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Versioned
from models.enums import Channel, ContractStatus, OrderStatus, ShipmentStatus, enum_type


class Order(Versioned, Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_customer_placed", "customer_id", "placed_at"),
        # The header's order count and lifetime value, read from the index alone.
        Index("ix_orders_customer_totals", "customer_id", "status", "total_cents", "currency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[Channel] = mapped_column(enum_type(Channel, "order_channel"))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    placed_at: Mapped[dt.datetime]
    status: Mapped[OrderStatus] = mapped_column(enum_type(OrderStatus, "order_status"))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    subtotal_cents: Mapped[int] = mapped_column(Integer)
    discount_cents: Mapped[int] = mapped_column(Integer, default=0)
    total_cents: Mapped[int] = mapped_column(Integer)

    lines: Mapped[list[OrderLine]] = relationship(order_by="OrderLine.line_no")
    shipments: Mapped[list[Shipment]] = relationship()


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    line_no: Mapped[int] = mapped_column(SmallInteger)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    discount_cents: Mapped[int] = mapped_column(Integer, default=0)
    personalisation: Mapped[str | None] = mapped_column(String(200))  # e.g. an engraving


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(40))
    tracking_number: Mapped[str | None] = mapped_column(String(40))
    promised_date: Mapped[dt.date | None] = mapped_column(Date)
    shipped_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
    status: Mapped[ShipmentStatus] = mapped_column(enum_type(ShipmentStatus, "shipment_status"))


class Bundle(Base):
    """Several contracts of one customer sold together (landline + internet + TV...)."""

    __tablename__ = "bundles"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    discount_percent: Mapped[int] = mapped_column(SmallInteger, default=0)


class Contract(Versioned, Base):
    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    bundle_id: Mapped[int | None] = mapped_column(ForeignKey("bundles.id"))
    service: Mapped[str] = mapped_column(String(30))  # landline, internet, tv, mobile...
    plan: Mapped[str] = mapped_column(String(80))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    monthly_fee_cents: Mapped[int] = mapped_column(Integer)
    early_termination_fee_cents: Mapped[int] = mapped_column(Integer, default=0)
    upgrade_fee_cents: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[ContractStatus] = mapped_column(enum_type(ContractStatus, "contract_status"))
