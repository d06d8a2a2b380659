"""How a person's name is folded for search: one function for every writer and reader.

`customers.search_name` is written by the seeder (models/seed/) and by the contact
service, and the search service folds what the agent types the same way before it
compares. If two of them folded differently, a name written by one would not be
found by the other, so the rule lives here, once, in the lowest layer that all of
them may import.
"""

from __future__ import annotations

import unicodedata


def fold(name: str) -> str:
    """Lower-case without accents and extra spaces: how `search_name` is stored.

    NFKD splits an accented letter into its base and a combining mark, which is
    dropped ("é" becomes "e"); letters that do not decompose stay as they are
    ("ß", the dotless "ı"), and compatibility forms expand ("ﬁ" becomes "fi").
    """
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.lower().split())


def search_name(first: str, last: str) -> str:
    """The `customers.search_name` of a person: folded "first last"."""
    return fold(f"{first} {last}")
