"""Moving a deployment between stores (SQLite ⇄ PostgreSQL, or a copy of one engine):
every table, in batches by primary key, each batch in one transaction on the target, the
position saved in the target after each batch so an interrupted move resumes; at the end
the row count and a checksum of every table are compared on both sides.

Ids are kept (the indexes beside a store and the links in sent mail refer to them), and
so are the store's identity and signing key: a moved site's unsubscribe links still work."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from paperwire.store.base import Store, StoreError
from paperwire.store.dialect import DIALECTS
from paperwire.store.sqlconn import Conn

# Parents before children; each with the columns that order and page it.
TABLES: list[tuple[str, tuple[str, ...]]] = [
    ("sync_state", ("name",)),
    ("papers", ("id",)),
    ("paper_aliases", ("alias",)),
    ("paper_tombstones", ("seq", "paper_id")),
    ("paper_vectors", ("paper_id", "model")),
    ("users", ("id",)),
    ("login_tokens", ("token_hash",)),
    ("sessions", ("token_hash",)),
    ("api_tokens", ("token_hash",)),
    ("votes", ("user_id", "paper_id")),
    ("submissions", ("id",)),
    ("collections", ("id",)),  # before subscriptions: a digest's profile_id names one
    ("collection_items", ("collection_id", "paper_id")),
    ("feedback", ("user_id", "paper_id", "signal")),
    ("for_you_days", ("collection_id", "day", "paper_id")),
    ("subscriptions", ("id",)),
    ("saved_searches", ("id",)),
    ("channels", ("id",)),  # before the outbox: a channel's messages name it
    ("outbox", ("id",)),
    ("sources", ("id",)),
    ("source_days", ("source_id", "day")),
    ("source_runs", ("id",)),
    ("comments", ("id",)),
    ("comment_revisions", ("id",)),
    ("comment_reports", ("id",)),
    ("comment_notices", ("id",)),
    ("comment_mail", ("user_id",)),
    ("follows", ("user_id", "kind", "target")),
    ("author_claims", ("id",)),
    ("author_profiles", ("author_key",)),
]
# Tables a move leaves behind, each for a reason: the target keeps its own migrations,
# and the others hold only what lapses within minutes (leases, rate-limit windows, arXiv's
# next slot). A new table must be named in one list or the other (tests/test_transfer.py).
NOT_MOVED: dict[str, str] = {
    "schema_migrations": "the target's own",
    "sqlite_sequence": "SQLite's own (reset_identities sets the counters)",
    "leases": "held for minutes by a running process",
    "rate_limits": "windows of an hour at most",
    "host_pace": "the next request slot per host, seconds ahead",
}
_STATE_PREFIX = "transfer:"
# Columns only one engine has, left to the target to derive (see Dialect.derived_columns).
ENGINE_ONLY: frozenset[str] = frozenset[str]().union(
    *(dialect.derived_columns for dialect in DIALECTS)
)


@dataclass
class TableReport:
    """One table after a move."""

    table: str
    source_rows: int = 0
    target_rows: int = 0
    copied: int = 0
    source_checksum: str = ""
    target_checksum: str = ""

    @property
    def ok(self) -> bool:
        """Same rows, same content."""
        return (self.source_rows, self.source_checksum) == (self.target_rows, self.target_checksum)


@dataclass
class TransferReport:
    """Every table after a move."""

    tables: list[TableReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Everything arrived intact."""
        return all(t.ok for t in self.tables)


def _columns(conn: Conn, table: str) -> list[str]:
    cursor = conn.execute(f"SELECT * FROM {table} LIMIT 0")
    return [column[0] for column in cursor.description]


def _page(
    conn: Conn, table: str, key: tuple[str, ...], after: list[Any] | None, limit: int
) -> list[Any]:
    order = ", ".join(key)
    if after is None:
        sql = f"SELECT * FROM {table} ORDER BY {order} LIMIT ?"
        return list(conn.execute(sql, (limit,)).fetchall())
    marks = ", ".join("?" * len(key))
    sql = f"SELECT * FROM {table} WHERE ({order}) > ({marks}) ORDER BY {order} LIMIT ?"
    return list(conn.execute(sql, (*after, limit)).fetchall())


