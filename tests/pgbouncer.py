"""A throwaway PgBouncer in transaction pooling in front of the test cluster.

Hundreds of desktops reach the shared database through PgBouncer in transaction
pooling (docs/it-deployment.md), so the raw-SQL authority tests run once more through
a real one (Debian's `pgbouncer`, 1.18 in Debian 12: no prepared-statement support):
nothing may depend on session state, and the functions must see each agent's own
login as session_user (pools are per login).

`LazyBouncer.address(logins)` starts it on first use, inside the test that needs it:
a missing binary FAILS that test with the install hint (as for baresip), never skips
it. Logins are listed in its auth_file (auth_type trust: the test cluster trusts
every login; SCRAM is checked by tests/test_provisioning.py) and reloaded through the
admin console as tests add them.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from tests import pg_cluster

INSTALL_HINT = (
    "PgBouncer is needed for the transaction-pooling tests: install it "
    "(apt-get install pgbouncer; scripts/test does it when run as root)"
)
ADMIN = "bouncer_admin"  # a console user only (never a server login)
START_TIMEOUT = 15.0


def pgbouncer_binary() -> str | None:
    found = shutil.which("pgbouncer")
    if found:
        return found
    for candidate in ("/usr/sbin/pgbouncer", "/usr/local/sbin/pgbouncer"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgBouncer:
    """One pgbouncer process (foreground, its own temp dir), run as an unprivileged
    user when we are root (pgbouncer refuses to run as root)."""

    def __init__(self, server_url: str, binary: str) -> None:
        params = conninfo_to_dict(server_url)
        self.server_host = str(params.get("host") or "127.0.0.1")
        self.server_port = int(params.get("port") or 5432)
        self.binary = binary
        # As root: the unprivileged OS user the throwaway cluster runs as.
        self.user: pwd.struct_passwd | None = pg_cluster._service_user()
        base = Path("/tmp") if os.geteuid() == 0 else Path(tempfile.gettempdir())
        self.root = Path(tempfile.mkdtemp(prefix="rapport-bouncer-", dir=base))
        self.ini = self.root / "pgbouncer.ini"
        self.auth_file = self.root / "users.txt"
        self.logfile = self.root / "pgbouncer.log"
        self.pidfile = self.root / "pgbouncer.pid"
        self.port = 0
        self.logins: set[str] = set()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._write_auth_file()
        for _attempt in range(5):
            self.port = _free_port()
            self._write_ini()
            if self.user is not None:
                for path in (self.root, self.ini, self.auth_file):
                    os.chown(path, self.user.pw_uid, self.user.pw_gid)
            self.process = subprocess.Popen(
                [self.binary, str(self.ini)],
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                user=None if self.user is None else self.user.pw_uid,
                group=None if self.user is None else self.user.pw_gid,
                extra_groups=None if self.user is None else [],
            )
            if self._wait_ready():
                return
            self.stop()
            if "Address already in use" not in self.log_tail():
                break
        raise RuntimeError(f"pgbouncer did not start:\n{self.log_tail()}")

    def _write_ini(self) -> None:
        self.ini.write_text(
            "[databases]\n"
            f"* = host={self.server_host} port={self.server_port}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self.auth_file}\n"
            f"admin_users = {ADMIN}\n"
            "pool_mode = transaction\n"
            "default_pool_size = 20\n"
            "max_client_conn = 300\n"
            "ignore_startup_parameters = extra_float_digits\n"
            f"logfile = {self.logfile}\n"
            f"pidfile = {self.pidfile}\n"
        )

    def _write_auth_file(self) -> None:
        names = sorted({ADMIN, *self.logins})
        self.auth_file.write_text("".join(f'"{name}" ""\n' for name in names))

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return False
            try:
                with self._console():
                    return True
            except psycopg.OperationalError:
                time.sleep(0.05)
        return False

    def _console(self) -> psycopg.Connection[tuple[object, ...]]:
        # The admin console speaks the simple query protocol only: ClientCursor.
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            dbname="pgbouncer",
            user=ADMIN,
            autocommit=True,
            connect_timeout=2,
            cursor_factory=psycopg.ClientCursor,
        )

    def allow(self, logins: set[str]) -> None:
        """List these logins in the auth_file and reload it (synchronously)."""
        if logins <= self.logins:
            return
        self.logins |= logins
        self._write_auth_file()
        with self._console() as console:
            console.execute("RELOAD")

    def url(self, dbname: str, login: str) -> str:
        return f"postgresql://{login}@127.0.0.1:{self.port}/{dbname}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.logfile.read_text(errors="replace")
        except OSError:
            return "(no pgbouncer log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)  # immediate shutdown (1.18)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class LazyBouncer:
    """The session's PgBouncer, started by the first test that routes through it."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self._bouncer: PgBouncer | None = None

    def address(self, logins: set[str]) -> PgBouncer:
        """The running bouncer, knowing `logins`; fails the calling test when there
        is no pgbouncer binary."""
        if self._bouncer is None:
            binary = pgbouncer_binary()
            if binary is None:
                pytest.fail(INSTALL_HINT, pytrace=False)
            bouncer = PgBouncer(self.server_url, binary)
            try:
                bouncer.start()
            except BaseException:
                bouncer.cleanup()
                raise
            self._bouncer = bouncer
        self._bouncer.allow(logins)
        return self._bouncer

    def close(self) -> None:
        if self._bouncer is not None:
            with contextlib.suppress(OSError):
                self._bouncer.cleanup()
            self._bouncer = None
