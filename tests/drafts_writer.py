"""A process that writes drafts in a loop, for the kill test in tests/test_drafts.py.

    python -m tests.drafts_writer FOLDER SEED

After each write is on disk it prints `confirmed SUBJECT SHA256` (`-` for a discarded
draft); before it starts one it prints `writing SUBJECT SHA256`, so the test knows the
one write that may have landed unconfirmed when it was killed.
"""

from __future__ import annotations

import hashlib
import random
import sys
from pathlib import Path

from app.drafts import DraftKey, DraftStore

DATABASE = "sqlite:/kill-test.db"
SUBJECTS = 8


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def main(folder: str, seed: int) -> None:
    rng = random.Random(seed)
    store = DraftStore(Path(folder))
    print("ready", flush=True)
    counter = 0
    while True:
        counter += 1
        subject = str(rng.randrange(SUBJECTS))
        key = DraftKey(DATABASE, "note", subject)
        if rng.random() < 0.1:
            text = ""
        else:
            # Mostly small notes, now and then a large paste: kills land mid-write too.
            size = rng.choice((40, 400, 4000, 300_000))
            text = f"{seed}/{counter} \ud800 é " + rng.choice("abcxyz") * size
        expected = digest(text) if text else "-"
        print(f"writing {subject} {expected}", flush=True)
        store.put(key, text, label=f"customer {subject}")
        store.flush()
        print(f"confirmed {subject} {expected}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
