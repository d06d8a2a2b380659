"""Composition root of the core: configuration -> engine -> services, and back.

The Qt side (ui/main.py) calls `open_services` on a worker thread after the
first window is painted, and `Services.close` when the app quits.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from app.agent import AgentContext, agent_named, resolve_agent, staff_logins, workstation_id
from app.config import Settings
from app.credentials import with_stored_password
from app.database_identity import database_identity
from app.errors import UserError
from app.services.authority import AuthorityService
from app.services.calls import CallService
from app.services.cases import CaseService
from app.services.commitments import CommitmentService
from app.services.contacts import ContactService
from app.services.customers import CustomerService
from app.services.dashboards import DashboardService
from app.services.duplicates import DuplicateService
from app.services.feedback import FeedbackService
from app.services.handoffs import HandoffService
from app.services.macros import MacroService
from app.services.merge import MergeService
from app.services.my_work import MyWorkService
from app.services.notes import NoteService
from app.services.presence import PresenceService
from app.services.products import ProductService
from app.services.rules import RuleService
from app.services.search import SearchService
from app.services.suggestions import SuggestionService
from models.database import (
    SCHEMA_HEAD,
    Database,
    check_connection,
    make_engine,
    normalize_url,
    stored_revision,
)
from models.enums import Role
from models.people import Customer

log = logging.getLogger(__name__)
DEMO_AGENT = "agent01"  # the demo's own staff member (models/seed/reference.py)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    db: Database
    customers: CustomerService
    search: SearchService
    # Which database this is, stable across runs (app/database_identity.py): drafts
    # and anything else kept locally per database are keyed by it.
    database_identity: str
    # Who is acting on this connection: the audit actor, the draft keys, the call log's
    # "mine" (app/agent.py). The services below record who acted; all were built with
    # it, by `_acting`, and none reads the agent from anywhere else.
    agent: AgentContext
    notes: NoteService
    contacts: ContactService
    calls: CallService
    cases: CaseService
    handoffs: HandoffService  # parts of a case handed to departments
    commitments: CommitmentService  # promises made to customers
    my_work: MyWorkService
    presence: PresenceService  # who else has a case open, claims
    macros: MacroService
    feedback: FeedbackService
    authority: AuthorityService  # concessions within my authority, override requests
    suggestions: SuggestionService  # next best action at the pop, and what became of it
    products: ProductService  # stock per store, launches
    rules: RuleService  # association rules mined from order lines
    merges: MergeService  # duplicate customers merged, undone, dismissed (S8)
    # Supervisors' and managers' dashboards, over the analytics replica when one is set.
    dashboards: DashboardService
    duplicates: DuplicateService  # likely duplicate customers (S8), warned of at creation
    analytics_engine: Engine | None = None

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def acting_as(self, agent: AgentContext) -> Services:
        """The services of this connection with `agent` acting: rebuilt (no query) the
        way `build_services` builds them, so a test can act as several agents."""
        acting = _acting(
            self.db, self.customers, self.settings.default_region, self.calls.workstation, agent
        )
        return dataclasses.replace(self, agent=agent, **acting)

    def acting_as_login(self, login: str) -> Services:
        """Single-user mode (SQLite has no logins): these services with the staff member
        `login` acting, as "Switch user" offers. Queries: run it on a worker. On
        PostgreSQL who acts is the login connected (session_user): switch the connection."""
        if self.backend == "postgresql":
            raise ValueError("on PostgreSQL, act as someone else by connecting as their login")
        with self.db.read() as session:
            agent = agent_named(session, login, self.database_identity, self.agent.workstation)
        return self.acting_as(agent)

    def staff_logins(self) -> list[tuple[str, str, Role]]:
        """Whom `acting_as_login` may act as: (login, name, role). Queries: on a worker."""
        with self.db.read() as session:
            return staff_logins(session)

    def close(self) -> None:
        if self.analytics_engine is not None:
            self.analytics_engine.dispose()
        self.engine.dispose()


def open_engine(settings: Settings) -> Engine:
    """Connect, then migrate the embedded database or check the shared one's version."""
    url = with_stored_password(normalize_url(settings.db_url))
    engine = make_engine(url)
    try:
        check_connection(engine)
        if stored_revision(engine) != SCHEMA_HEAD:  # Alembic loads only to migrate or explain
            from models.migrate import ensure_schema

            ensure_schema(engine, migrate=engine.dialect.name == "sqlite")
    except Exception:
        engine.dispose()
        raise
    return engine


