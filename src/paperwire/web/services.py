"""What the routes are given: the deployment (paperwire.deployment) with the web's own
state beside it — anonymous pages cached for a few seconds (web/pagecache.py), and the
rate limiter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx

from paperwire.config import Settings
from paperwire.deployment import Deployment
from paperwire.digest.mailer import Mailer
from paperwire.ingest.fetch import MIN_INTERVAL_S, PoliteClient, Upstreams, upstreams_of
from paperwire.pacing import StorePacer
from paperwire.search.hybrid import SearchEngine
from paperwire.search.indexwatch import IndexWatch
from paperwire.store.base import Store
from paperwire.web.outbound import Outbound
from paperwire.web.pagecache import PageCache
from paperwire.web.ratelimit import RateLimiter


class Services:
    """What request handlers are given, built once per process: the deployment (store,
    search engine, mailer, arXiv client, clock) and the web's own state (the page cache
    and the rate limiter)."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.limiter = RateLimiter()
        self.outbound = Outbound()
        self.indexes = IndexWatch()
        settings = deployment.settings
        self.pages = PageCache(settings.page_cache_seconds, settings.page_cache_bytes)

    @property
    def settings(self) -> Settings:
        """The deployment's settings."""
        return self.deployment.settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        self.deployment.settings = settings

    @property
    def store(self) -> Store:
        """The store (for the use cases; routes go through web.usecases)."""
        return self.deployment.store

    @property
    def mailer(self) -> Mailer:
        """Sign-in links and confirmations go out through it."""
        return self.deployment.mailer

    @mailer.setter
    def mailer(self, mailer: Mailer) -> None:
        self.deployment.mailer = mailer

    @property
    def arxiv(self) -> PoliteClient:
        """The client submissions fetch arXiv with."""
        return self.deployment.arxiv

    @arxiv.setter
    def arxiv(self, client: PoliteClient) -> None:
        self.deployment.arxiv = client

    @property
    def secret(self) -> str:
        """The key that signs CSRF tokens and unsubscribe links."""
        return self.deployment.secret

    @property
    def engine(self) -> SearchEngine:
        """The search engine (the embedding model is loaded on first use)."""
        return self.deployment.engine

    @property
    def clock(self) -> Callable[[], datetime]:
        """The time source (tests set their own)."""
        return self.deployment.clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime]) -> None:
        self.deployment.clock = clock

    @property
    def engine_factory(self) -> Callable[[], SearchEngine] | None:
        """What builds the engine on first use (tests set one without the model)."""
        return self.deployment.engine_factory

    @engine_factory.setter
    def engine_factory(self, factory: Callable[[], SearchEngine] | None) -> None:
        self.deployment.engine_factory = factory


SUBMIT_TIMEOUT_S = 5.0


def submission_client(
    transport: httpx.BaseTransport | None = None,
    pace: Callable[[str], None] | None = None,
    upstreams: Upstreams | None = None,
) -> PoliteClient:
    """The arXiv client of the web: a reader is waiting on the page, so one attempt that
    gives up after SUBMIT_TIMEOUT_S seconds without an answer (the page then offers a
    retry and adding the paper by hand), not the importer's five patient retries, and no
    queueing for arXiv's pace (`pace`, shared by every worker, refuses a slot over 5 s away)."""
    client = httpx.Client(timeout=httpx.Timeout(SUBMIT_TIMEOUT_S, connect=3.0), transport=transport)
    return PoliteClient(client, max_retries=1, pace=pace, upstreams=upstreams or Upstreams())


def build_services(
    settings: Settings,
    store: Store,
    mailer: Mailer | None = None,
    arxiv: PoliteClient | None = None,
) -> Services:
    """Services over one store, with the configured mailer and a polite arXiv client
    unless given. The web embeds queries on one thread per request."""
    arxiv = arxiv or submission_client(
        pace=StorePacer(store, MIN_INTERVAL_S, max_wait=5.0), upstreams=upstreams_of(settings)
    )
    deployment = Deployment(settings, store=store, mailer=mailer, arxiv=arxiv, embed_threads=1)
    return Services(deployment)
