"""A throwaway PostgreSQL server for the test suite.

``postgres_server()`` yields an admin URL. When ``RAPPORT_TEST_PG_URL`` is set
that URL is used as-is; otherwise a private cluster is created with the
installed server binaries (``initdb``/``pg_ctl``/``postgres``, major >= 15),
started on 127.0.0.1 on a free port, and destroyed on exit.

It never touches a server that may already be running on 5432.

Running as root: PostgreSQL refuses to run as root, so the cluster is owned by
an unprivileged user (``postgres`` if it exists, else a ``rapporttest`` system
user is created) and the binaries are run through ``runuser``.

Robustness: cluster directories are named ``rapport-pg-*`` and contain an
``owner.pid`` file; a cleanup is registered with ``atexit``, and clusters left
behind by a killed process (owner no longer alive) are reaped the next time a
cluster is started.

Command line (run from the repository root)::

    python -m tests.pg_cluster --check   # print the server bin dir, or why not
    python -m tests.pg_cluster           # start a cluster, print its URL, wait
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

ENV_URL = "RAPPORT_TEST_PG_URL"
MIN_MAJOR = 15
SUPERUSER = "rapport_test"
DIR_PREFIX = "rapport-pg-"
FALLBACK_OS_USER = "rapporttest"
START_TIMEOUT = 30.0

INSTALL_HINT = (
    f"install PostgreSQL {MIN_MAJOR}+ server binaries (initdb, pg_ctl, postgres): "
    "on Debian 12 / Ubuntu 24.04 'apt-get install postgresql'; on older Ubuntu "
    f"'apt-get install postgresql-{MIN_MAJOR}' from apt.postgresql.org; on Fedora/RHEL "
    "'dnf install postgresql-server'; on macOS 'brew install postgresql@16' "
    f"-- or set {ENV_URL} to the admin URL of an existing PostgreSQL {MIN_MAJOR}+ server"
)

_SERVER_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
    "shared_buffers": "128MB",
    "logging_collector": "off",
    "log_min_messages": "warning",
    "timezone": "'UTC'",
}


class PostgresUnavailable(Exception):
    """No usable PostgreSQL server: the message says what to install."""


# --------------------------------------------------------------------------- #
# Locating the server binaries
# --------------------------------------------------------------------------- #


def _major_version(postgres: Path) -> int | None:
    try:
        out = subprocess.run(
            [str(postgres), "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", out) or re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else None


def _candidate_bindirs() -> list[Path]:
    found: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        found.append(Path(on_path).resolve().parent)
    versioned: list[tuple[int, Path]] = []
    for pattern in ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"):
        for path in Path("/").glob(pattern.lstrip("/")):
            match = re.search(r"(\d+)", path.parent.name)
            if match:
                versioned.append((int(match.group(1)), path))
    found.extend(path for _, path in sorted(versioned, reverse=True))
    unique: list[Path] = []
    for path in found:
        if path not in unique:
            unique.append(path)
    return unique


def find_postgres_bindir() -> Path:
    """The directory holding initdb, pg_ctl and postgres of major >= 15."""
    rejected: list[str] = []
    for bindir in _candidate_bindirs():
        tools = [bindir / name for name in ("initdb", "pg_ctl", "postgres")]
        if not all(tool.is_file() and os.access(tool, os.X_OK) for tool in tools):
            continue
        major = _major_version(bindir / "postgres")
        if major is not None and major >= MIN_MAJOR:
            return bindir
        rejected.append(f"{bindir} (version {major})")
    detail = f" (found only: {', '.join(rejected)})" if rejected else ""
    raise PostgresUnavailable(
        f"no PostgreSQL {MIN_MAJOR}+ server binaries found{detail}; " + INSTALL_HINT
    )


# --------------------------------------------------------------------------- #
# Running as another user when we are root
# --------------------------------------------------------------------------- #


def _service_user() -> pwd.struct_passwd | None:
    """The unprivileged OS user to run the server as, or None when not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", FALLBACK_OS_USER):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    shell = "/usr/sbin/nologin" if Path("/usr/sbin/nologin").exists() else "/bin/false"
    useradd = shutil.which("useradd")
    if useradd:
        subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", shell, FALLBACK_OS_USER],
            capture_output=True,
            check=False,
        )
    try:  # also covers a concurrent useradd having won the race
        return pwd.getpwnam(FALLBACK_OS_USER)
    except KeyError:
        raise PostgresUnavailable(
            "running as root, but PostgreSQL refuses to run as root and no unprivileged "
            f"user could be created: run as a normal user, or create one with "
            f"'useradd --system {FALLBACK_OS_USER}'"
        ) from None


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    return env