def analytics_engine(settings: Settings, engine: Engine) -> Engine | None:
    """The engine the dashboards read from: `analytics_db_url` (a hot standby) on
    PostgreSQL, with db_url's login and password unless it names its own; None when
    unset or on SQLite (the dashboards then read the main database). Nothing connects."""
    wanted = settings.values.get("analytics_db_url")
    if not wanted or engine.dialect.name != "postgresql":
        return None
    url = normalize_url(str(wanted))
    if url.get_backend_name() != "postgresql":
        raise UserError(f"analytics_db_url must be a postgresql:// URL, not {url.drivername}")
    main = engine.url
    if not url.username:
        url = url.set(username=main.username, password=main.password)
    if not url.database:
        url = url.set(database=main.database)
    return make_engine(with_stored_password(url))


def build_services(settings: Settings, engine: Engine) -> Services:
    db = Database(engine)
    analytics = analytics_engine(settings, engine)
    region = settings.default_region
    customers = CustomerService(db, region)
    identity = database_identity(engine)
    workstation = workstation_id()
    # Resolved once per connection and handed to every service that records who acted.
    # The demo acts as a call-centre agent of its staff unless `user` says otherwise.
    login = settings.values.get("user") or (DEMO_AGENT if settings.is_demo else None)
    with db.read() as session:
        agent = resolve_agent(session, login, identity, workstation)
    return Services(
        settings=settings,
        engine=engine,
        db=db,
        customers=customers,
        search=SearchService(db, customers),
        products=ProductService(db),
        rules=RuleService(db),
        dashboards=DashboardService(Database(analytics) if analytics is not None else db),
        analytics_engine=analytics,
        duplicates=DuplicateService(db, region),
        database_identity=identity,
        agent=agent,
        **_acting(db, customers, region, workstation, agent),
    )


def _acting(
    db: Database,
    customers: CustomerService,
    region: str,
    workstation: str | None,
    agent: AgentContext,
) -> dict[str, Any]:
    """The services that record who acted, built for `agent` (field name -> service)."""
    authority = AuthorityService(db, agent=agent)
    return {
        "notes": NoteService(db, agent=agent),
        "contacts": ContactService(db, region, agent=agent),
        "calls": CallService(db, customers, region, workstation=workstation, agent=agent),
        "cases": CaseService(db, agent=agent),
        "handoffs": HandoffService(db, agent=agent),
        "commitments": CommitmentService(db, agent=agent, region=region),
        "my_work": MyWorkService(db, agent=agent),
        "presence": PresenceService(db, agent=agent),
        "macros": MacroService(db, agent=agent),
        "feedback": FeedbackService(db, agent=agent),
        "authority": authority,
        "suggestions": SuggestionService(db, agent=agent, authority=authority),
        "merges": MergeService(db, agent=agent),
    }


def open_services(settings: Settings) -> Services:
    return build_services(settings, open_engine(settings))


def ensure_demo_data(services: Services) -> bool:
    """Seed the embedded demo database on first use; True if it seeded now."""
    if not services.settings.is_demo:
        return False
    with services.db.read() as session:
        if session.scalar(select(func.count()).select_from(Customer)):
            return False
    from app.seeding import seed_demo  # only needed once per demo install

    started = time.perf_counter()
    report = seed_demo(services.engine, services.settings.demo_customers)
    log.info(
        "seeded the demo database: %d customers, %d rows in %.1f s",
        report.customers,
        report.total_rows,
        time.perf_counter() - started,
    )
    return True
