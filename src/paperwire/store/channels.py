"""The channel tables (migration 0013): chat and webhook targets, and their messages in
the digests' outbox.

Exactly once, as for digests: a channel's message is written to the outbox in the
transaction that records the channel's period as done (the `last_period` guard, and
UNIQUE (channel_id, period) behind it), so a second composition of a period is impossible
across concurrent and repeated runs. Senders then claim rows with a lease; a sender
killed mid-delivery leaves rows another run takes over when the lease ends. The mail
sender never claims a channel's row, nor a channel sender a mail.

A channel that keeps failing ends in the dead-letter state: its outbox row is 'failed'
(kept, with its last error), counted per channel by `channel_deliveries`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from paperwire.models import User
from paperwire.store.accounts import _user
from paperwire.store.sqlconn import Conn, Row, Tables, iso, parse_iso, required_iso

Selection = Literal["trending", "query", "collection", "for-you"]
SELECTIONS: tuple[Selection, ...] = ("trending", "query", "collection", "for-you")
TargetKind = Literal["apprise", "webhook"]


class ChannelCapError(ValueError):
    """A reader asked for a channel past the most a reader may have."""


@dataclass(frozen=True, slots=True)
class Channel:
    """A target that gets the papers of each period (its secrets still sealed)."""

    id: int
    name: str
    owner_id: int | None  # None: the operator's, instance-wide
    frequency: str
    selection: Selection
    query: str | None
    collection_id: int | None
    reader_id: int | None  # for-you: whose recommendations
    target_kind: TargetKind
    target_label: str
    target_sealed: str
    secret_sealed: str | None
    status: str
    created_at: datetime
    last_period: str | None
    covered_until: datetime | None


@dataclass(frozen=True, slots=True)
class NewChannel:
    """What adding a channel stores."""

    name: str
    owner_id: int | None
    frequency: str
    selection: Selection
    query: str | None
    collection_id: int | None
    reader_id: int | None
    target_kind: TargetKind
    target_label: str
    target_sealed: str
    secret_sealed: str | None


@dataclass(frozen=True, slots=True)
class ChannelMessage:
    """A channel's message of one period, waiting in (or claimed from) the outbox."""

    id: int
    channel_id: int
    period: str
    message_id: str
    message: bytes
    created_at: datetime
    attempts: int = 0


@dataclass(slots=True)
class ChannelDeliveries:
    """A channel's messages by outcome, and the latest problem."""

    sent: int = 0
    queued: int = 0
    dead: int = 0
    last_sent_at: datetime | None = None
    last_error: str | None = None


def _channel(row: Row) -> Channel:
    return Channel(
        id=row["id"],
        name=row["name"],
        owner_id=row["owner_id"],
        frequency=row["frequency"],
        selection=row["selection"],
        query=row["query"],
        collection_id=row["collection_id"],
        reader_id=row["reader_id"],
        target_kind=row["target_kind"],
        target_label=row["target_label"],
        target_sealed=row["target_sealed"],
        secret_sealed=row["secret_sealed"],
        status=row["status"],
        created_at=required_iso(row["created_at"]),
        last_period=row["last_period"],
        covered_until=parse_iso(row["covered_until"]),
    )


def _message(row: Row) -> ChannelMessage:
    return ChannelMessage(
        id=row["id"],
        channel_id=row["channel_id"],
        period=row["period"],
        message_id=row["message_id"],
        message=bytes(row["message"]),
        created_at=required_iso(row["created_at"]),
        attempts=row["attempts"],
    )


def _owner_clause(owner_id: int | None) -> tuple[str, tuple[int, ...]]:
    return ("owner_id IS NULL", ()) if owner_id is None else ("owner_id = ?", (owner_id,))


