"""Vector search at 1M papers: paperwire's index (binary codes + exact re-scoring from the
store) beside exact numpy search, a flat faiss index and a usearch HNSW graph (int8), on
the same vectors and queries, same run; then hybrid queries end to end.

Embedding a real 1M corpus takes half a day on this CPU, so the 1M vectors are drawn
around the real embeddings of the sample corpus: each is a random mix of two sample
papers' embeddings plus Gaussian noise (sigma 0.04 a dimension), normalised. Queries: the
36 evaluation queries embedded, plus 64 fresh draws of the same kind (not in the index).

    python bench/vector_bench.py --db bench/out/import-1000000.db
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from importlib import resources
from pathlib import Path

import faiss
import numpy as np
from tqdm import tqdm

from benchlib import machine, percentile, rss_mib
from keyword_bench import make_queries
from paperwire.models import Paper
from paperwire.search.embed import DEFAULT_MODEL, make_embedder, paper_text
from paperwire.search.hybrid import SearchEngine, search
from paperwire.search.lexical import LexicalIndex
from paperwire.search.vectors import VectorIndex, to_bytes
from paperwire.store import open_store

SIGMA = 0.04
MODEL = "bench-synthetic"


def draw(base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n vectors around the base embeddings (mixes of two, plus noise), normalised."""
    first = base[rng.integers(0, len(base), n)]
    second = base[rng.integers(0, len(base), n)]
    weight = rng.random((n, 1), dtype=np.float32)
    vectors = (
        weight * first
        + (1 - weight) * second
        + rng.normal(0, SIGMA, (n, base.shape[1])).astype(np.float32)
    )
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def timed(fn, queries) -> tuple[list[float], list[list[int]]]:
    times, results = [], []
    for q in queries:
        started = time.perf_counter()
        results.append(fn(q))
        times.append(time.perf_counter() - started)
    return times, results


def recall(found: list[list[int]], truth: list[list[int]]) -> float:
    return float(
        np.mean([len(set(f[:10]) & set(t[:10])) / 10 for f, t in zip(found, truth, strict=True)])
    )


def main() -> None:
    """Build, time, compare; print Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--db", type=Path, required=True, help="a store with >= N papers (import_bench.py)"
    )
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--skip-usearch", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(5)
    embedder = make_embedder(DEFAULT_MODEL, Path("bench/out/models"))
    lines = (
        resources.files("paperwire.data").joinpath("sample.jsonl").read_text("utf-8").splitlines()
    )
    sample = [json.loads(line) for line in lines]
    base = embedder.embed(
        [paper_text(Paper(title=p["title"], abstract=p["abstract"])) for p in sample]
    )
    judged = json.loads(Path("eval/judgments.json").read_text())["queries"]
    queries = np.concatenate([embedder.embed([q["text"] for q in judged]), draw(base, 64, rng)])

    store = open_store(f"sqlite:///{args.db}")
    n = min(args.n, store.count_papers())
    matrix = draw(base, n, rng)
    if store.count_vectors(MODEL) < n:
        with tqdm(total=n, desc="vectors into the store", mininterval=5) as bar:
            for start in range(0, n, 10_000):
                block = matrix[start : start + 10_000]
                ids = range(start + 1, start + 1 + len(block))
                store.save_vectors(
                    MODEL,
                    [
                        (pid, Paper(title="x"), blob)
                        for pid, blob in zip(ids, to_bytes(block), strict=True)
                    ],
                )
                bar.update(len(block))
    rows = []

    # Exact search, the ground truth and first baseline.
    def exact(q):
        scores = matrix @ q
        top = np.argpartition(-scores, 10)[:10]
        return [int(i) + 1 for i in top[np.argsort(-scores[top])]]

    times, truth = timed(exact, queries)
    rows.append(("exact numpy float32 (baseline)", times, 1.0, matrix.nbytes / 2**20, 0.0))

    flat = faiss.IndexFlatIP(matrix.shape[1])
    started = time.perf_counter()
    flat.add(matrix)
    build = time.perf_counter() - started
    times, found = timed(lambda q: [int(i) + 1 for i in flat.search(q[None, :], 10)[1][0]], queries)
    rows.append(
        (
            "faiss IndexFlatIP float32 (baseline)",
            times,
            recall(found, truth),
            matrix.nbytes / 2**20,
            build,
        )
    )
    flat.reset()
    gc.collect()

    if not args.skip_usearch:
        from usearch.index import Index

        graph = Index(ndim=matrix.shape[1], metric="cos", dtype="i8", connectivity=16)
        started = time.perf_counter()
        graph.add(np.arange(1, n + 1), matrix, log=False)
        build = time.perf_counter() - started

        def hnsw(q):
            hits = graph.search(q, 100)
            keys = np.asarray(hits.keys)
            scores = matrix[keys - 1] @ q  # exact re-scoring of the candidates
            return [int(k) for k in keys[np.argsort(-scores)][:10]]

        times, found = timed(hnsw, queries)
        rows.append(
            (
                "usearch HNSW int8, M=16, 100 candidates re-scored",
                times,
                recall(found, truth),
                graph.memory_usage / 2**20,
                build,
            )
        )
        del graph
        gc.collect()

    before = rss_mib()
    index = VectorIndex(args.db.with_name(args.db.name + ".vectors-bench"), MODEL)
    started = time.perf_counter()
    index.sync(store)
    build = time.perf_counter() - started
    in_ram = (index._faiss.ntotal * 48 + index._ids.nbytes) / 2**20
    times, found = timed(lambda q: [pid for pid, _ in index.search(q, 10)], queries)
    rows.append(
        (
            "paperwire: binary codes + 5,000 candidates re-scored from float16 memory-mapped file",
            times,
            recall(found, truth),
            in_ram,
            build,
        )
    )
    print(f"(RSS grew {rss_mib() - before:.0f} MiB while building paperwire's index)")

    print(f"\nmachine: {machine()}; vectors: {n:,} x 384; queries: {len(queries)}\n")
    print("| method | p50 ms | p95 ms | recall@10 | RAM of search path MiB | build s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, t, r, mem, b in rows:
        ms = [x * 1000 for x in t]
        print(
            f"| {name} | {percentile(ms, 50):.1f} | {percentile(ms, 95):.1f} | {r:.3f} | {mem:.0f} | {b:.0f} |"
        )

    # Hybrid end to end: parse, embed the query, both legs, fusion, papers and snippets.
    lexical = LexicalIndex.for_store(store)
    engine = SearchEngine(store, lexical, index, _Fixed(embedder, MODEL))
    texts = make_queries()
    for text in texts[:5]:
        search(engine, text, mode="hybrid", limit=10)
    times, _ = timed(lambda text: search(engine, text, mode="hybrid", limit=10), texts * 2)
    ms = [x * 1000 for x in times]
    print(
        f"\nhybrid query end to end ({len(times)} queries, 1-6 words, ONNX query embedding): "
        f"p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms"
    )


class _Fixed:
    """The real query embedder under the synthetic vectors' model name."""

    def __init__(self, inner, name: str) -> None:
        self.inner, self.name, self.dimensions = inner, name, inner.dimensions

    def embed(self, texts):
        return self.inner.embed(texts)


if __name__ == "__main__":
    main()
