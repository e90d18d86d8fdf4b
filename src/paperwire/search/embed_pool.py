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
depends (cosine ~0.995) on the texts it runs beside. The parent therefore cuts exactly the
runs `embed_pending` and OnnxEmbedder have always made — the papers in groups of
SHIPPED_GROUP, each sorted by length and cut every SHIPPED_RUN texts — and only deals whole
runs to the workers."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import TracebackType

import numpy as np

from paperwire.search.embed import DIMENSIONS, Embedder, OnnxEmbedder, Vectors

_WORKER: Embedder | None = None
# The runs a single session makes: embed_pending's batch of papers, OnnxEmbedder's sub-batch.
SHIPPED_GROUP = 64
SHIPPED_RUN = 32


def shipped_runs(texts: Sequence[str]) -> list[list[int]]:
    """The positions of the texts in the runs a single OnnxEmbedder fed by embed_pending
    makes: groups of SHIPPED_GROUP in order, each sorted by length in characters (a stable
    sort, as OnnxEmbedder's), cut every SHIPPED_RUN."""
    runs = []
    for start in range(0, len(texts), SHIPPED_GROUP):
        group = range(start, min(start + SHIPPED_GROUP, len(texts)))
        order = sorted(group, key=lambda i: len(texts[i]))
        runs += [order[k : k + SHIPPED_RUN] for k in range(0, len(order), SHIPPED_RUN)]
    return runs


def _start(cache_dir: str) -> None:
    global _WORKER
    _WORKER = OnnxEmbedder(Path(cache_dir), threads=1)


def _embed(texts: list[str]) -> bytes:
    assert _WORKER is not None
    return _WORKER.embed(texts).tobytes()


class PooledEmbedder:
    """The ONNX int8 model in `processes` worker processes of one thread each (an Embedder).

    A call's texts are cut into the shipped runs (see the module's docstring) and the runs
    dealt to the workers in turn; the vectors come back in the callers' order. The model
    file is made (exported and quantised, once) in the parent before the workers start, so
    they never race to write it."""

    name = OnnxEmbedder.name
    dimensions = DIMENSIONS

    def __init__(self, cache_dir: Path, processes: int | None = None) -> None:
        self.cache_dir = cache_dir
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
                initargs=(str(self.cache_dir),),
            )
        return self._pool

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalised float32 row per text."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        runs = shipped_runs(texts)
        results = self._workers().map(_embed, [[texts[i] for i in run] for run in runs])
        out = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for run, blob in zip(runs, results, strict=True):
            out[run] = np.frombuffer(blob, dtype=np.float32).reshape(len(run), -1)
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
