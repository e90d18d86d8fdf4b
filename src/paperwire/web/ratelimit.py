"""Rate limits: a sliding window per (action, client) kept in this process's memory.

Each worker counts for itself, so with N workers a client gets at most N times a limit;
the sign-in limit per email address is also checked in the store (see pages/api), which
all workers share."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

# (requests, seconds) per action.
LIMITS: dict[str, tuple[int, float]] = {
    "signin": (10, 600.0),
    "submit": (20, 600.0),
    "vote": (120, 60.0),
    "token": (10, 600.0),
    "subscribe": (10, 600.0),
    "import": (20, 600.0),
    # MCP tool calls (paperwire.mcp), per token owner or client address
    "agent": (300, 60.0),
}
MAX_CLIENTS = 100_000  # forget the oldest clients past this, so memory stays bounded


@dataclass
class RateLimiter:
    """Sliding-window limiter; `hit` says how long to wait (0 = allowed)."""

    limits: dict[str, tuple[int, float]] = field(default_factory=lambda: dict(LIMITS))
    clock: Callable[[], float] = time.monotonic
    _hits: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, action: str, client: str) -> float:
        """Count one request; returns 0 if allowed, else the seconds until it would be."""
        count, window = self.limits[action]
        now = self.clock()
        with self._lock:
            times = self._hits.get((action, client))
            if times is None:
                if len(self._hits) >= MAX_CLIENTS:
                    self._hits.pop(next(iter(self._hits)))
                times = self._hits[(action, client)] = deque()
            while times and times[0] <= now - window:
                times.popleft()
            if len(times) >= count:
                return times[0] + window - now
            times.append(now)
            return 0.0
