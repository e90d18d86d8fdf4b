"""The digest tables (migration 0004): subscriptions with double opt-in,
their saved searches, and the outbox.

Exactly once, in two steps: a digest is composed and written to the outbox in the same
transaction that records the subscription's period as done (UNIQUE (subscription,
period) makes a second composition impossible); senders then claim rows with a lease, so
a sender killed mid-send leaves rows that another run takes over when the lease ends."""

from __future__ import annotations

from datetime import UTC, datetime

from paperwire.models import OutboxItem, Paper, SavedSearch, Subscription
from paperwire.store.rows import row_to_paper
from paperwire.store.sqlconn import Conn, Row, Tables, iso, parse_iso

PAUSE_AFTER_FAILURES = 3


_parse = parse_iso


class DigestTables(Tables):
    """Part of every Store: the methods over the digest tables."""

    @staticmethod
    def _subscription(conn: Conn, row: Row) -> Subscription:
        searches = [
            SavedSearch(r["query"], r["mode"], r["category"], r["year_from"], r["year_to"])
            for r in conn.execute(
                "SELECT * FROM saved_searches WHERE subscription_id = ? ORDER BY id", (row["id"],)
            )
        ]
        return Subscription(
            id=row["id"],
            email=row["email"],
            frequency=row["frequency"],
            trending=bool(row["trending"]),
            searches=searches,
            status=row["status"],
            created_at=_parse(row["created_at"]) or datetime.now(UTC),
            confirmed_at=_parse(row["confirmed_at"]),
            last_period=row["last_period"],
            covered_until=_parse(row["covered_until"]),
            user_id=row["user_id"],
            recommended=bool(row["recommended"]),
            profile_id=row["profile_id"],
        )

    # -- subscribing ------------------------------------------------------------

    def add_subscription(
        self,
        subscription: Subscription,
        confirm_token_hash: str | None,
        confirm_expires: datetime | None,
    ) -> int:
        """Store a new subscription (pending, or active when the address is already
        verified) with its saved searches; returns its id. Expired pending sign-ups are
        removed on the way."""
        with self.write() as conn:
            conn.execute(
                "DELETE FROM subscriptions WHERE status = 'pending' AND confirm_expires_at < ?",
                (iso(subscription.created_at),),
            )
            row = conn.execute(
                "INSERT INTO subscriptions (email, user_id, frequency, trending, recommended, "
                "profile_id, status, confirm_token_hash, confirm_expires_at, created_at, "
                "confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    subscription.email,
                    subscription.user_id,
                    subscription.frequency,
                    int(subscription.trending),
                    int(subscription.recommended),
                    subscription.profile_id,
                    subscription.status,
                    confirm_token_hash,
                    iso(confirm_expires) if confirm_expires else None,
                    iso(subscription.created_at),
                    iso(subscription.confirmed_at) if subscription.confirmed_at else None,
                ),
            ).fetchone()
            self._save_searches(conn, int(row[0]), subscription.searches)
            return int(row[0])

    @staticmethod
    def _save_searches(conn: Conn, sid: int, searches: list[SavedSearch]) -> None:
        conn.execute("DELETE FROM saved_searches WHERE subscription_id = ?", (sid,))
        conn.executemany(
            "INSERT INTO saved_searches (subscription_id, query, mode, category, year_from, "
            "year_to) VALUES (?, ?, ?, ?, ?, ?)",
            [(sid, s.query, s.mode, s.category, s.year_from, s.year_to) for s in searches],
        )

    def confirm_subscription(self, token_hash: str, now: datetime) -> Subscription | None:
        """Spend a confirmation link: the subscription, now active; None if the link is
        unknown, used or expired."""
        with self.write() as conn:
            row = conn.execute(
                "UPDATE subscriptions SET status = 'active', confirmed_at = ?, "
                "confirm_token_hash = NULL, confirm_expires_at = NULL "
                "WHERE confirm_token_hash = ? AND status = 'pending' AND confirm_expires_at > ? "
                "RETURNING *",
                (iso(now), token_hash, iso(now)),
            ).fetchone()
            return self._subscription(conn, row) if row else None

    def get_subscription(self, subscription_id: int) -> Subscription | None:
        """A subscription by id."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT * FROM subscriptions WHERE id = ?", (subscription_id,)
            ).fetchone()
            return self._subscription(conn, row) if row else None

    def subscriptions_of(self, email: str) -> list[Subscription]:
        """The confirmed subscriptions of an address (for its owner's account page)."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT * FROM subscriptions WHERE email = ? AND status != 'pending' ORDER BY id",
                (email.strip().lower(),),
            ).fetchall()
            return [self._subscription(conn, row) for row in rows]

    def update_subscription(
        self,
        subscription_id: int,
        *,
        frequency: str,
        trending: bool,
        searches: list[SavedSearch],
        recommended: bool = False,
        profile_id: int | None = None,
    ) -> bool:
        """Change what a subscription receives (and resume it if it was paused for
        bounces: changing it is asking for it). Never resubscribes an unsubscribed
        address: that takes a new sign-up and its confirmation."""
        with self.write() as conn:
            changed = conn.execute(
                "UPDATE subscriptions SET frequency = ?, trending = ?, recommended = ?, "
                "profile_id = ?, permanent_failures = 0, "
                "status = CASE WHEN status IN ('pending', 'unsubscribed') THEN status "
                "ELSE 'active' END "
                "WHERE id = ?",
                (frequency, int(trending), int(recommended), profile_id, subscription_id),
            ).rowcount
            if changed:
                self._save_searches(conn, subscription_id, searches)
        return bool(changed > 0)

    def unsubscribe(self, subscription_id: int) -> bool:
        """Stop a subscription (queued digests for it are not sent)."""
        with self.write() as conn:
            changed = conn.execute(
                "UPDATE subscriptions SET status = 'unsubscribed' WHERE id = ?",
                (subscription_id,),
            ).rowcount
            conn.execute(
                "UPDATE outbox SET status = 'failed', last_error = 'unsubscribed' "
                "WHERE subscription_id = ? AND status = 'queued'",
                (subscription_id,),
            )
        return bool(changed > 0)

    # -- composing --------------------------------------------------------------

    def due_subscriptions(
        self, frequency: str, period: str, after_id: int, limit: int
    ) -> list[Subscription]:
        """Active subscriptions of a frequency that have not had `period` yet, by id."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT * FROM subscriptions WHERE status = 'active' AND frequency = ? "
                "AND (last_period IS NULL OR last_period != ?) AND id > ? ORDER BY id LIMIT ?",
                (frequency, period, after_id, limit),
            ).fetchall()
            return [self._subscription(conn, row) for row in rows]

    def papers_added(
        self, start: datetime, end: datetime, limit: int
    ) -> list[tuple[int, datetime, Paper]]:
        """Confirmed papers added to the store in [start, end): (id, added at, Paper),
        oldest first."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT * FROM papers WHERE created_at >= ? AND created_at < ? "
                "AND confirmed = 1 ORDER BY created_at, id LIMIT ?",
                (iso(start), iso(end), limit),
            ).fetchall()
        return [(row["id"], _parse(row["created_at"]) or start, row_to_paper(row)) for row in rows]

    def record_digest(
        self,
        subscription_id: int,
        period: str,
        covered_until: datetime,
        message: OutboxItem | None,
        seen: tuple[int, list[int]] | None = None,
    ) -> bool:
        """Record that a subscription's period is composed — with its message in the
        outbox, or with none when the digest was empty. False if it was already.
        `seen` (reader id, paper ids): the recommendations the message carries, marked
        seen by that reader in the same transaction, so they are never recommended
        again, and exactly when the message is queued."""
        with self.write() as conn:
            done = conn.execute(
                "UPDATE subscriptions SET last_period = ?, covered_until = ? "
                "WHERE id = ? AND (last_period IS NULL OR last_period != ?)",
                (period, iso(covered_until), subscription_id, period),
            ).rowcount
            if not done:
                return False
            if message is not None:
                conn.execute(
                    "INSERT INTO outbox (subscription_id, period, recipient, message_id, message, "
                    "next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        subscription_id,
                        period,
                        message.recipient,
                        message.message_id,
                        message.message,
                        iso(message.created_at),
                        iso(message.created_at),
                    ),
                )
                if seen is not None and seen[1]:
                    conn.executemany(
                        "INSERT INTO feedback (user_id, paper_id, signal, reason, at) "
                        "VALUES (?, ?, 'seen', 'digest', ?) "
                        "ON CONFLICT (user_id, paper_id, signal) DO NOTHING",
                        [(seen[0], pid, iso(covered_until)) for pid in seen[1]],
                    )
        return True

    # -- sending ----------------------------------------------------------------

    def claim_outbox(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxItem]:
        """Take up to `limit` mail messages that are due (or whose sender's lease ran out);
        channel messages are the channel sender's (store/channels.py)."""
        with self.write() as conn:
            rows = conn.execute(
                "UPDATE outbox SET status = 'sending', claimed_until = ?, attempts = attempts + 1 "
                "WHERE id IN (SELECT id FROM outbox WHERE channel_id IS NULL AND "
                "((status = 'queued' AND next_attempt_at <= ?) OR "
                "(status = 'sending' AND claimed_until < ?)) "
                f"ORDER BY id LIMIT ?{self.dialect.skip_locked}) RETURNING *",
                (iso(lease_until), iso(now), iso(now), limit),
            ).fetchall()
        return [
            OutboxItem(
                id=row["id"],
                subscription_id=row["subscription_id"],
                period=row["period"],
                recipient=row["recipient"],
                message_id=row["message_id"],
                message=bytes(row["message"]),
                created_at=_parse(row["created_at"]) or now,
                attempts=row["attempts"],
            )
            for row in sorted(rows, key=lambda r: r["id"])
        ]

    def mark_sent(self, outbox_id: int, now: datetime) -> None:
        """A message was accepted by the SMTP server."""
        with self.write() as conn:
            row = conn.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, claimed_until = NULL, "
                "last_error = NULL WHERE id = ? RETURNING subscription_id",
                (iso(now), outbox_id),
            ).fetchone()
            if row:
                conn.execute(
                    "UPDATE subscriptions SET permanent_failures = 0 WHERE id = ?", (row[0],)
                )

    def mark_retry(self, outbox_id: int, next_attempt: datetime, error: str) -> None:
        """A temporary failure: try again at `next_attempt`."""
        with self.write() as conn:
            conn.execute(
                "UPDATE outbox SET status = 'queued', next_attempt_at = ?, claimed_until = NULL, "
                "last_error = ? WHERE id = ?",
                (iso(next_attempt), error[:500], outbox_id),
            )

    def mark_failed(self, outbox_id: int, error: str, permanent: bool) -> bool:
        """A message that will not be sent; a permanent refusal counts against its
        subscription, which is paused after PAUSE_AFTER_FAILURES in a row. Returns True
        when the subscription was paused."""
        with self.write() as conn:
            row = conn.execute(
                "UPDATE outbox SET status = 'failed', claimed_until = NULL, last_error = ? "
                "WHERE id = ? RETURNING subscription_id",
                (error[:500], outbox_id),
            ).fetchone()
            if not row or not permanent:
                return False
            paused = conn.execute(
                "UPDATE subscriptions SET permanent_failures = permanent_failures + 1, "
                "status = CASE WHEN permanent_failures + 1 >= ? AND status = 'active' "
                "THEN 'paused' ELSE status END WHERE id = ? RETURNING status",
                (PAUSE_AFTER_FAILURES, row[0]),
            ).fetchone()
        return bool(paused and paused[0] == "paused")

    def outbox_counts(self) -> dict[str, int]:
        """Mail in the outbox by status (channel messages: `channel_outbox_counts`)."""
        with self.read() as conn:
            return {
                row[0]: row[1]
                for row in conn.execute(
                    "SELECT status, count(*) FROM outbox WHERE channel_id IS NULL GROUP BY status"
                )
            }
