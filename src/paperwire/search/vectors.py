"""Nearest neighbours by meaning: binary-quantised vectors in memory, re-scoring from a
memory-mapped file of the full vectors.

Each 384-dimension vector is kept in RAM as 48 bytes (one sign bit a dimension), so 1M
papers cost ~56 MB of the process's own memory. A query is compared with every code by
Hamming distance (faiss's popcount scan), the best CANDIDATES are re-scored with their
float16 vectors from ``full.f16`` (read through the page cache, not held by the process),
and the best k returned. Chosen by measurement against exact search, a flat faiss index and
an int8 HNSW graph (bench/RESULTS.md).

Like the keyword index, this is derived data beside the store: it follows the store's
vectors by a watermark, is saved after each sync, and is rebuilt if lost."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from paperwire.search.subset import Subset
from paperwire.store.base import Store

DIMENSIONS = 384
# Binary codes rank coarsely; re-scoring this many candidates kept recall@10 >= 0.95 at 1M.
CANDIDATES = 5000
# With filters, candidates are checked against them this many at a time, best first.
FILTER_SLICE = 200
# A filtered set this small is scored exactly, row by row: no more rows than an unfiltered
# search re-scores, so it is never the slower of the two (bench/filtered_search_bench.py).
EXACT_MAX = CANDIDATES
# A filter passing at least this share of the papers is checked on the candidates of an
# unfiltered scan (most pass); a narrower one restricts the scan itself to its papers.
WIDE_SHARE = 0.25
# What the positions and codes of recent subsets may take (56 bytes a paper of a subset:
# ten filters passing 10% of 1M papers).
SUBSET_BYTES = 64 * 1024 * 1024
SYNC_BATCH = 20_000
FORMAT_VERSION = 1
# Re-scoring runs in faiss on one thread, outside the GIL, so the keyword leg beside it
# keeps the other core: numpy's float16 astype took 3.5-16 ms for the 5,000 candidates
# holding the GIL, and its matrix product woke OpenBLAS's threads, whose spinning after
# each call took the other core for ~10 ms a query (bench/RESULTS.md §9).
_FLOAT16 = faiss.IndexScalarQuantizer(
    DIMENSIONS, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
)


def _inner_products(
    rows: npt.NDArray[np.float16], query: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """Each float16 row's inner product with the query (faiss's SIMD loops, no BLAS)."""
    decoded = _FLOAT16.sa_decode(np.ascontiguousarray(rows).view(np.uint8))
    vector = np.ascontiguousarray(query, dtype=np.float32)
    scores = np.empty(len(decoded), dtype=np.float32)
    faiss.fvec_inner_products_ny(  # type: ignore[attr-defined]
        faiss.swig_ptr(scores),
        faiss.swig_ptr(vector),
        faiss.swig_ptr(decoded),
        DIMENSIONS,
        len(decoded),
    )
    return scores


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


@dataclass(slots=True)
class _Ranked:
    """Papers and scores, best first, as arrays; pairs made only for the part used."""

    ids: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.ids)

    def slice(self, start: int, stop: int) -> list[tuple[int, float]]:
        """(paper id, score) pairs of ranks start..stop."""
        return list(
            zip(self.ids[start:stop].tolist(), self.scores[start:stop].tolist(), strict=True)
        )

    def head(self, n: int) -> list[tuple[int, float]]:
        """The best n pairs."""
        return self.slice(0, n)


class VectorIndex:
    """The vector index of one store and one embedding model."""

    def __init__(self, path: Path, model: str) -> None:
        self.path = path
        self.model = model
        self._lock = threading.RLock()
        # One query scans the codes fastest on one thread: with two, OpenMP's hand-offs
        # turned a 10 ms p95 into 104 ms on 2 cores (bench/RESULTS.md).
        faiss.omp_set_num_threads(1)
        path.mkdir(parents=True, exist_ok=True)
        self._codes = np.zeros((0, DIMENSIONS // 8), dtype=np.uint8)
        self._ids = np.zeros(0, dtype=np.int64)
        self._faiss = faiss.IndexBinaryFlat(DIMENSIONS)
        self._full: npt.NDArray[np.float16] | None = None
        # (the ids array it was made from, its argsort, the ids sorted): built on the first
        # filtered search after the ids change.
        self._order: tuple[npt.NDArray[np.int64], ...] | None = None
        # A subset's ids array (the keyword index hands the same one back for the same
        # filter) -> (that array, the ids it was looked up in, their positions, an index
        # of their codes alone).
        self._looked_up: OrderedDict[int, tuple[Any, ...]] = OrderedDict()
        self.watermark = _Watermark()
        self._load()
        self._rebuild_faiss()

    @classmethod
    def for_store(cls, store: Store, model: str) -> VectorIndex:
        """The index beside a store, for one model."""
        return cls(store.index_dir(f"vectors-{model}"), model)

    @classmethod
    def remove(cls, store: Store, model: str) -> None:
        """Delete the files of a model's index beside a store, a model retired (its codes,
        ids and 16-bit vectors: 824 bytes a paper, ~2.2 GB at 2.7M papers). A process
        still holding it keeps its mapped pages until it lets it go."""
        shutil.rmtree(store.index_dir(f"vectors-{model}"), ignore_errors=True)

    # -- persistence ------------------------------------------------------------

    def _load(self) -> None:
        try:
            meta = json.loads((self.path / "meta.json").read_text("utf-8"))
            if meta["version"] != FORMAT_VERSION or meta["model"] != self.model:
                return
            codes = np.load(self.path / "codes.npy")
            ids = np.load(self.path / "ids.npy")
            full = self.path / "full.f16"
            if len(codes) != len(ids) or full.stat().st_size != len(ids) * DIMENSIONS * 2:
                return
            self._codes, self._ids = codes, ids
            self._open_full()
            self.watermark = _Watermark(
                meta["store_id"], (meta["position"][0], meta["position"][1]), meta["tombstone_seq"]
            )
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            pass  # missing or damaged: rebuilt from the store on the next sync

    def _open_full(self) -> None:
        full = self.path / "full.f16"
        if len(self._ids) and full.exists():
            self._full = np.memmap(
                full, dtype=np.float16, mode="r", shape=(len(self._ids), DIMENSIONS)
            )
        else:
            self._full = None

    def _save(self, codes: npt.NDArray[np.uint8]) -> None:
        # Arrays first, then the watermark that vouches for them, each by rename.
        for name, array in (("codes", codes), ("ids", self._ids)):
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
        # faiss keeps the codes; the numpy copy is dropped so they are in RAM once.
        index = faiss.IndexBinaryFlat(DIMENSIONS)
        # Counting instead of a heap: ~2x faster for the thousands of candidates kept.
        index.use_heap = False  # type: ignore[attr-defined]
        if len(self._codes):
            index.add(self._codes)
        self._faiss = index
        self._codes = np.zeros((0, DIMENSIONS // 8), dtype=np.uint8)

    def _all_codes(self) -> npt.NDArray[np.uint8]:
        """The codes back out of faiss (a copy, for saving or changing them)."""
        if self._faiss.ntotal == 0:
            return np.zeros((0, DIMENSIONS // 8), dtype=np.uint8)
        flat = faiss.vector_to_array(self._faiss.xb)  # type: ignore[attr-defined]
        return np.asarray(flat, dtype=np.uint8).reshape(self._faiss.ntotal, DIMENSIONS // 8)

    # -- following the store ----------------------------------------------------

    def _reload_if_newer(self) -> None:
        """Take the saved index when another process (a second web worker, an embed
        run) has moved it past this one's watermark."""
        try:
            meta = json.loads((self.path / "meta.json").read_text("utf-8"))
            saved = (int(meta["position"][0]), int(meta["position"][1]))
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return
        if meta.get("store_id") == self.watermark.store_id and saved <= self.watermark.position:
            return
        self._full = None
        self._load()
        self._rebuild_faiss()

    def sync(self, store: Store, progress: Callable[[int], object] | None = None) -> int:
        """Take in the vectors written since the watermark; returns how many. Processes
        sharing the index take turns (a lock file), each starting from the saved state."""
        with self._lock, (self.path / ".lock").open("a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            self._reload_if_newer()
            return self._sync_locked(store, progress)

    def _sync_locked(self, store: Store, progress: Callable[[int], object] | None) -> int:
        store_id = store.get_state("store_id") or ""
        if store_id != self.watermark.store_id:
            self._ids = np.zeros(0, dtype=np.int64)
            self._faiss = faiss.IndexBinaryFlat(DIMENSIONS)
            self.watermark = _Watermark(store_id=store_id)
        peek = store.vector_changes(
            self.model, self.watermark.position, self.watermark.tombstone_seq, 1
        )
        if not peek.vectors and not peek.deleted:
            return 0  # the common case: nothing new, and no 1M-entry map built
        codes_now: npt.NDArray[np.uint8] | None = None
        full_now: npt.NDArray[np.float16] | None = None
        new_full: list[npt.NDArray[np.float16]] = []
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
                floats = from_bytes([blob for _, blob in changes.vectors])
                codes = binary_codes(floats)
                halves = floats.astype(np.float16)
                for (pid, _), code, half in zip(changes.vectors, codes, halves, strict=True):
                    if pid in position_of and position_of[pid] < len(self._ids):
                        # re-embedded: overwrite in place
                        if codes_now is None:
                            codes_now = self._all_codes()
                            full_now = np.array(self._full) if self._full is not None else None
                        codes_now[position_of[pid]] = code
                        if full_now is not None:
                            full_now[position_of[pid]] = half
                        replaced += 1
                    elif pid in position_of:  # twice in this sync
                        new_codes[position_of[pid] - len(self._ids)] = code
                        new_full[position_of[pid] - len(self._ids)] = half
                    else:
                        position_of[pid] = len(self._ids) + len(new_ids)
                        new_codes.append(code)
                        new_full.append(half)
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
        all_codes = codes_now if codes_now is not None else self._all_codes()
        old_count = len(self._ids)
        if new_ids:
            all_codes = np.concatenate([all_codes, np.array(new_codes, dtype=np.uint8)])
            self._ids = np.concatenate([self._ids, np.array(new_ids, dtype=np.int64)])
        full_file = self.path / "full.f16"
        self._full = None  # close the mapping before the file changes
        if removed or full_now is not None or not full_file.exists():
            # Rewrite the whole file (rare: deletions, re-embeddings, a first build).
            current = (
                full_now
                if full_now is not None
                else (
                    np.fromfile(full_file, dtype=np.float16).reshape(-1, DIMENSIONS)
                    if full_file.exists() and old_count
                    else np.zeros((0, DIMENSIONS), np.float16)
                )
            )
            whole = (
                np.concatenate([current[:old_count], np.array(new_full, dtype=np.float16)])
                if new_full
                else current[:old_count]
            )
            if removed:
                keep = ~np.isin(self._ids, np.fromiter(removed, dtype=np.int64))
                all_codes, self._ids, whole = all_codes[keep], self._ids[keep], whole[keep]
            temporary = self.path / "full.tmp"
            whole.astype(np.float16).tofile(temporary)
            os.replace(temporary, full_file)
        elif new_full:
            # New papers only: append (the watermark, saved last, vouches for the length).
            with full_file.open("r+b") as out:
                out.truncate(old_count * DIMENSIONS * 2)
                out.seek(0, os.SEEK_END)
                out.write(np.array(new_full, dtype=np.float16).tobytes())
        self._save(all_codes)
        self._open_full()
        self._codes = all_codes
        self._rebuild_faiss()
        return len(new_ids) + replaced

    def __len__(self) -> int:
        return len(self._ids)

    def has_any(self) -> bool:
        """True when the index holds a vector."""
        return len(self._ids) > 0

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

    def _ranked(
        self, query: npt.NDArray[np.float32], count: int, top: int | None = None
    ) -> _Ranked:
        """The `count` Hamming-nearest papers re-scored with their full vectors, best
        first (only the best `top` of them, when given)."""
        _, found = self._faiss.search(binary_codes(query.reshape(1, -1)), count)
        # Sorted positions read the mapped file front to back.
        return self._scored(query, np.sort(found[0][found[0] >= 0]), top)

    def _scored(
        self,
        query: npt.NDArray[np.float32],
        positions: npt.NDArray[np.int64],
        top: int | None = None,
    ) -> _Ranked:
        """The papers at these (ascending) positions scored with their full vectors, best
        first (ties by position, so by paper)."""
        assert self._full is not None
        scores = _inner_products(np.take(self._full, positions, axis=0), query)
        order = np.argsort(-scores, kind="stable")[:top]
        # Python tuples only for the ranks asked for: building 5,000 of them cost more
        # than the scan (bench/RESULTS.md, web load).
        return _Ranked(self._ids[positions[order]], scores[order])

    def _positions(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Where these papers' vectors are, ascending (papers without one left out)."""
        if self._order is None or self._order[0] is not self._ids:
            order = np.argsort(self._ids, kind="stable")
            self._order = (self._ids, order, self._ids[order])
        _, order, sorted_ids = self._order
        wanted = np.asarray(ids, dtype=np.int64)
        if not len(wanted) or not len(sorted_ids):
            return np.zeros(0, dtype=np.int64)
        at = np.minimum(np.searchsorted(sorted_ids, wanted), len(sorted_ids) - 1)
        return np.sort(order[at[sorted_ids[at] == wanted]])

    def _lookup(
        self, ids: npt.NDArray[np.int64], scan: bool = False
    ) -> tuple[npt.NDArray[np.int64], faiss.IndexBinaryFlat | None]:
        """Positions of a subset's ids and, when `scan`, a small index of their codes
        alone (copied out of the big one), both remembered for the next query with the
        same filter while they take under SUBSET_BYTES: at 1M papers, placing 108k ids
        took ~10 ms and copying their codes ~10 ms, where scanning them takes ~2."""
        entry = self._looked_up.get(id(ids))
        if entry is None or entry[0] is not ids or entry[1] is not self._ids:
            entry = (ids, self._ids, self._positions(ids), None)
        if scan and entry[3] is None:
            width = DIMENSIONS // 8
            codes = faiss.rev_swig_ptr(
                self._faiss.xb.data(),  # type: ignore[attr-defined]
                self._faiss.ntotal * width,
            )
            # One 48-byte item a row: numpy's take copies rows, not bytes (3x faster).
            rows = np.take(codes.view(np.dtype((np.void, width))), entry[2])
            index = faiss.IndexBinaryFlat(DIMENSIONS)
            index.use_heap = False  # type: ignore[attr-defined]
            index.add(rows.view(np.uint8).reshape(-1, width))
            entry = (*entry[:3], index)
        self._looked_up[id(ids)] = entry
        self._looked_up.move_to_end(id(ids))
        held = 0
        for key in reversed(list(self._looked_up)):  # newest first; the oldest go
            kept = self._looked_up[key]
            held += kept[2].nbytes + (kept[3].ntotal * DIMENSIONS // 8 if kept[3] else 0)
            if held > SUBSET_BYTES and key != id(ids):
                del self._looked_up[key]
        return entry[2], entry[3]

    def _within(
        self, query: npt.NDArray[np.float32], ids: npt.NDArray[np.int64], count: int
    ) -> _Ranked:
        """The best of these papers: only their codes are scanned (a small index of their
        own), the `count` nearest re-scored as in an unfiltered search. A faiss ID
        selector over all the codes was slower than the whole unfiltered scan (33 ms
        against ~8 ms at 1M: with a selector faiss takes its heap path)."""
        positions, index = self._lookup(ids, scan=True)
        if index is None or not len(positions):
            return _Ranked(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        _, found = index.search(binary_codes(query.reshape(1, -1)), min(count, len(positions)))
        return self._scored(query, np.sort(positions[found[0][found[0] >= 0]]))

    @staticmethod
    def _passing(
        ranked: _Ranked,
        k: int,
        keep: Callable[[list[int]], set[int]] | None,
        exclude: set[int],
    ) -> list[tuple[int, float]]:
        """The best k of a ranking that are not excluded and that `keep` lets through
        (asked about the best first, FILTER_SLICE at a time)."""
        if keep is None:
            return [pair for pair in ranked.head(k + len(exclude)) if pair[0] not in exclude][:k]
        passed: list[tuple[int, float]] = []
        for start in range(0, len(ranked), FILTER_SLICE):
            chunk = [
                pair for pair in ranked.slice(start, start + FILTER_SLICE) if pair[0] not in exclude
            ]
            allowed = keep([pid for pid, _ in chunk])
            passed += [(pid, score) for pid, score in chunk if pid in allowed]
            if len(passed) >= k:
                break
        return passed[:k]

    def search(
        self,
        query: npt.NDArray[np.float32],
        k: int,
        keep: Callable[[list[int]], set[int]] | None = None,
        exclude: set[int] | None = None,
        subset: Subset | None = None,
    ) -> list[tuple[int, float]]:
        """(paper id, cosine similarity) of the k nearest papers, best first.

        `keep` filters candidates (the query's filters), asked about the best ones first in
        slices. `subset`, the papers the filters pass as the keyword index counts them
        (brought up to date first; the same rule as querylang.matches), says where to look,
        so that a filtered search is never slower than an unfiltered one (it walked every
        vector when few passed: 1.3 s at 50k papers, issue 25). None pass: nothing, no
        scan. Up to EXACT_MAX: those rows scored exactly. Under WIDE_SHARE of the papers:
        only their codes scanned (also for a wider filter whose ids are at hand).
        Wider: the unfiltered candidates checked by `keep`, the restricted scan if too few
        pass. Papers of the subset are not asked
        of `keep` again (for the 100 papers a leg takes, it cost more than the scan).
        Without a subset, the candidate pool grows until every paper was tried."""
        exclude = exclude or set()
        with self._lock:
            total = len(self._ids)
            if not total or self._full is None:
                return []
            pool = max(CANDIDATES, k * 4)
            if subset is not None:
                if subset.count == 0:
                    return []
                # Papers of the subset pass: `keep` is not asked again (it cost more than
                # the scan, ~20 ms for the 100 papers a leg takes).
                if subset.count <= EXACT_MAX:
                    ranked = self._scored(query, self._lookup(subset.ids())[0])
                    return self._passing(ranked, k, None, exclude)
                if subset.count < WIDE_SHARE * total or subset.known:
                    ranked = self._within(query, subset.ids(), pool)
                    return self._passing(ranked, k, None, exclude)
            while True:
                count = min(pool, total)
                passed = self._passing(self._ranked(query, count), k, keep, exclude)
                if len(passed) >= k or count >= total:
                    return passed
                if subset is not None:
                    ranked = self._within(query, subset.ids(), pool)
                    return self._passing(ranked, k, None, exclude)
                pool *= 8
