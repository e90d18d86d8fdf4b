"""Nearest neighbours by meaning: binary-quantised vectors in memory, exact re-scoring
from the full vectors in the store.

Each 384-dimension vector is kept in RAM as 48 bytes (one sign bit a dimension), so 1M
papers cost ~56 MB in the search path. A query is compared with every code by Hamming
distance (faiss's SIMD popcount scan), the best `oversample x k` candidates are re-scored
exactly with their float32 vectors read from the store, and the best k returned. The
choice (against HNSW graphs and int8 codes) was made by measurement: bench/RESULTS.md.

Like the keyword index, this is derived data beside the store: it follows the store's
vectors by a watermark, is saved after each sync, and is rebuilt if lost."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt

from paperwire.store.base import Store

DIMENSIONS = 384
OVERSAMPLE = 20
MIN_CANDIDATES = 200
SYNC_BATCH = 20_000
FORMAT_VERSION = 1


def to_bytes(vectors: npt.NDArray[np.float32]) -> list[bytes]:
    """Rows as the store keeps them: little-endian float32."""
    return [row.astype("<f4").tobytes() for row in vectors]


def from_bytes(blobs: list[bytes]) -> npt.NDArray[np.float32]:
    """Stored vectors back into a matrix."""
    if not blobs:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), -1).astype(np.float32)


def binary_codes(vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """One bit a dimension: set where the component is positive."""
    return np.packbits(vectors > 0, axis=1)


@dataclass
class _Watermark:
    store_id: str = ""
    position: tuple[int, int] = (0, 0)
    tombstone_seq: int = 0
    version: int = FORMAT_VERSION


class VectorIndex:
    """The vector index of one store and one embedding model."""

    def __init__(self, path: Path, model: str) -> None:
        self.path = path
        self.model = model
        self._lock = threading.RLock()
        path.mkdir(parents=True, exist_ok=True)
        self._codes = np.zeros((0, DIMENSIONS // 8), dtype=np.uint8)
        self._ids = np.zeros(0, dtype=np.int64)
        self.watermark = _Watermark()
        self._load()
        self._rebuild_faiss()

    @classmethod
    def for_store(cls, store: Store, model: str) -> VectorIndex:
        """The index beside a store, for one model."""
        return cls(store.index_dir(f"vectors-{model}"), model)

    # -- persistence ------------------------------------------------------------

    def _load(self) -> None:
        try:
            meta = json.loads((self.path / "meta.json").read_text("utf-8"))
            if meta["version"] != FORMAT_VERSION or meta["model"] != self.model:
                return
            codes = np.load(self.path / "codes.npy")
            ids = np.load(self.path / "ids.npy")
            if len(codes) != len(ids):
                return
            self._codes, self._ids = codes, ids
            self.watermark = _Watermark(
                meta["store_id"], (meta["position"][0], meta["position"][1]), meta["tombstone_seq"]
            )
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            pass  # missing or damaged: rebuilt from the store on the next sync

    def _save(self) -> None:
        # Arrays first, then the watermark that vouches for them, each by rename.
        for name, array in (("codes", self._codes), ("ids", self._ids)):
            temporary = self.path / f"{name}.tmp.npy"
            np.save(temporary, array)
            os.replace(temporary, self.path / f"{name}.npy")
        meta = {
            "version": FORMAT_VERSION,
            "model": self.model,
            "store_id": self.watermark.store_id,
            "position": list(self.watermark.position),
            "tombstone_seq": self.watermark.tombstone_seq,
        }
        temporary = self.path / "meta.tmp"
        temporary.write_text(json.dumps(meta), "utf-8")
        os.replace(temporary, self.path / "meta.json")

    def _rebuild_faiss(self) -> None:
        index = faiss.IndexBinaryFlat(DIMENSIONS)
        if len(self._codes):
            index.add(self._codes)
        self._faiss = index

    # -- following the store ----------------------------------------------------

    def sync(self, store: Store, progress: Callable[[int], object] | None = None) -> int:
        """Take in the vectors written since the watermark; returns how many."""
        with self._lock:
            store_id = store.get_state("store_id") or ""
            if store_id != self.watermark.store_id:
                self._codes = np.zeros((0, DIMENSIONS // 8), dtype=np.uint8)
                self._ids = np.zeros(0, dtype=np.int64)
                self.watermark = _Watermark(store_id=store_id)
            position_of = {int(pid): i for i, pid in enumerate(self._ids)}
            new_codes: list[npt.NDArray[np.uint8]] = []
            new_ids: list[int] = []
            replaced = 0
            removed: set[int] = set()
            while True:
                changes = store.vector_changes(
                    self.model, self.watermark.position, self.watermark.tombstone_seq, SYNC_BATCH
                )
                if changes.vectors:
                    codes = binary_codes(from_bytes([blob for _, blob in changes.vectors]))
                    for (pid, _), code in zip(changes.vectors, codes, strict=True):
                        if pid in position_of:  # re-embedded: overwrite in place
                            self._codes[position_of[pid]] = code
                            replaced += 1
                        else:
                            position_of[pid] = len(self._ids) + len(new_ids)
                            new_codes.append(code)
                            new_ids.append(pid)
                removed.update(changes.deleted)
                self.watermark.position = changes.position
                self.watermark.tombstone_seq = changes.tombstone_seq
                if progress:
                    progress(len(changes.vectors))
                if len(changes.vectors) < SYNC_BATCH:
                    break
            if not new_ids and not replaced and not removed:
                return 0
            if new_ids:
                self._codes = np.concatenate([self._codes, np.array(new_codes, dtype=np.uint8)])
                self._ids = np.concatenate([self._ids, np.array(new_ids, dtype=np.int64)])
            if removed:
                keep = ~np.isin(self._ids, np.fromiter(removed, dtype=np.int64))
                self._codes, self._ids = self._codes[keep], self._ids[keep]
            self._save()
            self._rebuild_faiss()
            return len(new_ids) + replaced

    def __len__(self) -> int:
        return len(self._ids)

    # -- querying ---------------------------------------------------------------

    def candidates(self, query: npt.NDArray[np.float32], count: int) -> npt.NDArray[np.int64]:
        """Paper ids of the `count` codes nearest the query by Hamming distance."""
        with self._lock:
            if not len(self._ids):
                return np.zeros(0, dtype=np.int64)
            count = min(count, len(self._ids))
            _, positions = self._faiss.search(binary_codes(query.reshape(1, -1)), count)
            found = positions[0][positions[0] >= 0]
            return np.asarray(self._ids[found], dtype=np.int64)

    def search(
        self,
        store: Store,
        query: npt.NDArray[np.float32],
        k: int,
        keep: Callable[[list[int]], set[int]] | None = None,
        exclude: set[int] | None = None,
    ) -> list[tuple[int, float]]:
        """(paper id, cosine similarity) of the k nearest papers, best first: Hamming
        candidates re-scored exactly. `keep` filters candidates (by the query's filters);
        with a filter the candidate pool grows until k pass or every paper was tried."""
        exclude = exclude or set()
        pool = max(MIN_CANDIDATES, k * OVERSAMPLE)
        while True:
            ids = [int(i) for i in self.candidates(query, pool) if int(i) not in exclude]
            if keep is not None:
                allowed = keep(ids)
                ids = [i for i in ids if i in allowed]
            if len(ids) >= k or pool >= len(self._ids):
                break
            pool *= 8
        stored = store.get_vectors(self.model, ids)
        present = [i for i in ids if i in stored]
        if not present:
            return []
        matrix = from_bytes([stored[i] for i in present])
        scores = matrix @ query.astype(np.float32)
        order = np.argsort(-scores)[:k]
        return [(present[i], float(scores[i])) for i in order]
