"""Frozen entry point of `rapportctl` (administration): the same `app.cli.main` as from source."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
