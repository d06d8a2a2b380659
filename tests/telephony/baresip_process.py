"""Run real, headless baresip instances on loopback for the adapter tests.

Headless recipe (baresip 1.0 as packaged in Debian): no audio devices at all;
the `aufile` module plays a WAV of silence as the microphone and, with no
`audio_player` configured, received audio is simply dropped. `menu.so` must be
loaded because it registers the dial/accept/hangup commands ctrl_tcp relays.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import wave
from pathlib import Path

INSTALL_HINT = "install baresip (apt-get install baresip)"
MODULE_DIRS = ("/usr/lib/baresip/modules", "/usr/lib/x86_64-linux-gnu/baresip/modules")

CONFIG = """\
poll_method		epoll
sip_listen		127.0.0.1:{sip_port}
call_local_timeout	120
call_max_calls		4
audio_source		aufile,{wav}
module_path		{module_path}
module			g711.so
module			aufile.so
module_tmp		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:{ctrl_port}
"""


def baresip_binary() -> str:
    """The baresip executable, or AssertionError with the install hint (tests fail, never skip)."""
    path = shutil.which("baresip")
    assert path is not None, INSTALL_HINT
    return path


def module_path() -> str:
    for directory in MODULE_DIRS:
        if (Path(directory) / "ctrl_tcp.so").exists():
            return directory
    found = sorted(Path("/usr/lib").glob("**/baresip/modules/ctrl_tcp.so"))
    assert found, f"baresip modules (ctrl_tcp.so) not found; {INSTALL_HINT}"
    return str(found[0].parent)


_handed_out: set[int] = set()


def free_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1 (SIP listens on both).

    Ports already handed out in this run are skipped: the OS may offer a port
    again once the probe socket is closed, before baresip has bound it.
    """
    for _ in range(50):
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
        if port in _handed_out:
            continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free port")


def write_silence(path: Path, seconds: int = 30) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 8000 * seconds)


class Baresip:
    """One baresip process with its own config directory, SIP port and ctrl_tcp port."""

    def __init__(self, directory: Path, user: str, display_name: str | None = None) -> None:
        self.directory = directory
        self.sip_port = free_port()
        self.ctrl_port = free_port()
        self.aor = f"sip:{user}@127.0.0.1:{self.sip_port}"
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)
        wav = directory / "silence.wav"
        write_silence(wav)
        (directory / "config").write_text(
            CONFIG.format(
                sip_port=self.sip_port,
                ctrl_port=self.ctrl_port,
                wav=wav,
                module_path=module_path(),
            )
        )
        shown = f'"{display_name}" ' if display_name else ""
        (directory / "accounts").write_text(f"{shown}<{self.aor}>;regint=0\n")
        self.log_path = directory / "baresip.log"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                [baresip_binary(), "-f", str(self.directory)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()

    async def wait_ready(self, timeout: float = 5.0) -> None:
        """Until ctrl_tcp accepts connections (baresip opens it after loading every module)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"baresip exited early:\n{self.log_tail()}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.ctrl_port)
            except OSError:
                if loop.time() > deadline:
                    raise AssertionError(f"baresip not ready:\n{self.log_tail()}") from None
                await asyncio.sleep(0.05)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(3)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(3)
        self.process = None

    def kill(self) -> None:
        """SIGKILL: the softphone crashing, not shutting down politely."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(3)
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
