"""The sources' pipelines: configuring sources, running the due ones under the database
lease, their status, and whether the day's sources have run (digests wait for them)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from paperwire.deployment.search import IndexStatus, SearchPipelines
from paperwire.metrics import IMPORTED
from paperwire.models import Paper
from paperwire.sources.config import (
    SourceConfig,
    check_source,
    read_config,
    settings_name,
    settings_source,
)
from paperwire.sources.rules import rank_by_upvoted
from paperwire.sources.runner import FAILING_AFTER, LEASE, SourceOutcome, run_due
from paperwire.store.sources import SourceRecord, SourceRun


@dataclass
class SourceStatus:
    """A source as `sources list` and the status page show it."""

    record: SourceRecord
    config: SourceConfig
    runs: list[SourceRun]
    lag_days: int | None  # days between the cursor and today (None: nothing harvested yet)

    @property
    def failing(self) -> bool:
        """True after FAILING_AFTER failed runs in a row."""
        return self.record.failures >= FAILING_AFTER


@dataclass
class SourcesRun:
    """One pass of the sources: each source run, then the indexes."""

    outcomes: list[SourceOutcome]
    index: IndexStatus
    embedded: int = 0


class SourcePipelines(SearchPipelines):
    """Configured sources on a schedule."""

    def add_source(
        self, name: str, config: SourceConfig, interval_seconds: int = 3600
    ) -> SourceRecord:
        """Configure a source (due at once). ValueError for a bad name or a taken one."""
        check_source(name, interval_seconds)
        return self.store.add_source(
            name, config.kind, config.to_json(), interval_seconds, self.clock()
        )

    def remove_source(self, name: str) -> bool:
        """Forget a source (the papers it brought stay)."""
        return self.store.remove_source(name)

    def configure_sources(self) -> list[str]:
        """Add the sources the settings list and the store lacks; returns their names.
        ValueError names the bad entry."""
        added = []
        known = {record.name for record in self.store.list_sources()}
        for n, entry in enumerate(self.settings.sources, 1):
            name = settings_name(entry)
            if name in known:
                continue
            config, interval = settings_source(entry, f"settings sources[{n}]")
            self.add_source(name, config, interval)
            added.append(name)
        return added

    def sources(self, runs: int = 5) -> list[SourceStatus]:
        """Every source with its last runs and how far behind today its cursor is."""
        today = self.clock().date()
        found = []
        for record in self.store.list_sources():
            lag = (today - record.cursor).days if record.cursor else None
            config = read_config(record.config, f"source {record.name}")
            found.append(
                SourceStatus(record, config, self.store.source_runs(record.name, runs), lag)
            )
        return found

    @property
    def runner_id(self) -> str:
        """Who this deployment is when it holds a lease: host, process, object."""
        return f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"

    def run_sources(self, names: list[str] | None = None, embed: bool = False) -> SourcesRun | None:
        """Run the due sources (or the named ones, due or not) under the database lease,
        then bring the keyword index up to date and, with `embed`, embed the new papers:
        a digest composed after this sees the day's papers by words and by meaning.
        None when another runner holds the lease. KeyError for an unknown name."""
        if names:
            known = {record.name for record in self.store.list_sources()}
            for name in names:
                if name not in known:
                    raise KeyError(name)
        outcomes = run_due(
            self.store,
            self.arxiv,
            now=self.clock,
            holder=self.runner_id,
            lease_seconds=self.settings.sources_lease_seconds,
            names=names,
            rank=self.rank_by_upvoted,
        )
        if outcomes is None:
            return None
        IMPORTED.labels("source").inc(sum(o.records for o in outcomes))
        result = SourcesRun(outcomes, IndexStatus())
        if any(o.records for o in outcomes):
            result.index = self.catch_up()
            while embed:
                done = self.embed_step()
                result.embedded += done
                if done == 0:
                    break
        return result

    def rank_by_upvoted(self, papers: list[Paper], top_n: int) -> list[Paper]:
        """Rule "similar" with this deployment's model (sources.rules.rank_by_upvoted);
        RuntimeError without one. The model is not loaded for an empty day."""
        if not papers:
            return []
        return rank_by_upvoted(self.store, self.engine.embedder, papers, top_n)

    def sources_step(self) -> bool:
        """One step of the sources' schedule inside `serve` or `worker`."""
        self.run_sources(embed=self.settings.embed_in_background)
        return False

    def sources_settled(self) -> bool:
        """True when digests may be composed: no harvest is running, and every source
        that is not failing has run since today's digest hour (a digest never goes out
        before the day's papers are in)."""
        now = self.clock()
        if self.store.lease_holder(LEASE, now) is not None:
            return False
        since = now.replace(hour=self.settings.digest_hour, minute=0, second=0, microsecond=0)
        for record in self.store.list_sources():
            if record.failures >= FAILING_AFTER:
                continue
            if record.last_success_at is None or record.last_success_at < since:
                return False
        return True
