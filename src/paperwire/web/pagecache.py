"""Anonymous pages kept for a few seconds: the daily and trending pages, and a paper's
page, are the same for every visitor who is not signed in.

Three bounds, each against what a reader can send (issue 25):

- the key is the page's path and the parameters the page reads, as the route parsed
  them (web/responses.py), so ``?cb=1``, ``?cb=2`` … are one entry, not one each (2,000
  of them grew the server by 600 MB);
- the pages are held in a byte-bounded LRU (``page_cache_bytes``), and expired pages
  are swept once per lifetime, not kept until the next write;
- single flight: N requests that miss one key at once wait for one build (6 concurrent
  misses of a slow home page were 6 builds and 65 s).

Any write of this process clears it (a vote, a comment, a hide); a page built while a
write happened is not kept (it may hold what the write changed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.responses import Response

from paperwire.lru import ByteLRU

MEDIA_TYPE = "text/html; charset=utf-8"
WAIT_S = 30.0  # a request waits this long for another's build of its page, then builds


@dataclass(frozen=True)
class Page:
    """A rendered page and when it stops being served."""

    body: bytes
    media_type: str
    expires: float


@dataclass
class _Flight:
    """One build of a page under way: the requests that missed it too wait on `done`."""

    done: threading.Event = field(default_factory=threading.Event)
    page: Page | None = None


class PageCache:
    """Rendered anonymous pages for `seconds`, at most `max_bytes` of them (bodies plus a
    fixed overhead per entry), least recently used out first. 0 seconds: off."""

    def __init__(
        self,
        seconds: float,
        max_bytes: int = 64 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self.builds = 0  # pages built through serve() (tests and the bench read it)
        self._pages: ByteLRU[str, Page] = ByteLRU(max_bytes)
        self._flights: dict[str, _Flight] = {}
        self._lock = threading.Lock()
        self._generation = 0  # bumped by clear(): a build that saw an older one is not kept
        self._swept = clock()

    @property
    def size_bytes(self) -> int:
        """The bytes held."""
        return self._pages.size_bytes

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: str) -> tuple[bytes, str] | None:
        """A cached body and media type, if fresh."""
        if self.seconds <= 0:
            return None
        page = self._pages.get(key)
        if page is None:
            return None
        if page.expires < self.clock():
            self._pages.pop(key)
            return None
        return page.body, page.media_type

    def put(self, key: str, body: bytes, media_type: str = MEDIA_TYPE) -> None:
        """Keep a rendered page (and sweep out expired ones, once per lifetime)."""
        if self.seconds <= 0:
            return
        now = self.clock()
        if now - self._swept >= self.seconds:
            self._swept = now
            self._pages.prune(lambda page: page.expires < now)
        self._pages.put(key, Page(body, media_type, now + self.seconds), len(body) + len(key))

    def serve(self, key: str, build: Callable[[], Response]) -> Response:
        """The page under `key`: from the cache, from a build another request is running
        (waited for), or built here and kept when it is a 200."""
        if self.seconds <= 0:
            return build()
        hit = self.get(key)
        if hit is not None:
            return Response(hit[0], media_type=hit[1])
        with self._lock:
            hit = self.get(key)
            flight = self._flights.get(key)
            leader = hit is None and flight is None
            if leader:
                flight = self._flights[key] = _Flight()
            generation = self._generation
        if hit is not None:
            return Response(hit[0], media_type=hit[1])
        assert flight is not None
        if not leader:
            if flight.done.wait(WAIT_S) and flight.page is not None:
                return Response(flight.page.body, media_type=flight.page.media_type)
            return build()  # the other build failed, or its answer is not one to share
        try:
            with self._lock:
                self.builds += 1
            response = build()
            if response.status_code == 200:
                body = bytes(response.body)
                flight.page = Page(body, MEDIA_TYPE, 0.0)
                with self._lock:  # not kept when a write cleared the cache meanwhile
                    if generation == self._generation:
                        self.put(key, body, MEDIA_TYPE)
            return response
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()

    def clear(self) -> None:
        """Forget every page (after a vote, a submission, a hide)."""
        with self._lock:
            self._generation += 1
            self._pages.clear()
