"""The customer read model: everything about one customer, in one short read.

`CustomerService` is what `services.customers` is: the lookups it inherits
(lookups.py: find by phone, e-mail, order, case) and the record, read here with the
header (customer_header.py) and the other sections (customer_sections.py). Orders
are paged newest first (`more_orders`), an order opens with its lines and
shipments (`order_detail`). Notes are written by notes.py.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.clock import Clock, local_today, system_clock
from app.errors import UserError
from app.services import customer_header, customer_sections
from app.services import views as v
from app.services.lookups import CustomerLookups
from models.catalog import Product
from models.commerce import Order, OrderLine, Shipment
from models.database import Database
from models.enums import CustomerStatus
from models.people import Customer

ORDERS_PAGE = 200
MAX_MERGE_HOPS = 20  # a chain of merges longer than this is a loop, not history


class CustomerService(CustomerLookups):
    """Read side of the customer record; each call is one short unit of work."""

    def __init__(self, db: Database, default_region: str, clock: Clock = system_clock) -> None:
        super().__init__(db, default_region)
        self.clock = clock

    def load_customer(self, customer_id: int, today: dt.date | None = None) -> v.CustomerView:
        now = self.clock()
        today = today or local_today(self.clock)
        with self._db.read() as session:
            customer = session.get(Customer, customer_id)
            # A merged id (an old link, a printed id) opens the survivor, not a dead end.
            hops = 0
            while customer is not None and customer.status == CustomerStatus.MERGED:
                hops += 1
                if customer.merged_into_id is None or hops > MAX_MERGE_HOPS:
                    customer = None
                    break
                customer = session.get(Customer, customer.merged_into_id)
            if customer is None:
                raise UserError(f"customer {customer_id} does not exist")
            asked_for, customer_id = customer_id, customer.id
            commitments = customer_header.commitments(session, customer_id, now)
            cases = customer_header.cases(session, customer_id, commitments)
            header = customer_header.header(
                session, customer, cases, commitments, self.default_region
            )
            orders = _orders_page(session, customer_id, before=None)
            return v.CustomerView(
                header=header,
                orders=tuple(orders[:ORDERS_PAGE]),
                more_orders=len(orders) > ORDERS_PAGE,
                last_bought=tuple(customer_sections.last_bought(session, customer_id)),
                key_dates=tuple(customer_sections.key_dates(session, customer_id, today)),
                cases=tuple(cases),
                commitments=tuple(commitments),
                timeline=tuple(customer_sections.timeline(session, customer_id)),
                relations=tuple(customer_sections.relations(session, customer_id)),
                addresses=tuple(customer_sections.addresses(session, customer_id)),
                notes=tuple(customer_sections.notes(session, customer_id)),
                today=today,
                merged_from=asked_for if asked_for != customer_id else None,
            )

    def more_orders(self, customer_id: int, before: dt.datetime) -> tuple[list[v.OrderRow], bool]:
        """The next page of orders placed before `before` (keyset pagination)."""
        with self._db.read() as session:
            rows = _orders_page(session, customer_id, before=before)
            return rows[:ORDERS_PAGE], len(rows) > ORDERS_PAGE

    def order_detail(self, order_id: int) -> v.OrderDetail:
        with self._db.read() as session:
            order = session.get(Order, order_id)
            if order is None:
                raise UserError(f"order {order_id} does not exist")
            lines = session.execute(
                select(OrderLine, Product.sku, Product.name)
                .join(Product, Product.id == OrderLine.product_id)
                .where(OrderLine.order_id == order_id)
                .order_by(OrderLine.line_no)
            ).all()
            shipments = session.scalars(
                select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id)
            ).all()
            return v.OrderDetail(
                order=_order_row(order, len(lines)),
                lines=tuple(
                    v.OrderLineRow(
                        line_no=line.line_no,
                        sku=sku,
                        product=name,
                        quantity=line.quantity,
                        unit_price_cents=line.unit_price_cents,
                        discount_cents=line.discount_cents,
                        personalisation=line.personalisation,
                    )
                    for line, sku, name in lines
                ),
                shipments=tuple(
                    v.ShipmentRow(
                        carrier=s.carrier,
                        tracking_number=s.tracking_number,
                        status=s.status.value,
                        promised_date=s.promised_date,
                        delivered_at=s.delivered_at,
                        late=_late(s.promised_date, s.delivered_at, local_today(self.clock)),
                    )
                    for s in shipments
                ),
            )


def _late(promised: dt.date | None, delivered: dt.datetime | None, today: dt.date) -> bool:
    if promised is None:
        return False
    if delivered is None:
        return promised < today
    return delivered.date() > promised


def _order_row(order: Order, line_count: int) -> v.OrderRow:
    return v.OrderRow(
        id=order.id,
        number=order.number,
        placed_at=order.placed_at,
        channel=order.channel.value,
        status=order.status.value,
        total_cents=order.total_cents,
        currency=order.currency,
        line_count=line_count,
    )


def _orders_page(
    session: Session, customer_id: int, before: dt.datetime | None
) -> list[v.OrderRow]:
    lines = (
        select(func.count())
        .where(OrderLine.order_id == Order.id)
        .correlate(Order)
        .scalar_subquery()
    )
    stmt = select(Order, lines).where(Order.customer_id == customer_id)
    if before is not None:
        stmt = stmt.where(Order.placed_at < before)
    stmt = stmt.order_by(Order.placed_at.desc(), Order.id.desc()).limit(ORDERS_PAGE + 1)
    return [_order_row(order, int(n)) for order, n in session.execute(stmt).all()]
