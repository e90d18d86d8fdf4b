"""The source tables (migration 0008): configured sources with their cursors, what each
day of a source gave, every run, and leases.

A lease is one row per job name: taking it is one upsert that succeeds only when the row
is free, expired or already ours, so of two workers (or two hosts on one PostgreSQL)
asking at once exactly one gets it; a holder that dies stops renewing and the lease
lapses after its term."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from paperwire.store.papers import find_row
from paperwire.store.sqlconn import Row, Tables, iso, parse_iso

DayStatus = str  # 'done' | 'suspect' | 'failed'


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """A configured source as stored."""

    id: int
    name: str
    kind: str
    config: str  # JSON (paperwire.sources.config reads it)
    cursor: date | None
    interval_seconds: int
    next_run_at: datetime | None
    failures: int
    last_success_at: datetime | None
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SourceDay:
    """What one day of a source gave."""

    day: date
    records: int
    stated: int | None
    status: DayStatus
    attempts: int
    note: str | None
    checked_at: datetime | None = None  # when it was last read

    @property
    def final(self) -> bool:
        """True when the day was complete and read after it was over (a day read while
        it was still today may have grown since)."""
        return (
            self.status == "done"
            and self.checked_at is not None
            and self.checked_at.date() > self.day
        )


@dataclass(frozen=True, slots=True)
class SourceRun:
    """One run of a source."""

    id: int
    source: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    records: int
    listed: int
    days: int
    error: str | None


@dataclass(frozen=True, slots=True)
class UpstreamListing:
    """A paper listed on a day's feed because a source listed it, with who did upstream."""

    key: str
    day: date
    source: str
    submitter: str | None


def _source(row: Row) -> SourceRecord:
    return SourceRecord(
        id=int(row["id"]),
        name=row["name"],
        kind=row["kind"],
        config=row["config"],
        cursor=date.fromisoformat(row["cursor"]) if row["cursor"] else None,
        interval_seconds=int(row["interval_seconds"]),
        next_run_at=parse_iso(row["next_run_at"]),
        failures=int(row["failures"]),
        last_success_at=parse_iso(row["last_success_at"]),
        last_error=row["last_error"],
        created_at=parse_iso(row["created_at"]) or datetime.min,
    )


def _run(row: Row) -> SourceRun:
    return SourceRun(
        id=int(row["id"]),
        source=row["name"],
        started_at=parse_iso(row["started_at"]) or datetime.min,
        finished_at=parse_iso(row["finished_at"]),
        status=row["status"],
        records=int(row["records"]),
        listed=int(row["listed"]),
        days=int(row["days"]),
        error=row["error"],
    )


