"""Text an agent is typing, kept on local disk until it is saved.

A crash, a kill, a dropped connection or closing a tab must not lose a note half
written. Each draft is one small JSON file in the user's data folder, named by a
hash of its key, so one draft can never damage another:

- The key holds the database's identity (`DraftKey.database`), so the draft of a
  customer in one database never shows on the customer with the same id in another.
- `put` only records the newest text and wakes one writer thread (`rapport-drafts`);
  the GUI thread never touches the disk for a keystroke, and rapid edits of one draft
  coalesce (the latest text wins). `flush` waits until everything asked is on disk.
- Each write goes to a temporary file in the same folder, is fsynced and renamed over
  the draft (`os.replace`), so a kill mid-write leaves the previous copy; the
  temporary files such kills leave behind are removed when the store opens.
- A file is one JSON line (key, label, the body's length and SHA-256) and then the
  text as UTF-8 with `surrogatepass`: a lone surrogate (which Python strings can hold,
  e.g. from a broken paste) round-trips exactly instead of failing the write, and a
  damaged file is recognised and skipped rather than shown.
- The folder is 0700 and each file 0600 on POSIX; on Windows the folder is in the
  user's profile, which only that user (and administrators) can read.

One process owns a drafts folder at a time (Rapport runs one instance per user): the
store removes every temporary file it finds when it opens.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

DraftKind = Literal["note", "wrap_up", "case_note"]
SUFFIX = ".draft"
TEMP_PREFIX = ".tmp-"
FORMAT_VERSION = 1
CHUNK_CHARS = 256 * 1024


@dataclass(frozen=True, order=True)
class DraftKey:
    """What a draft belongs to: a database, a kind and the customer or call it is about."""

    database: str
    kind: DraftKind
    subject: str

    @classmethod
    def note(cls, database: str, customer_id: int) -> DraftKey:
        return cls(database, "note", str(customer_id))

    @classmethod
    def wrap_up(cls, database: str, interaction_id: int) -> DraftKey:
        return cls(database, "wrap_up", str(interaction_id))

    @classmethod
    def case_note(cls, database: str, case_id: int) -> DraftKey:
        """The note being written on a case (its internal/customer choice in `extra`)."""
        return cls(database, "case_note", str(case_id))

    @property
    def file_name(self) -> str:
        canonical = json.dumps([self.database, self.kind, self.subject], ensure_ascii=True)
        return hashlib.sha256(canonical.encode("ascii")).hexdigest()[:40] + SUFFIX


@dataclass(frozen=True)
class Draft:
    key: DraftKey
    text: str
    label: str = ""  # who or what it is about, for the recovery list (a customer's name)
    extra: Mapping[str, str] = field(default_factory=dict)  # e.g. a wrap-up's follow-up

    @property
    def is_empty(self) -> bool:
        return not self.text.strip() and not any(v.strip() for v in self.extra.values())

    def preview(self, length: int = 90) -> str:
        flat = " ".join(self.text.split())
        return flat if len(flat) <= length else flat[: length - 1] + "…"


def _header(draft: Draft, body_digest: str, body_bytes: int) -> bytes:
    header = {
        "version": FORMAT_VERSION,
        "database": draft.key.database,
        "kind": draft.key.kind,
        "subject": draft.key.subject,
        "label": draft.label,
        "extra": dict(draft.extra),
        "bytes": body_bytes,
        "sha256": body_digest,
    }
    # JSON escapes newlines inside strings, so the header is exactly one line.
    return json.dumps(header, ensure_ascii=False).encode("utf-8", "surrogatepass") + b"\n"


def _encoded_chunks(text: str) -> Iterator[bytes]:
    """The text as UTF-8 in pieces: encoding 10 MB in one call holds the GIL for a
    long while and the GUI thread would stutter; in pieces the threads take turns."""
    for start in range(0, len(text), CHUNK_CHARS):
        yield text[start : start + CHUNK_CHARS].encode("utf-8", "surrogatepass")


def _decode(raw: bytes) -> Draft:
    """The draft in a file, or ValueError if it is not one of ours or is damaged."""
    line_end = raw.find(b"\n")
    if line_end < 0:
        raise ValueError("not a draft file")
    data = json.loads(raw[:line_end].decode("utf-8", "surrogatepass"))
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise ValueError("not a draft file")
    body = raw[line_end + 1 :]
    if data.get("bytes") != len(body) or data.get("sha256") != hashlib.sha256(body).hexdigest():
        raise ValueError("the draft is damaged (length or checksum differs)")
    kind = data.get("kind")
    if kind not in ("note", "wrap_up", "case_note"):
        raise ValueError(f"unknown draft kind {kind!r}")
    fields = [data.get(name) for name in ("database", "subject", "label")]
    extra = data.get("extra")
    if not all(isinstance(value, str) for value in fields) or not isinstance(extra, dict):
        raise ValueError("malformed draft")
    database, subject, label = (str(value) for value in fields)
    return Draft(
        DraftKey(database, kind, subject),
        body.decode("utf-8", "surrogatepass"),
        label,
        {str(k): str(v) for k, v in extra.items()},
    )


class DraftStore:
    """A folder of drafts, one file each, written by one background thread."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._make_private_folder()
        self._remove_stale_temp_files()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._pending: dict[DraftKey, Draft | None] = {}  # None: delete the file
        # Drafts the writer took and has not yet put on disk: still what `get` returns.
        self._writing: dict[DraftKey, Draft | None] = {}
        self._closing = False
        self._writer: threading.Thread | None = None
        self.failures = 0  # writes that failed (logged); the next edit tries again

    # -- the GUI's side: cheap, never touches the disk ------------------------------

    def put(
        self,
        key: DraftKey,
        text: str,
        *,
        label: str = "",
        extra: Mapping[str, str] | None = None,
    ) -> None:
        """Keep `text` as the draft of `key` (an empty draft is deleted)."""
        draft = Draft(key, text, label, dict(extra or {}))
        with self._changed:
            self._pending[key] = None if draft.is_empty else draft
            self._start_writer()
            self._changed.notify_all()

    def discard(self, key: DraftKey) -> None:
        self.put(key, "")

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every draft put so far is on disk; False if `timeout` passed first."""
        with self._changed:
            return self._changed.wait_for(
                lambda: not self._pending and not self._writing, timeout=timeout
            )

    def close(self) -> None:
        """Write what is pending, then stop the writer thread. Safe to call twice; a
        later `put` still writes (a thread starts, writes and stops again)."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()
            writer = self._writer
        if writer is not None:
            writer.join()

    # -- reading (a worker's side: it reads files) ----------------------------------

    def get(self, key: DraftKey) -> Draft | None:
        """The newest draft of `key`: one still waiting to be written, else the file."""
        with self._lock:
            for waiting in (self._pending, self._writing):  # a put comes before a write
                if key in waiting:
                    return waiting[key]
        try:
            draft = _decode((self.directory / key.file_name).read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("draft file %s unreadable: %s", key.file_name, exc)
            return None
        return draft if draft.key == key else None

    def text(self, key: DraftKey) -> str:
        draft = self.get(key)
        return draft.text if draft is not None else ""

    def drafts(self, database: str) -> list[Draft]:
        """Every draft of `database`, on disk or waiting, in key order."""
        found: dict[DraftKey, Draft | None] = {}
        for path in sorted(self.directory.glob("*" + SUFFIX)):
            try:
                draft = _decode(path.read_bytes())
            except (OSError, ValueError) as exc:
                log.warning("draft file %s unreadable, left as it is: %s", path.name, exc)
                continue
            if draft.key.database == database and path.name == draft.key.file_name:
                found[draft.key] = draft
        with self._lock:
            for waiting in (self._writing, self._pending):  # the newer last
                found.update((k, d) for k, d in waiting.items() if k.database == database)
        return [draft for _key, draft in sorted(found.items()) if draft is not None]

    # -- the writer thread ----------------------------------------------------------

    def _start_writer(self) -> None:
        if self._writer is None:
            self._writer = threading.Thread(
                target=self._write_loop, name="rapport-drafts", daemon=True
            )
            self._writer.start()

    def _write_loop(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending or self._closing)
                if not self._pending:
                    self._writer = None  # closing, and all is written
                    return
                batch, self._pending = self._pending, {}
                self._writing = dict(batch)
            for key, draft in batch.items():
                # One draft that cannot be written must not stop the others.
                try:
                    self._write(key, draft)
                except Exception:
                    self.failures += 1
                    log.exception("could not save the draft %s", key.file_name)
                with self._changed:
                    del self._writing[key]
                    self._changed.notify_all()

    def _write(self, key: DraftKey, draft: Draft | None) -> None:
        target = self.directory / key.file_name
        if draft is None:
            target.unlink(missing_ok=True)
            return
        chunks = list(_encoded_chunks(draft.text))
        body_digest = hashlib.sha256()
        for chunk in chunks:
            body_digest.update(chunk)  # hashlib lets other threads run meanwhile
        header = _header(draft, body_digest.hexdigest(), sum(map(len, chunks)))
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=self.directory)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(header)
                for chunk in chunks:
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        self._sync_directory()

    # -- opening ------------------------------------------------------------------

    def _make_private_folder(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(self.directory, 0o700)  # mkdir's mode is cut by the umask

    def _remove_stale_temp_files(self) -> None:
        for stale in self.directory.glob(TEMP_PREFIX + "*"):
            try:
                stale.unlink()
            except OSError as exc:
                log.warning("could not remove the stale draft file %s: %s", stale, exc)

    def _sync_directory(self) -> None:
        """Make the rename itself durable (POSIX); Windows has no directory handles."""
        if os.name != "posix":
            return
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


__all__ = ["Draft", "DraftKey", "DraftKind", "DraftStore"]
