"""The parts of a deployment, made on first use: the store (opened and migrated), the
keyword index, the embedding model, the search engine, the mailer, the arXiv client and the
signing key. Opening a store migrates it and loading the model takes seconds, so a command
that needs only the store never loads the model."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from paperwire.channels.guard import Resolver, resolve
from paperwire.channels.sealing import Sealer
from paperwire.config import Settings
from paperwire.digest.mailer import Mailer, make_mailer
from paperwire.errors import ConfigurationError
from paperwire.ingest.fetch import PoliteClient, upstreams_of
from paperwire.search.embed import Embedder, make_embedder, superseded
from paperwire.search.hybrid import SearchEngine
from paperwire.search.native import (
    KeywordIndex,
    VectorIndexLike,
    check_placement,
    keyword_index,
    vector_index,
)
from paperwire.store import Store, open_store
from paperwire.tokens import signing_key

_T = TypeVar("_T")
# The store state naming the model whose vectors are being removed (SearchPipelines.retire):
# search leaves it before its rows go.
RETIRING = "vectors_retiring"


def utc_now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


class Parts:
    """The parts of one deployment. Tests and embedders of paperwire pass their own store,
    mailer, arXiv client or engine factory; everything else is made from the settings on
    first use."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        mailer: Mailer | None = None,
        arxiv: PoliteClient | None = None,
        clock: Callable[[], datetime] = utc_now,
        embed_threads: int | None = None,
        engine_factory: Callable[[], SearchEngine] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.engine_factory = engine_factory
        self._store = store
        self._mailer = mailer
        self._arxiv = arxiv
        self._embed_threads = embed_threads
        self._keyword: KeywordIndex | None = None
        self._embedder: Embedder | None = None
        self._engine: SearchEngine | None = None
        self._vector_indexes: dict[str, VectorIndexLike] = {}
        self._secret: str | None = None
        self._sealer: Sealer | None = None
        # Where channel targets' hosts are resolved (tests hand in their own DNS).
        self.resolver: Resolver = resolve
        self._lock = threading.RLock()

    def _once(self, name: str, make: Callable[[], _T]) -> _T:
        """The part kept in attribute `name`, made by `make` the first time (once,
        even when several request threads ask at the same moment)."""
        value: _T | None = getattr(self, name)
        if value is None:
            with self._lock:
                value = getattr(self, name)
                if value is None:
                    value = make()
                    setattr(self, name, value)
        return value

    @property
    def store(self) -> Store:
        """The store (opened and migrated on first use; StoreError when it cannot be)."""
        return self._once(
            "_store",
            lambda: open_store(
                self.settings.database_url, index_root=Path(self.settings.cache_dir)
            ),
        )

    @property
    def keyword(self) -> KeywordIndex:
        """The keyword index: tantivy beside the store, or the database's own."""
        return self._once("_keyword", self._make_keyword_index)

    def _make_keyword_index(self) -> KeywordIndex:
        self.check()
        return keyword_index(self.store, self.settings.keyword_index)

    def check(self) -> None:
        """Open the store and refuse a keyword placement it cannot have, now rather than
        at the first search (ConfigurationError, StoreError)."""
        try:
            check_placement(self.store, self.settings.keyword_index)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from exc

    @property
    def embedder(self) -> Embedder:
        """The configured embedding model (its weights load on the first embedding)."""
        settings = self.settings
        model, folder = settings.embedding_model, Path(settings.cache_dir)
        return self._once(
            "_embedder", lambda: make_embedder(model, folder, threads=self._embed_threads)
        )

    @property
    def engine(self) -> SearchEngine:
        """The search engine: store, keyword index, vectors and model. While it searches
        an earlier model's vectors (an upgrade under way, :meth:`_chosen_model`), each use
        checks that they are neither being removed (RETIRING) nor gone; once they are
        retired, the next use builds it again on the configured model."""
        engine = self._once("_engine", self.engine_factory or self._default_engine)
        model = engine.vectors.model if engine.vectors is not None else None
        if (
            self.engine_factory is None
            and model is not None
            and model != self.settings.embedding_model
            and (self.store.get_state(RETIRING) == model or not self.store.has_vectors(model))
        ):
            with self._lock:
                if self._engine is engine:
                    self._engine = None
                    # Its index too (its codes and ids in memory, a faiss copy of the codes).
                    self._vector_indexes.pop(model, None)
            engine = self._once("_engine", self._default_engine)
        return engine

    def meaning_model(self) -> str:
        """The model search by meaning reads now, for its queries and its vectors: the
        engine's (see :meth:`_chosen_model`). For-you and "similar papers" read this one
        too, so a page never compares one model's vectors with another's; one cheap
        look-up a call, not the counts the engine was chosen by."""
        vectors = self.engine.vectors
        return vectors.model if vectors is not None else self.settings.embedding_model

    def _chosen_model(self) -> str:
        """The model an engine is built on: the configured one, unless an earlier model
        (one it supersedes) holds vectors for more papers. Vectors are kept per
        model (migration 0018): after a change of model (a new default, or
        PAPERWIRE_EMBEDDING_MODEL) the new model's vectors fill in beside the old ones, in
        the background or by `paperwire embed`, and search keeps the old model, for its
        queries and its vectors, whole, until the new one has as many; the old ones are
        then removed (SearchPipelines.retire). Counted only while another model's vectors
        are in the store."""
        configured = self.settings.embedding_model
        retiring = self.store.get_state(RETIRING)
        others = [m for m in superseded(configured) if m != retiring and self.store.has_vectors(m)]
        if not others:
            return configured
        counts = {m: self.store.count_vectors(m) for m in others}
        best = max(others, key=counts.__getitem__)
        return best if counts[best] > self.store.count_vectors(configured) else configured

    def vector_index_of(self, model: str) -> VectorIndexLike:
        """The vector index of one model (one per model in a process: the one a change of
        model fills in is kept up to date beside the one search reads, so the switch
        finds it current)."""
        with self._lock:
            if model not in self._vector_indexes:
                self._vector_indexes[model] = vector_index(self.store, model)
            return self._vector_indexes[model]

    def _default_engine(self) -> SearchEngine:
        model = self._chosen_model()
        embedder = self.embedder
        if model != embedder.name:
            embedder = make_embedder(model, Path(self.settings.cache_dir), self._embed_threads)
        return SearchEngine(self.store, self.keyword, self.vector_index_of(model), embedder)

    @property
    def mailer(self) -> Mailer:
        """SMTP when a host is configured, else .eml files in the mail folder."""
        return self._once("_mailer", lambda: make_mailer(self.settings))

    @mailer.setter
    def mailer(self, mailer: Mailer) -> None:
        self._mailer = mailer

    @property
    def arxiv(self) -> PoliteClient:
        """The only client that fetches from outside: arXiv's hosts, politely paced."""
        return self._once("_arxiv", self._new_arxiv)

    @arxiv.setter
    def arxiv(self, client: PoliteClient) -> None:
        self._arxiv = client

    def _new_arxiv(self) -> PoliteClient:
        """The client harvests fetch with, paced per host with every other process."""
        import httpx

        from paperwire.ingest.fetch import CONNECT_TIMEOUT_S, MIN_INTERVAL_S
        from paperwire.pacing import StorePacer

        timeout = httpx.Timeout(60.0, connect=CONNECT_TIMEOUT_S)
        return PoliteClient(
            httpx.Client(timeout=timeout),
            pace=StorePacer(self.store, MIN_INTERVAL_S),
            upstreams=upstreams_of(self.settings),
        )

    @property
    def secret(self) -> str:
        """The key that signs CSRF tokens and email links."""
        return self._once("_secret", lambda: signing_key(self.settings, self.store))

    @property
    def sealer(self) -> Sealer:
        """Encrypts channel secrets under the instance key (channels/sealing.py)."""
        return self._once("_sealer", lambda: Sealer(self.secret))

    def close(self) -> None:
        """Close the store (the other parts hold nothing that needs closing)."""
        if self._store is not None:
            self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
