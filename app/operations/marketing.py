"""Marketing lists' writes: saving a list as a campaign (who was on it, when)."""

from __future__ import annotations

from app.bootstrap import Services
from app.changes import Changes
from app.clock import Clock, system_clock
from app.operations import Done
from app.services.marketing_lists import ListCriteria, MarketingListService


def lists_for(services: Services, clock: Clock = system_clock) -> MarketingListService:
    """The marketing lists of this connection, saved under the acting agent's login."""
    return MarketingListService(services.db, services.agent.login, clock)


def save_campaign(
    services: Services,
    name: str,
    criteria: ListCriteria,
    return_days: int,
    clock: Clock = system_clock,
) -> Done[int]:
    """Save the list as a campaign; its id. No view of a customer shows campaigns, so the
    change names nothing (the lists page reads its campaigns again itself)."""
    campaign_id = lists_for(services, clock).save_campaign(name, criteria, return_days)
    return Done(campaign_id, Changes())
