"""The feed tables: the daily feed's submissions and readers' upvotes, and the feed
entries (a paper with its upvotes, comment count and listing) every list is made of
(migration 0003).

On SQLite every write runs in the engine's one writer transaction (``BEGIN IMMEDIATE``),
so a vote toggled by fifty clients at once is fifty serialised read-modify-writes; on
PostgreSQL two of them can both read "no vote yet", and the insert's ON CONFLICT makes
them one row. Either way the count, taken from the votes table itself, is exact. Times
are UTC ISO strings, which sort as they compare."""

from __future__ import annotations

from datetime import date, datetime

from paperwire.models import FeedEntry, Paper, Submission, User
from paperwire.store.papers import find_row
from paperwire.store.records import FeedOrder
from paperwire.store.rows import row_to_paper
from paperwire.store.sqlconn import IN_CHUNK, Conn, Row, Tables, iso, required_iso
from paperwire.store.visibility import PUBLIC, visible

# Total upvotes: the count the source site reported plus the votes cast here.
_TOTAL = "p.upvotes + (SELECT count(*) FROM votes v WHERE v.paper_id = p.id)"
# Visible comments (the cards' count and the "most discussed" order).
_COMMENTS = "(SELECT count(*) FROM comments c WHERE c.paper_id = p.id AND c.status = 'visible')"
_ENTRY_SELECT = (
    f"SELECT p.*, {_TOTAL} AS total_votes, {_COMMENTS} AS comment_count, "
    "s.id AS s_id, s.day AS s_day, "
    "s.submitted_at AS s_at, s.hidden AS s_hidden, u.handle AS s_handle, "
    "s.upstream_source AS s_upstream_source, s.upstream_submitter AS s_upstream_submitter "
)


def _entry(row: Row) -> FeedEntry:
    submission = None
    if row["s_id"] is not None:
        submission = Submission(
            id=row["s_id"],
            day=date.fromisoformat(row["s_day"]),
            submitted_at=required_iso(row["s_at"]),
            submitter=row["s_handle"],
            hidden=bool(row["s_hidden"]),
            upstream_source=row["s_upstream_source"],
            upstream_submitter=row["s_upstream_submitter"],
        )
    return FeedEntry(
        row_to_paper(row),
        int(row["total_votes"]),
        submission,
        comments=int(row["comment_count"]),
    )


