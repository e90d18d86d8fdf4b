"""The collection tables: a reader's named collections of papers (each item with a private
note and a position), their share links and profile feeds (by token hash), and the
reader's feedback on papers (migration 0009).

Every method that reads or changes a collection takes the owner's id and matches it in
the same statement, so another reader's collection id is the same as no collection: a
route cannot leak one by forgetting a check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from paperwire.models import Paper
from paperwire.store.rows import row_to_paper
from paperwire.store.sqlconn import IN_CHUNK, Conn, Row, Tables, iso, required_iso

Signal = Literal["not_interested", "seen"]
SIGNALS: tuple[Signal, ...] = ("not_interested", "seen")
DEFAULT_COLLECTION = "Reading list"
# The reasons of "seen" marks the site makes itself: shown on /for-you, mailed in a digest.
SHOWN_REASONS = ("for-you", "digest")
# Stay well under the engines' limits on bound parameters.


@dataclass(frozen=True, slots=True)
class Collection:
    """A reader's named collection; a recommendation profile when `is_profile`."""

    id: int
    user_id: int
    name: str
    shared: bool
    has_feed: bool
    is_profile: bool
    seed: str
    created: datetime
    size: int = 0
    share_nonce: str | None = None  # what the public link is derived from (issue 27)
    description: str = ""  # shown on its page and its shared page (migration 0017)


@dataclass(frozen=True, slots=True)
class CollectionItem:
    """A paper in a collection, with the owner's note."""

    paper_id: int
    paper: Paper
    note: str
    position: int
    added: datetime


@dataclass(frozen=True, slots=True)
class Feedback:
    """One signal a reader gave on a paper."""

    paper_id: int
    paper: Paper
    signal: Signal
    reason: str
    at: datetime


_COLLECTION_SELECT = (
    "SELECT c.*, (SELECT count(*) FROM collection_items i WHERE i.collection_id = c.id) "
    "AS size FROM collections c "
)


def _collection(row: Row) -> Collection:
    return Collection(
        id=int(row["id"]),
        user_id=int(row["user_id"]),
        name=row["name"],
        shared=row["share_hash"] is not None,
        has_feed=row["feed_hash"] is not None,
        is_profile=bool(row["is_profile"]),
        seed=row["seed"],
        created=required_iso(row["created_at"]),
        size=int(row["size"]),
        share_nonce=row["share_nonce"],
        description=row["description"],
    )


def owns_collection(conn: Conn, user_id: int, collection_id: int, lock: str = "") -> bool:
    """True when the reader owns the collection (in the caller's transaction). `lock`
    (Dialect.lock_rows) locks its row for a write that depends on it: other writes of the
    collection wait, so two saves never read the same last position, and a save never
    adds to a collection deleted meanwhile."""
    return (
        conn.execute(
            "SELECT 1 FROM collections WHERE id = ? AND user_id = ?" + lock,
            (collection_id, user_id),
        ).fetchone()
        is not None
    )


def add_items_in(conn: Conn, collection_id: int, paper_ids: list[int], now: datetime) -> int:
    """Append papers to a collection in the caller's transaction (the caller has checked
    the owner and locked the collection: owns_collection), those already in it left
    where they are; how many were new."""
    last = conn.execute(
        "SELECT coalesce(max(position), 0) FROM collection_items WHERE collection_id = ?",
        (collection_id,),
    ).fetchone()[0]
    added = 0
    for paper_id in dict.fromkeys(paper_ids):
        done = conn.execute(
            "INSERT INTO collection_items (collection_id, paper_id, position, added_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (collection_id, paper_id) DO NOTHING",
            (collection_id, paper_id, int(last) + added + 1, iso(now)),
        ).rowcount
        added += int(done > 0)
    return added


