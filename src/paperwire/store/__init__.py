"""Storage: the Store interface and its engines, chosen by a URL."""

from __future__ import annotations

from paperwire.store.base import Store, StoreError


def open_store(url: str) -> Store:
    """Open (creating and migrating if needed) the store a URL names:
    ``sqlite:///path.db`` or ``postgresql://user:pass@host/db``."""
    if url.startswith("sqlite:///"):
        from paperwire.store.sqlite import SQLiteStore

        return SQLiteStore(url)
    if url.startswith(("postgresql://", "postgres://")):
        raise StoreError("the PostgreSQL engine is not part of this build yet (sqlite:/// only)")
    raise StoreError(
        f"unknown database URL {url!r}: expected sqlite:///path.db or postgresql://..."
    )


__all__ = ["Store", "StoreError", "open_store"]
