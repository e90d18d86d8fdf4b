"""The pace towards a host, kept for every thread and process that shares a store: arXiv
asks for one request every 3 seconds, which per-client pacing broke as soon as two
submissions ran at once (16 of 29 gaps were ~0 s). Each request first reserves the host's
next slot in the store (one atomic statement, Store.reserve_slot) and waits for it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from paperwire.ingest.fetch import FetchError
from paperwire.store.base import Store


@dataclass
class StorePacer:
    """Call it with a host name before each request to that host: it returns when this
    caller's slot has come. With `max_wait`, a slot further away than that is refused
    (FetchError) rather than waited for: a web request must not queue for a minute."""

    store: Store
    interval: float
    max_wait: float | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time

    def __call__(self, host: str) -> None:
        """Wait for `host`'s next slot (shared by all threads and processes)."""
        now = self.clock()
        slot = self.store.reserve_slot(host, self.interval, now)
        wait = slot - now
        if self.max_wait is not None and wait > self.max_wait:
            raise FetchError(f"{host} is busy: the next request slot is {wait:.0f} s away")
        if wait > 0:
            self.sleep(wait)
