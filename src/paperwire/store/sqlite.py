"""The SQLite engine: one file, WAL, FTS5, numbered migrations.

Every write goes through one writer connection that opens ``BEGIN IMMEDIATE`` (a deferred
read-then-write fails at once with "database is locked"; IMMEDIATE waits out
``busy_timeout``). Reads use a small pool of their own connections, so searches keep
running while an import writes."""

from __future__ import annotations

import json
import os
import queue
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paperwire.models import Paper
from paperwire.store import migrations
from paperwire.store.base import Fragment, SearchHit, StoreError, StoreStats, UpsertResult
from paperwire.store.rows import (
    PAPER_COLUMNS,
    Stored,
    fold_batch,
    paper_to_row,
    plan_upserts,
    row_to_paper,
)

if TYPE_CHECKING:
    from paperwire.search.query import KeywordQuery, Term

BUSY_TIMEOUT_MS = 10_000
READ_POOL_SIZE = 8
# SQLite's default limit on bound parameters is 32766; stay well under it.
_IN_CHUNK = 500
# Markers around matched words in snippets: private-use characters that never occur
# in stored text, so escaping the text and then the markers is safe.
HIT_START, HIT_END = "\ue000", "\ue001"


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
    conn.execute("PRAGMA mmap_size = 1073741824")
    # The whole write path relies on waiting for the lock instead of failing at once.
    if conn.execute("PRAGMA busy_timeout").fetchone()[0] != BUSY_TIMEOUT_MS:
        raise StoreError(f"{path}: busy_timeout could not be set")
    return conn


def _fts_term(term: Term) -> str:
    """One term as an FTS5 string: every word double-quoted, so operators in user text
    (NEAR, AND, *, ^, :, parentheses) are only ever words."""
    phrase = " ".join(term.words).replace('"', '""')
    return f'"{phrase}"' + ("*" if term.prefix else "")


def fts_expression(query: KeywordQuery, any_term: bool = False) -> str | None:
    """The MATCH expression of a parsed query, or None when it has nothing for FTS.
    `any_term` ORs the positive terms (the fallback when ANDing finds too few)."""
    positive = [_fts_term(t) for t in query.positive]
    parts = []
    if positive:
        parts.append("(" + (" OR " if any_term else " AND ").join(positive) + ")")
    for name in query.filters.authors:
        words = " AND ".join('"' + w.replace('"', '""') + '"' for w in name)
        parts.append(f"authors : ({words})")
    if not parts:
        return None
    expression = " AND ".join(parts)
    for term in query.negative:
        expression += " NOT " + _fts_term(term)
    return expression


def _fragments(marked: str) -> list[Fragment]:
    fragments = []
    rest = marked
    while rest:
        start = rest.find(HIT_START)
        if start < 0:
            fragments.append(Fragment(rest))
            break
        if start:
            fragments.append(Fragment(rest[:start]))
        end = rest.find(HIT_END, start)
        end = len(rest) if end < 0 else end
        fragments.append(Fragment(rest[start + 1 : end], hit=True))
        rest = rest[end + 1 :]
    return fragments


