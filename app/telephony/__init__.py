"""Screen pop: call events from softphones, PBXs and local bridges.

Every source (command-line/URL hand-off, loopback webhook, Asterisk AMI, baresip)
produces the same `CallEvent`; adapters are plain asyncio so the core never
depends on Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.telephony.events import CallEvent, CallState

__all__ = ["CallEvent", "CallState", "TelephonySettings"]


@dataclass(frozen=True)
class TelephonySettings:
    """Which call sources run and how to reach them (filled from configuration)."""

    webhook_enabled: bool = False
    webhook_port: int = 0
    webhook_token: str = ""
    ami_enabled: bool = False
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_username: str = ""
    ami_secret: str = ""
    ami_device: str = ""
    baresip_enabled: bool = False
    baresip_host: str = "127.0.0.1"
    baresip_port: int = 4444

    def __repr__(self) -> str:
        # Secrets end up in logs through reprs; keep them out.
        return (
            f"TelephonySettings(webhook_enabled={self.webhook_enabled},"
            f" webhook_port={self.webhook_port}, webhook_token=***,"
            f" ami_enabled={self.ami_enabled}, ami_host={self.ami_host!r},"
            f" ami_port={self.ami_port}, ami_username={self.ami_username!r},"
            f" ami_secret=***, ami_device={self.ami_device!r},"
            f" baresip_enabled={self.baresip_enabled}, baresip_host={self.baresip_host!r},"
            f" baresip_port={self.baresip_port})"
        )
