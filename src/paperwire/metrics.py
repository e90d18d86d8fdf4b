"""The process's Prometheus metrics (prometheus-client), served at /metrics: request
latency per route, search latency per leg, papers imported. Values that live in the
database (the outbox's depth, each source's last success) are read when scraped, so
every worker reports the same. Each worker process keeps its own counters and histograms
(a scraper sees the worker that answered: run one worker per port, or sum them)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from paperwire.store.base import Store

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REQUEST_SECONDS = Histogram(
    "paperwire_request_seconds",
    "Time to answer a request, by route template and method.",
    ["route", "method"],
    registry=REGISTRY,
)
SEARCH_SECONDS = Histogram(
    "paperwire_search_seconds",
    "Time spent in each leg of a search: keyword, meaning (query embedding and vector "
    "scan), and the whole search.",
    ["leg"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
IMPORTED = Counter(
    "paperwire_imported_records_total",
    "Records read into the store, by path (import, harvest, source).",
    ["via"],
    registry=REGISTRY,
)

CORPUS_BUILDS = Counter(
    "paperwire_recommend_corpus_builds_total",
    "Builds of the recommendations' corpus (every paper's features, held in memory).",
    registry=REGISTRY,
)


class StoreCollector(Collector):
    """Gauges read from the store when scraped."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        """The outbox by status and each source's state."""
        outbox = GaugeMetricFamily(
            "paperwire_outbox_messages",
            "Messages in the digest outbox, by status.",
            labels=["status"],
        )
        for status, count in sorted(self.store.outbox_counts().items()):
            outbox.add_metric([status], count)
        yield outbox
        success = GaugeMetricFamily(
            "paperwire_source_last_success_timestamp_seconds",
            "When each source last ran without failing (Unix time; 0: never).",
            labels=["source"],
        )
        failures = GaugeMetricFamily(
            "paperwire_source_failures", "Failed runs in a row, per source.", labels=["source"]
        )
        lag = GaugeMetricFamily(
            "paperwire_source_cursor_timestamp_seconds",
            "The day up to which each source is fully harvested (Unix time; 0: none yet).",
            labels=["source"],
        )
        for record in self.store.list_sources():
            last = record.last_success_at.timestamp() if record.last_success_at else 0.0
            success.add_metric([record.name], last)
            failures.add_metric([record.name], record.failures)
            cursor = 0.0
            if record.cursor is not None:
                cursor = datetime.combine(record.cursor, time(), UTC).timestamp()
            lag.add_metric([record.name], cursor)
        yield success
        yield failures
        yield lag


def exposition(store: Store) -> bytes:
    """Everything /metrics shows: this process's metrics, then the store's gauges."""
    scraped = CollectorRegistry(auto_describe=False)
    scraped.register(StoreCollector(store))
    return generate_latest(REGISTRY) + generate_latest(scraped)
