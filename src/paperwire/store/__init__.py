"""Storage: the Store interface and its engines, chosen by a URL."""

from __future__ import annotations

from pathlib import Path

from paperwire.extras import require
from paperwire.store.base import Store, StoreError


def open_store(url: str, index_root: Path | None = None) -> Store:
    """Open (creating and migrating if needed) the store a URL names:
    ``sqlite:///path.db`` or ``postgresql://user:pass@host/db``. The indexes of a
    PostgreSQL store are kept under `index_root` (default: the user cache folder); a
    SQLite store keeps them beside its file."""
    if url.startswith("sqlite:///"):
        from paperwire.store.sqlite import SQLiteStore

        return SQLiteStore(url)
    if url.startswith(("postgresql://", "postgres://")):
        require("postgres")
        from paperwire.store.postgres import PostgresStore

        return PostgresStore(url, index_root)
    raise StoreError(
        f"unknown database URL {url!r}: expected sqlite:///path.db or postgresql://..."
    )


__all__ = ["Store", "StoreError", "open_store"]
