"""Text an agent is typing, kept on local disk until it is saved.

A crash, a dropped connection or closing a tab must not lose a note half
written. Drafts live in one small JSON file in the user's data folder, written
atomically (temp file + rename), so a crash mid-write leaves the previous copy.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)


class DraftStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._drafts: dict[str, str] = self._read()

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("drafts file %s unreadable, starting empty: %s", self.path, exc)
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def get(self, key: str) -> str:
        with self._lock:
            return self._drafts.get(key, "")

    def put(self, key: str, text: str) -> None:
        with self._lock:
            if text.strip():
                self._drafts[key] = text
            else:
                self._drafts.pop(key, None)
            self._write()

    def discard(self, key: str) -> None:
        self.put(key, "")

    def keys(self) -> list[str]:
        with self._lock:
            return sorted(self._drafts)

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".drafts-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self._drafts, handle, ensure_ascii=False)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError:
            log.exception("could not save drafts to %s", self.path)
            Path(tmp).unlink(missing_ok=True)
