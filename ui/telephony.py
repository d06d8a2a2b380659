"""Call sources inside the running app: adapters on the qasync loop and the hand-off server.

Signals:
    call_event(object): a CallEvent from any source, on the GUI thread.
    lookup_requested(str): a number to look up (a `tel:` link), not a call.
    status_changed(str, str, str): adapter name, status, detail.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Any

from PySide6.QtCore import QByteArray, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from app.config import Settings
from app.credentials import SERVICE, webhook_token
from app.errors import UserError
from app.telephony.ami import AmiAdapter, AmiSettings
from app.telephony.baresip import BaresipAdapter, BaresipSettings
from app.telephony.events import CallEvent
from app.telephony.handoff import (
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
    status_changed = Signal(str, str, str)

    def __init__(self, settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.adapters = build_adapters(settings)
        self.statuses: dict[str, tuple[str, str]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)

    def start(self) -> None:
        name = local_server_name()
        if not self.server.listen(name):
            # A stale socket from a crashed instance: remove it and listen again.
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
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():  # arrived before readyRead was connected
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        if not socket.canReadLine():
            if socket.bytesAvailable() > MAX_WIRE_BYTES:
                socket.abort()
            return
        line = bytes(socket.readLine(MAX_WIRE_BYTES + 1).data())
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
    socket = QLocalSocket()
    socket.connectToServer(local_server_name())
    if not socket.waitForConnected(HANDOFF_TIMEOUT_MS):
        return False
    socket.write(QByteArray(encode_event(event)))
    socket.waitForBytesWritten(HANDOFF_TIMEOUT_MS)
    socket.waitForReadyRead(HANDOFF_TIMEOUT_MS)
    answer = bytes(socket.readAll().data()).decode(errors="replace").strip()
    socket.disconnectFromServer()
    if answer != "ok":
        raise ValueError(answer.removeprefix("error ").strip() or "the running Rapport refused it")
    return True
