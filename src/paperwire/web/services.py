"""What the routes are given: the settings, the store, the search engine (built on first
use: loading the model takes seconds), the mailer, the arXiv client, the clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from paperwire.config import Settings
from paperwire.digest.mailer import Mailer, make_mailer
from paperwire.ingest.fetch import PoliteClient
from paperwire.search.embed import make_embedder
from paperwire.search.hybrid import SearchEngine
from paperwire.search.native import keyword_index, vector_index
from paperwire.store.base import Store
from paperwire.web.ratelimit import RateLimiter
from paperwire.web.security import signing_key


def utc_now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


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


@dataclass
class Services:
    """Everything a request handler may need, built once per process."""

    settings: Settings
    store: Store
    mailer: Mailer
    arxiv: PoliteClient
    clock: Callable[[], datetime] = utc_now
    limiter: RateLimiter = field(default_factory=RateLimiter)
    engine_factory: Callable[[], SearchEngine] | None = None
    _engine: SearchEngine | None = None
    _engine_lock: threading.Lock = field(default_factory=threading.Lock)
    _secret: str | None = None
    pages: PageCache = field(init=False)

    def __post_init__(self) -> None:
        self.pages = PageCache(self.settings.page_cache_seconds)

    @property
    def secret(self) -> str:
        """The key that signs CSRF tokens and unsubscribe links."""
        if self._secret is None:
            self._secret = signing_key(self.settings, self.store)
        return self._secret

    @property
    def engine(self) -> SearchEngine:
        """The search engine (the embedding model is loaded on first use)."""
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None:
                    factory = self.engine_factory or (lambda: default_engine(self))
                    self._engine = factory()
        return self._engine


def default_engine(services: Services) -> SearchEngine:
    """Keyword index, vector index and embedding model beside the store."""
    settings = services.settings
    embedder = make_embedder(settings.embedding_model, Path(settings.cache_dir), threads=1)
    store = services.store
    return SearchEngine(
        store,
        keyword_index(store, settings.keyword_index),
        vector_index(store, embedder.name),
        embedder,
    )


def build_services(
    settings: Settings,
    store: Store,
    mailer: Mailer | None = None,
    arxiv: PoliteClient | None = None,
) -> Services:
    """Services with the configured mailer and a polite arXiv client unless given."""
    if arxiv is None:
        import httpx

        arxiv = PoliteClient(httpx.Client(timeout=30.0))
    return Services(settings, store, mailer or make_mailer(settings), arxiv)
