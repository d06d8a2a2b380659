"""Test fixtures: real databases (SQLite and PostgreSQL), the Qt app and the async loop.

PostgreSQL: `RAPPORT_TEST_PG_URL` when set, else a throwaway cluster started for
this run (tests/pg_cluster.py). Each test gets a fresh database cloned from a
template migrated once per run.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring
import pytest
from keyring.backend import KeyringBackend
from sqlalchemy import Engine

from models.database import make_engine
from models.migrate import upgrade
from tests import pg_cluster

if TYPE_CHECKING:
    from tests.pg_logins import AuthorityDb, Template
    from tests.pgbouncer import LazyBouncer

ROOT = Path(__file__).resolve().parent.parent

T = TypeVar("T")
BACKENDS = ["sqlite", "postgresql"]


class MemoryKeyring(KeyringBackend):
    """Tests never touch the real OS credential store."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def isolated_config(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point user/machine config, data and logs at a temp folder; drop RAPPORT_* vars."""
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith("RAPPORT_") and name != "RAPPORT_TEST_PG_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(home / "etc"))
    monkeypatch.setenv("RAPPORT_LOG_DIR", str(home / "logs"))
    # The hand-off socket lives in the runtime folder: one per test, so tests (and other
    # checkouts on the same machine) never reach each other's running Rapport.
    runtime = home / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    return home


# -- the clock ----------------------------------------------------------------------

