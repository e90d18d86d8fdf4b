"""The embedding backfill fanned out on a Dask cluster: this process pages through the
papers that lack vectors and writes the vectors back; the workers only turn texts into
vectors (each loads the model once), so only this process talks to the database.

Workers need paperwire installed (the model comes with it); a few chunks are kept in
flight so the workers never wait for the database, and a chunk's vectors are saved in one
transaction as it returns — an interrupted backfill resumes like a local one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from paperwire.extras import require
from paperwire.search.embed import Embedder, make_embedder, paper_text
from paperwire.search.vectors import to_bytes
from paperwire.store.base import Store

_LOADED: dict[tuple[str, str], Embedder] = {}


def embed_texts(model: str, cache_dir: str, texts: list[str]) -> list[bytes]:
    """Run on a worker: the float32 vectors of texts (the model loaded once per worker)."""
    embedder = _LOADED.get((model, cache_dir))
    if embedder is None:
        embedder = _LOADED[(model, cache_dir)] = make_embedder(model, Path(cache_dir))
    return to_bytes(embedder.embed(texts))


def embed_on_cluster(
    store: Store,
    client: Any,
    model: str,
    cache_dir: str,
    chunk: int = 256,
    in_flight: int = 8,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Embed every paper lacking a current vector from `model` on the cluster behind a
    dask.distributed Client; returns how many were embedded."""
    require("distributed")
    from distributed import as_completed

    after = 0
    done = 0
    chunks: dict[Any, list[tuple[int, Any]]] = {}
    running = as_completed()  # type: ignore[no-untyped-call]

    def submit_next() -> bool:
        nonlocal after
        batch = store.papers_to_embed(model, after, chunk)
        if not batch:
            return False
        after = batch[-1][0]
        future = client.submit(
            embed_texts, model, cache_dir, [paper_text(p) for _, p in batch], pure=False
        )
        chunks[future] = batch
        running.add(future)  # type: ignore[no-untyped-call]
        return True

    with store.vector_backfill(store.count_to_embed(model)):
        for _ in range(in_flight):
            if not submit_next():
                break
        for future in running:
            batch = chunks.pop(future)
            blobs = future.result()
            store.save_vectors(
                model,
                [(pid, paper, blob) for (pid, paper), blob in zip(batch, blobs, strict=True)],
            )
            done += len(batch)
            if progress:
                progress(len(batch))
            submit_next()
    return done