class CollectionTables(Tables):
    """Part of every Store: collections, their items, and feedback."""

    # -- collections ------------------------------------------------------------

    def collections_of(self, user_id: int, now: datetime) -> list[Collection]:
        """A reader's collections, oldest first; the default "Reading list" is made on
        first use so every reader has somewhere to save to."""
        with self.write() as conn:
            conn.execute(
                "INSERT INTO collections (user_id, name, created_at) SELECT ?, ?, ? "
                "WHERE NOT EXISTS (SELECT 1 FROM collections WHERE user_id = ?) "
                "ON CONFLICT (user_id, name) DO NOTHING",  # two first visits at once
                (user_id, DEFAULT_COLLECTION, iso(now), user_id),
            )
            rows = conn.execute(
                f"{_COLLECTION_SELECT} WHERE c.user_id = ? ORDER BY c.id", (user_id,)
            ).fetchall()
        return [_collection(row) for row in rows]

    def create_collection(
        self, user_id: int, name: str, now: datetime, is_profile: bool = False, seed: str = ""
    ) -> Collection:
        """A new collection; ValueError when the reader already has one of that name
        (the unique name decides, ON CONFLICT, and the reader's lock holds off a rename
        to it: lock_reader)."""
        with self.write() as conn:
            self.lock_reader(conn, user_id)
            row = conn.execute(
                "INSERT INTO collections (user_id, name, is_profile, seed, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, name) DO NOTHING "
                "RETURNING *, 0 AS size",
                (user_id, name, int(is_profile), seed, iso(now)),
            ).fetchone()
        if row is None:
            raise ValueError(f"you already have a collection named {name!r}")
        return _collection(row)

    def get_collection(self, user_id: int, collection_id: int) -> Collection | None:
        """A collection if this reader owns it, else None (whether or not it exists)."""
        with self.read() as conn:
            row = conn.execute(
                f"{_COLLECTION_SELECT} WHERE c.id = ? AND c.user_id = ?", (collection_id, user_id)
            ).fetchone()
        return _collection(row) if row else None

    def collection_by_token_hash(
        self, column: Literal["share_hash", "feed_hash"], token_hash: str
    ) -> Collection | None:
        """The collection a share link or a profile feed token opens."""
        with self.read() as conn:
            row = conn.execute(
                f"{_COLLECTION_SELECT} WHERE c.{column} = ?", (token_hash,)
            ).fetchone()
        return _collection(row) if row else None

    def update_collection(
        self,
        user_id: int,
        collection_id: int,
        *,
        name: str | None = None,
        is_profile: bool | None = None,
        seed: str | None = None,
        description: str | None = None,
    ) -> bool:
        """Rename a collection, describe it, or make it a profile (or not); False when
        the reader owns no such collection, ValueError for a name already taken (checked
        under the reader's lock, lock_reader: two renames to one name at once cannot
        both pass the check)."""
        sets: list[str] = []
        params: list[object] = []
        for column, value in (("name", name), ("seed", seed), ("description", description)):
            if value is not None:
                sets.append(f"{column} = ?")
                params.append(value)
        if is_profile is not None:
            sets.append("is_profile = ?")
            params.append(int(is_profile))
        if not sets:
            return self.get_collection(user_id, collection_id) is not None
        with self.write() as conn:
            if name is not None:
                self.lock_reader(conn, user_id)
            if (
                name is not None
                and conn.execute(
                    "SELECT 1 FROM collections WHERE user_id = ? AND name = ? AND id != ?",
                    (user_id, name, collection_id),
                ).fetchone()
            ):
                raise ValueError(f"you already have a collection named {name!r}")
            changed = conn.execute(
                f"UPDATE collections SET {', '.join(sets)} WHERE id = ? AND user_id = ?",
                (*params, collection_id, user_id),
            ).rowcount
        return bool(changed > 0)

    def set_collection_token(
        self,
        user_id: int,
        collection_id: int,
        column: Literal["share_hash", "feed_hash"],
        token_hash: str | None,
    ) -> bool:
        """Set (a new token's hash) or revoke (None) a share link or a profile feed."""
        with self.write() as conn:
            changed = conn.execute(
                f"UPDATE collections SET {column} = ? WHERE id = ? AND user_id = ?",
                (token_hash, collection_id, user_id),
            ).rowcount
        return bool(changed > 0)

    def set_share_link(
        self, user_id: int, collection_id: int, token_hash: str | None, nonce: str | None
    ) -> bool:
        """Set a new public link (its hash, and the nonce it is derived from) or revoke
        it (both None)."""
        with self.write() as conn:
            changed = conn.execute(
                "UPDATE collections SET share_hash = ?, share_nonce = ? "
                "WHERE id = ? AND user_id = ?",
                (token_hash, nonce, collection_id, user_id),
            ).rowcount
        return bool(changed > 0)

    def delete_collection(self, user_id: int, collection_id: int) -> bool:
        """Delete a collection and its items (the papers stay). Its row is locked first,
        as every write of its items does (owns_collection): a save at the same moment
        waits, then finds no collection (it failed on the foreign key otherwise, adding to
        a collection this deleted)."""
        with self.write() as conn:
            if not self._owned(conn, user_id, collection_id, lock=True):
                return False
            conn.execute("DELETE FROM collection_items WHERE collection_id = ?", (collection_id,))
            gone = conn.execute(
                "DELETE FROM collections WHERE id = ? AND user_id = ?", (collection_id, user_id)
            ).rowcount
        return bool(gone > 0)

    # -- items ------------------------------------------------------------------

    def _owned(self, conn: Conn, user_id: int, collection_id: int, lock: bool = False) -> bool:
        """Whether the reader owns the collection; `lock`: and lock it for the write that
        follows (owns_collection)."""
        return owns_collection(conn, user_id, collection_id, self.dialect.lock_rows if lock else "")

    def add_items(
        self, user_id: int, collection_id: int, paper_ids: list[int], now: datetime
    ) -> int | None:
        """Append papers (by id) to a collection, those already in it left where they
        are; how many were new, or None when the reader owns no such collection."""
        with self.write() as conn:
            if not self._owned(conn, user_id, collection_id, lock=True):
                return None
            return add_items_in(conn, collection_id, paper_ids, now)

    def remove_item(self, user_id: int, collection_id: int, paper_id: int) -> bool:
        """Take a paper out of a collection the reader owns."""
        with self.write() as conn:
            if not self._owned(conn, user_id, collection_id, lock=True):
                return False
            gone = conn.execute(
                "DELETE FROM collection_items WHERE collection_id = ? AND paper_id = ?",
                (collection_id, paper_id),
            ).rowcount
        return bool(gone > 0)

    def clear_collection(self, user_id: int, collection_id: int) -> bool:
        """Empty a collection the reader owns (a profile's reset)."""
        with self.write() as conn:
            if not self._owned(conn, user_id, collection_id, lock=True):
                return False
            conn.execute("DELETE FROM collection_items WHERE collection_id = ?", (collection_id,))
        return True

    def set_note(self, user_id: int, collection_id: int, paper_id: int, note: str) -> bool:
        """Set the private note of an item; False when there is no such item of theirs."""
        with self.write() as conn:
            if not self._owned(conn, user_id, collection_id, lock=True):
                return False
            changed = conn.execute(
                "UPDATE collection_items SET note = ? WHERE collection_id = ? AND paper_id = ?",
                (note, collection_id, paper_id),
            ).rowcount
        return bool(changed > 0)

    def reorder(self, user_id: int, collection_id: int, paper_ids: list[int]) -> bool:
        """Put the listed papers first, in that order; the others follow in their
        present order. False when the reader owns no such collection."""
        with self.write() as conn:
            if not self._owned(conn, user_id, collection_id, lock=True):
                return False
            present = [
                int(row[0])
                for row in conn.execute(
                    "SELECT paper_id FROM collection_items WHERE collection_id = ? "
                    "ORDER BY position, paper_id",
                    (collection_id,),
                )
            ]
            listed = [pid for pid in dict.fromkeys(paper_ids) if pid in set(present)]
            order = listed + [pid for pid in present if pid not in set(listed)]
            conn.executemany(
                "UPDATE collection_items SET position = ? WHERE collection_id = ? AND paper_id = ?",
                [(index + 1, collection_id, pid) for index, pid in enumerate(order)],
            )
        return True

    def collection_items(self, collection_id: int) -> list[CollectionItem]:
        """A collection's papers in their order (the caller has checked who may see it)."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT p.*, i.note AS i_note, i.position AS i_position, i.added_at AS i_added "
                "FROM collection_items i JOIN papers p ON p.id = i.paper_id "
                "WHERE i.collection_id = ? ORDER BY i.position, p.id",
                (collection_id,),
            ).fetchall()
        return [
            CollectionItem(
                int(row["id"]),
                row_to_paper(row),
                row["i_note"],
                int(row["i_position"]),
                required_iso(row["i_added"]),
            )
            for row in rows
        ]

    def collection_paper_ids(self, user_id: int, collection_id: int) -> list[int] | None:
        """The paper ids of a collection the reader owns, in order; None when they own no
        such collection (the recommender's positives: no paper rows read)."""
        with self.read() as conn:
            if not self._owned(conn, user_id, collection_id):
                return None
            rows = conn.execute(
                "SELECT paper_id FROM collection_items WHERE collection_id = ? "
                "ORDER BY position, paper_id",
                (collection_id,),
            ).fetchall()
        return [int(row[0]) for row in rows]

    def first_collection_id(self, user_id: int) -> int | None:
        """The reader's first collection (the Reading list), if they have any yet."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT min(id) FROM collections WHERE user_id = ?", (user_id,)
            ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def saved_keys(self, user_id: int, keys: list[str]) -> set[str]:
        """Which of these papers the reader has in any collection."""
        found: set[str] = set()
        with self.read() as conn:
            for start in range(0, len(keys), IN_CHUNK):
                chunk = keys[start : start + IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                found.update(
                    row[0]
                    for row in conn.execute(
                        "SELECT DISTINCT p.key FROM collection_items i "
                        "JOIN collections c ON c.id = i.collection_id "
                        f"JOIN papers p ON p.id = i.paper_id WHERE c.user_id = ? "
                        f"AND p.key IN ({marks})",
                        (user_id, *chunk),
                    )
                )
        return found

    # -- the day's recommendations ----------------------------------------------------

    def day_list(self, user_id: int, collection_id: int, day: date) -> list[int] | None:
        """The papers kept as this profile's recommendations for `day`, in order; None
        when none were kept for that day (or the reader owns no such collection)."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT d.paper_id FROM for_you_days d JOIN collections c "
                "ON c.id = d.collection_id WHERE d.collection_id = ? AND c.user_id = ? "
                "AND d.day = ? ORDER BY d.position",
                (collection_id, user_id, day.isoformat()),
            ).fetchall()
        return [int(row[0]) for row in rows] or None

    def keep_day_list(
        self, user_id: int, collection_id: int, day: date, paper_ids: list[int]
    ) -> list[int]:
        """Keep `paper_ids` as the profile's list for `day` unless one was kept first
        (two first visits at once: the list kept first is the day's, and is returned);
        the lists of earlier days are dropped. Nothing is kept for a collection the
        reader does not own, nor for an empty list. The collection's row is locked first
        (dialect.lock_rows): on PostgreSQL two first visits at once both read "nothing
        kept" otherwise, and merged their lists into one."""
        with self.write() as conn:
            owned = conn.execute(
                "SELECT 1 FROM collections WHERE id = ? AND user_id = ?" + self.dialect.lock_rows,
                (collection_id, user_id),
            ).fetchone()
            if owned is None:
                return []
            held = [
                int(row[0])
                for row in conn.execute(
                    "SELECT paper_id FROM for_you_days WHERE collection_id = ? AND day = ? "
                    "ORDER BY position",
                    (collection_id, day.isoformat()),
                )
            ]
            if held:
                return held
            conn.execute(
                "DELETE FROM for_you_days WHERE collection_id = ? AND day != ?",
                (collection_id, day.isoformat()),
            )
            ordered = list(dict.fromkeys(paper_ids))
            conn.executemany(
                "INSERT INTO for_you_days (collection_id, day, position, paper_id) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(collection_id, day.isoformat(), i, pid) for i, pid in enumerate(ordered)],
            )
        return ordered

    def on_day_list(self, user_id: int, paper_id: int) -> bool:
        """Whether the paper is on one of the reader's kept /for-you lists."""
        with self.read() as conn:
            return (
                conn.execute(
                    "SELECT 1 FROM for_you_days d JOIN collections c ON c.id = d.collection_id "
                    "WHERE c.user_id = ? AND d.paper_id = ?",
                    (user_id, paper_id),
                ).fetchone()
                is not None
            )

    # -- feedback -----------------------------------------------------------------

    def set_feedback(
        self, user_id: int, paper_id: int, signal: Signal, reason: str, now: datetime
    ) -> None:
        """Record (or renew) a reader's signal on a paper."""
        if signal not in SIGNALS:
            raise ValueError(f"signal {signal!r} is not one of {', '.join(SIGNALS)}")
        with self.write() as conn:
            conn.execute(
                "INSERT INTO feedback (user_id, paper_id, signal, reason, at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, paper_id, signal) "
                "DO UPDATE SET reason = excluded.reason, at = excluded.at",
                (user_id, paper_id, signal, reason, iso(now)),
            )

    def mark_seen(self, user_id: int, paper_ids: list[int], reason: str, now: datetime) -> None:
        """Record that these papers were shown to the reader (kept from an earlier
        showing where there is one)."""
        with self.write() as conn:
            conn.executemany(
                "INSERT INTO feedback (user_id, paper_id, signal, reason, at) "
                "VALUES (?, ?, 'seen', ?, ?) ON CONFLICT (user_id, paper_id, signal) DO NOTHING",
                [(user_id, pid, reason, iso(now)) for pid in dict.fromkeys(paper_ids)],
            )

    def remove_feedback(self, user_id: int, paper_id: int, signal: Signal) -> bool:
        """Undo a signal."""
        with self.write() as conn:
            gone = conn.execute(
                "DELETE FROM feedback WHERE user_id = ? AND paper_id = ? AND signal = ?",
                (user_id, paper_id, signal),
            ).rowcount
        return bool(gone > 0)

    def feedback_of(self, user_id: int, limit: int = 500) -> list[Feedback]:
        """The signals a reader gave, newest first (not the papers marked seen because
        they were shown on /for-you or mailed: SHOWN_REASONS)."""
        marks = ",".join("?" * len(SHOWN_REASONS))
        with self.read() as conn:
            rows = conn.execute(
                "SELECT p.*, f.signal AS f_signal, f.reason AS f_reason, f.at AS f_at "
                "FROM feedback f JOIN papers p ON p.id = f.paper_id WHERE f.user_id = ? "
                f"AND NOT (f.signal = 'seen' AND f.reason IN ({marks})) "
                "ORDER BY f.at DESC, p.id DESC LIMIT ?",
                (user_id, *SHOWN_REASONS, limit),
            ).fetchall()
        return [
            Feedback(
                int(row["id"]),
                row_to_paper(row),
                row["f_signal"],
                row["f_reason"],
                required_iso(row["f_at"]),
            )
            for row in rows
        ]

    def feedback_ids(self, user_id: int) -> dict[int, set[str]]:
        """Every paper a reader gave a signal on, with the signals."""
        found: dict[int, set[str]] = {}
        with self.read() as conn:
            for paper_id, signal in conn.execute(
                "SELECT paper_id, signal FROM feedback WHERE user_id = ?", (user_id,)
            ):
                found.setdefault(int(paper_id), set()).add(signal)
        return found
