"""A provisioned PostgreSQL test database with a login of its own for each member of staff.

What the database enforces is proved by connecting as the agent's own login, as a
desktop does, not as the superuser the other PostgreSQL tests use. Used through the
fixtures of tests/conftest.py:

- `authority_template` (session): a copy of `pg_template`, provisioned by
  `rapportctl db provision-roles` (app/provisioning.py: group roles, tables and
  functions owned by rapport_owner, grants) and holding the reference rows: the
  seed's authority matrix (models/seed/reference.py AUTHORITY), three customers,
  an order with a line, cases, a policy.
- `authority_db` (per test): a fresh copy of that template with the logins of
  `STAFF` created by `app.provisioning.add_user` (SCRAM verifier, one group, users
  row), plus `GHOST` (a rapport_agent login with no users row), and fresh presence
  heartbeats for the supervisors and the manager. Login roles are cluster-wide, so
  each database gets its own names: `db.login("agent01")` is e.g. `t3f9a1c2e_agent01`.
  They are dropped with the database.

API (`AuthorityDb`): `.login(short)`, `.url(short)` (a libpq URL, good for
psycopg.connect and models.database.make_engine), `.connect(short)` (psycopg,
autocommit, never prepares: PgBouncer 1.18), `.engine(short)` (make_engine),
`.user_id(short)`, `.admin_url` / `.admin()` (the superuser, for setup and checks),
`.present(short, ...)` (a heartbeat), `.ref` (ids of the reference rows) and
`.through(bouncer)` (the same database reached through tests/pgbouncer.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow
from sqlalchemy import Engine

from app import provisioning
from models.database import Database, make_engine
from models.enums import CaseStatus, Channel, OrderStatus, Priority, Role
from models.seed.reference import AUTHORITY
from tests import pg_cluster
from tests.pgbouncer import LazyBouncer

STAFF: dict[str, Role] = {
    "agent01": Role.AGENT,
    "agent02": Role.AGENT,
    "senior01": Role.SENIOR_AGENT,
    "super01": Role.SUPERVISOR,
    "super02": Role.SUPERVISOR,
    "manager01": Role.MANAGER,
    "admin01": Role.ADMIN,
}
GHOST = "ghost"  # can log in, member of rapport_agent, but no users row
APPROVERS = ("super01", "super02", "manager01")
# The test cluster trusts every login; provisioning stores this password's verifier.
PASSWORD = "correct-horse-battery"


@dataclass(frozen=True)
class Reference:
    """Ids of the rows every authority database holds (same in every copy)."""

    dorothy: int  # customer since 1997, with an order (one line) and a case
    ada: int
    bob: int  # another customer, with an order and a case of his own
    dorothy_case: int
    dorothy_order: int
    dorothy_line: int
    bob_case: int
    bob_order: int
    policy: int  # EARLY_UPGRADE_FEE


class Template:
    """The provisioned template, and copies of it made and dropped off the test's time.

    A copy costs about half a second (CREATE DATABASE ... STRATEGY FILE_COPY waits for
    a checkpoint) and a drop about as much on a busy server: a thread of its own keeps
    the next copy ready while a test runs and drops the used ones (with their logins).
    """

    def __init__(self, admin_url: str, name: str, ref: Reference) -> None:
        self.admin_url = admin_url
        self.name = name
        self.ref = ref
        self._ready: queue.Queue[str | BaseException] = queue.Queue(maxsize=2)
        self._used: queue.Queue[tuple[str, list[str]] | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._copy_ahead, name="authority-db-copies"),
            threading.Thread(target=self._drop_used, name="authority-db-drops"),
        ]
        for thread in self._threads:
            thread.start()

    def take(self) -> str:
        """The name of a fresh copy; hand it back with `discard`."""
        got = self._ready.get(timeout=120)
        if isinstance(got, BaseException):
            raise got
        return got

    def discard(self, name: str, logins: list[str]) -> None:
        """Drop the copy, then the logins made for it (a login may hold privileges in
        it, so it goes second)."""
        self._used.put((name, logins))

    def _copy_ahead(self) -> None:
        while not self._stop.is_set():
            name = f"rapport_t_{uuid.uuid4().hex[:10]}"
            try:
                _copy_database(self.admin_url, name, self.name)
            except BaseException as exc:  # handed to the test that takes it
                self._ready.put(exc)
                return
            while True:
                try:
                    self._ready.put(name, timeout=0.1)
                    break
                except queue.Full:
                    if self._stop.is_set():
                        self._used.put((name, []))
                        return

    def _drop_used(self) -> None:
        while (used := self._used.get()) is not None:
            name, logins = used
            pg_cluster.drop_database(self.admin_url, name)
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                for login in logins:
                    conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(login)))

    def close(self) -> None:
        self._stop.set()
        self._threads[0].join(timeout=120)
        while not self._ready.empty():
            left = self._ready.get()
            if isinstance(left, str):
                self._used.put((left, []))
        self._used.put(None)
        self._threads[1].join(timeout=120)


Conn = psycopg.Connection[TupleRow]


@dataclass(frozen=True)
class AuthorityDb:
    name: str
    admin_url: str
    prefix: str
    ref: Reference
    user_ids: dict[str, int]
    host: str
    port: int
    # Through PgBouncer: where to connect, resolved at first use (in the test body).
    route: Callable[[AuthorityDb], tuple[str, int]] | None = None
    route_name: str = "direct"
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def login(self, short: str) -> str:
        return self.prefix + short

    def logins(self) -> set[str]:
        return {self.login(short) for short in (*STAFF, GHOST)}

    def user_id(self, short: str) -> int:
        return self.user_ids[short]

    def url(self, short: str) -> str:
        host, port = self.route(self) if self.route is not None else (self.host, self.port)
        return f"postgresql://{self.login(short)}@{host}:{port}/{self.name}"

    def connect(self, short: str, *, autocommit: bool = True) -> Conn:
        """A psycopg connection as the login, closed at the end of the test."""
        conn = psycopg.connect(
            self.url(short), autocommit=autocommit, prepare_threshold=None, connect_timeout=10
        )
        self._closers.append(conn.close)
        return conn

    def engine(self, short: str) -> Engine:
        """A SQLAlchemy engine as the login (models.database.make_engine), disposed at
        the end of the test."""
        engine = make_engine(self.url(short))
        self._closers.append(engine.dispose)
        return engine

    def database(self, short: str) -> Database:
        return Database(self.engine(short))

    def admin(self) -> Conn:
        """The superuser on this database (autocommit), for setup and checks."""
        conn = psycopg.connect(self.admin_url, autocommit=True, prepare_threshold=None)
        self._closers.append(conn.close)
        return conn

    def present(self, short: str, *, available: bool = True, age_seconds: float = 0) -> None:
        """A heartbeat of `short`, `age_seconds` old (server clock)."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO staff_presence (user_id, available, seen_at) "
                "VALUES (%s, %s, now() - make_interval(secs => %s)) ON CONFLICT (user_id) "
                "DO UPDATE SET available = EXCLUDED.available, seen_at = EXCLUDED.seen_at",
                (self.user_id(short), available, age_seconds),
            )

    def through(self, bouncer: LazyBouncer) -> AuthorityDb:
        """The same database, every login's connection going through PgBouncer."""

        def route(db: AuthorityDb) -> tuple[str, int]:
            running = bouncer.address(db.logins())
            return "127.0.0.1", running.port

        return replace(self, route=route, route_name="pgbouncer")

    def close(self) -> None:
        while self._closers:
            closer = self._closers.pop()
            with contextlib.suppress(Exception):  # cleanup: one already gone is fine
                closer()


