"""Limits all workers share (migration 0007), each decided by one atomic statement, so
that fifty requests at once can never all read "under the limit" before any of them
counts: an upsert takes the row (SQLite's one writer; PostgreSQL's row lock on conflict)
and answers the count it made. The same holds for the pace towards a host: the statement
that reserves the next slot moves it on for everyone."""

from __future__ import annotations

from datetime import datetime, timedelta

from paperwire.store.sqlconn import Tables, iso

_HIT = (
    "INSERT INTO rate_limits (action, subject, window_start, hits) VALUES (?, ?, ?, 1) "
    "ON CONFLICT (action, subject) DO UPDATE SET "
    "hits = CASE WHEN rate_limits.window_start <= ? THEN 1 ELSE rate_limits.hits + 1 END, "
    "window_start = CASE WHEN rate_limits.window_start <= ? "
    "THEN excluded.window_start ELSE rate_limits.window_start END "
    "RETURNING hits"
)
_RESERVE = (
    "INSERT INTO host_pace (host, next_at) VALUES (?, ?) "
    "ON CONFLICT (host) DO UPDATE SET next_at = "
    "CASE WHEN host_pace.next_at < ? THEN ? ELSE host_pace.next_at + ? END "
    "RETURNING next_at"
)
_FORGET_AFTER = timedelta(days=2)  # longer than any window


class LimitTables(Tables):
    """Part of every Store: shared rate limits and host pacing."""

    def hit_limit(
        self, action: str, subject: str, count: int, window: timedelta, now: datetime
    ) -> bool:
        """Count one hit of `action` by `subject`; True while at most `count` hits fell
        in the window that opened at the first of them (a window ends `window` after it
        opened, and the next hit opens a new one). Atomic across threads and processes."""
        since = iso(now - window)
        with self.write() as conn:
            hits = int(
                conn.execute(_HIT, (action, subject[:320], iso(now), since, since)).fetchone()[0]
            )
            if hits == 1:  # a new window: now and then forget long-closed ones
                conn.execute(
                    "DELETE FROM rate_limits WHERE window_start < ?", (iso(now - _FORGET_AFTER),)
                )
        return hits <= count

    def reserve_slot(self, host: str, interval: float, now: float) -> float:
        """The time (seconds since the epoch) at which this caller may next ask `host`,
        at least `interval` seconds after the slot reserved before it, for every thread
        and process sharing the store. The caller waits until then."""
        with self.write() as conn:
            following = float(
                conn.execute(
                    _RESERVE, (host, now + interval, now, now + interval, interval)
                ).fetchone()[0]
            )
        return following - interval
