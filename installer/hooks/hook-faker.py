"""PyInstaller hook for Faker, overriding the contributed one (it takes every locale, ~25 MB).

The demo seeder (models/seed/data.py REGIONS) uses en_US, en_GB, de_DE, fr_FR and en_AU.
Faker falls back to a provider's `default_locale` (and the bare language) when a
locale has no module, so those are kept too. Faker lists providers and locales
in a frozen app by globbing `*/__init__.py` under sys._MEIPASS, so the
`__init__.py` files of what we keep must also exist on disk as data files.
"""

from __future__ import annotations

import importlib
import re

from PyInstaller.utils.hooks import collect_data_files, collect_submodules

WANTED = {"en_US", "en_GB", "de_DE", "fr_FR", "en_AU", "en", "de", "fr"}
_LOCALE = re.compile(r"^[a-z]{2,3}(_[A-Z][A-Za-z]{1,3})?$")


def _defaults() -> set[str]:
    found: set[str] = set()
    for name in collect_submodules("faker.providers", filter=lambda n: n.count(".") <= 2):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        default = getattr(module, "default_locale", None)
        if isinstance(default, str):
            found.add(default)
    return found


KEEP = WANTED | _defaults() | {"en_US"}


def _wanted(name: str) -> bool:
    # faker.providers.<provider>[.<locale>[...]]: drop locale packages we do not ship.
    parts = name.split(".")
    return not (len(parts) >= 4 and _LOCALE.match(parts[3]) and parts[3] not in KEEP)


def _wanted_path(dest: str) -> bool:
    parts = dest.replace("\\", "/").split("/")
    return not (len(parts) >= 4 and _LOCALE.match(parts[3]) and parts[3] not in KEEP)


hiddenimports = collect_submodules("faker.providers", filter=_wanted)
datas = [
    (src, dest)
    for src, dest in collect_data_files("faker.providers", include_py_files=True)
    if src.endswith("__init__.py") and _wanted_path(f"{dest}/x")
]
