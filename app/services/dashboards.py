"""Supervisors' and managers' dashboards (issue 14, S6): what concessions bought, how
suggestions convert, cases and SLA, and the quality of contact, for a `Slice` (a
period and optional team, department, store, segment and tier), each figure with the
previous period of the same length beside it, and `drill` to the rows behind a figure.

Reads only, over the analytics engine (`analytics_db_url`, a hot standby) when set
(app/bootstrap.py). A few aggregate statements per period over the time indexes of
migration 0015; bench/dashboard.py measures them at a million customers.

Definitions (the figures' tooltips say the same):
- revenue kept: what customers granted a concession spent in the 90 days after their
  first one, against customers with a case in the period and no concession, averaged
  per tier and weighted by the conceded customers' tier mix ("similar customers");
- converted suggestion: accepted, or followed by an order of the product (issue 13);
- backlog: cases opened before the end and not resolved or closed by it; SLA
  attainment: resolved cases with an SLA resolved without a breach;
- first-contact resolution: resolved cases with at most one contact (interaction);
  repeat contact: cases opened in the period with two or more;
- CSAT: share of ratings of 4 or 5.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.services.dashboard_drill import drill_down
from app.services.dashboard_periods import (
    both_periods,
    concession_figures,
    contact_figures,
    count_if,
    per_period,
    period_flag,
    rate,
    spend_by_group,
)
from app.services.dashboard_sql import (
    Bar,
    Choices,
    Figure,
    Slice,
    Table,
    case_filters,
    closed_at,
    concession_scope,
    contacts_of_case,
    day_of,
    feedback_scope,
    in_period,
    interaction_scope,
    offer_scope,
    slice_choices,
)
from models.authority import Concession
from models.database import Database
from models.enums import OfferOutcome, Sentiment
from models.people import Department, User
from models.service import Case, Feedback, Interaction, OfferEvent

DASHBOARDS = {
    "concessions": "Concessions & revenue kept",
    "suggestions": "Suggestions",
    "cases": "Cases & SLA",
    "contact": "Contact quality",
}
BY = ("kind", "rule", "agent")


@dataclass(frozen=True)
class Dashboard:
    key: str
    title: str
    slice: Slice
    figures: tuple[Figure, ...]
    chart_title: str
    chart_unit: str
    drill_key: str  # the figure a bar or a table row drills into
    bars: tuple[Bar, ...]
    table: Table


class DashboardService:
    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def backend(self) -> str:
        return self._db.backend

    @contextmanager
    def _read(self, *, probes: bool = False) -> Iterator[Session]:
        """A read session; on PostgreSQL without JIT compilation for its transaction.

        A quarter's statement at a million customers costs the planner more than
        jit_above_cost, and compiling it took 600-700 ms of a 1.6 s statement that
        runs in 0.9 s without (docs/benchmarks.md "bench.dashboard"): these are read
        once per open, never long enough for the compiled code to pay back.

        `probes`: random_page_cost 1.1, not 4 (for spinning disks): revenue kept then
        finds its ~51,000 customers by key, not by hashing 1,000,000 (0.90 -> 0.63 s)."""
        with self._db.read() as session:
            if self.backend == "postgresql":
                session.execute(text("SET LOCAL jit = off"))
                if probes:
                    session.execute(text("SET LOCAL random_page_cost = 1.1"))
            yield session

    def choices(self) -> Choices:
        with self._read() as session:
            return slice_choices(session)

    def open(self, key: str, s: Slice, by: str = "kind") -> Dashboard:
        if key == "concessions":
            return self.concessions(s)
        if key == "suggestions":
            return self.suggestions(s, by)
        if key == "cases":
            return self.cases(s)
        if key == "contact":
            return self.contact_quality(s)
        raise ValueError(f"no dashboard {key!r}: one of {', '.join(DASHBOARDS)}")

    # -- concessions and revenue kept -----------------------------------------------------

    def _concession_totals(self, s: Slice) -> tuple[dict[str, Any], dict[str, Any]]:
        """The period's figures and the previous period's (the spend: `spend_by_group`)."""
        cuts = ((1, s), (0, s.previous))
        with self._read(probes=True) as session:
            by_type = {
                now: session.execute(
                    select(
                        Concession.type,
                        func.count(),
                        func.sum(Concession.amount_cents),
                        func.count(func.distinct(Concession.customer_id)),
                    )
                    .where(*concession_scope(cut))
                    .group_by(Concession.type)
                ).all()
                for now, cut in cuts
            }
            groups = spend_by_group(session, cuts, self.backend)
        return (
            concession_figures(by_type[1], groups[(1, "conceded")], groups[(1, "similar")]),
            concession_figures(by_type[0], groups[(0, "conceded")], groups[(0, "similar")]),
        )

    def concessions(self, s: Slice) -> Dashboard:
        now, before = self._concession_totals(s)

        def kept(t: dict[str, Any]) -> float | None:
            if t["spend"] is None or t["similar"] is None:
                return None
            return float(t["spend"] - t["similar"])

        figures = (
            Figure("concessions.granted", "Concessions granted", now["count"], before["count"]),
            Figure(
                "concessions.amount", "Amount granted", now["amount"], before["amount"], "cents"
            ),
            Figure("concessions.customers", "Customers", now["customers"], before["customers"]),
            Figure(
                "concessions.spend",
                "Spend, 90 days after",
                now["spend"],
                before["spend"],
                "cents",
                "average per customer granted a concession, in the 90 days after the first",
            ),
            Figure(
                "concessions.similar",
                "Similar customers",
                now["similar"],
                before["similar"],
                "cents",
                "customers with a case and no concession, same tier mix, 90 days after the case",
            ),
            Figure(
                "concessions.kept",
                "Kept per customer",
                kept(now),
                kept(before),
                "cents",
                "their spend minus the similar customers'",
            ),
        )
        kinds = sorted(set(now["by_type"]) | set(before["by_type"]))
        zero = (0, 0, 0)
        bars = tuple(
            Bar(k, now["by_type"].get(k, zero)[1], before["by_type"].get(k, zero)[1], f"type={k}")
            for k in kinds
        )

        def dollars(t: tuple[int, int, int]) -> tuple[int, float, int]:
            return t[0], t[1] / 100, t[2]

        rows = tuple(
            (k, *dollars(now["by_type"].get(k, zero)), *dollars(before["by_type"].get(k, zero))[:2])
            for k in kinds
        )
        table = Table(
            ("Type", "Granted", "Amount", "Customers", "Granted before", "Amount before"),
            rows,
            tuple(f"type={k}" for k in kinds),
        )
        return Dashboard(
            "concessions", DASHBOARDS["concessions"], s, figures, "Amount granted by type ($)",
            "cents", "concessions.granted", bars, table,
        )  # fmt: skip

    # -- suggestions ----------------------------------------------------------------------

    def _conversion(self, s: Slice, by: str) -> dict[str, tuple[int, int, int, int]]:
        group: Any
        if by == "kind":
            group = OfferEvent.kind
        elif by == "rule":
            group = func.coalesce(OfferEvent.rule_ref, "-")
        else:
            group = func.coalesce(User.display_name, "-")
        converted = (OfferEvent.outcome == OfferOutcome.ACCEPTED) | OfferEvent.order_id.is_not(None)
        query = select(
            group,
            func.count(),
            count_if(OfferEvent.outcome == OfferOutcome.ACCEPTED),
            count_if(OfferEvent.outcome == OfferOutcome.DECLINED),
            count_if(converted),
        ).where(*offer_scope(s))
        if by == "agent":
            query = query.outerjoin(User, User.id == OfferEvent.agent_id)
        with self._read() as session:
            rows = session.execute(query.group_by(group)).all()
        return {str(g): (int(n), int(a), int(d), int(c)) for g, n, a, d, c in rows}

    def suggestions(self, s: Slice, by: str = "kind") -> Dashboard:
        if by not in BY:
            raise ValueError(f"group suggestions by one of {', '.join(BY)}")
        now, before = self._conversion(s, by), self._conversion(s.previous, by)

        def total(t: dict[str, tuple[int, int, int, int]], i: int) -> int:
            return sum(v[i] for v in t.values())

        figures = (
            Figure("suggestions.shown", "Suggestions shown", total(now, 0), total(before, 0)),
            Figure("suggestions.accepted", "Accepted", total(now, 1), total(before, 1)),
            Figure("suggestions.declined", "Declined", total(now, 2), total(before, 2)),
            Figure(
                "suggestions.converted",
                "Converted",
                total(now, 3),
                total(before, 3),
                hint="accepted, or the product ordered within 30 days",
            ),
            Figure(
                "suggestions.rate",
                "Conversion rate",
                rate(total(now, 3), total(now, 0)),
                rate(total(before, 3), total(before, 0)),
                "percent",
            ),
        )
        groups = sorted(set(now) | set(before), key=lambda g: (-now.get(g, (0,))[0], g))
        zero = (0, 0, 0, 0)
        rows = tuple(
            (g, *now.get(g, zero), rate(now.get(g, zero)[3], now.get(g, zero)[0]) or 0.0)
            + (rate(before.get(g, zero)[3], before.get(g, zero)[0]) or 0.0,)
            for g in groups
        )
        bars = tuple(Bar(r[0], r[5], r[6], f"{by}={r[0]}") for r in rows[:12])
        table = Table(
            (
                by.capitalize(),
                "Shown",
                "Accepted",
                "Declined",
                "Converted",
                "Rate %",
                "Rate before %",
            ),
            rows,
            tuple(f"{by}={g}" for g in groups),
        )
        return Dashboard(
            "suggestions", DASHBOARDS["suggestions"], s, figures, f"Conversion rate by {by} (%)",
            "percent", "suggestions.shown", bars, table,
        )  # fmt: skip

    # -- cases and SLA --------------------------------------------------------------------

    def _case_totals(self, s: Slice) -> dict[Any, tuple[int, ...]]:
        done = closed_at()
        resolved = in_period(done, s)
        with_sla = resolved & Case.sla_due_at.is_not(None)
        query = (
            select(
                Case.department_id,
                count_if(in_period(Case.opened_at, s)),
                count_if(resolved),
                count_if(done.is_(None) | (done >= s.end)),
                count_if(with_sla & Case.sla_breached_at.is_(None)),
                count_if(with_sla),
                count_if(in_period(Case.sla_breached_at, s)),
                count_if(in_period(Case.first_response_breached_at, s)),
            )
            .where(Case.opened_at < s.end, done.is_(None) | (done >= s.start), *case_filters(s))
            .group_by(Case.department_id)
        )
        with self._read() as session:
            return {d: tuple(int(v) for v in rest) for d, *rest in session.execute(query)}

    def _weekly_opened(self, s: Slice) -> list[int]:
        day = day_of(Case.opened_at, self.backend)
        query = (
            select(day, func.count())
            .where(in_period(Case.opened_at, s), *case_filters(s))
            .group_by(day)
        )
        weeks = [0] * -(-(s.end - s.start).days // 7)
        with self._read() as session:
            for text, n in session.execute(query):
                index = (dt.date.fromisoformat(text) - s.start.date()).days // 7
                if 0 <= index < len(weeks):
                    weeks[index] += int(n)
        return weeks

    def cases(self, s: Slice) -> Dashboard:
        now, before = self._case_totals(s), self._case_totals(s.previous)

        def total(t: dict[Any, tuple[int, ...]], i: int) -> int:
            return sum(v[i] for v in t.values())

        figures = (
            Figure("cases.opened", "Cases opened", total(now, 0), total(before, 0)),
            Figure("cases.resolved", "Resolved", total(now, 1), total(before, 1)),
            Figure("cases.backlog", "Backlog at the end", total(now, 2), total(before, 2)),
            Figure(
                "cases.attained",
                "SLA attainment",
                rate(total(now, 3), total(now, 4)),
                rate(total(before, 3), total(before, 4)),
                "percent",
                "resolved cases with an SLA, resolved without a breach",
            ),
            Figure("cases.breached", "SLA breaches", total(now, 5), total(before, 5)),
            Figure(
                "cases.first_response", "First-response breaches", total(now, 6), total(before, 6)
            ),
        )
        current, previous = self._weekly_opened(s), self._weekly_opened(s.previous)
        bars = tuple(
            Bar(
                f"{(s.start + dt.timedelta(weeks=i)):%d %b}",
                n,
                previous[i] if i < len(previous) else 0,
                f"week={(s.start + dt.timedelta(weeks=i)).isoformat()}",
            )
            for i, n in enumerate(current)
        )
        with self._read() as session:
            names = {i: n for i, n in session.execute(select(Department.id, Department.name))}
        zero = (0,) * 7
        departments = sorted(set(now) | set(before), key=lambda d: (d is None, names.get(d, "")))
        rows = tuple(
            (names.get(d, "(none)") if d is not None else "(none)", *now.get(d, zero)[:3])
            + (rate(now.get(d, zero)[3], now.get(d, zero)[4]) or "", now.get(d, zero)[5])
            + (before.get(d, zero)[0], before.get(d, zero)[1])
            for d in departments
        )
        table = Table(
            ("Department", "Opened", "Resolved", "Backlog", "SLA %", "Breaches")
            + ("Opened before", "Resolved before"),
            rows,
            tuple(f"department={d}" if d is not None else None for d in departments),
        )
        return Dashboard(
            "cases", DASHBOARDS["cases"], s, figures, "Cases opened per week", "count",
            "cases.opened", bars, table,
        )  # fmt: skip

    # -- contact quality ------------------------------------------------------------------

    def _contact_totals(self, s: Slice) -> tuple[dict[str, Any], dict[str, Any]]:
        """The figures of the period and of the one before, each statement reading both
        at once over [previous start, end) and telling them apart by `now` (issue 14's
        bench: one pass instead of two, so the slice's sub-queries and the scan of the
        cases resolved are paid once)."""
        span = both_periods(s)
        now = period_flag(s)
        contacts = contacts_of_case()
        resolved = select(now(closed_at()).label("now"), contacts.label("n")).where(
            in_period(closed_at(), span), *case_filters(s)
        )
        opened = select(now(Case.opened_at).label("now"), contacts.label("n")).where(
            in_period(Case.opened_at, span), *case_filters(s)
        )
        rated = (
            select(
                now(Feedback.received_at).label("now"),
                Feedback.sentiment.label("sentiment"),
                Feedback.rating.label("rating"),
            )
            .where(*feedback_scope(span))
            .subquery()
        )
        with self._read() as session:
            n_contacts = session.execute(
                select(func.count(), count_if(now(Interaction.started_at) == 1)).where(
                    *interaction_scope(span)
                )
            ).one()
            fcr = per_period(session, resolved, lambda n: n <= 1)
            repeat = per_period(session, opened, lambda n: n >= 2)
            feedback = session.execute(
                select(
                    rated.c.now,
                    rated.c.sentiment,
                    func.count(),
                    func.count(rated.c.rating),
                    count_if(rated.c.rating >= 4),
                    func.coalesce(func.sum(rated.c.rating), 0),
                ).group_by(rated.c.now, rated.c.sentiment)
            ).all()
        current = int(n_contacts[1] or 0)
        totals = {1: current, 0: int(n_contacts[0] or 0) - current}
        return (
            contact_figures(totals[1], fcr[1], repeat[1], [r[1:] for r in feedback if r[0] == 1]),
            contact_figures(totals[0], fcr[0], repeat[0], [r[1:] for r in feedback if r[0] == 0]),
        )

    def contact_quality(self, s: Slice) -> Dashboard:
        now, before = self._contact_totals(s)
        figures = (
            Figure("contact.contacts", "Contacts", now["contacts"], before["contacts"]),
            Figure(
                "contact.fcr",
                "First-contact resolution",
                now["fcr"],
                before["fcr"],
                "percent",
                "resolved cases with at most one contact",
            ),
            Figure(
                "contact.repeat",
                "Repeat-contact rate",
                now["repeat"],
                before["repeat"],
                "percent",
                "cases opened in the period with two or more contacts",
            ),
            Figure(
                "contact.csat", "CSAT", now["csat"], before["csat"], "percent", "ratings of 4 or 5"
            ),
            Figure("contact.rating", "Average rating", now["rating"], before["rating"], "rating"),
            Figure(
                "contact.negative",
                "Negative sentiment",
                now["negative"],
                before["negative"],
                "percent",
            ),
        )
        kinds = [k.value for k in Sentiment]
        bars = tuple(
            Bar(k, now["sentiment"].get(k, 0), before["sentiment"].get(k, 0), f"sentiment={k}")
            for k in kinds
        )
        rows = tuple(
            (
                k,
                now["sentiment"].get(k, 0),
                rate(now["sentiment"].get(k, 0), now["feedback"]) or 0.0,
                before["sentiment"].get(k, 0),
                rate(before["sentiment"].get(k, 0), before["feedback"]) or 0.0,
            )
            for k in kinds
        )
        table = Table(
            ("Sentiment", "Feedback", "Share %", "Feedback before", "Share before %"),
            rows,
            tuple(f"sentiment={k}" for k in kinds),
        )
        return Dashboard(
            "contact", DASHBOARDS["contact"], s, figures, "Feedback by sentiment", "count",
            "contact.feedback", bars, table,
        )  # fmt: skip

    # -- drill-down -----------------------------------------------------------------------

    def drill(self, key: str, s: Slice, part: str | None = None) -> Table:
        """The cases, customers, concessions, impressions, contacts or feedback behind the
        figure `key` (optionally one bar or row of it: `part` as "kind=refill")."""
        with self._read() as session:
            return drill_down(session, self.backend, key, s, part)
