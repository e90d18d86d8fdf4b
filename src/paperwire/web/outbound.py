"""Calls out of a web request (a submission fetching its paper from arXiv) never tie up
the threads that serve reads: each user has at most one in flight, and a worker at most
MAX_IN_FLIGHT at once; past either, the request is refused at once instead of queued.
While arXiv was unreachable, forty submissions from two accounts held enough threads to
make a plain API read take 48 s."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from paperwire.errors import UserError

MAX_IN_FLIGHT = 4  # of the server's 40 request threads per worker


@dataclass
class Outbound:
    """Who has an outbound call in flight in this worker."""

    limit: int = MAX_IN_FLIGHT
    _users: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def claim(self, user_id: int) -> Iterator[None]:
        """Hold one outbound slot for a user while the block runs: UserError 429 when the
        user already holds one, 503 when the worker's slots are all taken."""
        with self._lock:
            if user_id in self._users:
                raise UserError("your previous submission is still being fetched; wait for it", 429)
            if len(self._users) >= self.limit:
                raise UserError("arXiv is slow to answer just now; try again in a minute", 503)
            self._users.add(user_id)
        try:
            yield
        finally:
            with self._lock:
                self._users.discard(user_id)
