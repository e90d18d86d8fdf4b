"""Running the sources that are due, one runner at a time across every worker and host.

A runner first takes the "sources" lease in the database (renewed after every day it
harvests; a runner that dies stops renewing and the lease lapses), so two workers started
together make one harvest. Each source then harvests the days its cursor says are missing
(cursor.py), records each day and the run, lists the chosen papers on the feed
(rules.py) and moves its cursor only past complete days. A source whose upstream cannot
be reached is recorded as failed and tried again sooner (backoff), and the others run on:
one broken feed never stops the rest."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from paperwire.ingest.common import ParseError
from paperwire.ingest.fetch import FetchError, PoliteClient
from paperwire.querylang import QueryError
from paperwire.sources import arxiv, huggingface
from paperwire.sources.config import SourceConfig, read_config
from paperwire.sources.cursor import advance, days_to_harvest, first_day, judge, usual_count
from paperwire.sources.harvest import DayHarvest
from paperwire.sources.rules import Ranker, for_feed
from paperwire.store.base import Store, StoreError
from paperwire.store.sources import SourceDay, SourceRecord, UpstreamListing

log = logging.getLogger(__name__)

LEASE = "sources"
FAILING_AFTER = 3  # failed runs in a row before a source is shown as failing
MIN_RETRY_S = 60.0


@dataclass
class SourceOutcome:
    """What one run of one source did."""

    name: str
    status: str  # ok | partial | failed
    records: int = 0
    listed: int = 0
    days: int = 0
    cursor: date | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def error(self) -> str | None:
        """The problems in one line (None when there were none)."""
        return "; ".join(self.problems)[:2000] if self.problems else None


def _harvest(http: PoliteClient, store: Store, config: SourceConfig, day: date) -> DayHarvest:
    if config.kind == "huggingface":
        return huggingface.harvest_day(http, store, day)
    return arxiv.harvest_day(http, store, config.categories, day)


def retry_delay(interval_s: float, failures: int) -> timedelta:
    """When a failed source is tried again: after 1, 2, 4 ... minutes, never later than
    its usual interval."""
    return timedelta(seconds=min(interval_s, MIN_RETRY_S * 2 ** min(failures, 12)))


def run_source(
    store: Store,
    http: PoliteClient,
    record: SourceRecord,
    now: datetime,
    renew: Callable[[], object] = lambda: None,
    rank: Ranker | None = None,
) -> SourceOutcome:
    """Harvest one source's missing days (see the module's rule) and record the run."""
    outcome = SourceOutcome(record.name, "ok", cursor=record.cursor)
    run_id = store.start_run(record.id, now)
    try:
        config = read_config(record.config, f"source {record.name}")
        _harvest_days(store, http, record, config, now, outcome, run_id, renew, rank)
    except (FetchError, ParseError, StoreError, QueryError, ValueError, RuntimeError) as exc:
        outcome.problems.append(str(exc))
        outcome.status = "failed" if outcome.days == 0 else "partial"
    if outcome.status == "failed":
        next_run = now + retry_delay(record.interval_seconds, record.failures)
    else:
        next_run = now + timedelta(seconds=record.interval_seconds)
    store.finish_run(run_id, outcome.status, outcome.error, now, next_run)
    return outcome


def _harvest_days(
    store: Store,
    http: PoliteClient,
    record: SourceRecord,
    config: SourceConfig,
    now: datetime,
    outcome: SourceOutcome,
    run_id: int,
    renew: Callable[[], object],
    rank: Ranker | None,
) -> None:
    today = now.date()
    recorded: dict[date, SourceDay] = {d.day: d for d in store.source_days(record.id)}
    days = days_to_harvest(
        record.cursor, config.start, today, list(recorded.values()), config.backfill_days
    )
    for day in days:
        try:
            harvest = _harvest(http, store, config, day)
        except FetchError as exc:
            # Upstream cannot be reached: this day stays missing and the run stops here
            # (the days before it still move the cursor).
            store.record_day(record.id, day, 0, None, "failed", str(exc)[:500], now)
            recorded[day] = SourceDay(day, 0, None, "failed", 1, str(exc), now)
            outcome.problems.append(str(exc))
            outcome.status = "failed" if outcome.days == 0 else "partial"
            break
        prior = recorded.get(day)
        attempts = prior.attempts if prior is not None and prior.status != "done" else 0
        history = sorted(recorded.values(), key=lambda d: d.day)
        verdict = judge(
            day,
            harvest.records,
            harvest.stated,
            harvest.garbled,
            usual_count(history, day),
            attempts,
            today,
        )
        recorded[day] = store.record_day(
            record.id, day, harvest.records, harvest.stated, verdict.status, verdict.note, now
        )
        if verdict.status != "done":
            outcome.problems.append(f"{day} {verdict.status}: {verdict.note}")
            outcome.status = "partial"
        # What was read is kept and listed even on a suspect day: nothing is lost, and a
        # retry that finds more lists the rest.
        submitters = harvest.submitters
        chosen = for_feed(config, harvest.papers, day, rank)
        listings = [UpstreamListing(p.key, day, config.kind, submitters.get(p.key)) for p in chosen]
        outcome.listed += store.list_upstream(listings, now)
        outcome.records += harvest.records
        outcome.days += 1
        store.progress_run(run_id, outcome.records, outcome.listed, outcome.days)
        renew()
    first = first_day(record.cursor, config.start, today, config.backfill_days)
    moved = advance(record.cursor, first, today, list(recorded.values()))
    if moved != record.cursor:
        store.set_source_cursor(record.id, moved)
        outcome.cursor = moved


def due(record: SourceRecord, now: datetime) -> bool:
    """True when a source's next run time has come."""
    return record.next_run_at is None or record.next_run_at <= now


def run_due(
    store: Store,
    http: PoliteClient,
    *,
    now: Callable[[], datetime],
    holder: str,
    lease_seconds: float,
    names: list[str] | None = None,
    rank: Ranker | None = None,
) -> list[SourceOutcome] | None:
    """Run every due source (or the named ones, due or not) under the lease; None when
    another runner holds it. A source that fails is recorded and the others run on."""
    wanted = [
        record
        for record in store.list_sources()
        if (record.name in names if names is not None else due(record, now()))
    ]
    if not wanted:
        return []
    term = timedelta(seconds=lease_seconds)
    if not store.take_lease(LEASE, holder, now(), now() + term):
        return None

    def renew() -> None:
        store.take_lease(LEASE, holder, now(), now() + term)

    outcomes = []
    try:
        for listed in wanted:
            # Read again under the lease: a runner that just finished moved its cursor.
            record = store.get_source(listed.name)
            if record is None or (names is None and not due(record, now())):
                continue
            outcome = run_source(store, http, record, now(), renew, rank)
            if outcome.status == "failed":
                log.warning("source %s failed: %s", record.name, outcome.error)
            outcomes.append(outcome)
    finally:
        store.release_lease(LEASE, holder)
    return outcomes
