"""The pipelines of the indexes: catching the keyword index up with the store, embedding
(in the background, at once, or on a Dask cluster), rebuilding, and searching."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from paperwire.deployment.parts import RETIRING, Parts
from paperwire.extras import require
from paperwire.jobs import host_lock
from paperwire.metrics import SEARCH_SECONDS
from paperwire.progress import Progress, silent
from paperwire.search.embed import ONNX_MODELS, superseded
from paperwire.search.hybrid import Mode, embed_pending, search, similar
from paperwire.search.lexical import (
    IndexBusyError,
    keyword_search,
)
from paperwire.search.results import SearchHit
from paperwire.search.vectors import VectorIndex

# `paperwire embed` runs the model in one process a core from this backlog on (bench/RESULTS.md
# §22), fed this many papers a transaction (a multiple of embed_pool.SHIPPED_GROUP: the runs,
# and so the vectors, stay the ones a single session makes).
POOLED_FROM = 2_000
POOLED_BATCH = 512


@dataclass
class IndexStatus:
    """Where the indexes beside the store stand after catching up."""

    to_embed: int = 0  # papers with no vector from the configured model yet
    changing_from: str | None = None  # the model search reads meanwhile, if another
    error: str | None = None  # why the keyword index could not be brought up to date


@dataclass
class EmbedOutcome:
    """What `embed` did."""

    embedded: int
    in_index: int


class SearchPipelines(Parts):
    """Keeping the indexes beside the store up to date, and searching them."""

    def catch_up(self, progress: Progress = silent) -> IndexStatus:
        """Bring the keyword index up to date with the store (keyword search and the
        pages then have every paper) and count the papers not yet embedded. Embedding
        is never done inline: measured, it made an import of 1,000 records take 90 s
        instead of seconds; a running server embeds them in the background
        (:meth:`embed_step`), or `paperwire embed` does."""
        status = IndexStatus()
        try:
            self.update_keyword_index(progress)
        except IndexBusyError as exc:
            status.error = str(exc)
        status.to_embed = self.to_embed()
        status.changing_from = self.changing_from() if status.to_embed else None
        return status

    def extract_keyphrases(self, limit: int | None = None) -> int:
        """Keyphrases for the papers upstream gives no keywords (paperwire.keyphrases);
        their topics reach the keyword index on its next sync. Returns how many."""
        from paperwire.keyphrases import extract_pending

        return extract_pending(self.store, self.embedder, self.clock(), limit)

    def embed_step(self, limit: int = 256) -> int:
        """Embed up to `limit` papers that have no vector from the configured model yet
        and bring the vector index up to date; returns how many were embedded. When the
        backlog is done and search was reading an earlier model, that model is retired
        (search moves to the configured one). One process per host does it at a time
        (an OS lock in the cache folder, freed if its holder dies); the others return 0.
        Two hosts embedding the same paper write the same vector, so nothing is wrong."""
        lock = Path(self.settings.cache_dir) / "embed.lock"
        with host_lock(lock) as held:
            if not held:
                return 0
            engine = self.engine
            if engine.embedder is None or engine.vectors is None:
                return 0
            # The configured model fills in even while search reads an earlier one.
            embedder = engine.embedder if self.engine_factory else self.embedder
            done = embed_pending(self.store, embedder, limit=limit)
            if done and self.engine_factory is None:
                # The configured model's index, even while search reads another: the
                # switch then finds it current (a whole sync at 1M would fall on a search).
                self.vector_index_of(embedder.name).sync(self.store)
            elif done:
                engine.vectors.sync(self.store)
            if done < limit:
                self.retire(engine.vectors.model)
            return done

    def retire(self, reading: str, progress: Progress = silent) -> bool:
        """Remove the vectors of `reading` — the earlier model search reads during a change
        of model — once the configured model's vectors cover the store (no paper left to
        embed); True when it did. Only a model the configured one supersedes is removed:
        one filled in beside it (`paperwire embed --model`) is kept.

        Search leaves it first: the model is marked (RETIRING) before its rows go, and
        every worker's next use of its engine reads the mark and moves to the configured
        model (Parts.engine), so none searches a model half removed. The rows then go in
        bounded batches (Store.delete_vectors); a removal interrupted is taken up again by
        the next call, whatever `reading` is then. Last, the files of its index beside
        the store go (SQLite; by then no worker reads it)."""
        configured = self.settings.embedding_model
        retiring = self.store.get_state(RETIRING)
        if retiring == configured:  # configured again since: nothing to remove
            self.store.set_state(RETIRING, None)
            retiring = None
        if retiring is None:
            if reading not in superseded(configured) or self.store.count_to_embed(configured):
                return False
            self.store.set_state(RETIRING, reading)
            retiring = reading
        total = self.store.count_vectors(retiring)
        with progress(f"removing {retiring} vectors", total, " vectors") as advance:
            self.store.delete_vectors(retiring, advance)
        self.store.set_state(RETIRING, None)
        VectorIndex.remove(self.store, retiring)
        return True

    def update_keyword_index(self, progress: Progress = silent) -> None:
        """Bring the keyword index up to date with the store (IndexBusyError when another
        live process is writing it: the papers are stored, the index lags until then)."""
        index = self.keyword
        if not index.is_current(self.store):
            with progress("keyword index") as advance:
                index.update(self.store, progress=advance)

    def keyword_lag(self) -> int:
        """Changes of the store the keyword index has not applied yet (0: all searchable)."""
        return self.keyword.lag(self.store)

    def reindex(self, progress: Progress = silent) -> int | None:
        """Rebuild the keyword index beside the store from scratch; None when the
        database indexes the papers itself (nothing to rebuild)."""
        index = self.keyword
        if index.path is None:
            return None
        with progress("keyword index", self.store.count_papers()) as advance:
            return index.rebuild(self.store, progress=advance)

    def embed(
        self, scheduler: str | None = None, progress: Progress = silent, retire: bool = True
    ) -> EmbedOutcome:
        """Embed every paper without a vector from the configured model (resumable), here
        or fanned out on a Dask cluster, then (with `retire`) retire the earlier model
        search was reading, once this one covers the store, and bring the vector index
        search reads up to date. OSError when the cluster cannot be reached."""
        name = self.settings.embedding_model
        reading = self.engine.vectors.model if self.engine.vectors is not None else name
        with progress(f"embedding ({name})", self.store.count_to_embed(name)) as advance:
            if scheduler:
                require("distributed")
                from distributed import Client

                from paperwire.search.cluster import embed_on_cluster

                with Client(scheduler, timeout=10) as client:  # type: ignore[no-untyped-call]
                    done = embed_on_cluster(
                        self.store, client, name, self.settings.cache_dir, progress=advance
                    )
            elif self._pooled(name):
                from paperwire.search.embed_pool import PooledEmbedder

                with PooledEmbedder(Path(self.settings.cache_dir), model=name) as pooled:
                    done = embed_pending(
                        self.store, pooled, progress=advance, batch_size=POOLED_BATCH
                    )
            else:
                done = embed_pending(self.store, self.embedder, progress=advance)
        if retire:
            self.retire(reading, progress)
        vectors = self.engine.vectors
        assert vectors is not None
        vectors.sync(self.store)
        return EmbedOutcome(done, len(vectors))

    def _pooled(self, name: str) -> bool:
        """Whether `embed` runs the model in one process a core (search/embed_pool.py): an
        ONNX model, two cores or more, no thread count or engine given in code (a web
        worker keeps to one thread), and a backlog worth the workers' start (~2 s each)."""
        return (
            name in ONNX_MODELS
            and (os.cpu_count() or 1) >= 2
            and self._embed_threads is None
            and self.engine_factory is None
            and self.store.count_to_embed(name) >= POOLED_FROM
        )

    def search(
        self, text: str, mode: Mode = "hybrid", limit: int = 10, offset: int = 0
    ) -> list[SearchHit]:
        """Papers for a query in the query language, best first (QueryError for a query
        with nothing to search). Keyword search never loads the model."""
        if mode == "lexical":
            with SEARCH_SECONDS.labels("total").time(), SEARCH_SECONDS.labels("keyword").time():
                return keyword_search(self.store, self.keyword, text, limit=limit, offset=offset)
        return search(self.engine, text, mode=mode, limit=limit, offset=offset)

    def similar(self, key: str, limit: int = 10) -> list[SearchHit]:
        """The papers nearest in meaning to one paper, named in any form the store's
        lookup reads (KeyError when unknown; NotEmbeddedError before it has a vector);
        made again with the model search moved to if it moved during the call."""
        return similar(self.engine, key, limit=limit, current=lambda: self.engine)

    def to_embed(self) -> int:
        """Papers with no vector from the configured model yet (during a change of model,
        search by meaning finds them with the earlier one: see :meth:`changing_from`)."""
        return self.store.count_to_embed(self.settings.embedding_model)

    def changing_from(self) -> str | None:
        """During a change of model, the earlier model search by meaning reads until the
        configured one covers the store; None otherwise. Before, `paperwire stats` and an
        import called the change's whole backlog papers "not yet searchable by meaning",
        which search by meaning in fact found (with the earlier model)."""
        reading = self._chosen_model()
        return None if reading == self.settings.embedding_model else reading
