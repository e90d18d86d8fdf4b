"""A backlog of papers embedded on every core: one ONNX Runtime session of one thread in each
of N worker processes, instead of one session spreading each run over N threads.

Why (bench/RESULTS.md §22, 2 cores): a session's runs are short (a few hundred
milliseconds), and its threads meet at every operator; on a shared machine one of them
waits for the other, spinning. One thread a session spent ~25 % less CPU a paper than two,
so two single-thread sessions in two processes embed more papers a second than one
two-thread session. The parent keeps the database and the order; workers only turn texts
into vectors (each loads the model once). Used by `paperwire embed` for a backlog; a web
worker's background embedding keeps its own one-thread session (the server's other
workers need the other cores).

The vectors are the ones a single session makes, because the runs are the same: the int8
model quantises each run's activations with one scale for the whole run, so a text's vector
depends (cosine ~0.995) on the texts it runs beside. The parent therefore deals the workers
exactly the groups `embed_pending` has always fed a single session (SHIPPED_GROUP papers in
order), and each worker's embedder cuts its group into runs as a single session does."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import TracebackType

import numpy as np

from paperwire.search.embed import (
    DEFAULT_MODEL,
    DIMENSIONS,
    ONNX_MODELS,
    Embedder,
    OnnxEmbedder,
    Vectors,
    make_embedder,
)

_WORKER: Embedder | None = None
# The texts a single session is fed a call: embed_pending's batch of papers.
SHIPPED_GROUP = 64


def groups(count: int) -> list[range]:
    """The positions of `count` texts in the calls a single session fed by embed_pending
    gets: SHIPPED_GROUP at a time, in order."""
    return [
        range(start, min(start + SHIPPED_GROUP, count)) for start in range(0, count, SHIPPED_GROUP)
    ]


def _start(cache_dir: str, model: str) -> None:
    global _WORKER
    _WORKER = make_embedder(model, Path(cache_dir), threads=1)


def _embed(texts: list[str]) -> bytes:
    assert _WORKER is not None
    return _WORKER.embed(texts).tobytes()


class PooledEmbedder:
    """An ONNX int8 model (one of ONNX_MODELS) in `processes` worker processes of one
    thread each (an Embedder).

    A call's texts are cut into the groups a single session is fed (see the module's
    docstring) and the groups dealt to the workers in turn; the vectors come back in the
    callers' order. The model file is made (exported and quantised, once) in the parent
    before the workers start, so they never race to write it."""

    dimensions = DIMENSIONS

    def __init__(
        self, cache_dir: Path, processes: int | None = None, model: str = DEFAULT_MODEL
    ) -> None:
        if model not in ONNX_MODELS:
            raise ValueError(f"{model!r} is not an ONNX model; one of {', '.join(ONNX_MODELS)}")
        self.cache_dir = cache_dir
        self.name = model
        self.processes = max(1, processes or os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def _workers(self) -> ProcessPoolExecutor:
        if self._pool is None:
            OnnxEmbedder(self.cache_dir).model_file()
            # spawn: a fork of a process holding threads (a server, a database driver)
            # may copy a held lock; the workers import only what embedding needs.
            self._pool = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start,
                initargs=(str(self.cache_dir), self.name),
            )
        return self._pool

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalised float32 row per text."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        calls = groups(len(texts))
        results = self._workers().map(_embed, [[texts[i] for i in call] for call in calls])
        out = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for call, blob in zip(calls, results, strict=True):
            out[call.start : call.stop] = np.frombuffer(blob, dtype=np.float32).reshape(
                len(call), -1
            )
        return out

    def close(self) -> None:
        """Stop the workers."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __enter__(self) -> PooledEmbedder:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