class ChannelTables(Tables):
    """Part of every Store: the methods over the channel tables."""

    # -- the channels -------------------------------------------------------------------

    def add_channel(self, new: NewChannel, now: datetime, cap: int | None = None) -> Channel:
        """Store a channel (due at once: no period done yet); ValueError when its owner
        (the operator, or one reader) already has a channel of that name (the unique
        name decides, ON CONFLICT); ChannelCapError when a reader has `cap` channels
        already (counted under the reader's lock, lock_reader: adds at once never pass
        it)."""
        with self.write() as conn:
            if new.owner_id is not None and cap is not None:
                self.lock_reader(conn, new.owner_id)
                held = conn.execute(
                    "SELECT count(*) FROM channels WHERE owner_id = ?", (new.owner_id,)
                ).fetchone()[0]
                if int(held) >= cap:
                    raise ChannelCapError(
                        f"you have {cap} channels already (the most a reader may have)"
                    )
            row = conn.execute(
                "INSERT INTO channels (name, owner_id, frequency, selection, query, "
                "collection_id, reader_id, target_kind, target_label, target_sealed, "
                "secret_sealed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING RETURNING *",
                (
                    new.name,
                    new.owner_id,
                    new.frequency,
                    new.selection,
                    new.query,
                    new.collection_id,
                    new.reader_id,
                    new.target_kind,
                    new.target_label,
                    new.target_sealed,
                    new.secret_sealed,
                    iso(now),
                ),
            ).fetchone()
        if row is None:
            raise ValueError(f"there is already a channel named {new.name!r}")
        return _channel(row)

    def get_channel(self, name: str, owner_id: int | None = None) -> Channel | None:
        """A channel by name: the operator's (owner None) or one reader's."""
        where, args = _owner_clause(owner_id)
        with self.read() as conn:
            row = conn.execute(
                f"SELECT * FROM channels WHERE {where} AND name = ?", (*args, name)
            ).fetchone()
        return _channel(row) if row else None

    def get_channel_by_id(self, channel_id: int) -> Channel | None:
        """A channel by id (for the sender)."""
        with self.read() as conn:
            row = conn.execute("SELECT * FROM channels WHERE id = ?", (channel_id,)).fetchone()
        return _channel(row) if row else None

    def channels_by_id(self, ids: list[int]) -> dict[int, Channel]:
        """Channels by id (a sender's batch)."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        with self.read() as conn:
            rows = conn.execute(f"SELECT * FROM channels WHERE id IN ({marks})", ids).fetchall()
        return {row["id"]: _channel(row) for row in rows}

    def list_channels(self, owner_id: int | None = None, everyone: bool = False) -> list[Channel]:
        """The operator's channels (or one reader's; `everyone`: all of them), by name."""
        where, args = ("1 = 1", ()) if everyone else _owner_clause(owner_id)
        with self.read() as conn:
            rows = conn.execute(
                f"SELECT * FROM channels WHERE {where} ORDER BY name, id", args
            ).fetchall()
        return [_channel(row) for row in rows]

    def count_channels(self, owner_id: int) -> int:
        """How many channels a reader has (they are capped per reader)."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT count(*) FROM channels WHERE owner_id = ?", (owner_id,)
            ).fetchone()
        return int(row[0])

    def remove_channel(self, name: str, owner_id: int | None = None) -> bool:
        """Forget a channel and its messages (queued ones are never sent)."""
        where, args = _owner_clause(owner_id)
        with self.write() as conn:
            found = conn.execute(
                f"SELECT id FROM channels WHERE {where} AND name = ?", (*args, name)
            ).fetchone()
            if found is None:
                return False
            conn.execute("DELETE FROM outbox WHERE channel_id = ?", (found[0],))
            conn.execute("DELETE FROM channels WHERE id = ?", (found[0],))
        return True

    def reader_by_email(self, email: str) -> User | None:
        """The account of an address, if there is one (a channel's For-you reader)."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT * FROM users WHERE email = ?", (email.strip().lower(),)
            ).fetchone()
        return _user(row) if row else None

    def collection_name(self, collection_id: int) -> str | None:
        """The name of any collection (a channel names one; the operator's may be any
        reader's, a reader's is checked to be their own before it is stored)."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT name FROM collections WHERE id = ?", (collection_id,)
            ).fetchone()
        return str(row[0]) if row else None

    # -- composing ------------------------------------------------------------------------

    def due_channels(self, frequency: str, period: str, after_id: int, limit: int) -> list[Channel]:
        """Active channels of a frequency that have not had `period` yet, by id."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT * FROM channels WHERE status = 'active' AND frequency = ? "
                "AND (last_period IS NULL OR last_period != ?) AND id > ? ORDER BY id LIMIT ?",
                (frequency, period, after_id, limit),
            ).fetchall()
        return [_channel(row) for row in rows]

    def record_channel_periods(
        self,
        period: str,
        covered_until: datetime,
        composed: list[tuple[int, tuple[str, bytes] | None]],
        now: datetime,
    ) -> list[bool]:
        """Record that these channels' period is composed — each with its message (message
        id, body) queued in the outbox, or none when there was nothing to send — in one
        transaction (a page of a run: one writer lock instead of one per channel). For
        each, False if another run recorded it first (then nothing is written for it)."""
        done: list[bool] = []
        with self.write() as conn:
            for channel_id, message in composed:
                taken = conn.execute(
                    "UPDATE channels SET last_period = ?, covered_until = ? "
                    "WHERE id = ? AND (last_period IS NULL OR last_period != ?)",
                    (period, iso(covered_until), channel_id, period),
                ).rowcount
                if taken and message is not None:
                    _queue(conn, channel_id, period, message, now)
                done.append(bool(taken))
        return done

    # -- sending --------------------------------------------------------------------------

    def claim_channel_messages(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[ChannelMessage]:
        """Take up to `limit` channel messages that are due (or whose sender's lease ran
        out); mail is left to the mail sender."""
        with self.write() as conn:
            rows = conn.execute(
                "UPDATE outbox SET status = 'sending', claimed_until = ?, attempts = attempts + 1 "
                "WHERE id IN (SELECT id FROM outbox WHERE channel_id IS NOT NULL AND "
                "((status = 'queued' AND next_attempt_at <= ?) OR "
                "(status = 'sending' AND claimed_until < ?)) "
                f"ORDER BY id LIMIT ?{self.dialect.skip_locked}) RETURNING *",
                (iso(lease_until), iso(now), iso(now), limit),
            ).fetchall()
        return [_message(row) for row in sorted(rows, key=lambda r: r["id"])]

    def mark_channel_sent(self, outbox_id: int, now: datetime) -> None:
        """The target accepted a channel message."""
        with self.write() as conn:
            conn.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, claimed_until = NULL, "
                "last_error = NULL WHERE id = ? AND channel_id IS NOT NULL",
                (iso(now), outbox_id),
            )

    def mark_channel_retry(self, outbox_id: int, next_attempt: datetime, error: str) -> None:
        """A failure worth retrying: try again at `next_attempt`."""
        with self.write() as conn:
            conn.execute(
                "UPDATE outbox SET status = 'queued', next_attempt_at = ?, claimed_until = NULL, "
                "last_error = ? WHERE id = ? AND channel_id IS NOT NULL",
                (iso(next_attempt), error[:500], outbox_id),
            )

    def mark_channel_dead(self, outbox_id: int, error: str) -> None:
        """A message given up on: the dead-letter state (kept, with its error)."""
        with self.write() as conn:
            conn.execute(
                "UPDATE outbox SET status = 'failed', claimed_until = NULL, last_error = ? "
                "WHERE id = ? AND channel_id IS NOT NULL",
                (error[:500], outbox_id),
            )

    def requeue_dead_channel_messages(self, channel_id: int | None, now: datetime) -> int:
        """Give dead-lettered messages another full round of attempts from now
        (`channels retry`): one channel's (`channel_id`), or every channel's (None).
        Their last error stays until an attempt succeeds. Returns how many."""
        where, args = ("", ()) if channel_id is None else (" AND channel_id = ?", (channel_id,))
        with self.write() as conn:
            changed = conn.execute(
                "UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = ?, "
                "claimed_until = NULL WHERE channel_id IS NOT NULL AND status = 'failed'" + where,
                (iso(now), *args),
            ).rowcount
        return int(changed)

    def channel_deliveries(self) -> dict[int, ChannelDeliveries]:
        """Per channel: messages sent, waiting (queued or being sent) and dead, the last
        send and the latest error."""
        found: dict[int, ChannelDeliveries] = {}
        with self.read() as conn:
            for row in conn.execute(
                "SELECT channel_id, status, count(*), max(sent_at) FROM outbox "
                "WHERE channel_id IS NOT NULL GROUP BY channel_id, status"
            ):
                got = found.setdefault(row[0], ChannelDeliveries())
                if row[1] == "sent":
                    got.sent, got.last_sent_at = row[2], parse_iso(row[3])
                elif row[1] == "failed":
                    got.dead = row[2]
                else:
                    got.queued += row[2]
            for row in conn.execute(
                "SELECT o.channel_id, o.last_error FROM outbox o WHERE o.id IN ("
                "SELECT max(id) FROM outbox WHERE channel_id IS NOT NULL "
                "AND last_error IS NOT NULL GROUP BY channel_id)"
            ):
                found.setdefault(row[0], ChannelDeliveries()).last_error = row[1]
        return found

    def channel_messages(
        self, channel_id: int, limit: int = 10
    ) -> list[tuple[ChannelMessage, str, str | None]]:
        """A channel's latest messages with their status and last error, newest first."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT * FROM outbox WHERE channel_id = ? ORDER BY id DESC LIMIT ?",
                (channel_id, limit),
            ).fetchall()
        return [(_message(row), row["status"], row["last_error"]) for row in rows]

    def channel_outbox_counts(self) -> dict[str, int]:
        """Channel messages in the outbox by status ('failed': dead letters)."""
        with self.read() as conn:
            return {
                row[0]: row[1]
                for row in conn.execute(
                    "SELECT status, count(*) FROM outbox WHERE channel_id IS NOT NULL "
                    "GROUP BY status"
                )
            }


def _queue(
    conn: Conn, channel_id: int, period: str, message: tuple[str, bytes], now: datetime
) -> None:
    conn.execute(
        "INSERT INTO outbox (channel_id, period, recipient, message_id, message, "
        "next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (channel_id, period, f"channel:{channel_id}", message[0], message[1], iso(now), iso(now)),
    )