def _as_user(cmd: Sequence[str], user: pwd.struct_passwd | None) -> list[str]:
    if user is None:
        return list(cmd)
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", user.pw_name, "--", *cmd]
    su = shutil.which("su") or "su"
    return [su, user.pw_name, "-s", "/bin/sh", "-c", shlex.join(cmd)]


def _run(
    cmd: Sequence[str], user: pwd.struct_passwd | None, cwd: Path, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    # Output goes to a temporary file rather than a pipe: the postmaster that
    # pg_ctl leaves behind must not hold our pipe open.
    with tempfile.TemporaryFile(mode="w+") as out:
        proc = subprocess.run(
            _as_user(cmd, user),
            cwd=cwd,
            env=_clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
        out.seek(0)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out.read(), "")


# --------------------------------------------------------------------------- #
# The cluster
# --------------------------------------------------------------------------- #


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _base_dir() -> Path:
    # As root the directory must be reachable by the service user: /tmp is
    # world-traversable, whereas $TMPDIR might be under /root.
    return Path("/tmp") if os.geteuid() == 0 else Path(tempfile.gettempdir())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _postmaster_pid(datadir: Path) -> int | None:
    try:
        first = (datadir / "postmaster.pid").read_text().splitlines()[0]
        return int(first.strip())
    except (OSError, IndexError, ValueError):
        return None


def _kill_postmaster(datadir: Path) -> None:
    """Immediate shutdown (SIGQUIT) of the postmaster serving datadir, if any."""
    pid = _postmaster_pid(datadir)
    if pid is None or not _pid_alive(pid):
        return
    try:  # make sure the pid was not recycled by an unrelated process
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        if str(datadir).encode() not in cmdline:
            return
    except OSError:
        pass
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGQUIT)
    deadline = time.monotonic() + 10
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _pid_alive(pid):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def reap_stale_clusters() -> None:
    """Stop and delete clusters whose owning process died without cleaning up."""
    for path in _base_dir().glob(DIR_PREFIX + "*"):
        try:
            owner = int((path / "owner.pid").read_text().strip())
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                if time.time() - path.stat().st_mtime > 120:
                    _kill_postmaster(path / "data")
                    shutil.rmtree(path, ignore_errors=True)
            continue
        if owner == os.getpid() or _pid_alive(owner):
            continue
        _kill_postmaster(path / "data")
        shutil.rmtree(path, ignore_errors=True)


def _log_tail(logfile: Path, lines: int = 30) -> str:
    try:
        text = logfile.read_text(errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.splitlines()[-lines:]) or "(server log empty)"


