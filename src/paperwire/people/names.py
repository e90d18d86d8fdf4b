"""Author names, matched as written and normalised: accents and case folded, punctuation
dropped, and a given name compared by its initial, so "José García", "Jose Garcia" and
"J. García" are one key ("j garcia"). One key may cover several people ("Maria Garcia"
and "Mario Garcia" are both "m garcia"): :func:`several_people` says when the names
written under one key differ in a way that suggests so, and the pages say it rather
than merge silently."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from paperwire.topics import slugify

_PARTS = re.compile(r"[^\W\d_]+", re.UNICODE)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()


@lru_cache(maxsize=1 << 15)
def name_parts(name: str) -> tuple[str, ...]:
    """The words of a name, folded ("J.-P. Müller" -> ("j", "p", "muller"))."""
    return tuple(_PARTS.findall(_fold(name)))


def name_key(name: str) -> str:
    """The matching key: the first given name's initial and the family name (the last
    word): "Marco Garosi", "M. Garosi", "Márco  garosi" -> "m garosi"; a one-word name
    is itself; '' for a name with no letters."""
    parts = name_parts(name)
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0][0]} {parts[-1]}"


def author_slug(name: str) -> str:
    """The page of a name as written ("Marco Garosi" -> "marco-garosi")."""
    return slugify(name)


def key_of_slug(slug: str) -> str:
    """The matching key a page's slug names ("marco-garosi" -> "m garosi")."""
    return name_key(slug.replace("-", " "))


def several_people(names: Iterable[str]) -> bool:
    """True when the names written under one key have different full given names
    ("Maria Garcia", "Mario Garcia"); initials ("M. Garcia") are compatible with
    either, so they alone never split a key."""
    given = {name_parts(n)[0] for n in names if len(name_parts(n)) > 1}
    full = {g for g in given if len(g) > 1}
    return len(full) > 1
