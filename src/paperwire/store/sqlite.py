"""The SQLite engine: one file, WAL, numbered migrations, a change sequence that the
search indexes beside the file follow.

Every write goes through one writer connection that opens ``BEGIN IMMEDIATE`` (a deferred
read-then-write fails at once with "database is locked"; IMMEDIATE waits out
``busy_timeout``). Reads use a small pool of their own connections, so searches keep
running while an import writes."""

from __future__ import annotations

import os
import queue
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from paperwire.store import migrations
from paperwire.store.base import OnlineBackup, Store, StoreError
from paperwire.store.dialect import SQLITE
from paperwire.store.sqlconn import Conn

BUSY_TIMEOUT_MS = 10_000
# SQLite's words for a database that cannot take a write just now.
_UNWRITABLE = re.compile(r"readonly|read-only|disk is full|disk I/O error|database is locked", re.I)
READ_POOL_SIZE = 8


def path_from_url(url: str) -> Path:
    """The file of a ``sqlite:///path`` URL (``sqlite:///:memory:`` is refused: the
    readers need the same database as the writer)."""
    if not url.startswith("sqlite:///"):
        raise StoreError(f"not a SQLite URL: {url!r} (expected sqlite:///path/to/file.db)")
    path = url[len("sqlite:///") :]
    if not path or path == ":memory:":
        raise StoreError("a SQLite store needs a file path: sqlite:///path/to/file.db")
    return Path(path).expanduser()


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MiB page cache per connection
    # The whole write path relies on waiting for the lock instead of failing at once.
    if conn.execute("PRAGMA busy_timeout").fetchone()[0] != BUSY_TIMEOUT_MS:
        raise StoreError(f"{path}: busy_timeout could not be set")
    return conn


class SQLiteStore(Store):
    """The default Store: a SQLite file (see the module docstring)."""

    dialect = SQLITE

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = path_from_url(url)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = _connect(self.path)
            mode = self._writer.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open {self.path}: {exc}") from exc
        if mode.lower() != "wal":
            raise StoreError(f"{self.path}: WAL mode refused (journal_mode={mode})")
        self._write_lock = threading.RLock()
        self._readers: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._reader_count = 0
        self._reader_lock = threading.Lock()
        self._closed = False
        self.migrate()

    # -- plumbing ---------------------------------------------------------------

    def migrate(self) -> list[int]:
        """Apply the migrations this file lacks; returns the versions applied."""
        with self._write_lock:
            self._writer.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT "
                "(strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))"
            )
            done = {r[0] for r in self._writer.execute("SELECT version FROM schema_migrations")}
            applied = []
            for migration in migrations.load(self.dialect.name):
                if migration.version in done:
                    continue
                try:
                    # One transaction per migration: an interrupted one leaves no trace.
                    self._writer.executescript(
                        "BEGIN IMMEDIATE;\n"
                        + migration.sql
                        + f"\nINSERT INTO schema_migrations (version, name) VALUES "
                        f"({migration.version}, '{migration.name}');\nCOMMIT;"
                    )
                except sqlite3.Error as exc:
                    if self._writer.in_transaction:
                        self._writer.execute("ROLLBACK")
                    raise StoreError(f"migration {migration.version} failed: {exc}") from exc
                applied.append(migration.version)
            return applied

    @contextmanager
    def write(self) -> Iterator[Conn]:
        """The writer connection inside BEGIN IMMEDIATE … COMMIT (ROLLBACK on error).
        A database that cannot be written just now (a read-only file or file system, a
        full disk, a lock held past busy_timeout) is a StoreError, as on PostgreSQL:
        the web answers 503 and nothing stored is touched."""
        with self._write_lock:
            try:
                self._writer.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise self._unwritable(exc) from exc
            try:
                yield self._writer
            except BaseException as exc:
                if self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError) and _UNWRITABLE.search(str(exc)):
                    raise self._unwritable(exc) from exc
                raise
            try:
                self._writer.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")
                raise self._unwritable(exc) from exc

    def _unwritable(self, exc: sqlite3.OperationalError) -> StoreError:
        return StoreError(f"{self.path} cannot be written: {exc}")

    @contextmanager
    def read(self) -> Iterator[Conn]:
        """A pooled reader connection."""
        try:
            conn = self._readers.get_nowait()
        except queue.Empty:
            with self._reader_lock:
                self._reader_count += 1
            conn = _connect(self.path)
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if self._readers.qsize() < READ_POOL_SIZE and not self._closed:
                self._readers.put(conn)
            else:
                conn.close()

    def close(self) -> None:
        """Close every connection (the WAL is checkpointed by the last one)."""
        self._closed = True
        while True:
            try:
                self._readers.get_nowait().close()
            except queue.Empty:
                break
        with self._write_lock:
            self._writer.close()

    @property
    def online_backup(self) -> OnlineBackup:
        """This store copies itself: :meth:`backup_to`."""
        return self

    def backup_to(self, target: Path) -> int:
        """Write a consistent copy of the database to `target` while the store runs:
        SQLite's online backup API, in one step from a connection of its own (a step-wise
        copy restarts whenever another connection writes; one step reads one snapshot,
        and in WAL mode the writers go on meanwhile). Written beside the target and
        renamed, so a failed backup never leaves a half file under its name. Returns the
        copy's size in bytes; StoreError when it cannot be written or fails its
        integrity check."""
        target = target.expanduser()
        partial = target.with_name(f".{target.name}.partial")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial.unlink(missing_ok=True)
            source = _connect(self.path)
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)
                verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                copy.close()
                source.close()
            if verdict != "ok":
                raise StoreError(f"{target}: the copy failed its integrity check: {verdict}")
            os.replace(partial, target)
        except (OSError, sqlite3.Error) as exc:
            with suppress(OSError):
                partial.unlink(missing_ok=True)
            raise StoreError(f"cannot back up {self.path} to {target}: {exc}") from exc
        return target.stat().st_size

    def index_dir(self, name: str) -> Path:
        """Where an index beside this database lives: ``<file>.<name>/``."""
        return self.path.with_name(f"{self.path.name}.{name}")

    def size_bytes(self) -> int | None:
        """The database file and its write-ahead log."""
        return sum(
            os.path.getsize(p) for p in (self.path, Path(f"{self.path}-wal")) if os.path.exists(p)
        )
