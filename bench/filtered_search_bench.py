"""Search by meaning with and without filters, before and after a change, in one run
(issue 25, item 6: a filter matching nothing walked every vector).

The store: the first N papers of a synthetic corpus (bench/synth.py), imported by
paperwire; vectors: random, around one shared direction plus Gaussian noise (sigma 0.08 a
dimension, so cosines sit above the meaning leg's floor of 0.2 and every paper is a
candidate), stored under their own model name, as vector_bench.py stores its own. Query
vectors are drawn the same way, one per query text (no model: the embedding of the query
is the same work before and after, and left out). The keyword index and the vector index
beside the store are built once and shared by both versions (same formats).

Filters, chosen on the store by their count in the keyword index: one no paper passes
(a category nobody has), and the filters (category, year range, author) nearest 0.1% and
10% of the papers. Each version runs in its own child process (its own `src` first on
PYTHONPATH), rounds interleaved (before, after, before, after); each cell times up to
`--queries` semantic searches (limit 10) and stops early after `--budget` seconds (the
old code took seconds a query: the table says how many were timed). The first query of
each filter is shown apart (the ids a filter passes are fetched then, and kept for the
next queries with it); p50 / p95 are of the rest. Cells give the median over rounds.

    python bench/filtered_search_bench.py bench/out/synth-1m.jsonl --n 100000 \\
        --version before=/work/main/src --version after=src
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MODEL = "bench-filtered"
DIMENSIONS = 384
SIGMA = 0.08
SURNAMES = ("Smith", "Wang", "Okafor", "Larsen", "Dubois", "Novak")
CATEGORIES = ("cs.LG", "cs.CV", "cs.CL", "cs.RO", "cs.IR", "math.OC", "quant-ph", "econ.EM")


def _base():
    import numpy as np

    base = np.random.default_rng(11).normal(0, 1, DIMENSIONS)
    return base / np.linalg.norm(base)


def _draw(n: int, seed: int):
    import numpy as np

    rows = _base() + np.random.default_rng(seed).normal(0, SIGMA, (n, DIMENSIONS))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def prepare(corpus: Path, n: int, out: Path) -> Path:
    """The store of the first n papers, its vectors and both indexes (idempotent)."""
    from tqdm import tqdm

    from paperwire.models import Paper
    from paperwire.search.lexical import LexicalIndex
    from paperwire.search.vectors import VectorIndex, to_bytes
    from paperwire.store import open_store

    db = out / f"filtered-{n}.db"
    if not db.exists():
        part = out / f"filtered-{n}.jsonl"
        with corpus.open("rb") as source, part.open("wb") as sink:
            sink.writelines(itertools.islice(source, n))
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "paperwire.cli", "--db", f"sqlite:///{db}", "import", "-q",
             "--format", "arxiv-snapshot", str(part)],
            check=True,
        )  # fmt: skip
        part.unlink()
        print(f"imported {n:,} papers in {time.perf_counter() - started:.0f} s", flush=True)
    store = open_store(f"sqlite:///{db}")
    if store.count_vectors(MODEL) < n:
        with tqdm(total=n, desc="vectors into the store", mininterval=10) as bar:
            for start in range(0, n, 20_000):
                block = _draw(min(20_000, n - start), seed=start)
                ids = range(start + 1, start + 1 + len(block))
                store.save_vectors(
                    MODEL,
                    [
                        (pid, Paper(title="x"), blob)
                        for pid, blob in zip(ids, to_bytes(block), strict=True)
                    ],
                )
                bar.update(len(block))
    lexical = LexicalIndex(db.with_name(db.name + ".lexical"))
    if not lexical.is_current(store):
        lexical.sync(store)
    VectorIndex(db.with_name(db.name + ".vectors"), MODEL).sync(store)
    store.close()
    return db


def choose_filters(db: Path, n: int) -> dict[str, tuple[str, int]]:
    """{level: (filter text, papers passing)}: nothing, ~0.1%, ~10%."""
    from paperwire.querylang import parse_query
    from paperwire.search.lexical import LexicalIndex

    lexical = LexicalIndex(db.with_name(db.name + ".lexical"))
    options = []
    for category in CATEGORIES:
        options.append(f"category:{category}")
        for year in range(2015, 2026):
            options.append(f"category:{category} year:{year}")
            options.append(f"category:{category} year:{year}-{year + 2}")
            options += [f'category:{category} year:{year} author:"{s}"' for s in SURNAMES]
    counts = {text: lexical.subset(parse_query(text)).count for text in options}
    chosen = {"nothing": ("category:astro-ph.GA", 0)}
    for level, share in (("0.1%", 0.001), ("10%", 0.1)):
        text = min(counts, key=lambda t: abs(counts[t] - share * n))
        chosen[level] = (text, counts[text])
    return chosen


WORDS = "graph neural networks diffusion protein language retrieval robot policy quantum"


def child(db: str, filters: str, queries: int, budget: float, least: int) -> None:
    """Time semantic search per filter level with whichever paperwire is on PYTHONPATH."""
    import numpy as np

    from benchlib import percentile
    from paperwire.search.hybrid import SearchEngine, search
    from paperwire.search.lexical import LexicalIndex
    from paperwire.search.vectors import VectorIndex
    from paperwire.store import open_store

    path = Path(db)
    store = open_store(f"sqlite:///{path}")
    lexical = LexicalIndex(path.with_name(path.name + ".lexical"))
    vectors = VectorIndex(path.with_name(path.name + ".vectors"), MODEL)

    class Embedder:
        name, dimensions = MODEL, DIMENSIONS

        def embed(self, texts: list[str]) -> np.ndarray:
            return np.stack([_draw(1, seed=10_000_000 + sum(map(ord, t)))[0] for t in texts])

    engine = SearchEngine(store, lexical, vectors, Embedder())
    words = WORDS.split()
    texts = [" ".join(words[i % 10 : i % 10 + 1 + i % 3]) + f" q{i}" for i in range(queries)]
    search(engine, texts[0], mode="semantic", limit=10)  # warm: the index in memory
    out: dict[str, dict[str, float]] = {}
    for level, text in json.loads(filters).items():
        times = []
        started = time.perf_counter()
        for query in texts:
            began = time.perf_counter()
            search(engine, f"{query} {text}".strip(), mode="semantic", limit=10)
            times.append((time.perf_counter() - began) * 1000)
            if time.perf_counter() - started > budget and len(times) >= least:
                break
        # The first query of a filter is timed apart: it fetches the filter's papers,
        # which the next queries with the same filter find kept.
        rest = times[1:] or times
        out[level] = {
            "first": times[0],
            "p50": percentile(rest, 50),
            "p95": percentile(rest, 95),
            "n": len(times),
        }
    print(json.dumps(out))


def main() -> None:
    """Prepare, run the versions interleaved, print a Markdown table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", type=Path, nargs="?", help="synthetic snapshot (synth.py)")
    parser.add_argument("--n", type=int, nargs="+", default=[100_000])
    parser.add_argument("--version", action="append", default=[], help="label=path/to/src")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--budget", type=float, default=20.0, help="seconds a cell at most")
    parser.add_argument("--least", type=int, default=3, help="queries a cell at least")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--child", nargs=2, metavar=("DB", "FILTERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.queries, args.budget, args.least)
        return
    from benchlib import machine

    versions = dict(v.split("=", 1) for v in args.version) or {"current": str(ROOT / "src")}
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}")
    for n in args.n:
        db = prepare(args.corpus, n, args.out)
        chosen = choose_filters(db, n)
        levels = {"unfiltered": "", **{level: text for level, (text, _) in chosen.items()}}
        results: dict[str, list[dict[str, dict[str, float]]]] = {v: [] for v in versions}
        for _ in range(args.rounds):
            for label, src in versions.items():
                env = {**os.environ, "PYTHONPATH": f"{Path(src).resolve()}:{HERE}"}
                run = subprocess.run(
                    [sys.executable, str(Path(__file__).resolve()), "--queries",
                     str(args.queries), "--budget", str(args.budget), "--least",
                     str(args.least), "--child", str(db),
                     json.dumps(levels)],
                    env=env, capture_output=True, text=True, check=True,
                )  # fmt: skip
                results[label].append(json.loads(run.stdout.strip().splitlines()[-1]))
        print(f"\n{n:,} papers; semantic search, limit 10; filters chosen:")
        for level, (text, count) in chosen.items():
            print(f"- {level}: `{text}` ({count:,} papers, {count / n:.3%})")
        print(
            "\n| filter | "
            + " | ".join(f"{v}: first; p50 / p95 ms (queries)" for v in versions)
            + " |"
        )
        print("| --- |" + " --- |" * len(versions))
        for level in levels:
            cells = []
            for label in versions:
                runs = [r[level] for r in results[label]]
                p50 = sorted(r["p50"] for r in runs)[len(runs) // 2]
                p95 = sorted(r["p95"] for r in runs)[len(runs) // 2]
                first = sorted(r["first"] for r in runs)[len(runs) // 2]
                queries = sum(int(r["n"]) for r in runs)
                cells.append(f"{first:.1f}; {p50:.1f} / {p95:.1f} ({queries})")
            print(f"| {level} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
