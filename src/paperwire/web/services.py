"""What the routes are given: the deployment (paperwire.deployment) with the web's own
state beside it — anonymous pages cached for a few seconds, and the rate limiter."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from paperwire.config import Settings
from paperwire.deployment import Deployment
from paperwire.digest.mailer import Mailer
from paperwire.ingest.fetch import MIN_INTERVAL_S, PoliteClient
from paperwire.pacing import StorePacer
from paperwire.search.hybrid import SearchEngine
from paperwire.store.base import Store
from paperwire.web.indexwatch import IndexWatch
from paperwire.web.outbound import Outbound
from paperwire.web.ratelimit import RateLimiter


@dataclass
class PageCache:
    """Rendered anonymous pages for a few seconds: the daily and trending pages are the
    same for every visitor who is not signed in. Cleared by any write of this process."""

    seconds: float
    clock: Callable[[], float] = time.monotonic
    max_entries: int = 2000
    _pages: dict[str, tuple[float, bytes, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: str) -> tuple[bytes, str] | None:
        """A cached body and media type, if fresh."""
        if self.seconds <= 0:
            return None
        found = self._pages.get(key)
        if found is None or found[0] < self.clock():
            return None
        return found[1], found[2]

    def put(self, key: str, body: bytes, media_type: str) -> None:
        """Keep a rendered page."""
        if self.seconds <= 0:
            return
        with self._lock:
            if len(self._pages) >= self.max_entries:
                self._pages.clear()
            self._pages[key] = (self.clock() + self.seconds, body, media_type)

    def clear(self) -> None:
        """Forget every page (after a vote, a submission, a hide)."""
        with self._lock:
            self._pages.clear()


class Services:
    """What request handlers are given, built once per process: the deployment (store,
    search engine, mailer, arXiv client, clock) and the web's own state (the page cache
    and the rate limiter)."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.limiter = RateLimiter()
        self.outbound = Outbound()
        self.indexes = IndexWatch()
        self.pages = PageCache(deployment.settings.page_cache_seconds)

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
    transport: httpx.BaseTransport | None = None, pace: Callable[[str], None] | None = None
) -> PoliteClient:
    """The arXiv client of the web: a reader is waiting on the page, so one attempt that
    gives up after SUBMIT_TIMEOUT_S seconds without an answer (the page then offers a
    retry and adding the paper by hand), not the importer's five patient retries, and no
    queueing for arXiv's pace (`pace`, shared by every worker, refuses a slot over 5 s away)."""
    client = httpx.Client(timeout=httpx.Timeout(SUBMIT_TIMEOUT_S, connect=3.0), transport=transport)
    return PoliteClient(client, max_retries=1, pace=pace)


def build_services(
    settings: Settings,
    store: Store,
    mailer: Mailer | None = None,
    arxiv: PoliteClient | None = None,
) -> Services:
    """Services over one store, with the configured mailer and a polite arXiv client
    unless given. The web embeds queries on one thread per request."""
    arxiv = arxiv or submission_client(pace=StorePacer(store, MIN_INTERVAL_S, max_wait=5.0))
    deployment = Deployment(settings, store=store, mailer=mailer, arxiv=arxiv, embed_threads=1)
    return Services(deployment)
