"""Numbered schema migrations, one folder per engine: ``NNNN_name.sql`` applied in order,
each recorded in ``schema_migrations`` so a store is brought up to date exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered schema change."""

    version: int
    name: str
    sql: str


def load(engine: str) -> list[Migration]:
    """The migrations of an engine ('sqlite', 'postgresql'), in order."""
    folder = resources.files(__package__).joinpath(engine)
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql") and entry.name[:4].isdigit():
            found.append(Migration(int(entry.name[:4]), entry.name[5:-4], entry.read_text("utf-8")))
    return sorted(found, key=lambda m: m.version)
