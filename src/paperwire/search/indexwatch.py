"""Index folders deleted under a running server: noticed at the next search, rebuilt from
the store on a background thread, and searches answered meanwhile — by keywords from the
index still open (its files stay readable until it is closed), without the meaning leg
while the vector index is rebuilt. Meaning and hybrid search answered 500 until something
rebuilt them, and keyword search silently stopped taking in new papers."""

from __future__ import annotations

import logging
import threading

from paperwire.search.hybrid import SearchEngine
from paperwire.search.lexical import IndexBusyError, LexicalIndex
from paperwire.search.vectors import VectorIndex

log = logging.getLogger(__name__)


class IndexWatch:
    """One per process: starts at most one rebuild per index at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, threading.Thread] = {}

    def check(self, engine: SearchEngine) -> None:
        """Start rebuilding any of the engine's index folders that has disappeared."""
        lexical = engine.lexical
        if isinstance(lexical, LexicalIndex) and not lexical.path.exists():
            self._start("lexical", lambda: self._rebuild_lexical(engine, lexical))
        vectors = engine.vectors
        if isinstance(vectors, VectorIndex) and not vectors.path.exists():
            engine.vectors = None  # keyword results until the rebuilt index is in place
            self._start("vectors", lambda: self._rebuild_vectors(engine, vectors))

    def busy(self) -> bool:
        """True while a rebuild runs."""
        with self._lock:
            return any(thread.is_alive() for thread in self._running.values())

    def join(self, timeout: float | None = None) -> None:
        """Wait for running rebuilds (tests, shutdown)."""
        for thread in list(self._running.values()):
            thread.join(timeout)

    def _start(self, name: str, work: object) -> None:
        with self._lock:
            running = self._running.get(name)
            if running is not None and running.is_alive():
                return
            log.warning("the %s index folder is gone; rebuilding it from the store", name)
            thread = threading.Thread(
                target=work,  # type: ignore[arg-type]
                name=f"paperwire-rebuild-{name}",
                daemon=True,
            )
            self._running[name] = thread
            thread.start()

    @staticmethod
    def _rebuild_lexical(engine: SearchEngine, old: LexicalIndex) -> None:
        try:
            fresh = LexicalIndex(old.path)
            count = fresh.rebuild(engine.store)
        except (OSError, RuntimeError, ValueError, IndexBusyError) as exc:
            log.error("could not rebuild the keyword index at %s: %s", old.path, exc)
            return
        engine.lexical = fresh
        log.warning("keyword index rebuilt at %s: %d papers", old.path, count)

    @staticmethod
    def _rebuild_vectors(engine: SearchEngine, old: VectorIndex) -> None:
        try:
            fresh = VectorIndex(old.path, old.model)
            count = fresh.sync(engine.store)
        except (OSError, RuntimeError, ValueError) as exc:
            log.error("could not rebuild the vector index at %s: %s", old.path, exc)
            engine.vectors = old
            return
        engine.vectors = fresh
        log.warning("vector index rebuilt at %s: %d vectors", old.path, count)
