"""The discussion tables (migration 0010): comments on papers, the text each edit
replaced, readers' reports, and the reply/mention notices mailed in batches.

Ownership is part of every statement that changes a comment (``WHERE id = ? AND
user_id = ?``), so no caller can edit or delete another reader's comment by passing its
id. A notice batch goes into the outbox in the transaction that claims the reader's hour
(a conditional update of ``comment_mail.last_sent_at``) and marks its notices mailed:
two workers running the batch at once cannot both send it, and a crash leaves either
all of it or none."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from paperwire.models import OutboxItem
from paperwire.store.papers import find_row
from paperwire.store.sqlconn import Conn, Row, Tables, iso, parse_iso, required_iso

Status = Literal["visible", "deleted", "hidden"]
NoticeKind = Literal["reply", "mention"]

_SELECT = (
    "SELECT c.*, p.key AS paper_key, p.title AS paper_title, u.handle AS author, "
    "pu.handle AS parent_author, "
    "(SELECT count(*) FROM comment_reports r WHERE r.comment_id = c.id "
    "AND r.resolved_at IS NULL) AS open_reports "
    "FROM comments c JOIN papers p ON p.id = c.paper_id "
    "LEFT JOIN users u ON u.id = c.user_id "
    "LEFT JOIN comments pc ON pc.id = c.parent_id LEFT JOIN users pu ON pu.id = pc.user_id "
)


@dataclass
class Comment:
    """A comment as stored: its Markdown, who wrote it, where it sits in its thread."""

    id: int
    paper_id: int
    paper_key: str
    paper_title: str
    user_id: int | None
    author: str | None  # handle; None once the account is gone
    parent_id: int | None
    root_id: int | None
    parent_author: str | None
    body: str
    html: str  # the body rendered and sanitised when written (discussion/markup.py)
    rendered_with: int  # the renderer version that made `html` (0: none)
    status: Status
    created_at: datetime
    edited_at: datetime | None
    open_reports: int = 0
    replies: list[Comment] = field(default_factory=list)  # filled by the thread builder


@dataclass(frozen=True, slots=True)
class PostChecks:
    """What a new comment is held to as it is written (discussion/rules.py makes them):
    checked again in the write transaction, under the reader's lock (lock_reader), so
    that requests at once cannot all pass one check made before them — a Post clicked
    twice made two comments, and a young account's comments posted together passed its
    cap."""

    not_repeated: bool = True  # not the text of the reader's latest comment
    since: datetime | None = None  # a young account: its comments from this time on…
    at_most: int = 0  # …are at most this many


class CommentRefusedError(ValueError):
    """A comment refused by a PostChecks rule: `rule` is "repeated" or "young"."""

    def __init__(self, rule: Literal["repeated", "young"]) -> None:
        super().__init__(rule)
        self.rule = rule


@dataclass(frozen=True)
class Notice:
    """A reply to, or a mention of, a reader, waiting to be mailed."""

    id: int
    kind: NoticeKind
    comment: Comment


def _comment(row: Row) -> Comment:
    return Comment(
        id=int(row["id"]),
        paper_id=int(row["paper_id"]),
        paper_key=row["paper_key"],
        paper_title=row["paper_title"],
        user_id=row["user_id"],
        author=row["author"],
        parent_id=row["parent_id"],
        root_id=row["root_id"],
        parent_author=row["parent_author"],
        body=row["body"],
        html=row["html"],
        rendered_with=int(row["rendered_with"]),
        status=row["status"],
        created_at=required_iso(row["created_at"]),
        edited_at=parse_iso(row["edited_at"]),
        open_reports=int(row["open_reports"]),
    )


class CommentTables(Tables):
    """Part of every Store: the methods over the discussion tables."""

    @staticmethod
    def _one(conn: Conn, comment_id: int) -> Comment | None:
        row = conn.execute(f"{_SELECT} WHERE c.id = ?", (comment_id,)).fetchone()
        return _comment(row) if row else None

    # -- reading ------------------------------------------------------------------

    def get_comment(self, comment_id: int) -> Comment | None:
        """One comment by id, whatever its status."""
        with self.read() as conn:
            return self._one(conn, comment_id)

    def paper_comments(
        self, key: str, after: int = 0, limit: int | None = None
    ) -> list[Comment] | None:
        """A paper's comments (deleted and hidden ones too), oldest first, those with an
        id after `after`, at most `limit` (all by default); None for an unknown paper."""
        with self.read() as conn:
            row = find_row(conn, key)
            if row is None:
                return None
            rows = conn.execute(
                f"{_SELECT} WHERE c.paper_id = ? AND c.id > ? ORDER BY c.id LIMIT ?",
                (row["id"], after, 2**62 if limit is None else limit),
            ).fetchall()
        return [_comment(r) for r in rows]

    def paper_comment_page(
        self, key: str, offset: int, limit: int
    ) -> tuple[list[Comment], int, int] | None:
        """A paper's comments in thread order (threads oldest first, each its top
        comment then its replies oldest first), `limit` of them from `offset`, with how
        many it has and how many of those are visible; None for an unknown paper."""
        with self.read() as conn:
            row = find_row(conn, key)
            if row is None:
                return None
            rows = conn.execute(
                f"{_SELECT} WHERE c.paper_id = ? ORDER BY coalesce(c.root_id, c.id), c.id "
                "LIMIT ? OFFSET ?",
                (row["id"], limit, offset),
            ).fetchall()
            counts = conn.execute(
                "SELECT count(*) AS n, "
                "coalesce(sum(CASE WHEN status = 'visible' THEN 1 ELSE 0 END), 0) AS visible "
                "FROM comments WHERE paper_id = ?",
                (row["id"],),
            ).fetchone()
        return [_comment(r) for r in rows], int(counts["n"]), int(counts["visible"])

    def comment_rank(self, comment_id: int) -> int | None:
        """How many comments of its paper come before a comment in thread order (see
        paper_comment_page); None for an unknown comment."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT paper_id, coalesce(root_id, id) AS thread FROM comments WHERE id = ?",
                (comment_id,),
            ).fetchone()
            if row is None:
                return None
            rank = conn.execute(
                "SELECT count(*) AS n FROM comments WHERE paper_id = ? AND "
                "(coalesce(root_id, id) < ? OR (coalesce(root_id, id) = ? AND id < ?))",
                (row["paper_id"], row["thread"], row["thread"], comment_id),
            ).fetchone()
        return int(rank["n"])

    def user_comments(self, user_id: int, limit: int = 1000) -> list[Comment]:
        """A reader's own comments (not deleted), newest first."""
        with self.read() as conn:
            rows = conn.execute(
                f"{_SELECT} WHERE c.user_id = ? AND c.status != 'deleted' "
                "ORDER BY c.id DESC LIMIT ?",
                (user_id, limit),
            ).fetchall()
        return [_comment(r) for r in rows]

    def last_comment_body(self, user_id: int) -> str | None:
        """The text of a reader's latest comment anywhere (None before the first)."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT body FROM comments WHERE user_id = ? ORDER BY id DESC LIMIT 1",
                (user_id,),
            ).fetchone()
        return None if row is None else str(row[0])

    def comments_by_user_since(self, user_id: int, since: datetime) -> int:
        """How many comments a reader wrote since a time."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT count(*) FROM comments WHERE user_id = ? AND created_at >= ?",
                (user_id, iso(since)),
            ).fetchone()
        return int(row[0])

    def user_created_at(self, user_id: int) -> datetime | None:
        """When an account was made."""
        with self.read() as conn:
            row = conn.execute("SELECT created_at FROM users WHERE id = ?", (user_id,)).fetchone()
        return None if row is None else parse_iso(row[0])

    def comment_revisions(self, comment_id: int) -> list[tuple[str, datetime]]:
        """The texts an edited comment had, oldest first, with when each was replaced."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT body, replaced_at FROM comment_revisions WHERE comment_id = ? ORDER BY id",
                (comment_id,),
            ).fetchall()
        return [(str(r[0]), required_iso(r[1])) for r in rows]

    def handles_to_ids(self, handles: list[str]) -> dict[str, int]:
        """The accounts of these handles that exist."""
        found: dict[str, int] = {}
        if not handles:
            return found
        with self.read() as conn:
            marks = ",".join("?" * len(handles))
            for row in conn.execute(
                f"SELECT handle, id FROM users WHERE handle IN ({marks})", tuple(handles)
            ):
                found[str(row[0])] = int(row[1])
        return found

    # -- writing ------------------------------------------------------------------

    def add_comment(
        self,
        key: str,
        user_id: int,
        body: str,
        now: datetime,
        parent_id: int | None = None,
        mentioned: list[int] | None = None,
        rendered: tuple[str, int] = ("", 0),
        checks: PostChecks | None = None,
    ) -> Comment:
        """Store a comment (a reply when `parent_id` is given) and the notices it
        causes: a reply to the parent's author, a mention to each mentioned reader (never
        to the writer). `rendered`: its HTML and the renderer version that made it.
        KeyError for an unknown paper; LookupError for a parent that is
        not a live comment on the same paper; CommentRefusedError when `checks` refuse
        it (see PostChecks)."""
        with self.write() as conn:
            paper = find_row(conn, key)
            if paper is None:
                raise KeyError(key)
            if checks is not None:
                self._check_post(conn, user_id, body, checks)
            root_id = None
            parent_author = None
            if parent_id is not None:
                parent = conn.execute(
                    "SELECT paper_id, root_id, user_id, status FROM comments WHERE id = ?",
                    (parent_id,),
                ).fetchone()
                if parent is None or parent["paper_id"] != paper["id"]:
                    raise LookupError(f"no comment {parent_id} on this paper")
                if parent["status"] != "visible":
                    raise LookupError(f"comment {parent_id} is deleted or hidden")
                root_id = parent["root_id"] or parent_id
                parent_author = parent["user_id"]
            new_id = int(
                conn.execute(
                    "INSERT INTO comments (paper_id, user_id, parent_id, root_id, body, html, "
                    "rendered_with, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (paper["id"], user_id, parent_id, root_id, body, *rendered, iso(now)),
                ).fetchone()[0]
            )
            told: set[int] = {user_id}
            if parent_author is not None and parent_author not in told:
                self._notice(conn, parent_author, new_id, "reply", now)
                told.add(parent_author)
            for reader in mentioned or []:
                if reader not in told:
                    self._notice(conn, reader, new_id, "mention", now)
                    told.add(reader)
            made = self._one(conn, new_id)
        assert made is not None
        return made

    def _check_post(self, conn: Conn, user_id: int, body: str, checks: PostChecks) -> None:
        """CommentRefusedError when `checks` refuse the reader's new comment `body`
        (read under the reader's lock: the comments they post at once wait here, and
        each sees the ones before it)."""
        self.lock_reader(conn, user_id)
        if checks.not_repeated:
            last = conn.execute(
                "SELECT body FROM comments WHERE user_id = ? ORDER BY id DESC LIMIT 1",
                (user_id,),
            ).fetchone()
            if last is not None and last[0] == body:
                raise CommentRefusedError("repeated")
        if checks.since is not None:
            made = conn.execute(
                "SELECT count(*) FROM comments WHERE user_id = ? AND created_at >= ?",
                (user_id, iso(checks.since)),
            ).fetchone()[0]
            if int(made) >= checks.at_most:
                raise CommentRefusedError("young")

    @staticmethod
    def _notice(conn: Conn, user_id: int, comment_id: int, kind: str, now: datetime) -> None:
        conn.execute(
            "INSERT INTO comment_notices (user_id, comment_id, kind, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (user_id, comment_id) DO NOTHING",
            (user_id, comment_id, kind, iso(now)),
        )

    def edit_comment(
        self,
        comment_id: int,
        user_id: int,
        body: str,
        now: datetime,
        rendered: tuple[str, int] = ("", 0),
        mentioned: list[int] | None = None,
    ) -> Comment | None:
        """Replace the text of the reader's own live comment, keeping the old text as a
        revision; None when it is not theirs, or is deleted or hidden. A reader the new
        text mentions is told as a new comment's mention would be (issue 27), once: a
        reader already told of this comment (a mention before, or the reply) is not told
        again — comment_notices holds one notice per reader and comment. The comment's
        row is locked first (Dialect.lock_rows): two edits at once each keep the text
        the other replaced, and an edit after a delete finds it deleted (without the lock
        it wrote the text back into the deleted comment, and its history too)."""
        with self.write() as conn:
            old = conn.execute(
                "SELECT body FROM comments WHERE id = ? AND user_id = ? AND status = 'visible'"
                + self.dialect.lock_rows,
                (comment_id, user_id),
            ).fetchone()
            if old is None:
                return None
            if old[0] != body:
                conn.execute(
                    "INSERT INTO comment_revisions (comment_id, body, replaced_at) "
                    "VALUES (?, ?, ?)",
                    (comment_id, old[0], iso(now)),
                )
                conn.execute(
                    "UPDATE comments SET body = ?, html = ?, rendered_with = ?, edited_at = ? "
                    "WHERE id = ? AND user_id = ?",
                    (body, *rendered, iso(now), comment_id, user_id),
                )
                for reader in dict.fromkeys(mentioned or []):
                    if reader != user_id:
                        self._notice(conn, reader, comment_id, "mention", now)
            return self._one(conn, comment_id)

    def delete_comment(self, comment_id: int, user_id: int) -> bool:
        """Delete the reader's own comment: its text and history are dropped, the row
        stays as the thread's placeholder. False when it is not theirs (or is gone)."""
        with self.write() as conn:
            changed = conn.execute(
                "UPDATE comments SET status = 'deleted', body = '', html = '', rendered_with = 0 "
                "WHERE id = ? AND user_id = ? AND status != 'deleted'",
                (comment_id, user_id),
            ).rowcount
            if changed:
                conn.execute("DELETE FROM comment_revisions WHERE comment_id = ?", (comment_id,))
                conn.execute(
                    "DELETE FROM comment_notices WHERE comment_id = ? AND outbox_id IS NULL",
                    (comment_id,),
                )
        return bool(changed > 0)

    def set_comment_hidden(
        self, comment_id: int, curator_id: int, hidden: bool, now: datetime
    ) -> bool:
        """A curator hides a comment (or restores it); its open reports are resolved.
        False for an unknown or deleted comment."""
        with self.write() as conn:
            changed = conn.execute(
                "UPDATE comments SET status = ?, hidden_by = ? "
                "WHERE id = ? AND status != 'deleted'",
                ("hidden" if hidden else "visible", curator_id if hidden else None, comment_id),
            ).rowcount
            if changed:
                conn.execute(
                    "UPDATE comment_reports SET resolved_at = ? "
                    "WHERE comment_id = ? AND resolved_at IS NULL",
                    (iso(now), comment_id),
                )
        return bool(changed > 0)

    def report_comment(self, comment_id: int, user_id: int, reason: str, now: datetime) -> bool:
        """A reader reports a live comment (once each; reporting again changes nothing).
        False for an unknown, deleted or hidden comment."""
        with self.write() as conn:
            live = conn.execute(
                "SELECT 1 FROM comments WHERE id = ? AND status = 'visible'", (comment_id,)
            ).fetchone()
            if live is None:
                return False
            conn.execute(
                "INSERT INTO comment_reports (comment_id, user_id, reason, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (comment_id, user_id) DO NOTHING",
                (comment_id, user_id, reason, iso(now)),
            )
        return True

    def reported_comments(self, limit: int = 100) -> list[tuple[Comment, list[str]]]:
        """Comments with open reports, most reported first, with the reasons given (three
        queries, whatever the number: it was two a comment)."""
        with self.read() as conn:
            ids = [
                int(r[0])
                for r in conn.execute(
                    "SELECT comment_id FROM comment_reports WHERE resolved_at IS NULL "
                    "GROUP BY comment_id ORDER BY count(*) DESC, min(id) LIMIT ?",
                    (limit,),
                )
            ]
            if not ids:
                return []
            marks = ", ".join("?" * len(ids))
            comments = {
                c.id: c
                for c in map(
                    _comment, conn.execute(f"{_SELECT} WHERE c.id IN ({marks})", ids).fetchall()
                )
            }
            reasons: dict[int, list[str]] = {}
            for row in conn.execute(
                f"SELECT comment_id, reason FROM comment_reports WHERE comment_id IN ({marks}) "
                "AND resolved_at IS NULL ORDER BY id",
                ids,
            ):
                reasons.setdefault(int(row[0]), []).append(str(row[1]))
        return [(comments[i], reasons.get(i, [])) for i in ids if i in comments]

    # -- notices by mail ----------------------------------------------------------

    def comment_mail_enabled(self, user_id: int) -> bool:
        """Whether replies and mentions are mailed to this reader (yes by default)."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT enabled FROM comment_mail WHERE user_id = ?", (user_id,)
            ).fetchone()
        return row is None or bool(row[0])

    def set_comment_mail(self, user_id: int, enabled: bool) -> None:
        """Turn reply/mention mail on or off; turning it off drops what was waiting."""
        with self.write() as conn:
            conn.execute(
                "INSERT INTO comment_mail (user_id, enabled) VALUES (?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET enabled = excluded.enabled",
                (user_id, int(enabled)),
            )
            if not enabled:
                conn.execute(
                    "DELETE FROM comment_notices WHERE user_id = ? AND outbox_id IS NULL",
                    (user_id,),
                )

    def notice_recipients(self, mailed_before: datetime, limit: int = 500) -> list[int]:
        """Readers with notices waiting whose mail is on and whose last batch went
        before `mailed_before` (an hour ago), by id."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT DISTINCT n.user_id FROM comment_notices n "
                "LEFT JOIN comment_mail m ON m.user_id = n.user_id "
                "WHERE n.outbox_id IS NULL AND (m.user_id IS NULL OR (m.enabled = 1 AND "
                "(m.last_sent_at IS NULL OR m.last_sent_at <= ?))) ORDER BY n.user_id LIMIT ?",
                (iso(mailed_before), limit),
            ).fetchall()
        return [int(r[0]) for r in rows]

    def pending_notices(self, user_id: int) -> list[Notice]:
        """A reader's notices not yet mailed, oldest first (those about comments since
        deleted or hidden are left out)."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT n.id AS notice_id, n.kind, n.comment_id FROM comment_notices n "
                "WHERE n.user_id = ? AND n.outbox_id IS NULL ORDER BY n.id",
                (user_id,),
            ).fetchall()
            out = []
            for row in rows:
                comment = self._one(conn, int(row["comment_id"]))
                if comment is not None and comment.status == "visible":
                    out.append(Notice(int(row["notice_id"]), row["kind"], comment))
        return out

    def record_notice_batch(
        self,
        user_id: int,
        notice_ids: list[int],
        message: OutboxItem,
        mailed_before: datetime,
        now: datetime,
    ) -> bool:
        """Write one batch of notices to the outbox: claim the reader's hour (their last
        batch went before `mailed_before`), queue the message and mark the notices
        mailed, in one transaction. False when another run claimed it first."""
        with self.write() as conn:
            conn.execute(
                "INSERT INTO comment_mail (user_id) VALUES (?) ON CONFLICT (user_id) DO NOTHING",
                (user_id,),
            )
            claimed = conn.execute(
                "UPDATE comment_mail SET last_sent_at = ? WHERE user_id = ? AND enabled = 1 "
                "AND (last_sent_at IS NULL OR last_sent_at <= ?)",
                (iso(now), user_id, iso(mailed_before)),
            ).rowcount
            if not claimed:
                return False
            taken = conn.execute(
                "SELECT 1 FROM outbox WHERE user_id = ? AND period = ?", (user_id, message.period)
            ).fetchone()
            if taken is not None:  # a clock set back into an hour already mailed
                return False
            outbox_id = conn.execute(
                "INSERT INTO outbox (user_id, period, recipient, message_id, message, "
                "next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    user_id,
                    message.period,
                    message.recipient,
                    message.message_id,
                    message.message,
                    iso(now),
                    iso(now),
                ),
            ).fetchone()[0]
            marks = ",".join("?" * len(notice_ids))
            conn.execute(
                f"UPDATE comment_notices SET outbox_id = ? WHERE user_id = ? "
                f"AND outbox_id IS NULL AND id IN ({marks})",
                (outbox_id, user_id, *notice_ids),
            )
            # Notices about comments deleted or hidden meanwhile are never mailed.
            conn.execute(
                "DELETE FROM comment_notices WHERE user_id = ? AND outbox_id IS NULL "
                "AND comment_id IN (SELECT id FROM comments WHERE status != 'visible')",
                (user_id,),
            )
        return True
