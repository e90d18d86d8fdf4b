"""What the SQL shared by both engines needs of a connection and of an engine, and the
time format the stores use (UTC ISO strings, which sort as they compare)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

from paperwire.store.dialect import Dialect

# A result row: by column name (row["id"]) and by position (row[0]) on both engines.
Row = Any


class Conn(Protocol):
    """A connection inside a transaction, SQL with '?' placeholders: a sqlite3
    connection, or the PostgreSQL engine's wrapper of a psycopg one."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...


class Tables(ABC):
    """What the table methods (papers.py, accounts.py, feed.py, digests.py, …) need of an engine:
    transactions to read and write in, its dialect, and its size. Declared once here;
    the engines supply them."""

    dialect: ClassVar[Dialect]

    @abstractmethod
    def read(self) -> AbstractContextManager[Conn]:
        """A connection to read in (released when the block ends)."""

    @abstractmethod
    def write(self) -> AbstractContextManager[Conn]:
        """A connection inside a write transaction: committed when the block ends,
        rolled back when it raises."""

    @abstractmethod
    def size_bytes(self) -> int | None:
        """How much room the store takes."""

    def lock_reader(self, conn: Conn, user_id: int) -> None:
        """Hold off this reader's other deciding writes until this transaction ends (their
        row, locked: Dialect.lock_rows): what is counted or must be unique per reader
        (follows and channels under their caps, collection names) is then read after the
        other's commit, never before it."""
        if self.dialect.lock_rows:
            conn.execute("SELECT 1 FROM users WHERE id = ?" + self.dialect.lock_rows, (user_id,))

    def lock_name(self, conn: Conn, name: str) -> None:
        """Hold off other writers of the value `name` until this transaction ends (see
        Dialect.lock_name)."""
        if self.dialect.lock_name:
            conn.execute(self.dialect.lock_name, (name,))


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


def required_iso(text: str) -> datetime:
    """A stored time of a NOT NULL column back (aware, UTC)."""
    found = parse_iso(text)
    assert found is not None
    return found


# Ids or keys per `IN (...)` list: under SQLite's and PostgreSQL's parameter limits.
IN_CHUNK = 500
