"""Work that runs beside the web server, on a thread of its own: a step called again and
again until the server stops. A step that says there is more to do is called again at
once; otherwise after `interval` seconds. A step that fails is logged and tried again
later: one bad run never stops the schedule."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


class Periodic:
    """A background thread calling `step()`; ``step`` returns True when it has more to do."""

    def __init__(self, name: str, step: Callable[[], bool], interval: float) -> None:
        self.name = name
        self.step = step
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"paperwire-{name}", daemon=True)

    def start(self) -> None:
        """Begin in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Finish the current step and end."""
        self._stop.set()
        self._thread.join(timeout=30)

    @property
    def stopping(self) -> bool:
        """True once stop() was called (long steps check it between batches)."""
        return self._stop.is_set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            more = False
            try:
                more = self.step()
            except Exception:  # the schedule must outlive one bad run; the log has it
                log.exception("%s failed; trying again in %s s", self.name, self.interval)
            if not more:
                self._stop.wait(self.interval)


@contextmanager
def host_lock(path: Path, wait: bool = False) -> Iterator[bool]:
    """An exclusive lock held by at most one process of this host: without `wait`, yields
    False at once when another process holds it; with it, waits its turn. The operating
    system releases it when its holder dies, so a killed worker never leaves it taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
