"""Call sources inside the running app: adapters on the qasync loop and the hand-off server.

The hand-off server is also what makes Rapport one instance per user: a second
start finds it answering, asks it to come to the front and exits
(`activate_running_instance`); the socket is removed only when nothing answers
on it (a crashed instance). On Linux it lives in the user's runtime folder
(`$XDG_RUNTIME_DIR`, mode 0700), so no other user can reach it or squat its
name in /tmp; on Windows it is a per-session pipe that only its owner may open.

Signals:
    call_event(object): a CallEvent from any source, on the GUI thread.
    lookup_requested(str): a number to look up (a `tel:` link), not a call.
    activate_requested(): a second start asked this window to come to the front.
    status_changed(str, str, str): adapter name, status, detail.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sys
import time
from typing import Any

from PySide6.QtCore import QByteArray, QObject, QStandardPaths, QTimer, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from app.config import Settings
from app.credentials import SERVICE, webhook_token
from app.errors import UserError
from app.telephony.ami import AmiAdapter, AmiSettings
from app.telephony.baresip import BaresipAdapter, BaresipSettings
from app.telephony.events import CallEvent
from app.telephony.handoff import (
    ACTIVATE_LINE,
    MAX_WIRE_BYTES,
    HandoffRequest,
    decode_event,
    encode_event,
    local_server_name,
)
from app.telephony.tel import LookupRequest
from app.telephony.webhook import WebhookAdapter, WebhookSettings

log = logging.getLogger(__name__)
HANDOFF_TIMEOUT_MS = 2000
# A client has this long to send its one line; then it is dropped, so a stuck or
# hostile local process cannot hold connections open.
HANDOFF_READ_TIMEOUT_MS = 2000


def handoff_address() -> str:
    """Where the hand-off server listens: a path in the user's runtime folder on Linux.

    QStandardPaths gives `$XDG_RUNTIME_DIR`, or creates a private /tmp/runtime-<user>
    (0700) where that is unset. Elsewhere the plain per-user, per-session name.
    """
    name = local_server_name()
    if sys.platform.startswith("linux"):
        runtime = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.RuntimeLocation)
        if runtime:
            return f"{runtime}/{name}"
    return name


def build_adapters(settings: Settings) -> dict[str, Any]:
    values = settings.values
    adapters: dict[str, Any] = {}
    if values.get("webhook_port") is not None:
        try:
            token, problem = webhook_token(values), ""
        except UserError as exc:  # an unsafe token file: the webhook's status says why
            token, problem = "", str(exc)
        adapters["webhook"] = WebhookAdapter(
            WebhookSettings(token=token, port=int(values["webhook_port"]), token_problem=problem)
        )
    if values.get("ami_host") and values.get("ami_username") and values.get("ami_device"):
        import keyring  # only with AMI configured (see app/credentials.py)
        from keyring.errors import KeyringError

        try:
            secret = keyring.get_password(SERVICE, f"ami:{values['ami_username']}") or ""
        except KeyringError:
            secret = ""
        adapters["ami"] = AmiAdapter(
            AmiSettings(
                host=str(values["ami_host"]),
                port=int(values["ami_port"]),
                username=str(values["ami_username"]),
                secret=secret,
                device=str(values["ami_device"]),
            )
        )
    if values.get("baresip_port") is not None:
        adapters["baresip"] = BaresipAdapter(BaresipSettings(port=int(values["baresip_port"])))
    return adapters


class TelephonyHub(QObject):
    call_event = Signal(object)
    lookup_requested = Signal(str)
    activate_requested = Signal()
    status_changed = Signal(str, str, str)

    def __init__(self, settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.adapters = build_adapters(settings)
        self.statuses: dict[str, tuple[str, str]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)

    def start(self) -> bool:
        """Listen for hand-offs and start the adapters; False if another instance owns them.

        Two starts at the same moment both get past the check in `main`; the one that
        finds the other already listening here steps back (and should quit).
        """
        name = handoff_address()
        if not self.server.listen(name):
            if _instance_answers(name):
                log.warning("hand-off: another Rapport of this user is listening on %s", name)
                return False
            # A stale socket from a crashed instance (nothing answers): remove it, listen.
            QLocalServer.removeServer(name)
            if not self.server.listen(name):
                log.error("hand-off server %s: %s", name, self.server.errorString())
                self._status("handoff", "error", self.server.errorString())
        if self.server.isListening():
            log.info("hand-off listening on %s", name)
            self._status("handoff", "listening", name)
        for name_, adapter in self.adapters.items():
            adapter.on_status = lambda status, detail, n=name_: self._status(n, status, detail)
            self._tasks.append(asyncio.ensure_future(adapter.run(self.deliver)))
        return True

    async def dial(self, number: str) -> str:
        """Click-to-call through the first connected adapter that can dial; its name.

        LookupError when none can (no softphone link configured or connected).
        """
        baresip = self.adapters.get("baresip")
        if baresip is not None and baresip.status == "connected":
            await baresip.dial(number)
            return "baresip"
        ami = self.adapters.get("ami")
        if ami is not None and ami.status == "connected":
            await ami.originate(number)
            return "Asterisk"
        raise LookupError("no softphone link that can dial is connected")

    def deliver(self, event: CallEvent) -> None:
        self.call_event.emit(event)

    def _status(self, name: str, status: str, detail: str) -> None:
        self.statuses[name] = (status, detail)
        self.status_changed.emit(name, status, detail)

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            deadline = QTimer(socket)  # dies with the socket
            deadline.setSingleShot(True)
            deadline.timeout.connect(lambda s=socket: self._drop(s, "sent no line in time"))
            deadline.start(HANDOFF_READ_TIMEOUT_MS)
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():  # arrived before readyRead was connected
                self._read(socket)

    def _drop(self, socket: QLocalSocket, why: str) -> None:
        log.warning("hand-off: dropped a client that %s", why)
        socket.abort()
        socket.deleteLater()

    def _read(self, socket: QLocalSocket) -> None:
        if not socket.canReadLine():
            if socket.bytesAvailable() > MAX_WIRE_BYTES:
                self._drop(socket, f"sent more than {MAX_WIRE_BYTES} bytes")
            return
        for timer in socket.findChildren(QTimer):
            timer.stop()
        line = bytes(socket.readLine(MAX_WIRE_BYTES + 1).data())
        if line.rstrip(b"\r\n") == ACTIVATE_LINE.rstrip(b"\n"):
            log.info("hand-off: brought to the front for a second start")
            socket.write(QByteArray(b"ok\n"))
            self.activate_requested.emit()
            socket.flush()
            socket.disconnectFromServer()
            return
        try:
            event = decode_event(line)
        except ValueError as exc:
            log.warning("hand-off refused: %s", exc)
            socket.write(QByteArray(f"error {exc}\n".encode()))
        else:
            socket.write(QByteArray(b"ok\n"))
            if isinstance(event, LookupRequest):
                log.info("hand-off: look-up from %s", event.source)
                self.lookup_requested.emit(event.number)
            else:
                # Latency is measured from arrival here, not from the other process's start.
                self.deliver(dataclasses.replace(event, received_monotonic=time.perf_counter()))
        socket.flush()
        socket.disconnectFromServer()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self.server.close()


def hand_off(event: HandoffRequest) -> bool:
    """Give the event or look-up to the instance running for this user; False if none is."""
    return _send(encode_event(event))


def activate_running_instance() -> bool:
    """Ask the instance running for this user to come to the front; False if none runs.

    An instance too old to know the request still answers (with an error): it runs,
    so this start must not open a second window either.
    """
    try:
        return _send(ACTIVATE_LINE)
    except ValueError as exc:
        log.info("the running Rapport did not come to the front: %s", exc)
        return True


def _instance_answers(name: str) -> bool:
    socket = QLocalSocket()
    socket.connectToServer(name)
    alive = socket.waitForConnected(HANDOFF_TIMEOUT_MS)
    socket.abort()
    return alive


def _send(line: bytes) -> bool:
    socket = QLocalSocket()
    socket.connectToServer(handoff_address())
    if not socket.waitForConnected(HANDOFF_TIMEOUT_MS):
        return False
    socket.write(QByteArray(line))
    socket.waitForBytesWritten(HANDOFF_TIMEOUT_MS)
    socket.waitForReadyRead(HANDOFF_TIMEOUT_MS)
    answer = bytes(socket.readAll().data()).decode(errors="replace").strip()
    socket.disconnectFromServer()
    if answer != "ok":
        raise ValueError(answer.removeprefix("error ").strip() or "the running Rapport refused it")
    return True