class _Cluster:
    def __init__(self) -> None:
        self.bindir = find_postgres_bindir()
        self.user = _service_user()
        self.owner_pid = os.getpid()
        self.root = Path(tempfile.mkdtemp(prefix=DIR_PREFIX, dir=_base_dir()))
        (self.root / "owner.pid").write_text(f"{self.owner_pid}\n")
        self.datadir = self.root / "data"
        self.sockdir = self.root / "sock"
        self.logfile = self.root / "postgres.log"
        self.sockdir.mkdir()
        self.port = 0
        self._done = False
        atexit.register(self.cleanup)
        if self.user is not None:
            for path in (self.root, self.sockdir):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)

    def _tool(self, name: str) -> str:
        return str(self.bindir / name)

    def initdb(self, *, passwords: bool = False) -> None:
        proc = _run(
            [
                self._tool("initdb"),
                "-D", str(self.datadir),
                "-U", SUPERUSER,
                "--auth=trust",
                "-E", "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            self.user,
            self.root,
        )  # fmt: skip
        if proc.returncode != 0:
            raise PostgresUnavailable(f"initdb failed ({proc.returncode}):\n{proc.stdout}")
        settings = dict(_SERVER_SETTINGS)
        settings["listen_addresses"] = "'127.0.0.1'"
        # Unix socket paths are limited to ~107 bytes; we connect over TCP anyway.
        sock_ok = len(str(self.sockdir)) < 80
        settings["unix_socket_directories"] = f"'{self.sockdir}'" if sock_ok else "''"
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write("\n# rapport test cluster\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        if passwords:
            # The superuser stays trusted (fixtures create databases and roles);
            # every other login must give its password, as on a real server.
            (self.datadir / "pg_hba.conf").write_text(
                f"local all {SUPERUSER} trust\n"
                f"host all {SUPERUSER} 127.0.0.1/32 trust\n"
                "host all all 127.0.0.1/32 scram-sha-256\n"
            )

    def start(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        for attempt in range(5):
            self.port = _free_port()
            proc = _run(
                [
                    self._tool("pg_ctl"),
                    "start",
                    "-D", str(self.datadir),
                    "-l", str(self.logfile),
                    "-o", f"-p {self.port}",
                    "-w",
                    "-t", str(int(START_TIMEOUT)),
                ],
                self.user,
                self.root,
                timeout=START_TIMEOUT + 15,
            )  # fmt: skip
            if proc.returncode == 0:
                break
            log = _log_tail(self.logfile)
            self.stop()
            if "could not bind" in log or "already in use" in log:
                if attempt < 4:
                    continue  # lost the race for the port: try another one
            raise PostgresUnavailable(
                f"PostgreSQL failed to start (pg_ctl exit {proc.returncode}):\n"
                f"{proc.stdout}\n--- server log ({self.logfile}) ---\n{log}"
            )
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.url, connect_timeout=5) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                last_error = exc
                time.sleep(0.1)
        raise PostgresUnavailable(
            f"PostgreSQL did not accept connections within {START_TIMEOUT:.0f} s "
            f"({last_error}):\n--- server log ({self.logfile}) ---\n{_log_tail(self.logfile)}"
        )

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        if not (self.datadir / "postmaster.pid").exists():
            return
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            _run(
                [self._tool("pg_ctl"), "stop", "-D", str(self.datadir), "-m", "immediate", "-w"],
                self.user,
                self.root,
                timeout=30,
            )
        _kill_postmaster(self.datadir)  # in case pg_ctl could not do it

    def cleanup(self) -> None:
        if self._done or os.getpid() != self.owner_pid:
            return  # already done, or a forked child: the parent owns the cluster
        self._done = True
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            atexit.unregister(self.cleanup)


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield a libpq-style admin URL like 'postgresql://rapport_test@127.0.0.1:PORT/postgres'.

    Uses $RAPPORT_TEST_PG_URL as-is when set; otherwise runs a throwaway cluster
    for the duration of the ``with`` block. Raises PostgresUnavailable when no
    PostgreSQL 15+ server binaries are installed.
    """
    external = os.environ.get(ENV_URL)
    if external:
        yield external
        return
    reap_stale_clusters()
    cluster = _Cluster()
    try:
        cluster.initdb()
        cluster.start()
        yield cluster.url
    finally:
        cluster.cleanup()


@contextmanager
def password_server() -> Iterator[str]:
    """Like ``postgres_server`` but logins other than the superuser need a password.

    Always a private cluster (an external server's pg_hba.conf is not ours to
    change): the wrong-password and no-password paths need a server that asks.
    """
    reap_stale_clusters()
    cluster = _Cluster()
    try:
        cluster.initdb(passwords=True)
        cluster.start()
        yield cluster.url
    finally:
        cluster.cleanup()


# --------------------------------------------------------------------------- #
# Databases
# --------------------------------------------------------------------------- #


def database_url(admin_url: str, name: str) -> str:
    """admin_url with its database replaced by name."""
    if "://" in admin_url:
        parts = urlsplit(admin_url)
        return urlunsplit(parts._replace(path="/" + name))
    return make_conninfo(admin_url, dbname=name)


def sqlalchemy_url(url: str) -> str:
    """A libpq URL turned into a SQLAlchemy URL using the psycopg 3 driver."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def create_database(admin_url: str, name: str, *, template: str | None = None) -> str:
    """CREATE DATABASE name (UTF8, or a copy of template); return its URL."""
    if template is None:
        stmt = sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
            sql.Identifier(name)
        )
    else:
        stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template)
        )
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(stmt)
    return database_url(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    """Terminate the connections to database name, then drop it if it exists."""
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _main(argv: Sequence[str]) -> int:
    if "--check" in argv:
        if os.environ.get(ENV_URL):
            print(f"using {ENV_URL}")
            return 0
        try:
            print(find_postgres_bindir())
        except PostgresUnavailable as exc:
            print(exc, file=sys.stderr)
            return 1
        return 0

    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    with postgres_server() as url:
        print(f"{url}  (ready in {time.monotonic() - started:.2f} s; Ctrl-C to stop)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