class FeedTables(Tables):
    """Part of every Store: the methods over the feed tables (submissions, votes)."""

    @staticmethod
    def _paper_id(conn: Conn, key: str) -> int | None:
        """A paper's id by key, former key, or arXiv id in any of its forms."""
        row = find_row(conn, key)
        return None if row is None else int(row["id"])

    # -- accounts -------------------------------------------------------------
    # -- votes ------------------------------------------------------------------

    def set_vote(
        self, user_id: int, key: str, vote: bool | None, now: datetime
    ) -> tuple[bool, int]:
        """Cast (True), withdraw (False) or toggle (None) a user's upvote; returns whether
        the user now upvotes the paper and its total. KeyError for an unknown paper."""
        with self.write() as conn:
            paper_id = self._paper_id(conn, key)
            if paper_id is None:
                raise KeyError(key)
            had = (
                conn.execute(
                    "SELECT 1 FROM votes WHERE user_id = ? AND paper_id = ?", (user_id, paper_id)
                ).fetchone()
                is not None
            )
            want = (not had) if vote is None else vote
            if want and not had:
                conn.execute(
                    "INSERT INTO votes (user_id, paper_id, created_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (user_id, paper_id) DO NOTHING",  # a concurrent same vote
                    (user_id, paper_id, iso(now)),
                )
            elif had and not want:
                conn.execute(
                    "DELETE FROM votes WHERE user_id = ? AND paper_id = ?", (user_id, paper_id)
                )
            total = conn.execute(
                f"SELECT {_TOTAL} FROM papers p WHERE p.id = ?", (paper_id,)
            ).fetchone()[0]
        return want, int(total)

    def most_upvoted_ids(self, limit: int) -> list[int]:
        """The ids of the papers with the most votes cast here, most first."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT paper_id FROM votes JOIN papers p ON p.id = votes.paper_id "
                f"WHERE {PUBLIC} GROUP BY paper_id "
                "ORDER BY count(*) DESC, paper_id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [int(row[0]) for row in rows]

    def upvoted_ids(self, user_id: int, limit: int = 5000) -> list[int]:
        """The papers a reader upvoted, newest vote first (positives of their default
        profile)."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT paper_id FROM votes WHERE user_id = ? "
                "ORDER BY created_at DESC, paper_id LIMIT ?",
                (user_id, limit),
            ).fetchall()
        return [int(row[0]) for row in rows]

    def voted_keys(self, user_id: int, keys: list[str]) -> set[str]:
        """Which of these papers the user has upvoted."""
        if not keys:
            return set()
        with self.read() as conn:
            found: set[str] = set()
            for start in range(0, len(keys), IN_CHUNK):
                chunk = keys[start : start + IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                found.update(
                    row[0]
                    for row in conn.execute(
                        f"SELECT p.key FROM votes v JOIN papers p ON p.id = v.paper_id "
                        f"WHERE v.user_id = ? AND p.key IN ({marks})",
                        (user_id, *chunk),
                    )
                )
        return found

    # -- the daily feed ---------------------------------------------------------

    def submit(
        self, key: str, day: date, user_id: int | None, now: datetime
    ) -> tuple[FeedEntry, bool]:
        """List a paper in the feed of `day`; if it is listed already, nothing changes.
        Returns its entry and whether it was new. KeyError for an unknown paper."""
        with self.write() as conn:
            paper_id = self._paper_id(conn, key)
            if paper_id is None:
                raise KeyError(key)
            created = (
                conn.execute(
                    "INSERT INTO submissions (paper_id, day, user_id, submitted_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (paper_id) DO NOTHING RETURNING id",
                    (paper_id, day.isoformat(), user_id, iso(now)),
                ).fetchone()
                is not None
            )
            row = self._entry_rows(conn, "p.id = ?", (paper_id,))[0]
        return _entry(row), created

    def submit_many(self, keys: list[str], day: date, now: datetime) -> int:
        """List imported papers in the feed of `day` (those not listed yet); returns how
        many were added."""
        added = 0
        with self.write() as conn:
            for key in keys:
                paper_id = self._paper_id(conn, key)
                if paper_id is None:
                    continue
                added += conn.execute(
                    "INSERT INTO submissions (paper_id, day, user_id, submitted_at) "
                    "VALUES (?, ?, NULL, ?) ON CONFLICT (paper_id) DO NOTHING",
                    (paper_id, day.isoformat(), iso(now)),
                ).rowcount
        return added

    def _entry_rows(
        self, conn: Conn, where: str, params: tuple[object, ...], tail: str = ""
    ) -> list[Row]:
        rows: list[Row] = conn.execute(
            f"{_ENTRY_SELECT} FROM papers p LEFT JOIN submissions s ON s.paper_id = p.id "
            f"LEFT JOIN users u ON u.id = s.user_id WHERE {where} {tail}",
            params,
        ).fetchall()
        return rows

    def entry(self, key: str, viewer: User | None = None) -> FeedEntry | None:
        """One paper with its upvotes and listing, if `viewer` may see it
        (store.visibility; None: anyone)."""
        condition, params = visible(viewer)
        with self.read() as conn:
            paper_id = self._paper_id(conn, key)
            if paper_id is None:
                return None
            rows = self._entry_rows(conn, f"p.id = ? AND {condition}", (paper_id, *params))
        return _entry(rows[0]) if rows else None

    def entries(self, papers: list[Paper]) -> list[FeedEntry]:
        """Feed entries for papers already in hand (search results), in the same order."""
        keys = [paper.key for paper in papers]
        by_key: dict[str, FeedEntry] = {}
        with self.read() as conn:
            for start in range(0, len(keys), IN_CHUNK):
                chunk = keys[start : start + IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                for row in self._entry_rows(conn, f"p.key IN ({marks})", tuple(chunk)):
                    entry = _entry(row)
                    by_key[entry.paper.key] = entry
        return [by_key.get(p.key) or FeedEntry(p, p.upvotes) for p in papers]

    def feed(
        self,
        first: date,
        last: date,
        order: FeedOrder = "upvotes",
        limit: int = 30,
        offset: int = 0,
        include_hidden: bool = False,
    ) -> tuple[list[FeedEntry], int]:
        """Confirmed papers listed on the days first..last, and how many there are in all."""
        where = f"s.day BETWEEN ? AND ? AND {PUBLIC}"
        if not include_hidden:
            where += " AND s.hidden = 0"
        params: tuple[object, ...] = (first.isoformat(), last.isoformat())
        if order == "code":  # the "With code" tab (issue 29)
            where += " AND p.code_urls != '[]'"
        sort = {
            "upvotes": "total_votes DESC, s.submitted_at DESC, s.id DESC",
            "discussed": "comment_count DESC, total_votes DESC, s.submitted_at DESC, s.id DESC",
            "code": "COALESCE(p.stars, -1) DESC, total_votes DESC, s.submitted_at DESC, s.id DESC",
        }.get(order, "s.submitted_at DESC, s.id DESC")
        with self.read() as conn:
            rows = conn.execute(
                f"{_ENTRY_SELECT} FROM submissions s JOIN papers p ON p.id = s.paper_id "
                f"LEFT JOIN users u ON u.id = s.user_id WHERE {where} ORDER BY {sort} "
                "LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
            total = conn.execute(
                f"SELECT count(*) FROM submissions s JOIN papers p ON p.id = s.paper_id "
                f"WHERE {where}",
                params,
            )
            count = int(total.fetchone()[0])
        return [_entry(row) for row in rows], count

    def listed_since(self, since: datetime) -> list[FeedEntry]:
        """Visible submissions of confirmed papers made since a time (the candidates for
        trending)."""
        with self.read() as conn:
            rows = conn.execute(
                f"{_ENTRY_SELECT} FROM submissions s JOIN papers p ON p.id = s.paper_id "
                "LEFT JOIN users u ON u.id = s.user_id "
                f"WHERE s.submitted_at >= ? AND s.hidden = 0 AND {PUBLIC}",
                (iso(since),),
            ).fetchall()
        return [_entry(row) for row in rows]

    def adjacent_days(self, day: date) -> tuple[date | None, date | None]:
        """The nearest earlier and later days that have visible submissions (of confirmed
        papers): each read down the (day, hidden) index from `day`, stopping at the first."""
        nearest = (
            "SELECT s.day FROM submissions s JOIN papers p ON p.id = s.paper_id "
            f"WHERE s.day {{}} ? AND s.hidden = 0 AND {PUBLIC} ORDER BY s.day {{}} LIMIT 1"
        )
        with self.read() as conn:
            before = conn.execute(nearest.format("<", "DESC"), (day.isoformat(),)).fetchone()
            after = conn.execute(nearest.format(">", "ASC"), (day.isoformat(),)).fetchone()
        return (
            date.fromisoformat(before[0]) if before else None,
            date.fromisoformat(after[0]) if after else None,
        )

    def hide_submission(self, key: str, curator_id: int, hidden: bool) -> bool:
        """Hide (or show again) a paper's listing; False when it is not listed."""
        with self.write() as conn:
            paper_id = self._paper_id(conn, key)
            if paper_id is None:
                return False
            changed = conn.execute(
                "UPDATE submissions SET hidden = ?, hidden_by = ? WHERE paper_id = ?",
                (int(hidden), curator_id if hidden else None, paper_id),
            ).rowcount
        return bool(changed > 0)

    def user_submissions(
        self, user_id: int, limit: int = 100, viewer: User | None = None
    ) -> list[FeedEntry]:
        """What a user submitted, newest first: what `viewer` may see of it (the user
        themselves sees their unconfirmed papers too; see store.visibility)."""
        condition, params = visible(viewer)
        with self.read() as conn:
            rows = conn.execute(
                f"{_ENTRY_SELECT} FROM submissions s JOIN papers p ON p.id = s.paper_id "
                f"LEFT JOIN users u ON u.id = s.user_id WHERE s.user_id = ? AND {condition} "
                "ORDER BY s.submitted_at DESC, s.id DESC LIMIT ?",
                (user_id, *params, limit),
            ).fetchall()
        return [_entry(row) for row in rows]

    def user_upvoted(
        self, user_id: int, limit: int = 100, viewer: User | None = None
    ) -> list[FeedEntry]:
        """What a user upvoted, most recent vote first (what `viewer` may see of it)."""
        condition, params = visible(viewer)
        with self.read() as conn:
            rows = conn.execute(
                f"{_ENTRY_SELECT} FROM votes mine JOIN papers p ON p.id = mine.paper_id "
                "LEFT JOIN submissions s ON s.paper_id = p.id "
                f"LEFT JOIN users u ON u.id = s.user_id WHERE mine.user_id = ? AND {condition} "
                "ORDER BY mine.created_at DESC LIMIT ?",
                (user_id, *params, limit),
            ).fetchall()
        return [_entry(row) for row in rows]

    def page_papers(self, after_id: int, limit: int) -> list[tuple[int, FeedEntry]]:
        """Every confirmed paper in insertion order after an internal id (the API's cursor)."""
        with self.read() as conn:
            rows = self._entry_rows(
                conn, f"p.id > ? AND {PUBLIC}", (after_id, limit), "ORDER BY p.id LIMIT ?"
            )
        return [(int(row["id"]), _entry(row)) for row in rows]
