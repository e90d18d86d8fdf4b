"""Keyword and hybrid latency, before and after a change, in one run: the same store,
vectors and queries, each version in its own child process (its own `src` on PYTHONPATH)
with its own keyword index folder beside the store (versions differ in the index's
schema), rounds interleaved (before, after, before, after, ...) so that the shared
machine's noise falls on all alike. The first version named is the one the ratios divide by.

    python bench/relevance_latency.py --db bench/out/import-1000000.db \
        --version df8e165=../base/src --version 3915889=../head/src

`--db` may also be a PostgreSQL URL: the database is then searched by its own indexes
(PAPERWIRE_KEYWORD_INDEX=database: tsvector + GIN; pgvector's HNSW), the same for every
version.

Queries: the keyword benchmark's 50 (1-6 words drawn from the sample corpus) and the 120
judged queries of eval/judgments.json (descriptions and half-remembered titles: longer).
Vectors: drawn around the sample's real embeddings as bench/vector_bench.py does (stored
once under its model name; its index file beside the store is shared by both versions).
Each child times one warm-up pass, then one timed pass of each query set and mode; the
table gives each version's median over the rounds of p50 and p95, and after / before.
A version may be named twice under two labels, one of them in `--no-acronyms` (the same code
expanding nothing); versions reading one index may share its folder through a link named
``<db>.lexical-<label>``."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _queries() -> dict[str, list[str]]:
    from keyword_bench import make_queries

    judged = json.loads((ROOT / "eval" / "judgments.json").read_text("utf-8"))["queries"]
    return {"bench 1-6 words": make_queries(), "judged (120)": [q["text"] for q in judged]}


def child(db: str, label: str) -> None:
    """Time keyword and hybrid search with whichever paperwire is on PYTHONPATH (on
    SQLite, its keyword index in ``<db>.lexical-<label>``, built on first use, before the
    warm-up)."""
    from benchlib import percentile
    from paperwire.search.embed import DEFAULT_MODEL, make_embedder
    from paperwire.search.hybrid import SearchEngine, search
    from paperwire.search.lexical import LexicalIndex, keyword_search
    from paperwire.search.native import keyword_index, vector_index
    from paperwire.search.vectors import VectorIndex
    from paperwire.store import open_store
    from vector_bench import MODEL, _Fixed

    if _is_url(db):
        store = open_store(db, index_root=ROOT / "bench" / "out" / "models")
        lexical = keyword_index(store, "database")
        vectors = vector_index(store, MODEL)
    else:
        path = Path(db)
        store = open_store(f"sqlite:///{path}")
        lexical = LexicalIndex(path.with_name(f"{path.name}.lexical-{label}"))
        vectors = VectorIndex(path.with_name(path.name + ".vectors-bench"), MODEL)
    if not lexical.is_current(store):
        lexical.sync(store)
    extra = os.environ.get("BENCH_ACRONYMS")
    if extra and hasattr(lexical, "acronyms"):  # versions with acronym expansion (issue 27)
        from paperwire.acronyms import AcronymDictionary

        lexical.acronyms.merge(AcronymDictionary.load(Path(extra)))
    # One thread, as the web server's embedder (web/services.py, in every version timed):
    # the keyword leg runs on the other core meanwhile.
    models = ROOT / "bench" / "out" / "models"
    embedder = _Fixed(make_embedder(DEFAULT_MODEL, models, threads=1), MODEL)
    engine = SearchEngine(store, lexical, vectors, embedder)
    modes = {
        "keyword": lambda text: keyword_search(store, lexical, text, limit=10),
        "hybrid": lambda text: search(engine, text, mode="hybrid", limit=10),
    }
    out: dict[str, dict[str, float]] = {}
    for set_name, texts in _queries().items():
        for mode, run in modes.items():
            for text in texts:  # warm-up
                run(text)
            times, cpu = [], []
            for text in texts:
                started, started_cpu = time.perf_counter(), time.process_time()
                run(text)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            out[f"{mode}, {set_name}"] = {
                "p50": percentile(times, 50),
                "p95": percentile(times, 95),
                # The process's CPU time (every thread): what a shared machine's load
                # does not inflate, where wall time waits for a core.
                "cpu50": percentile(cpu, 50),
                "cpu95": percentile(cpu, 95),
            }
    print(json.dumps(out))
    store.close()


def _is_url(db: str) -> bool:
    return db.startswith(("postgresql://", "postgres://"))


def prepare_vectors(db: str) -> None:
    """Store the drawn vectors (once) and build their index file beside the store."""
    import numpy as np

    from paperwire.models import Paper
    from paperwire.search.embed import DEFAULT_MODEL, make_embedder, paper_text
    from paperwire.search.vectors import VectorIndex, to_bytes
    from paperwire.store import open_store
    from vector_bench import MODEL, draw

    store = open_store(db if _is_url(db) else f"sqlite:///{db}")
    n = store.count_papers()
    if store.count_vectors(MODEL) < n:
        embedder = make_embedder(DEFAULT_MODEL, ROOT / "bench" / "out" / "models")
        lines = resources.files("paperwire.data").joinpath("sample.jsonl").read_text("utf-8")
        sample = [json.loads(line) for line in lines.splitlines()]
        base = embedder.embed(
            [paper_text(Paper(title=p["title"], abstract=p["abstract"])) for p in sample]
        )
        rng = np.random.default_rng(5)
        for start in range(0, n, 10_000):
            block = draw(base, min(10_000, n - start), rng)
            ids = range(start + 1, start + 1 + len(block))
            store.save_vectors(
                MODEL,
                [
                    (pid, Paper(title="x"), blob)
                    for pid, blob in zip(ids, to_bytes(block), strict=True)
                ],
            )
    if not _is_url(db):
        VectorIndex(Path(db).with_name(Path(db).name + ".vectors-bench"), MODEL).sync(store)
    store.close()


def main() -> None:
    """Interleave the two versions' children; print the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, help="a SQLite file or a PostgreSQL URL")
    parser.add_argument(
        "--version",
        action="append",
        default=[],
        metavar="LABEL=SRC",
        help="an older checkout's src folder to time beside this one (repeatable)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--acronyms",
        help="an acronym dictionary (JSON, paperwire.acronyms) added to the keyword index of "
        "each version that expands acronyms: synthetic text defines none",
    )
    parser.add_argument(
        "--no-acronyms",
        action="append",
        default=[],
        metavar="LABEL",
        help="a version (by its label) run without the --acronyms dictionary: the cost of "
        "expanding nothing, beside the same code expanding (repeatable)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not _is_url(args.db):
        args.db = str(Path(args.db).resolve())  # the children run from the repository's root
    if args.child:
        child(args.db, args.child)
        return
    started = time.perf_counter()
    prepare_vectors(args.db)
    print(f"vectors ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    versions: dict[str, Path] = {}
    for given in args.version:
        label, _, src = given.partition("=")
        versions[label] = Path(src).resolve()
    versions["after"] = ROOT / "src"
    results: dict[str, list[dict[str, dict[str, float]]]] = {v: [] for v in versions}
    for round_ in range(args.rounds):
        for version, src in versions.items():
            env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{HERE}"}
            if args.acronyms and version not in args.no_acronyms:
                env["BENCH_ACRONYMS"] = str(Path(args.acronyms).resolve())
            done = subprocess.run(
                [sys.executable, __file__, "--child", version, "--db", args.db],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            results[version].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"round {round_ + 1}: {version} done", file=sys.stderr)
    first = next(iter(versions))
    others = [v for v in versions if v != first]
    for what, keys in (("", ("p50", "p95")), ("CPU ", ("cpu50", "cpu95"))):
        print(
            "\n| query set, mode | " + " | ".join(f"{v} {what}p50 / p95 ms" for v in versions),
            end="",
        )
        print("".join(f" | {v} / {first} p50, p95" for v in others) + " |")
        print("| --- " * (1 + len(versions) + len(others)) + "|")
        for row in results["after"][0]:
            medians = {
                version: tuple(statistics.median(r[row][p] for r in results[version]) for p in keys)
                for version in versions
            }
            cells = [f"{p50:.1f} / {p95:.1f}" for p50, p95 in medians.values()]
            (b50, b95) = medians[first]
            cells += [f"{medians[v][0] / b50:.2f}, {medians[v][1] / b95:.2f}" for v in others]
            print(f"| {row} | " + " | ".join(cells) + " |")
    print(json.dumps(results), file=sys.stderr)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
