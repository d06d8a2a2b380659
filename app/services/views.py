"""Plain data the services hand to the UI. Never live ORM objects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SearchHit:
    customer_id: int
    name: str
    city: str | None
    last_order_at: dt.datetime | None
    matched_on: str  # "phone", "email", "order", "case", "name"
    matched_text: str
    score: float
    tier: str = ""


@dataclass(frozen=True)
class PhoneView:
    id: int
    raw: str
    e164: str | None
    kind: str
    is_primary: bool
    display: str = ""  # app.phones.display: the one format every screen shows


@dataclass(frozen=True)
class EmailView:
    id: int
    address: str
    is_primary: bool


@dataclass(frozen=True)
class ContactPreferenceView:
    channel: str
    target: str | None  # the number or address this preference is about
    days: str  # "Mon-Fri", "every day"
    hours: str  # "after 18:00", "any time"
    avoid: bool
    note: str | None
    rank: int
    phone_id: int | None = None  # the number it is about, when it is about one


@dataclass(frozen=True)
class CurrencyTotal:
    """Orders in one currency: amounts in two currencies are never added up."""

    currency: str
    total_cents: int
    order_count: int

    @property
    def average_cents(self) -> int:
        return self.total_cents // self.order_count if self.order_count else 0


@dataclass(frozen=True)
class CustomerHeader:
    id: int
    version: int
    first_name: str
    last_name: str
    tier: str
    segment: str | None
    status: str
    customer_since: dt.date
    preferred_language: str
    do_not_call: bool
    do_not_email: bool
    do_not_sms: bool
    do_not_mail: bool
    order_count: int
    lifetime_value_cents: int
    open_cases: int
    overdue_commitments: int
    broken_commitments: int
    phones: tuple[PhoneView, ...]
    emails: tuple[EmailView, ...]
    preferences: tuple[ContactPreferenceView, ...]
    currency: str = "USD"  # the currency of most of the customer's orders
    # Lifetime value per currency, most orders first; `lifetime_value_cents` is the
    # total of the first (the `currency` one) only, never a sum across currencies.
    values_by_currency: tuple[CurrencyTotal, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def average_order_cents(self) -> int:
        """Average order in `currency` (of the orders in that currency)."""
        main = self.values_by_currency[0] if self.values_by_currency else None
        return main.average_cents if main else 0


@dataclass(frozen=True)
class OrderRow:
    id: int
    number: str
    placed_at: dt.datetime
    channel: str
    status: str
    total_cents: int
    currency: str
    line_count: int


@dataclass(frozen=True)
class OrderLineRow:
    line_no: int
    sku: str
    product: str
    quantity: int
    unit_price_cents: int
    discount_cents: int
    personalisation: str | None


@dataclass(frozen=True)
class ShipmentRow:
    carrier: str
    tracking_number: str | None
    status: str
    promised_date: dt.date | None
    delivered_at: dt.datetime | None
    late: bool  # promised and not delivered by then, as of the service's clock


@dataclass(frozen=True)
class OrderDetail:
    order: OrderRow
    lines: tuple[OrderLineRow, ...]
    shipments: tuple[ShipmentRow, ...]


# "Last bought" counts purchases in the customer's most recent orders only, so a
# view costs the same for 500 orders or 10,000 (a long history is read in pages).
LAST_BOUGHT_ORDERS = 500


@dataclass(frozen=True)
class LastBought:
    product_id: int
    product: str
    sku: str
    last_at: dt.datetime
    times: int
    average_days_between: float | None


@dataclass(frozen=True)
class KeyDateRow:
    whose: str  # "own" or "husband Kevin"
    kind: str
    label: str | None
    next_on: dt.date
    days_until: int


@dataclass(frozen=True)
class CommitmentRow:
    id: int
    case_reference: str | None
    description: str
    status: str  # open / kept / broken / cancelled
    overdue: bool
    due_until: dt.datetime
    owner: str | None


@dataclass(frozen=True)
class CaseRow:
    id: int
    reference: str
    subject: str
    category: str
    status: str
    priority: str
    is_open: bool
    opened_at: dt.datetime
    sla_due_at: dt.datetime | None
    contacts: int
    broken_commitments: int
    overdue_commitments: int


@dataclass(frozen=True)
class TimelineRow:
    id: int
    started_at: dt.datetime
    channel: str
    direction: str
    outcome: str
    summary: str | None
    agent: str | None
    case_reference: str | None
    duration_s: int | None
    rating: int | None = None
    sentiment: str | None = None
    feedback: str | None = None


@dataclass(frozen=True)
class RelationRow:
    relation: str
    name: str
    customer_id: int | None


@dataclass(frozen=True)
class AddressRow:
    kind: str
    text: str
    nearest_stores: tuple[str, ...]


@dataclass(frozen=True)
class NoteRow:
    id: int
    body: str
    author: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class CustomerView:
    """Everything the customer screen shows, loaded in one unit of work."""

    header: CustomerHeader
    orders: tuple[OrderRow, ...]  # newest first, first page only
    more_orders: bool
    last_bought: tuple[LastBought, ...]
    key_dates: tuple[KeyDateRow, ...]
    cases: tuple[CaseRow, ...]
    commitments: tuple[CommitmentRow, ...]
    timeline: tuple[TimelineRow, ...]
    relations: tuple[RelationRow, ...]
    addresses: tuple[AddressRow, ...]
    today: dt.date  # the day the record was loaded for (tenure, "in 3 days")
    notes: tuple[NoteRow, ...] = field(default_factory=tuple)
    # The id asked for when it was merged into this customer (the tab says so).
    merged_from: int | None = None


@dataclass(frozen=True)
class CallLogEntry:
    """One call in the call log, answered, missed or dialled."""

    interaction_id: int
    started_at: dt.datetime
    direction: str  # "inbound", "outbound"
    outcome: str  # "completed", "missed", "rang" (no source said answered or hung up), ...
    number: str | None
    customer_id: int | None
    customer_name: str | None
    duration_s: int | None
    wrap_up_code: str | None
    agent: str | None
    line: str | None
    callback_task_id: int | None = None
    callback_status: str | None = None  # of the callback task a missed call left
    number_display: str = ""  # app.phones.display of `number` (which is kept for dialling)


def call_outcome(
    outcome: str, answered_at: dt.datetime | None, ended_at: dt.datetime | None
) -> str:
    """What became of a call: "rang" for one neither answered nor hung up as far as any
    source said (`rapport pop` reports only the ring), else the stored outcome."""
    if outcome == "missed" and answered_at is None and ended_at is None:
        return "rang"
    return outcome


# Next best action (issue 13). `SuggestionService.suggest` returns `Suggestions`.
MAX_SUGGESTIONS = 5
DECLINE_REASONS = ("not_interested", "already_has", "too_expensive", "not_now", "other")


@dataclass(frozen=True)
class ChurnFactor:
    code: str  # "broken_commitments", "repeat_contacts", "falling_spend", ...
    text: str  # in words: "2 broken promises in the last 90 days"
    points: int  # what it adds to the score


@dataclass(frozen=True)
class ChurnRisk:
    level: str  # "none" | "watch" | "high"
    score: int
    factors: tuple[ChurnFactor, ...]  # the ones that counted, heaviest first

    @property
    def summary(self) -> str:
        """ "high: 2 broken promises in the last 90 days; 4 contacts in 30 days" ."""
        return "; ".join(f.text for f in self.factors)


@dataclass(frozen=True)
class Suggestion:
    """One suggestion with the one line that says why."""

    key: str  # stable for this customer: "refill:123", "add_on:77", "retention:RET-20"
    kind: str  # an OfferKind value
    title: str  # the product's or the offer's name
    reason: str  # "bought every 6-8 weeks, last on 22 Apr: due"
    product_id: int | None = None
    sku: str | None = None
    offer_id: int | None = None
    price_cents: int | None = None
    currency: str = "USD"
    # Against the customer's usual order: "within" or "above" (ranked lower, marked).
    budget: str = "within"
    rule_id: int | None = None
    rule_ref: str | None = None  # "12,40=>77": kept on the impression if the rule goes
    available_from: dt.date | None = None  # a coming launch
    # An offer is granted as a concession: its type and value, and whether this agent
    # may grant it at once (None: not an offer) or needs a supervisor.
    concession_type: str | None = None
    amount_cents: int | None = None
    percent: float | None = None
    within_authority: bool | None = None
    score: float = 0.0


@dataclass(frozen=True)
class Suggestions:
    customer_id: int
    items: tuple[Suggestion, ...]  # at most MAX_SUGGESTIONS, best first
    churn: ChurnRisk
    usual_order_cents: int  # median order value in `currency`, 0 with no orders
    currency: str
    rules_mined_at: dt.datetime | None  # None: no rules mined yet


@dataclass(frozen=True)
class Impression:
    """A suggestion shown, and what became of it."""

    id: int
    key: str  # the suggestion's key
    kind: str
    outcome: str  # an OfferOutcome value
    decline_reason: str | None
    concession_id: int | None
    order_id: int | None


@dataclass(frozen=True)
class ConversionRow:
    """Conversion of one group (a kind, a rule, an agent or a period)."""

    group: str
    shown: int
    accepted: int
    declined: int
    offered: int
    ordered: int  # a later order with the product within 30 days
    # Accepted or ordered, each impression once (one accepted and later ordered is one).
    converted: int = 0

    @property
    def rate(self) -> float:
        """Converted (accepted or ordered, counted once) over shown."""
        return self.converted / self.shown if self.shown else 0.0
