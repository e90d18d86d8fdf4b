"""What the SQL shared by both engines needs of a connection, and the time format the
stores use (UTC ISO strings, which sort as they compare)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

# A result row: by column name (row["id"]) and by position (row[0]) on both engines.
Row = Any


class Conn(Protocol):
    """A connection inside a transaction, SQL with '?' placeholders: a sqlite3
    connection, or the PostgreSQL engine's wrapper of a psycopg one."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...


def iso(moment: datetime) -> str:
    """A time as stored, in UTC: 2026-11-23T09:30:00Z."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str | None) -> datetime | None:
    """A stored time back (aware, UTC)."""
    if not text:
        return None
    return datetime.fromisoformat(text)
