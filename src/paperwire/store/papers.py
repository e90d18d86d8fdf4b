"""The papers, vectors and state of a store, in SQL both engines speak (the engines
supply connections; their differences are in their dialect, store/dialect.py). Every
write takes the next number of the change sequence inside its transaction; the indexes
beside the store follow it.

Finding papers is here and nowhere else: :func:`find_row` (what a person names),
:func:`match_rows` (what a record names), and the lists other tables' features read from
the papers table (by author, the recommender's candidates)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime

from paperwire.models import (
    Paper,
    Provenance,
    User,
    normalise_arxiv_id,
    normalise_title,
    with_provenance,
)
from paperwire.paperref import paper_ref
from paperwire.store.records import (
    Changes,
    StoreStats,
    TextChanges,
    UpsertResult,
    VectorChanges,
)
from paperwire.store.rows import (
    PAPER_COLUMNS,
    Stored,
    fold_batch,
    paper_to_row,
    plan_upserts,
    row_to_paper,
    text_from_row,
    text_hash,
    title_hash,
)
from paperwire.store.sqlconn import IN_CHUNK, Conn, Row, Tables, iso
from paperwire.store.visibility import PUBLIC, visible

# Confirmed papers with no vector from model ?, or one made from another text (see
# rows.text_hash). Unconfirmed papers get none: no search by meaning finds them. A paper
# keeps a vector per model (migration 0018): another model's vector is not this one's.
_NEEDS_VECTOR = (
    "LEFT JOIN paper_vectors v ON v.paper_id = p.id AND v.model = ? WHERE p.confirmed = 1 "
    "AND (v.paper_id IS NULL OR v.text_hash != p.title_norm || ':' || length(p.abstract))"
)
# No key, id, URL or DOI is longer: a longer text names no paper (and is not looked up).
MAX_REF_CHARS = 300


def row_by_key(conn: Conn, key: str) -> Row | None:
    """A papers row by key or former key."""
    row = conn.execute("SELECT * FROM papers WHERE key = ?", (key,)).fetchone()
    if row is None:
        row = conn.execute(
            "SELECT papers.* FROM paper_aliases "
            "JOIN papers ON papers.id = paper_aliases.paper_id WHERE alias = ?",
            (key,),
        ).fetchone()
    return row


def find_row(conn: Conn, key: str) -> Row | None:
    """The one rule that finds the paper a person names (every command, page and API
    route comes here): by key or former key, else by arXiv id in any of its forms (with
    or without version, an abs/pdf URL, arXiv's DOI), else by DOI (bare or a doi.org
    link, case-insensitive). See paperwire.paperref."""
    if len(key) > MAX_REF_CHARS:
        return None
    row = row_by_key(conn, key)
    if row is not None:
        return row
    ref = paper_ref(key)
    if ref.arxiv_id and ref.arxiv_id != key:
        row = row_by_key(conn, ref.arxiv_id)
    if row is None and ref.doi:
        row = conn.execute(
            "SELECT * FROM papers WHERE lower(doi) = ? ORDER BY id LIMIT 1", (ref.doi,)
        ).fetchone()
    return row


def match_rows(conn: Conn, papers: list[Paper]) -> list[Row | None]:
    """For each record, the stored paper it names: by arXiv id (any form, former keys
    too), else by DOI (case-insensitive), else by normalised title; None when none is."""
    found: list[Row | None] = []
    for paper in papers:
        row = None
        arxiv_id = normalise_arxiv_id(paper.arxiv_id) if paper.arxiv_id else None
        if arxiv_id:
            row = find_row(conn, arxiv_id)
        if row is None and paper.doi:
            row = conn.execute(
                "SELECT * FROM papers WHERE lower(doi) = ? ORDER BY id LIMIT 1",
                (paper.doi.strip().lower(),),
            ).fetchone()
        norm = normalise_title(paper.title) if paper.title else ""
        if row is None and norm:
            row = conn.execute(
                "SELECT * FROM papers WHERE title_hash = ? AND title_norm = ? ORDER BY id LIMIT 1",
                (title_hash(norm), norm),
            ).fetchone()
        found.append(row)
    return found


@dataclass(frozen=True, slots=True)
class CandidateRow:
    """What the recommender needs of a stored paper."""

    id: int
    key: str
    title: str
    abstract: str


class PaperTables(Tables):
    """Part of every Store: papers, aliases, tombstones, vectors, state, stats."""

    def _serialise_paper_writes(self, conn: Conn) -> None:
        """Hold off other paper writers until this transaction ends (see
        Dialect.lock_paper_writes)."""
        if self.dialect.lock_paper_writes:
            conn.execute(self.dialect.lock_paper_writes)

    # -- papers -----------------------------------------------------------------

    def _stored(self, conn: Conn, column: str, values: list[str]) -> dict[str, Stored]:
        found: dict[str, Stored] = {}
        unique = list(dict.fromkeys(values))
        for start in range(0, len(unique), IN_CHUNK):
            chunk = unique[start : start + IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT * FROM papers WHERE {column} IN ({marks}) ORDER BY id", chunk
            )
            for row in rows:
                # For titles the oldest paper wins, so repeated imports stay stable.
                found.setdefault(row[column], Stored(row["id"], row["key"], row_to_paper(row)))
        return found

    def _stored_by_title(self, conn: Conn, titles: list[str]) -> dict[str, Stored]:
        """Stored papers by normalised title (probed by hash, confirmed on the string).
        Per title the oldest paper without an arXiv id wins, else the oldest: an arXiv
        record then finds the title-only record it should complete."""
        wanted = set(titles)
        hashes = list({title_hash(t) for t in wanted})
        found: dict[str, Stored] = {}
        for start in range(0, len(hashes), IN_CHUNK):
            chunk = hashes[start : start + IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT * FROM papers WHERE title_hash IN ({marks}) "
                "ORDER BY arxiv_id IS NOT NULL, id",
                chunk,
            )
            for row in rows:
                if row["title_norm"] in wanted:  # a hash collision is not a match
                    found.setdefault(
                        row["title_norm"], Stored(row["id"], row["key"], row_to_paper(row))
                    )
        return found

    def upsert_papers(
        self, papers: Iterable[Paper], provenance: Provenance = "trusted"
    ) -> UpsertResult:
        """Insert or merge a batch in one transaction, by the merge rule of
        models.merge_papers: the records of a trusted source (harvests, the Hugging Face
        sync, the operator's import: this method's callers) merge; a reader's records
        (`provenance` "reader") are stored unconfirmed and never change a stored paper.
        Readers' records come in through :meth:`TrustTables.link_reader_records`, which
        also links them to the reader."""
        with self.write() as conn:
            return self._upsert_in(conn, [with_provenance(p, provenance) for p in papers])

    def _upsert_in(self, conn: Conn, papers: list[Paper]) -> UpsertResult:
        """Upsert inside the caller's write transaction (see :meth:`upsert_papers`)."""
        batch = fold_batch(papers)
        if not batch:
            return UpsertResult()
        self._serialise_paper_writes(conn)
        plan = plan_upserts(
            batch,
            lambda ids: self._stored(conn, "arxiv_id", ids),
            lambda titles: self._stored_by_title(conn, titles),
        )
        if not plan.inserts and not plan.updates:
            return UpsertResult(unchanged=plan.unchanged)
        seq = self._next_seq(conn)
        columns = ", ".join(PAPER_COLUMNS)
        marks = ", ".join("?" * len(PAPER_COLUMNS))
        conn.executemany(
            f"INSERT INTO papers ({columns}, seq) VALUES ({marks}, ?)",
            [(*paper_to_row(p), seq) for p in plan.inserts],
        )
        assignments = ", ".join(f"{c} = ?" for c in PAPER_COLUMNS)
        for stored, merged in plan.updates:
            conn.execute(
                f"UPDATE papers SET {assignments}, seq = ?, modified_at = ? WHERE id = ?",
                (*paper_to_row(merged), seq, iso(datetime.now(UTC)), stored.id),
            )
            if merged.key != stored.key:
                conn.execute(
                    "INSERT INTO paper_aliases (alias, paper_id) VALUES (?, ?) "
                    "ON CONFLICT (alias) DO UPDATE SET paper_id = excluded.paper_id",
                    (stored.key, stored.id),
                )
        return UpsertResult(len(plan.inserts), len(plan.updates), plan.unchanged)

    def delete_papers(self, arxiv_ids: Iterable[str]) -> int:
        """Remove papers the source reports deleted (tombstoned for the indexes)."""
        ids = list(arxiv_ids)
        removed = 0
        with self.write() as conn:
            self._serialise_paper_writes(conn)
            seq = self._next_seq(conn)
            for start in range(0, len(ids), IN_CHUNK):
                chunk = ids[start : start + IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                gone = conn.execute(
                    f"DELETE FROM papers WHERE arxiv_id IN ({marks}) RETURNING id", chunk
                ).fetchall()
                conn.executemany(
                    "INSERT INTO paper_tombstones (seq, paper_id) VALUES (?, ?)",
                    [(seq, row[0]) for row in gone],
                )
                removed += len(gone)
        return removed

    @staticmethod
    def _next_seq(conn: Conn) -> int:
        """Take the next change number (inside the write transaction, so numbers follow
        commit order)."""
        row = conn.execute(
            "UPDATE sync_state SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) "
            "WHERE name = 'seq' RETURNING value"
        ).fetchone()
        return int(row[0])

    def current_seq(self) -> int:
        """The number of the last committed write batch."""
        with self.read() as conn:
            row = conn.execute("SELECT value FROM sync_state WHERE name = 'seq'").fetchone()
            return int(row[0]) if row else 0

    def count_changes(self, after: tuple[int, int], tombstones_after: int) -> int:
        """How many papers changed, and were deleted, after these positions (what a
        follower of `changes` has still to apply)."""
        with self.read() as conn:
            changed = conn.execute(
                "SELECT count(*) FROM papers WHERE (seq, id) > (?, ?)", after
            ).fetchone()[0]
            deleted = conn.execute(
                "SELECT count(*) FROM paper_tombstones WHERE seq > ?", (tombstones_after,)
            ).fetchone()[0]
        return int(changed) + int(deleted)

    def changes(self, after: tuple[int, int], tombstones_after: int, limit: int) -> Changes:
        """Papers changed after position `after` = (seq, id), in (seq, id) order, and
        deletions after tombstone seq `tombstones_after`."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT * FROM papers WHERE (seq, id) > (?, ?) ORDER BY seq, id LIMIT ?",
                (*after, limit),
            ).fetchall()
            deleted = conn.execute(
                "SELECT seq, paper_id FROM paper_tombstones WHERE seq > ? ORDER BY seq",
                (tombstones_after,),
            ).fetchall()
        return Changes(
            papers=[(row["id"], row_to_paper(row)) for row in rows],
            position=(rows[-1]["seq"], rows[-1]["id"]) if rows else after,
            deleted=[row[1] for row in deleted],
            tombstone_seq=deleted[-1][0] if deleted else tombstones_after,
        )

    def text_changes(
        self, after: tuple[int, int], tombstones_after: int, limit: int
    ) -> TextChanges:
        """:meth:`changes` with only what the keyword index reads of each paper: a
        quarter of the columns and no Paper built (measured at 100k papers, reading the
        feed back as Papers was half of the indexing process's Python time)."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT id, seq, title, abstract, authors_json, categories, published, "
                "confirmed, topics, code_urls FROM papers WHERE (seq, id) > (?, ?) "
                "ORDER BY seq, id LIMIT ?",
                (*after, limit),
            ).fetchall()
            deleted = conn.execute(
                "SELECT seq, paper_id FROM paper_tombstones WHERE seq > ? ORDER BY seq",
                (tombstones_after,),
            ).fetchall()
        return TextChanges(
            papers=[text_from_row(row) for row in rows],
            position=(rows[-1][1], rows[-1][0]) if rows else after,
            deleted=[row[1] for row in deleted],
            tombstone_seq=deleted[-1][0] if deleted else tombstones_after,
        )

    # -- vectors ----------------------------------------------------------------

    def papers_to_embed(self, model: str, after_id: int, limit: int) -> list[tuple[int, Paper]]:
        """Papers with no vector from `model` (or one of an older text), by id."""
        with self.read() as conn:
            rows = conn.execute(
                f"SELECT p.* FROM papers p {_NEEDS_VECTOR} AND p.id > ? ORDER BY p.id LIMIT ?",
                (model, after_id, limit),
            ).fetchall()
        return [(row["id"], row_to_paper(row)) for row in rows]

    def count_to_embed(self, model: str) -> int:
        """How many papers `papers_to_embed` would list in all."""
        with self.read() as conn:
            return int(
                conn.execute(
                    f"SELECT count(*) FROM papers p {_NEEDS_VECTOR}",
                    (model,),
                ).fetchone()[0]
            )

    def save_vectors(self, model: str, vectors: list[tuple[int, Paper, bytes]]) -> None:
        """Store embeddings (paper id, the paper embedded, float32 bytes) in one batch
        (none of a paper gone since, or unconfirmed: see _NEEDS_VECTOR)."""
        if not vectors:
            return
        with self.write() as conn:
            seq = self._next_seq(conn)
            conn.executemany(
                "INSERT INTO paper_vectors (paper_id, model, text_hash, vector, seq) "
                "SELECT ?, ?, ?, ?, ? WHERE EXISTS "
                "(SELECT 1 FROM papers WHERE id = ? AND confirmed = 1) "
                "ON CONFLICT (paper_id, model) DO UPDATE SET "
                "text_hash = excluded.text_hash, vector = excluded.vector, seq = excluded.seq",
                [(pid, model, text_hash(paper), blob, seq, pid) for pid, paper, blob in vectors],
            )

    def vector_backfill(self, pending: int) -> AbstractContextManager[None]:
        """Nothing to set aside here (the indexes beside the store follow the changes)."""
        return nullcontext()

    def vector_changes(
        self, model: str, after: tuple[int, int], tombstones_after: int, limit: int
    ) -> VectorChanges:
        """Vectors of `model` written after position (seq, paper id), and papers removed."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT seq, paper_id, vector FROM paper_vectors WHERE model = ? AND "
                "(seq, paper_id) > (?, ?) ORDER BY seq, paper_id LIMIT ?",
                (model, *after, limit),
            ).fetchall()
            deleted = conn.execute(
                "SELECT seq, paper_id FROM paper_tombstones WHERE seq > ? ORDER BY seq",
                (tombstones_after,),
            ).fetchall()
        return VectorChanges(
            vectors=[(row[1], row[2]) for row in rows],
            position=(rows[-1][0], rows[-1][1]) if rows else after,
            deleted=[row[1] for row in deleted],
            tombstone_seq=deleted[-1][0] if deleted else tombstones_after,
        )

    def get_vectors(self, model: str, ids: list[int]) -> dict[int, bytes]:
        """Stored vectors of `model` by paper id."""
        found: dict[int, bytes] = {}
        with self.read() as conn:
            for start in range(0, len(ids), IN_CHUNK):
                chunk = ids[start : start + IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                # By primary key (see Dialect.vector_model_filter).
                for pid, blob in conn.execute(
                    "SELECT paper_id, vector FROM paper_vectors "
                    f"WHERE {self.dialect.vector_model_filter} AND paper_id IN ({marks})",
                    (model, *chunk),
                ):
                    found[pid] = blob
        return found

    def has_vectors(self, model: str) -> bool:
        """True when some paper has a vector from `model`."""
        with self.read() as conn:
            found = conn.execute(
                "SELECT 1 FROM paper_vectors WHERE model = ? LIMIT 1", (model,)
            ).fetchone()
        return found is not None

    def delete_vectors(
        self, model: str, advance: Callable[[int], object] | None = None, batch: int = IN_CHUNK
    ) -> int:
        """Remove every vector of `model` (a model search no longer uses), `batch` rows a
        transaction in (seq, paper id) order, calling `advance` with each batch's count;
        returns how many. Bounded: the old model's rows of a 2.7M-paper store were one
        transaction of 2.7M deletes (HNSW entries too on PostgreSQL), holding the writer
        (SQLite) and a long transaction's WAL (PostgreSQL) to the end. Interrupted, a
        second call goes on with what is left."""
        done = 0
        after: tuple[int, int] = (-1, -1)
        while True:
            with self.write() as conn:
                keys = conn.execute(
                    "SELECT seq, paper_id FROM paper_vectors WHERE model = ? "
                    "AND (seq, paper_id) > (?, ?) ORDER BY seq, paper_id LIMIT ?",
                    (model, *after, min(batch, IN_CHUNK)),
                ).fetchall()
                if not keys:
                    return done
                after = (int(keys[-1][0]), int(keys[-1][1]))
                marks = ",".join("?" * len(keys))
                # By primary key (see Dialect.vector_model_filter).
                conn.execute(
                    "DELETE FROM paper_vectors "
                    f"WHERE {self.dialect.vector_model_filter} AND paper_id IN ({marks})",
                    (model, *(int(k[1]) for k in keys)),
                )
            done += len(keys)
            if advance is not None:
                advance(len(keys))

    def count_vectors(self, model: str) -> int:
        """How many papers have a vector from `model`."""
        with self.read() as conn:
            return int(
                conn.execute(
                    "SELECT count(*) FROM paper_vectors WHERE model = ?", (model,)
                ).fetchone()[0]
            )

    def paper_ids(self, keys: list[str]) -> dict[str, int]:
        """Internal ids of the papers named by `keys` (any form :func:`find_row` reads),
        by the text given."""
        found: dict[str, int] = {}
        with self.read() as conn:
            for key in keys:
                row = find_row(conn, key)
                if row is not None:
                    found[key] = row["id"]
        return found

    def find_paper_id(self, key: str, viewer: User | None = None) -> int | None:
        """The internal id of the paper `key` names (any form :func:`find_row` reads), if
        `viewer` may see it (store.visibility; None: anyone)."""
        condition, params = visible(viewer)
        with self.read() as conn:
            row = find_row(conn, key)
            if row is not None and not row["confirmed"]:
                row = conn.execute(
                    f"SELECT p.id FROM papers p WHERE p.id = ? AND {condition}",
                    (row["id"], *params),
                ).fetchone()
        return None if row is None else int(row["id"])

    def get_papers(self, ids: list[int]) -> dict[int, Paper]:
        """Papers by their internal ids (search hits), missing ids left out."""
        found: dict[int, Paper] = {}
        with self.read() as conn:
            for start in range(0, len(ids), IN_CHUNK):
                chunk = ids[start : start + IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                for row in conn.execute(f"SELECT * FROM papers WHERE id IN ({marks})", chunk):
                    found[row["id"]] = row_to_paper(row)
        return found

    def get_paper(self, key: str) -> Paper | None:
        """A paper by key, arXiv id (any version or URL form) or former key."""
        with self.read() as conn:
            row = find_row(conn, key)
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
                    "INSERT INTO sync_state (name, value, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
                    "updated_at = excluded.updated_at",
                    (name, value, iso(datetime.now(UTC))),
                )

    def stats(self) -> StoreStats:
        """Counts for the stats command."""
        with self.read() as conn:
            totals = conn.execute(
                "SELECT count(*), count(arxiv_id), "
                "sum(CASE WHEN abstract != '' THEN 1 ELSE 0 END), min(published), "
                "max(published) FROM papers"
            ).fetchone()
            by_source: dict[str, int] = {}
            for (sources,) in conn.execute("SELECT sources FROM papers"):
                for name in {source.split(":", 1)[0] for source in json.loads(sources)}:
                    by_source[name] = by_source.get(name, 0) + 1
            counts: dict[str, int] = {}
            for (categories,) in conn.execute(
                "SELECT categories FROM papers WHERE categories != ''"
            ):
                for category in categories.split():
                    counts[category] = counts.get(category, 0) + 1
        size = self.size_bytes()
        return StoreStats(
            papers=totals[0],
            with_arxiv_id=totals[1],
            with_abstract=totals[2] or 0,
            earliest=totals[3],
            latest=totals[4],
            by_source=by_source,
            top_categories=sorted(counts.items(), key=lambda kv: -kv[1])[:10],
            size_bytes=size,
        )

    # -- finding papers -----------------------------------------------------------

    def match_papers(self, papers: list[Paper]) -> list[int | None]:
        """For each record, the id of the stored paper it names (store.papers.match_rows:
        by arXiv id, else DOI, else normalised title); None when none is stored."""
        with self.read() as conn:
            return [None if row is None else int(row["id"]) for row in match_rows(conn, papers)]

    def papers_by_author(self, name: str, limit: int) -> list[int]:
        """Ids of papers with an author of this name (case-insensitive, as written),
        newest first."""
        pattern = "%" + name.strip().lower().replace("%", "").replace("_", "") + "%"
        wanted = name.strip().lower()
        page = max(limit * 4, 200)
        ids: list[int] = []
        with self.read() as conn:
            # The LIKE also holds longer names ("Li" in "Lin"): read on until `limit` papers
            # with the exact name are found, not just one window of candidates.
            for offset in range(0, page * 50, page):
                rows = conn.execute(
                    "SELECT id, authors FROM papers p WHERE lower(authors) LIKE ? "
                    f"AND {PUBLIC} "
                    "ORDER BY published DESC NULLS LAST, id DESC LIMIT ? OFFSET ?",
                    (pattern, page, offset),
                ).fetchall()
                ids += [
                    int(row["id"])
                    for row in rows
                    if any(part.strip().lower() == wanted for part in row["authors"].split(";"))
                ]
                if len(ids) >= limit or len(rows) < page:
                    break
        return ids[:limit]

    def candidate_rows(
        self, after_id: int, limit: int, since: datetime | None = None
    ) -> list[CandidateRow]:
        """Confirmed papers after an id (keyset paging), optionally only those stored since
        a time: what the recommender ranks."""
        where = f"id > ? AND {PUBLIC}" + (" AND created_at >= ?" if since else "")
        params: tuple[object, ...] = (after_id, iso(since)) if since else (after_id,)
        with self.read() as conn:
            rows = conn.execute(
                f"SELECT id, key, title, abstract FROM papers p WHERE {where} ORDER BY id LIMIT ?",
                (*params, limit),
            ).fetchall()
        return [CandidateRow(int(r["id"]), r["key"], r["title"], r["abstract"]) for r in rows]