def make_template(admin_url: str, pg_template: str) -> Iterator[Template]:
    """The provisioned template with the reference rows (for a session)."""
    name = f"rapport_authtpl_{uuid.uuid4().hex[:8]}"
    url = pg_cluster.create_database(admin_url, name, template=pg_template)
    try:
        with provisioning.connect(url) as conn:
            provisioning.provision_roles(conn)
        engine = make_engine(url)
        try:
            ref = _reference_rows(engine)
        finally:
            engine.dispose()
        template = Template(admin_url, name, ref)
        try:
            yield template
        finally:
            template.close()
    finally:
        pg_cluster.drop_database(admin_url, name)


def authority_database(admin_url: str, template: Template) -> Iterator[AuthorityDb]:
    """A fresh copy of the template with this database's own logins (for one test)."""
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    name = template.take()
    url = pg_cluster.database_url(admin_url, name)
    params = conninfo_to_dict(url)
    logins = [prefix + short for short in (*STAFF, GHOST)]
    db: AuthorityDb | None = None
    try:
        with provisioning.connect(url) as conn, conn.transaction():
            for short, role in STAFF.items():
                display = f"{short.rstrip('0123456789').title()} {short[-2:]}"
                provisioning.add_user(conn, prefix + short, role, PASSWORD, display)
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(
                    sql.Identifier(prefix + GHOST), sql.Identifier(provisioning.AGENT_GROUP)
                )
            )
            rows = conn.execute(
                "SELECT login, id FROM users WHERE login LIKE %s", (prefix + "%",)
            ).fetchall()
            user_ids = {str(login)[len(prefix) :]: int(uid) for login, uid in rows}
            for short in APPROVERS:
                conn.execute(
                    "INSERT INTO staff_presence (user_id, available, seen_at) "
                    "VALUES (%s, true, now())",
                    (user_ids[short],),
                )
        db = AuthorityDb(
            name=name,
            admin_url=url,
            prefix=prefix,
            ref=template.ref,
            user_ids=user_ids,
            host=str(params.get("host") or "127.0.0.1"),
            port=int(params.get("port") or 5432),
        )
        yield db
    finally:
        if db is not None:
            db.close()
        template.discard(name, logins)