# `pytest --any-hour` runs every test marked `clock` once at each of these instants
# (the clock ticks on from there), in the zone named, so a test that only passes at
# some hours, on some dates or in some zones fails here rather than in CI at 03:55.
ANY_HOUR = {
    "00:05Z": ("2026-12-02T00:05:00+00:00", "UTC"),
    "11:59Z": ("2026-12-02T11:59:00+00:00", "UTC"),
    "12:01Z": ("2026-12-02T12:01:00+00:00", "UTC"),
    "23:59Z": ("2026-12-02T23:59:00+00:00", "UTC"),
    "london-spring-dst": ("2027-03-28T00:59:30+00:00", "Europe/London"),
    "london-autumn-dst": ("2026-10-25T00:59:30+00:00", "Europe/London"),
    "newyork-spring-dst": ("2027-03-14T06:59:30+00:00", "America/New_York"),
    "newyork-autumn-dst": ("2026-11-01T05:59:30+00:00", "America/New_York"),
    "29-february": ("2028-02-29T23:30:00+00:00", "Europe/London"),
    "31-december": ("2026-12-31T23:59:00+00:00", "America/New_York"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--any-hour",
        action="store_true",
        help="run only the tests marked `clock`, each at every instant of ANY_HOUR",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.config.getoption("--any-hour") and metafunc.definition.get_closest_marker("clock"):
        metafunc.parametrize("frozen_clock", list(ANY_HOUR), indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--any-hour"):
        return
    keep = [item for item in items if item.get_closest_marker("clock")]
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    items[:] = keep


@pytest.fixture(autouse=True)
def frozen_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """Under --any-hour: travel to the instant and zone of the parameter, ticking on."""
    name = getattr(request, "param", None)
    if name is None:
        yield
        return
    import datetime as dt
    from zoneinfo import ZoneInfo

    import time_machine

    instant, zone = ANY_HOUR[name]
    destination = dt.datetime.fromisoformat(instant).astimezone(ZoneInfo(zone))
    with time_machine.travel(destination, tick=True):
        yield


# -- databases -------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    try:
        with pg_cluster.postgres_server() as url:
            yield url
    except pg_cluster.PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str) -> Iterator[str]:
    name = f"rapport_tpl_{uuid.uuid4().hex[:8]}"
    url = pg_cluster.create_database(pg_admin_url, name)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield name
    pg_cluster.drop_database(pg_admin_url, name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


def _pg_engine(admin_url: str, template: str) -> Iterator[Engine]:
    name = f"rapport_t_{uuid.uuid4().hex[:10]}"
    url = pg_cluster.create_database(admin_url, name, template=template)
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        pg_cluster.drop_database(admin_url, name)


def _sqlite_engine(template: Path, tmp_path: Path) -> Iterator[Engine]:
    path = tmp_path / f"rapport-{uuid.uuid4().hex[:6]}.db"
    shutil.copyfile(template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, migrated, empty database on each backend."""
    if request.param == "postgresql":
        yield from _pg_engine(
            request.getfixturevalue("pg_admin_url"), request.getfixturevalue("pg_template")
        )
    else:
        yield from _sqlite_engine(request.getfixturevalue("sqlite_template"), tmp_path)


@pytest.fixture
def sqlite_engine(sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    yield from _sqlite_engine(sqlite_template, tmp_path)


@pytest.fixture
def pg_engine(pg_admin_url: str, pg_template: str) -> Iterator[Engine]:
    yield from _pg_engine(pg_admin_url, pg_template)


# -- logins of their own, PgBouncer (tests/pg_logins.py, tests/pgbouncer.py) --------


@pytest.fixture(scope="session")
def authority_template(pg_admin_url: str, pg_template: str) -> Iterator[Template]:
    """pg_template provisioned (group roles, rapport_owner, grants) with reference rows."""
    from tests import pg_logins

    yield from pg_logins.make_template(pg_admin_url, pg_template)


@pytest.fixture
def authority_db(pg_admin_url: str, authority_template: Template) -> Iterator[AuthorityDb]:
    """A provisioned database where each member of staff has a PostgreSQL login."""
    from tests import pg_logins

    yield from pg_logins.authority_database(pg_admin_url, authority_template)


@pytest.fixture(scope="session")
def pgbouncer(pg_admin_url: str) -> Iterator[LazyBouncer]:
    """A PgBouncer in transaction pooling, started by the first test that uses it."""
    from tests.pgbouncer import LazyBouncer

    bouncer = LazyBouncer(pg_admin_url)
    yield bouncer
    bouncer.close()


# -- Qt and asyncio ------------------------------------------------------------------


class LoopRunner:
    """Runs coroutines on the qasync loop (pytest-qt has no asyncio support)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        # Not loop.run_until_complete: qasync's processes the pending Qt events once more
        # after its loop stopped, so a task step could run with no loop "running" (and
        # fail in asyncio.get_running_loop()). Stopped this way, what is pending runs at
        # the next `run`, inside the loop. The loop also ends when Qt quits (the last
        # window closed): it runs again until the coroutine is done (or timed out).
        future = asyncio.ensure_future(asyncio.wait_for(coro, timeout), loop=self.loop)
        future.add_done_callback(lambda _done: self.loop.stop())
        while not future.done():
            self.loop.run_forever()
        return future.result()

    def until(self, predicate: Any, timeout: float = 30) -> None:
        async def wait() -> None:
            while not predicate():
                await asyncio.sleep(0.01)

        self.run(wait(), timeout)


@pytest.fixture(autouse=True)
def gc_on_main_thread() -> Iterator[None]:
    """As in the app (ui/garbage.py): no collection on worker threads, collect here."""
    gc.disable()
    yield
    gc.collect()
    gc.enable()


@pytest.fixture
def aloop(qapp: Any) -> Iterator[LoopRunner]:
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    yield LoopRunner(loop)
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def gui_sql_guard() -> Iterator[Any]:
    """Fail the test if any SQL runs on the GUI thread (attach it to engines in use)."""
    from app.sql_guard import GuiThreadSqlGuard

    guard = GuiThreadSqlGuard(threading.main_thread(), raise_error=True)
    yield guard
    assert not guard.violations, f"SQL ran on the GUI thread: {guard.violations[:3]}"


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    leftovers = [
        t
        for t in threading.enumerate()
        if t not in before and t.is_alive() and t.name.startswith("rapport-")
    ]
    assert not leftovers, f"threads left behind: {[t.name for t in leftovers]}"


def wait_for_change_feed(main: Any, aloop: LoopRunner) -> None:
    """Until the window's change feed listens and has delivered its first "re-query
    everything" (which comes with the connected status), so tests start quiet."""
    aloop.until(lambda: main.connection.feed is None or main.connection.feed.status == "connected")


def without_change_feed(main: Any, aloop: LoopRunner) -> None:
    """Stop the window's change feed: for tests that publish `Changes` by hand and count
    what each one costs (the feed would deliver the same writes again, on its own time;
    it is tested in test_change_feed.py and test_two_instances.py)."""
    aloop.run(main.connection.stop_feed())


@contextlib.contextmanager
def running_window(db_url: str, aloop: LoopRunner, gui_sql_guard: Any) -> Iterator[Any]:
    """A main window connected to `db_url`, SQL on its GUI thread forbidden, torn down
    in order at the end (a test may run two: two desks on one database)."""
    from app.config import load_settings
    from ui.bridge import DatabaseBridge
    from ui.shell.main_window import MainWindow

    bridge = DatabaseBridge()
    main = MainWindow(load_settings(cli={"db_url": db_url}), bridge)
    main.connection.housekeeping = False  # the seeded data stays as seeded while tested
    main.show()
    aloop.run(main.connect_database())
    assert main.services is not None, main.connection.error
    gui_sql_guard.attach(main.services.engine)
    wait_for_change_feed(main, aloop)
    yield main
    gui_sql_guard.detach(main.services.engine)
    aloop.until(lambda: bridge.running == 0)
    bridge.shutdown()
    main.services.close()
    main.calls.toast.close()
    main.close()
    main.deleteLater()
    bridge.deleteLater()
    aloop.run(asyncio.sleep(0.05))  # let Qt delete them while the loop still runs


@pytest.fixture
def window(
    engine: Engine, aloop: LoopRunner, gui_sql_guard: Any, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """The main window connected to a seeded database (30 customers, or as many as the
    test's `customers(n)` marker says), SQL on the GUI thread forbidden."""
    from models.seed import seed_database

    sized = request.node.get_closest_marker("customers")
    seed_database(engine, sized.args[0] if sized else 30, seed=3)
    url = engine.url.render_as_string(hide_password=False)
    with running_window(url, aloop, gui_sql_guard) as main:
        yield main


@pytest.fixture(scope="session")
def pg_password_db() -> Iterator[tuple[str, str]]:
    """A migrated database on a private server that checks passwords.

    Yields (admin URL, the agent's URL without password); the agent's password
    is PG_AGENT_PASSWORD. The shared test server trusts every login, so the
    "wrong password" and "no password stored" paths need this one.
    """
    import psycopg

    try:
        with pg_cluster.password_server() as admin_url:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f"CREATE ROLE rapport_agent LOGIN PASSWORD '{PG_AGENT_PASSWORD}'")
                conn.execute("CREATE DATABASE rapport_pw OWNER rapport_agent")
            agent_url = pg_cluster.database_url(admin_url, "rapport_pw").replace(
                "rapport_test@", "rapport_agent@"
            )
            engine = make_engine(agent_url.replace("@", f":{PG_AGENT_PASSWORD}@", 1))
            upgrade(engine)
            engine.dispose()
            yield admin_url, agent_url
    except pg_cluster.PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


PG_AGENT_PASSWORD = "s3cret-Agent"


# -- a second process ---------------------------------------------------------------


class RunningRapport:
    """`rapport --db URL` in a process of its own (offscreen), and its rapport.log."""

    def __init__(self, url: str, log_dir: Path) -> None:
        self.url = url
        self.env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "RAPPORT_LOG_DIR": str(log_dir)}
        self.log = log_dir / "rapport.log"
        self.deadline = time.monotonic() + 60
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ui.main", "--db", url],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def logged(self, marker: str) -> list[str]:
        text = self.log.read_text() if self.log.exists() else ""
        return [line for line in text.splitlines() if marker in line]

    def wait_for(self, marker: str) -> None:
        while not self.logged(marker) and time.monotonic() < self.deadline:
            time.sleep(0.1)
        tail = self.log.read_text()[-2000:] if self.log.exists() else "(no log)"
        assert self.logged(marker), f"never logged {marker!r}:\n{tail}"

    def command(self, *args: str, log_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
        """`rapport ARGS` as a softphone would run it, next to the running one."""
        env = self.env if log_dir is None else {**self.env, "RAPPORT_LOG_DIR": str(log_dir)}
        return subprocess.run(
            [sys.executable, "-m", "ui.main", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def running_rapport(engine: Engine, tmp_path: Path) -> Iterator[RunningRapport]:
    """A seeded database with Rapport running on it, listening for hand-offs."""
    from models.seed import seed_database

    seed_database(engine, 10)
    running = RunningRapport(engine.url.render_as_string(hide_password=False), tmp_path)
    try:
        running.wait_for("hand-off listening")
        yield running
    finally:
        running.stop()