class SQLiteStore:
    """The default Store: a SQLite file (see the module docstring)."""

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
            for migration in migrations.load("sqlite"):
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
    def write(self) -> Iterator[sqlite3.Connection]:
        """The writer connection inside BEGIN IMMEDIATE … COMMIT (ROLLBACK on error)."""
        with self._write_lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
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

    # -- papers -----------------------------------------------------------------

    def _stored(
        self, conn: sqlite3.Connection, column: str, values: list[str]
    ) -> dict[str, Stored]:
        found: dict[str, Stored] = {}
        unique = list(dict.fromkeys(values))
        for start in range(0, len(unique), _IN_CHUNK):
            chunk = unique[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT * FROM papers WHERE {column} IN ({marks}) ORDER BY id", chunk
            )
            for row in rows:
                # For titles the oldest paper wins, so repeated imports stay stable.
                found.setdefault(row[column], Stored(row["id"], row["key"], row_to_paper(row)))
        return found

    def upsert_papers(self, papers: Iterable[Paper]) -> UpsertResult:
        """Insert or merge a batch in one transaction."""
        batch = fold_batch(papers)
        if not batch:
            return UpsertResult()
        with self.write() as conn:
            plan = plan_upserts(
                batch,
                lambda ids: self._stored(conn, "arxiv_id", ids),
                lambda titles: self._stored(conn, "title_norm", titles),
            )
            columns = ", ".join(PAPER_COLUMNS)
            marks = ", ".join("?" * len(PAPER_COLUMNS))
            conn.executemany(
                f"INSERT INTO papers ({columns}) VALUES ({marks})",
                [paper_to_row(p) for p in plan.inserts],
            )
            if plan.inserts:
                rows = conn.execute(
                    "SELECT id, categories FROM papers WHERE id > "
                    "(SELECT max(id) FROM papers) - ? AND categories != ''",
                    (len(plan.inserts),),
                ).fetchall()
                conn.executemany(
                    "INSERT OR IGNORE INTO paper_categories (category, paper_id) VALUES (?, ?)",
                    [(c, r["id"]) for r in rows for c in r["categories"].split()],
                )
            assignments = ", ".join(f"{c} = ?" for c in PAPER_COLUMNS)
            for stored, merged in plan.updates:
                conn.execute(
                    f"UPDATE papers SET {assignments}, modified_at = "
                    "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?",
                    (*paper_to_row(merged), stored.id),
                )
                if merged.key != stored.key:
                    conn.execute(
                        "INSERT OR REPLACE INTO paper_aliases (alias, paper_id) VALUES (?, ?)",
                        (stored.key, stored.id),
                    )
                if merged.categories != stored.paper.categories:
                    conn.executemany(
                        "INSERT OR IGNORE INTO paper_categories (category, paper_id) VALUES (?, ?)",
                        [(c, stored.id) for c in merged.categories],
                    )
        return UpsertResult(len(plan.inserts), len(plan.updates), plan.unchanged)

    def delete_papers(self, arxiv_ids: Iterable[str]) -> int:
        """Remove papers the source reports deleted."""
        ids = list(arxiv_ids)
        removed = 0
        with self.write() as conn:
            for start in range(0, len(ids), _IN_CHUNK):
                chunk = ids[start : start + _IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                removed += conn.execute(
                    f"DELETE FROM papers WHERE arxiv_id IN ({marks})", chunk
                ).rowcount
        return removed

    def _row_by_key(self, conn: sqlite3.Connection, key: str) -> sqlite3.Row | None:
        row = conn.execute("SELECT * FROM papers WHERE key = ?", (key,)).fetchone()
        if row is None:
            row = conn.execute(
                "SELECT papers.* FROM paper_aliases "
                "JOIN papers ON papers.id = paper_aliases.paper_id WHERE alias = ?",
                (key,),
            ).fetchone()
        return row  # type: ignore[no-any-return]

    def get_paper(self, key: str) -> Paper | None:
        """A paper by key, arXiv id (any version or URL form) or former key."""
        from paperwire.models import normalise_arxiv_id

        with self.read() as conn:
            row = self._row_by_key(conn, key)
            if row is None:
                arxiv_id = normalise_arxiv_id(key)
                if arxiv_id:
                    row = self._row_by_key(conn, arxiv_id)
            return row_to_paper(row) if row else None

    def iter_papers(self, batch_size: int = 1000) -> Iterator[Paper]:
        """Every paper in insertion order (keyset paging: constant memory)."""
        last = 0
        while True:
            with self.read() as conn:
                rows = conn.execute(
                    "SELECT * FROM papers WHERE id > ? ORDER BY id LIMIT ?", (last, batch_size)
                ).fetchall()
            if not rows:
                return
            for row in rows:
                yield row_to_paper(row)
            last = rows[-1]["id"]

    def count_papers(self) -> int:
        """How many papers are stored."""
        with self.read() as conn:
            return int(conn.execute("SELECT count(*) FROM papers").fetchone()[0])

    # -- search -----------------------------------------------------------------

    def keyword_search(self, query: KeywordQuery, limit: int, offset: int = 0) -> list[SearchHit]:
        """BM25 over title, abstract and authors; filters applied after ranking in a
        materialised CTE (MATCH beside a join or a range filter in one WHERE can turn
        milliseconds into seconds)."""
        want = limit + offset
        with self.read() as conn:
            expression = fts_expression(query)
            if expression is None:
                rows = self._browse(conn, query, want)
            else:
                rows = self._ranked(conn, expression, query, want)
                if len(rows) < want and len(query.positive) > 1:
                    # Too few papers hold every word: fill up with those holding some.
                    seen = {r["id"] for r in rows}
                    more = self._ranked(
                        conn, fts_expression(query, any_term=True) or "", query, want
                    )
                    rows += [r for r in more if r["id"] not in seen][: want - len(rows)]
            rows = rows[offset:want]
            snippets = self._snippets(conn, query, [r["id"] for r in rows]) if expression else {}
        hits = []
        for row in rows:
            paper = row_to_paper(row)
            title, snippet = snippets.get(row["id"], ([Fragment(paper.title)], []))
            if not snippet and paper.abstract:
                snippet = [
                    Fragment(paper.abstract[:240] + ("…" if len(paper.abstract) > 240 else ""))
                ]
            hits.append(
                SearchHit(paper=paper, score=-float(row["rank"]), title=title, snippet=snippet)
            )
        return hits

    @staticmethod
    def _filter_sql(query: KeywordQuery) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        filters = query.filters
        if filters.year_from is not None:
            clauses.append("p.year >= ?")
            params.append(filters.year_from)
        if filters.year_to is not None:
            clauses.append("p.year <= ?")
            params.append(filters.year_to)
        if filters.categories:
            # A category also matches its subcategories: "cs" finds cs.LG and cs.CL.
            ors = []
            for category in filters.categories:
                ors.append("(c.category = ? OR c.category LIKE ? ESCAPE '\\')")
                escaped = category.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                params += [category, escaped + ".%"]
            clauses.append(
                "EXISTS (SELECT 1 FROM paper_categories c WHERE c.paper_id = p.id AND ("
                + " OR ".join(ors)
                + "))"
            )
        return (" AND ".join(clauses) or "1"), params

    def _ranked(
        self, conn: sqlite3.Connection, expression: str, query: KeywordQuery, want: int
    ) -> list[sqlite3.Row]:
        where, params = self._filter_sql(query)
        try:
            if not query.filters.active:
                return conn.execute(
                    "WITH ranked AS MATERIALIZED (SELECT rowid, rank FROM papers_fts "
                    "WHERE papers_fts MATCH ? ORDER BY rank LIMIT ?) "
                    "SELECT p.*, ranked.rank FROM ranked JOIN papers p ON p.id = ranked.rowid "
                    "ORDER BY ranked.rank",
                    (expression, want),
                ).fetchall()
            return conn.execute(
                "WITH ranked AS MATERIALIZED (SELECT rowid, rank FROM papers_fts "
                "WHERE papers_fts MATCH ?) "
                "SELECT p.*, ranked.rank FROM ranked JOIN papers p ON p.id = ranked.rowid "
                f"WHERE {where} ORDER BY ranked.rank LIMIT ?",
                (expression, *params, want),
            ).fetchall()
        except sqlite3.OperationalError as exc:
            # Quoting makes this unreachable for parsed queries; never leak SQL errors.
            raise StoreError(f"search failed for {query.text[:80]!r}") from exc

    def _browse(
        self, conn: sqlite3.Connection, query: KeywordQuery, want: int
    ) -> list[sqlite3.Row]:
        """Filters without words: the newest matching papers."""
        where, params = self._filter_sql(query)
        return conn.execute(
            f"SELECT p.*, 0.0 AS rank FROM papers p WHERE {where} "
            "ORDER BY p.published DESC, p.id DESC LIMIT ?",
            (*params, want),
        ).fetchall()

    def _snippets(
        self, conn: sqlite3.Connection, query: KeywordQuery, ids: list[int]
    ) -> dict[int, tuple[list[Fragment], list[Fragment]]]:
        # ORed, so papers found by the fallback get every query word they hold marked.
        expression = fts_expression(query, any_term=True)
        if not ids or expression is None:
            return {}
        marks = ",".join("?" * len(ids))
        rows = conn.execute(
            f"SELECT rowid, highlight(papers_fts, 0, '{HIT_START}', '{HIT_END}') AS title, "
            f"snippet(papers_fts, 1, '{HIT_START}', '{HIT_END}', '…', 40) AS snippet "
            f"FROM papers_fts WHERE papers_fts MATCH ? AND rowid IN ({marks})",
            (expression, *ids),
        ).fetchall()
        return {
            r["rowid"]: (_fragments(r["title"] or ""), _fragments(r["snippet"] or "")) for r in rows
        }

    # -- state and stats --------------------------------------------------------

    def get_state(self, name: str) -> str | None:
        """A named piece of resumable state."""
        with self.read() as conn:
            row = conn.execute("SELECT value FROM sync_state WHERE name = ?", (name,)).fetchone()
            return str(row[0]) if row else None

    def set_state(self, name: str, value: str | None) -> None:
        """Save or clear a named piece of state."""
        with self.write() as conn:
            if value is None:
                conn.execute("DELETE FROM sync_state WHERE name = ?", (name,))
            else:
                conn.execute(
                    "INSERT INTO sync_state (name, value) VALUES (?, ?) ON CONFLICT (name) "
                    "DO UPDATE SET value = excluded.value, "
                    "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
                    (name, value),
                )

    def stats(self) -> StoreStats:
        """Counts for the stats command."""
        with self.read() as conn:
            totals = conn.execute(
                "SELECT count(*), count(arxiv_id), sum(abstract != ''), min(published), "
                "max(published) FROM papers"
            ).fetchone()
            by_source: dict[str, int] = {}
            for (sources,) in conn.execute("SELECT sources FROM papers"):
                for name in {source.split(":", 1)[0] for source in json.loads(sources)}:
                    by_source[name] = by_source.get(name, 0) + 1
            categories = conn.execute(
                "SELECT category, count(*) AS n FROM paper_categories GROUP BY category "
                "ORDER BY n DESC LIMIT 10"
            ).fetchall()
        size = sum(
            os.path.getsize(p) for p in (self.path, Path(f"{self.path}-wal")) if os.path.exists(p)
        )
        return StoreStats(
            papers=totals[0],
            with_arxiv_id=totals[1],
            with_abstract=totals[2] or 0,
            earliest=totals[3],
            latest=totals[4],
            by_source=by_source,
            top_categories=[(r[0], r[1]) for r in categories],
            size_bytes=size,
        )
