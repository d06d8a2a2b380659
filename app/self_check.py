"""What `rapport --self-test` checks of the case rules, without a database: the libraries
they load lazily (public holidays per country, time zones, the template sandbox, the
sentiment lexicon and language profiles) are in the installed app and answer right.
A bundle missing one of them fails here, not when an agent opens a case."""

from __future__ import annotations

import datetime as dt

from app.macros import MacroContext, render
from app.sentiment import score
from app.sla import Calendar, add_business_minutes
from models.enums import Sentiment


class SelfCheckError(RuntimeError):
    """A case rule answered wrong in this installation."""


def case_rules() -> str:
    """One line for the self-test's checks; raises SelfCheckError if a rule is off."""
    weekdays = {day: [(dt.time(9), dt.time(17))] for day in range(5)}
    calendar = Calendar("America/New_York", weekdays, holiday_country="US")
    # Thursday 24 December 2026, 17:30 in New York: closed; Friday is Christmas, then the
    # weekend; an hour of business time ends Monday 28 December at 10:00 (15:00 UTC).
    due = add_business_minutes(calendar, dt.datetime(2026, 12, 24, 22, 30, tzinfo=dt.UTC), 60)
    if due != dt.datetime(2026, 12, 28, 15, 0, tzinfo=dt.UTC):
        raise SelfCheckError(f"SLA calendar: expected Mon 28 Dec 15:00 UTC, got {due}")
    greeting = render("Hello {{ customer.first_name }}", MacroContext(customer_first_name="Ada"))
    if greeting != "Hello Ada":
        raise SelfCheckError(f"macro sandbox: expected 'Hello Ada', got {greeting!r}")
    felt = score("Thank you, the service was great and quick.")
    if felt.sentiment != Sentiment.POSITIVE or not felt.supported:
        raise SelfCheckError(f"sentiment: expected positive English, got {felt}")
    return "case rules: SLA calendar with US holidays, macro sandbox, sentiment"
