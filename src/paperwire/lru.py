"""A map bounded by bytes, least recently used first out: the one shape of every
in-process cache that holds what readers can make large (rendered math, rendered
comments, whole pages), so that memory has a ceiling whatever they send."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

ENTRY_OVERHEAD = 200  # bytes counted per entry beside its value (key, tuple, dict slot)


class ByteLRU(Generic[K, V]):
    """Entries with a size each (the caller's measure of the value, in bytes), at most
    `max_bytes` in all: a put over the bound evicts the least recently used entries; a
    value larger than the whole bound is not kept. Safe to share between threads."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value, now the most recently used; None when absent."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            self._entries.move_to_end(key)
            return found[0]

    def put(self, key: K, value: V, size: int) -> None:
        """Keep `value` (replacing any under `key`), evicting the least recently used
        entries until the total is within the bound."""
        cost = size + ENTRY_OVERHEAD
        with self._lock:
            self._drop(key)
            if cost > self.max_bytes:
                return
            self._entries[key] = (value, cost)
            self._bytes += cost
            while self._bytes > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted

    def pop(self, key: K) -> None:
        """Forget one entry (if held)."""
        with self._lock:
            self._drop(key)

    def _drop(self, key: K) -> None:
        found = self._entries.pop(key, None)
        if found is not None:
            self._bytes -= found[1]

    def prune(self, drop: Callable[[V], bool]) -> int:
        """Forget every entry whose value `drop` says to (expired ones); how many."""
        with self._lock:
            gone = [key for key, (value, _) in self._entries.items() if drop(value)]
            for key in gone:
                self._drop(key)
            return len(gone)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def keys(self) -> list[K]:
        """The keys, least recently used first (a snapshot)."""
        with self._lock:
            return list(self._entries)

    @property
    def size_bytes(self) -> int:
        """The bytes held, entry overhead included."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)
