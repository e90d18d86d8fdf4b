"""The PostgreSQL engine: the same tables and the same SQL as the SQLite engine (papers.py,
accounts.py, feed.py, digests.py), over psycopg 3 with a small pool of its own.

Writers run concurrently here; what must be serial is made so by the database: every
write that takes a change number locks the sequence row until it commits (numbers follow
commit order), a digest period is claimed by a conditional UPDATE on its subscription
row, and senders claim outbox rows with FOR UPDATE SKIP LOCKED. Under READ COMMITTED two
transactions can both read "not there yet": every decision a write makes on what it
read is made by the SQL itself — ON CONFLICT on the unique key, a conditional UPDATE,
or a lock taken before the read (the row decided on, the reader's row, or an advisory
lock on a value: Dialect.lock_rows, lock_name; tests/test_store_races.py). Migrations run under an
advisory lock, one transaction each, so concurrent starts and interrupted migrations are
safe. The indexes beside the store (keyword, vectors) live in a local cache folder and
follow the change feed like the SQLite engine's."""

from __future__ import annotations

import hashlib
import queue
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import platformdirs
import psycopg
import psycopg.errors
from psycopg.rows import RowMaker

from paperwire.models import Paper
from paperwire.querylang import KeywordQuery
from paperwire.store import migrations, pg_search
from paperwire.store.base import NativeSearch, Store, StoreError
from paperwire.store.dialect import POSTGRESQL
from paperwire.store.rows import text_hash
from paperwire.store.sqlconn import Conn

POOL_SIZE = 8  # idle connections kept
MAX_CONNECTIONS = 16  # in use at once, per process
CONNECT_TIMEOUT_S = 5
WAIT_FOR_CONNECTION_S = 10
# An arbitrary number: only one paperwire process migrates a database at a time.
MIGRATION_LOCK = 72_616_001
# A backfill of at least this many vectors (and more than the index holds) builds the
# HNSW index afresh instead of growing it.
BULK_VECTORS = 20_000
# Memory for building the HNSW index: enough for the graph of ~1M vectors (a build that
# outgrows it goes on, slower, on disk).
HNSW_BUILD_MEMORY = "2GB"
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


class Row(tuple[Any, ...]):
    """A result row by position (row[0]) and by column name (row["id"]), like sqlite3.Row."""

    names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        """Column names, in order."""
        return list(self.names)


def _row_factory(cursor: psycopg.Cursor[Any]) -> RowMaker[Row]:
    names = {column.name: i for i, column in enumerate(cursor.description or [])}

    def make(values: Sequence[Any]) -> Row:
        row = Row(values)
        row.names = names
        return row

    return make


class _Connection:
    """A psycopg connection speaking the shared SQL ('?' placeholders)."""

    def __init__(self, conn: psycopg.Connection[Row]) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self._conn.execute(POSTGRESQL.native(sql), tuple(parameters))

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        with self._conn.cursor() as cursor:
            cursor.executemany(POSTGRESQL.native(sql), [tuple(p) for p in parameters])
            return cursor


def redact(url: str) -> str:
    """A database URL without its password, for messages."""
    return _PASSWORD.sub(r"\1***@", url)