def _normal(value: Any) -> str:
    """A value as both engines' drivers hand it back, in one form."""
    if value is None:
        return "\x00"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "b:" + bytes(value).hex()
    return f"{type(value).__name__ if isinstance(value, (int, float)) else 's'}:{value}"


def table_checksum(
    engine: Store, table: str, key: tuple[str, ...], batch: int = 5000
) -> tuple[int, str]:
    """(rows, SHA-256 of every row in key order, over the columns both engines have) —
    the same on any engine."""
    digest = hashlib.sha256()
    rows = 0
    after: list[Any] | None = None
    while True:
        with engine.read() as conn:
            names = _columns(conn, table)
            page = _page(conn, table, key, after, batch)
        if not page:
            return rows, digest.hexdigest()
        positions = [names.index(k) for k in key]
        kept = [i for i, name in enumerate(names) if name not in ENGINE_ONLY]
        for row in page:
            if table == "sync_state" and str(row[0]).startswith(_STATE_PREFIX):
                continue  # a move's own bookkeeping
            digest.update("\x1f".join(_normal(row[i]) for i in kept).encode("utf-8"))
            digest.update(b"\x1e")
            rows += 1
        after = [page[-1][i] for i in positions]


def transfer(
    source: Store,
    target: Store,
    batch: int = 2000,
    progress: Callable[[str, int], object] | None = None,
) -> TransferReport:
    """Copy every table from source to target (resuming a move that was interrupted),
    then verify counts and checksums."""
    if source.schema_version() != target.schema_version():
        raise StoreError(
            f"schema versions differ (source {source.schema_version()}, target "
            f"{target.schema_version()}): upgrade paperwire where they run first"
        )
    report = TransferReport()
    # Columns only one engine has (PostgreSQL's generated tsvector and its pgvector copy
    # of each vector) are left to the target to derive.
    common: dict[str, set[str]] = {}
    for table, _ in TABLES:
        with source.read() as a, target.read() as b:
            common[table] = (set(_columns(a, table)) & set(_columns(b, table))) - ENGINE_ONLY
    for table, key in TABLES:
        done = TableReport(table)
        state = f"{_STATE_PREFIX}{table}"
        with target.read() as conn:
            saved = conn.execute("SELECT value FROM sync_state WHERE name = ?", (state,)).fetchone()
        after: list[Any] | None = json.loads(saved[0]) if saved else None
        while True:
            with source.read() as conn:
                names = _columns(conn, table)
                page = _page(conn, table, key, after, batch)
            if not page:
                break
            positions = [names.index(k) for k in key]
            after = [page[-1][i] for i in positions]
            shared = [i for i, name in enumerate(names) if name in common[table]]
            page = [[row[i] for i in shared] for row in page]
            columns = ", ".join(names[i] for i in shared)
            marks = ", ".join("?" * len(shared))
            with target.write() as conn:
                if table == "sync_state":
                    # The source's identity, sequence and signing key replace the target's.
                    conn.executemany(
                        f"INSERT INTO sync_state ({columns}) VALUES ({marks}) ON CONFLICT (name) "
                        "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                        [tuple(row) for row in page if not str(row[0]).startswith(_STATE_PREFIX)],
                    )
                else:
                    override = target.dialect.insert_override
                    conn.executemany(
                        f"INSERT INTO {table} ({columns}){override} VALUES ({marks}) "
                        "ON CONFLICT DO NOTHING",
                        [tuple(row) for row in page],
                    )
                conn.execute(
                    "INSERT INTO sync_state (name, value, updated_at) VALUES (?, ?, '') "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    (state, json.dumps(after, default=str)),
                )
            done.copied += len(page)
            if progress:
                progress(table, len(page))
        report.tables.append(done)
    target.reset_identities([table for table, key in TABLES if key == ("id",)])
    target.after_transfer()
    for done in report.tables:
        key = dict(TABLES)[done.table]
        done.source_rows, done.source_checksum = table_checksum(source, done.table, key)
        done.target_rows, done.target_checksum = table_checksum(target, done.table, key)
    if report.ok:  # done: the next move between these stores starts from the beginning
        with target.write() as conn:
            conn.execute("DELETE FROM sync_state WHERE name LIKE ?", (_STATE_PREFIX + "%",))
    return report