class SourceTables(Tables):
    """Part of every Store: the methods over the source tables."""

    # -- configuration ----------------------------------------------------------

    def add_source(
        self, name: str, kind: str, config: str, interval_seconds: int, now: datetime
    ) -> SourceRecord:
        """Store a new source, due at once. ValueError when the name is taken (the
        unique name decides: two adds at once make one source)."""
        with self.write() as conn:
            row = conn.execute(
                "INSERT INTO sources (name, kind, config, interval_seconds, next_run_at, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING *",
                (name, kind, config, interval_seconds, iso(now), iso(now)),
            ).fetchone()
        if row is None:
            raise ValueError(f"source {name!r} exists already (remove it first)")
        return _source(row)

    def remove_source(self, name: str) -> bool:
        """Forget a source, its days and its runs (papers it brought stay)."""
        with self.write() as conn:
            return bool(conn.execute("DELETE FROM sources WHERE name = ?", (name,)).rowcount)

    def get_source(self, name: str) -> SourceRecord | None:
        """A source by name."""
        with self.read() as conn:
            row = conn.execute("SELECT * FROM sources WHERE name = ?", (name,)).fetchone()
        return _source(row) if row else None

    def list_sources(self) -> list[SourceRecord]:
        """Every source, by name."""
        with self.read() as conn:
            return [_source(r) for r in conn.execute("SELECT * FROM sources ORDER BY name")]

    # -- cursors and days -------------------------------------------------------

    def set_source_cursor(self, source_id: int, day: date | None) -> None:
        """Move the cursor: every day up to `day` is fully harvested."""
        with self.write() as conn:
            conn.execute(
                "UPDATE sources SET cursor = ? WHERE id = ?",
                (day.isoformat() if day else None, source_id),
            )

    def record_day(
        self,
        source_id: int,
        day: date,
        records: int,
        stated: int | None,
        status: DayStatus,
        note: str | None,
        now: datetime,
    ) -> SourceDay:
        """Note what a day gave (a day seen again counts one more attempt)."""
        with self.write() as conn:
            row = conn.execute(
                "INSERT INTO source_days (source_id, day, records, stated, status, attempts, "
                "note, checked_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?) "
                "ON CONFLICT (source_id, day) DO UPDATE SET records = excluded.records, "
                "stated = excluded.stated, status = excluded.status, note = excluded.note, "
                "checked_at = excluded.checked_at, attempts = source_days.attempts + 1 "
                "RETURNING *",
                (source_id, day.isoformat(), records, stated, status, note, iso(now)),
            ).fetchone()
        return _day(row)

    def source_days(self, source_id: int, since: date | None = None) -> list[SourceDay]:
        """The days recorded for a source (from `since` on), oldest first."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT * FROM source_days WHERE source_id = ? AND day >= ? ORDER BY day",
                (source_id, (since or date.min).isoformat()),
            ).fetchall()
        return [_day(r) for r in rows]

    # -- runs ---------------------------------------------------------------------

    def start_run(self, source_id: int, now: datetime) -> int:
        """Record a run as started; runs of this source left 'running' by a runner that
        died are marked 'interrupted' on the way. Returns the run's id."""
        with self.write() as conn:
            conn.execute(
                "UPDATE source_runs SET status = 'interrupted', finished_at = ? "
                "WHERE source_id = ? AND status = 'running'",
                (iso(now), source_id),
            )
            row = conn.execute(
                "INSERT INTO source_runs (source_id, started_at) VALUES (?, ?) RETURNING id",
                (source_id, iso(now)),
            ).fetchone()
        return int(row[0])

    def progress_run(self, run_id: int, records: int, listed: int, days: int) -> None:
        """Save a run's counts so far (a run killed later still shows what it did)."""
        with self.write() as conn:
            conn.execute(
                "UPDATE source_runs SET records = ?, listed = ?, days = ? WHERE id = ?",
                (records, listed, days, run_id),
            )

    def finish_run(
        self,
        run_id: int,
        status: str,
        error: str | None,
        now: datetime,
        next_run_at: datetime,
    ) -> None:
        """Close a run, and update its source: failures in a row, last success, last
        error, when it is next due."""
        ok = status in ("ok", "partial")
        with self.write() as conn:
            row = conn.execute(
                "UPDATE source_runs SET status = ?, error = ?, finished_at = ? WHERE id = ? "
                "RETURNING source_id",
                (status, error, iso(now), run_id),
            ).fetchone()
            if ok:
                conn.execute(
                    "UPDATE sources SET failures = 0, last_success_at = ?, last_error = ?, "
                    "next_run_at = ? WHERE id = ?",
                    (iso(now), error, iso(next_run_at), row[0]),
                )
            else:
                conn.execute(
                    "UPDATE sources SET failures = failures + 1, last_error = ?, "
                    "next_run_at = ? WHERE id = ?",
                    (error, iso(next_run_at), row[0]),
                )

    def source_runs(self, name: str | None = None, limit: int = 20) -> list[SourceRun]:
        """The latest runs (of one source, or all), newest first."""
        where, params = ("WHERE s.name = ?", (name, limit)) if name else ("", (limit,))
        with self.read() as conn:
            rows = conn.execute(
                "SELECT r.*, s.name FROM source_runs r JOIN sources s ON s.id = r.source_id "
                f"{where} ORDER BY r.id DESC LIMIT ?",
                params,
            ).fetchall()
        return [_run(r) for r in rows]

    # -- listing on the feed ----------------------------------------------------

    def list_upstream(self, listings: list[UpstreamListing], now: datetime) -> int:
        """List papers on the feed of the day a source listed them, attributed to the
        upstream submitter; a paper listed already stays where it is. Returns how many
        were added."""
        added = 0
        with self.write() as conn:
            for item in listings:
                row = find_row(conn, item.key)
                if row is None:
                    continue
                added += conn.execute(
                    "INSERT INTO submissions (paper_id, day, user_id, submitted_at, "
                    "upstream_source, upstream_submitter) VALUES (?, ?, NULL, ?, ?, ?) "
                    "ON CONFLICT (paper_id) DO NOTHING",
                    (row["id"], item.day.isoformat(), iso(now), item.source, item.submitter),
                ).rowcount
        return added

    # -- leases -------------------------------------------------------------------

    def take_lease(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take (or renew) the lease `name` until a time; False when another holder has
        it and it has not expired. One statement, so two takers cannot both win."""
        with self.write() as conn:
            row = conn.execute(
                "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
                "expires_at = excluded.expires_at "
                "WHERE leases.expires_at < ? OR leases.holder = excluded.holder "
                "RETURNING holder",
                (name, holder, iso(until), iso(now)),
            ).fetchone()
        return row is not None

    def release_lease(self, name: str, holder: str) -> None:
        """Give a lease back (only its holder can)."""
        with self.write() as conn:
            conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    def lease_holder(self, name: str, now: datetime) -> str | None:
        """Who holds a lease now (None when free or expired)."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT holder FROM leases WHERE name = ? AND expires_at >= ?", (name, iso(now))
            ).fetchone()
        return row[0] if row else None


def _day(row: Row) -> SourceDay:
    return SourceDay(
        day=date.fromisoformat(row["day"]),
        records=int(row["records"]),
        stated=None if row["stated"] is None else int(row["stated"]),
        status=row["status"],
        attempts=int(row["attempts"]),
        note=row["note"],
        checked_at=parse_iso(row["checked_at"]),
    )