def _copy_database(admin_url: str, name: str, template: str) -> str:
    """CREATE DATABASE name TEMPLATE template, by copying files: for a database this
    small, several times faster to create and to drop than the WAL-logged default."""
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    return pg_cluster.database_url(admin_url, name)


def _reference_rows(engine: Engine) -> Reference:
    from models.authority import AuthorityLimit, Policy
    from models.catalog import Product
    from models.commerce import Order, OrderLine
    from models.enums import ConcessionType
    from models.people import Customer
    from models.service import Case

    at = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)
    with Database(engine).write() as session:
        for role, caps in AUTHORITY.items():
            for kind, (cap, percent, budget) in caps.items():
                session.add(
                    AuthorityLimit(
                        role=Role(role),
                        concession_type=ConcessionType(kind),
                        allowed=cap > 0,
                        max_amount_cents=cap,
                        max_percent=None if percent is None else Decimal(str(percent)),
                        daily_budget_cents=budget,
                        period_days=30,
                        max_total_per_period_cents=cap * 10 if cap else None,
                    )
                )
        people = [
            Customer(
                first_name=first,
                last_name=last,
                search_name=f"{first} {last}".lower(),
                customer_since=since,
            )
            for first, last, since in (
                ("Dorothy", "Gale", dt.date(1997, 3, 1)),
                ("Ada", "Lovelace", dt.date(2001, 5, 1)),
                ("Bob", "Marley", dt.date(2015, 9, 9)),
            )
        ]
        session.add_all(people)
        product = Product(sku="TST-0001", name="Test phone", category="Mobile", price_cents=50000)
        policy = Policy(
            code="EARLY_UPGRADE_FEE",
            name="Early upgrade fee",
            description="Upgrading within 12 months of renewal costs the fee.",
            rule={"months_since_renewal_lt": 12},
            override_role=Role.SUPERVISOR,
            fee_cents=35000,
            currency="USD",
        )
        session.add_all([product, policy])
        session.flush()
        orders = []
        for number, person in (("T-0001", people[0]), ("T-0002", people[2])):
            order = Order(
                number=number,
                customer_id=person.id,
                channel=Channel.PHONE,
                placed_at=at,
                status=OrderStatus.DELIVERED,
                currency="USD",
                subtotal_cents=50000,
                discount_cents=0,
                total_cents=50000,
            )
            session.add(order)
            orders.append(order)
        session.flush()
        line = OrderLine(
            order_id=orders[0].id,
            line_no=1,
            product_id=product.id,
            quantity=1,
            unit_price_cents=50000,
            discount_cents=0,
        )
        session.add(line)
        cases = []
        for reference, person in (("CS-T-0001", people[0]), ("CS-T-0002", people[2])):
            case = Case(
                reference=reference,
                customer_id=person.id,
                category="complaint",
                subject="Late parcel",
                priority=Priority.NORMAL,
                status=CaseStatus.OPEN,
                opened_at=at,
                updated_at=at,
            )
            session.add(case)
            cases.append(case)
        session.flush()
        return Reference(
            dorothy=people[0].id,
            ada=people[1].id,
            bob=people[2].id,
            dorothy_case=cases[0].id,
            dorothy_order=orders[0].id,
            dorothy_line=line.id,
            bob_case=cases[1].id,
            bob_order=orders[1].id,
            policy=policy.id,
        )