class PostgresStore(Store):
    """The Store on a PostgreSQL server (``postgresql://user:pass@host/db``)."""

    dialect = POSTGRESQL

    def __init__(self, url: str, index_root: Path | None = None) -> None:
        self.url = url
        self.index_root = index_root or Path(platformdirs.user_cache_dir("paperwire"))
        try:
            # Fail fast, in one line, on a wrong host or password.
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(f"cannot connect to {redact(url)}: {first}") from exc
        self._idle: queue.LifoQueue[psycopg.Connection[Row]] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        # Held while a connection is put back and while close() empties the pool: a
        # connection coming back as the store closes is either closed on its way back
        # or put back before close() empties the pool, never left open in it after.
        self._pool_lock = threading.Lock()
        self._closed = False
        self.migrate()

    # -- plumbing ---------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Row]:
        return psycopg.connect(
            self.url, row_factory=_row_factory, connect_timeout=CONNECT_TIMEOUT_S
        )

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Row]]:
        """A pooled connection. One found broken (the server restarted) is replaced by a
        fresh one; one that breaks while in use is dropped, so the next request
        reconnects: the service recovers without being restarted."""
        if not self._slots.acquire(timeout=WAIT_FOR_CONNECTION_S):
            raise StoreError(f"{redact(self.url)}: every connection is busy; try again shortly")
        conn: psycopg.Connection[Row] | None = None
        try:
            try:
                conn = self._idle.get_nowait()
                if conn.closed or conn.broken:
                    conn.close()
                    conn = self._connect()
            except queue.Empty:
                conn = self._connect()
            yield conn
        except psycopg.OperationalError as exc:
            if conn is not None:
                conn.close()
            conn = None
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection lost"
            raise StoreError(f"{redact(self.url)}: {first}") from exc
        except psycopg.errors.ReadOnlySqlTransaction as exc:
            # A read-only replica (or database): reads work, writes are refused cleanly.
            raise StoreError(f"{redact(self.url)} is read-only: {exc}") from exc
        finally:
            if conn is not None:
                self._give_back(conn)
            self._slots.release()

    def _give_back(self, conn: psycopg.Connection[Row]) -> None:
        """Put a connection back in the pool, or close it: when it is broken, the pool is
        full, or the store is closed (decided and done under the pool lock, so close()
        cannot empty the pool between the check and the put)."""
        with self._pool_lock:
            keep = not (
                conn.closed or conn.broken or self._closed or self._idle.qsize() >= POOL_SIZE
            )
            if keep:
                self._idle.put(conn)
        if not keep:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[Conn]:
        with self._connection() as conn, conn.transaction():
            yield _Connection(conn)

    def write(self) -> AbstractContextManager[Conn]:
        """A transaction (committed on success, rolled back on error)."""
        return self._transaction()

    def read(self) -> AbstractContextManager[Conn]:
        """A transaction for reading."""
        return self._transaction()

    def migrate(self) -> list[int]:
        """Apply the migrations this database lacks, each in its own transaction."""
        applied = []
        for migration in migrations.load(self.dialect.name):
            with self._connection() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                    "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                )
                done = conn.execute(
                    "SELECT 1 FROM schema_migrations WHERE version = %s", (migration.version,)
                ).fetchone()
                if done:
                    continue
                try:
                    conn.execute(migration.sql.encode())
                except psycopg.Error as exc:
                    raise StoreError(f"migration {migration.version} failed: {exc}") from exc
                conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
                applied.append(migration.version)
        # A backfill killed while its index was set aside left none: build it now.
        self.ensure_vector_index()
        return applied

    def close(self) -> None:
        """Close every idle connection (ones in use close when they come back: see
        _give_back). Safe to call while other threads hold or return connections, and
        more than once."""
        with self._pool_lock:
            self._closed = True
            idle = []
            while True:
                try:
                    idle.append(self._idle.get_nowait())
                except queue.Empty:
                    break
        for conn in idle:
            conn.close()

    def index_dir(self, name: str) -> Path:
        """A local folder for an index of this database (each host keeps its own and
        brings it up to date from the change feed)."""
        digest = hashlib.sha256(redact(self.url).encode()).hexdigest()[:16]
        return self.index_root / f"pg-{digest}" / name

    # -- search inside the database (store/pg_search.py) --------------------------

    @property
    def native_search(self) -> NativeSearch:
        """This store searches itself: fulltext and nearest below."""
        return self

    def fulltext(self, query: KeywordQuery, limit: int, offset: int = 0) -> list[tuple[int, float]]:
        """Keyword search over the weighted tsvector: (paper id, score), best first."""
        with self.read() as conn:
            return pg_search.fulltext(conn, query, limit, offset)

    def nearest(
        self,
        model: str,
        vector: npt.NDArray[np.float32],
        k: int,
        where: KeywordQuery | None = None,
        among: list[int] | None = None,
    ) -> list[tuple[int, float]]:
        """About the k nearest papers by cosine (HNSW), of those passing `where`'s filters
        and exclusions when given, or exactly of the papers `among`: (paper id,
        similarity)."""
        with self.read() as conn:
            return pg_search.nearest(conn, model, vector, k, where, among)

    def save_vectors(self, model: str, vectors: list[tuple[int, Paper, bytes]]) -> None:
        """Store a batch of embeddings: the float32 bytes (what a move or the SQLite
        engine reads) and the pgvector column, in one row write each (COPY into a
        temporary table, then one INSERT: a row written twice would be indexed twice)."""
        if not vectors:
            return
        with self._connection() as raw, raw.transaction():
            conn = _Connection(raw)
            seq = self._next_seq(conn)
            raw.execute(
                "CREATE TEMPORARY TABLE IF NOT EXISTS incoming_vectors (paper_id BIGINT, "
                "text_hash TEXT, vector BYTEA, embedding TEXT) ON COMMIT DELETE ROWS"
            )
            with raw.cursor().copy(
                "COPY incoming_vectors (paper_id, text_hash, vector, embedding) FROM STDIN"
            ) as copy:
                for pid, paper, blob in vectors:
                    literal = pg_search.vector_literal(np.frombuffer(blob, dtype="<f4"))
                    copy.write_row((pid, text_hash(paper), blob, literal))
            raw.execute(
                "INSERT INTO paper_vectors (paper_id, model, text_hash, vector, seq, embedding) "
                "SELECT i.paper_id, %s, i.text_hash, i.vector, %s, CAST(i.embedding AS vector) "
                "FROM incoming_vectors i JOIN papers p ON p.id = i.paper_id "
                "ON CONFLICT (paper_id, model) DO UPDATE SET "
                "text_hash = excluded.text_hash, vector = excluded.vector, seq = excluded.seq, "
                "embedding = excluded.embedding",
                (model, seq),
            )

    @contextmanager
    def vector_backfill(self, pending: int) -> Iterator[None]:
        """Set the HNSW index aside while more vectors arrive than it holds, and build it
        once at the end: measured 10x faster than growing it one insert at a time
        (bench/RESULTS.md §8). Nearest-neighbour queries meanwhile scan exactly (slower,
        still right). The index is rebuilt even when the backfill fails; a process
        killed in between leaves it to the next start (`migrate` restores it)."""
        set_aside = pending >= BULK_VECTORS and pending > self._vectors_held()
        if set_aside:
            with self.write() as conn:
                conn.execute(f"DROP INDEX IF EXISTS {pg_search.VECTOR_INDEX}")
        try:
            yield
        finally:
            if set_aside:
                self.ensure_vector_index()

    def _vectors_held(self) -> int:
        """How many rows the HNSW index holds (counted only before a large backfill:
        a count of 1M rows is not for every small one)."""
        with self.read() as conn:
            return int(
                conn.execute(
                    "SELECT count(*) FROM paper_vectors WHERE embedding IS NOT NULL"
                ).fetchone()[0]
            )

    def ensure_vector_index(self) -> bool:
        """Build the HNSW index if it is missing (True when it was built): with the
        build memory raised, so the graph is built in memory, on parallel workers."""
        with self._connection() as raw, raw.transaction():
            # One builder at a time; others wait here, then find it built.
            raw.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK + 1,))
            found = raw.execute("SELECT to_regclass(%s)", (pg_search.VECTOR_INDEX,)).fetchone()
            if found is not None and found[0] is not None:
                return False
            raw.execute(f"SET LOCAL maintenance_work_mem = '{HNSW_BUILD_MEMORY}'")
            raw.execute(pg_search.CREATE_VECTOR_INDEX.encode())
            return True

    def after_transfer(self) -> None:
        """Fill pgvector columns for vectors a move brought in as bytes (a large move
        builds the HNSW index once, at the end)."""
        with self.read() as conn:
            missing = int(
                conn.execute(
                    "SELECT count(*) FROM paper_vectors WHERE embedding IS NULL"
                ).fetchone()[0]
            )
        after: tuple[int, str] = (0, "")
        with self.vector_backfill(missing):
            while True:
                with self.write() as conn:
                    rows = conn.execute(
                        "SELECT paper_id, model, vector FROM paper_vectors "
                        "WHERE embedding IS NULL AND (paper_id, model) > (?, ?) "
                        "ORDER BY paper_id, model LIMIT 2000",
                        after,
                    ).fetchall()
                    if not rows:
                        return
                    after = (rows[-1][0], rows[-1][1])
                    conn.executemany(
                        "UPDATE paper_vectors SET embedding = CAST(? AS vector) "
                        "WHERE paper_id = ? AND model = ?",
                        [
                            (
                                pg_search.vector_literal(np.frombuffer(bytes(r[2]), dtype="<f4")),
                                r[0],
                                r[1],
                            )
                            for r in rows
                        ],
                    )

    def size_bytes(self) -> int | None:
        """The database's size on the server."""
        with self.read() as conn:
            return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])
