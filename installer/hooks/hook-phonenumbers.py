"""PyInstaller hook for phonenumbers, overriding the contributed one (it takes all 48 MB).

phonenumbers loads each region's metadata lazily by importing
`phonenumbers.data.region_XX` (and `shortdata` for short numbers), so those
modules are hidden imports. Rapport parses, validates and formats numbers only:
the geocoder, carrier and time-zone databases (~43 MB) are never imported.
"""

from __future__ import annotations

from PyInstaller.utils.hooks import collect_submodules

UNUSED = ("phonenumbers.geodata", "phonenumbers.carrierdata", "phonenumbers.tzdata")

hiddenimports = collect_submodules("phonenumbers", filter=lambda name: not name.startswith(UNUSED))
excludedimports = [
    *UNUSED,
    "phonenumbers.geocoder",
    "phonenumbers.carrier",
    "phonenumbers.timezone",
]
