"""Keyword search latency over a large store: 50 queries of 1-6 words, paperwire's
keyword search (parse, BM25 top 10, snippets, papers read back) beside bm25s on the same
corpus and queries, in the same run.

    python bench/keyword_bench.py --db bench/out/import-1000000.db --corpus bench/out/synth-1m-first-1000000.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from importlib import resources
from pathlib import Path

from tqdm import tqdm

from benchlib import machine, rss_mib, summary_ms
from paperwire.search import lexical
from paperwire.store import open_store

STOP = {
    "a",
    "an",
    "the",
    "of",
    "and",
    "or",
    "in",
    "on",
    "for",
    "to",
    "with",
    "by",
    "is",
    "we",
    "our",
    "that",
    "this",
    "from",
    "as",
    "are",
    "at",
    "be",
    "it",
    "its",
    "via",
}


def make_queries(count: int = 50, seed: int = 11) -> list[str]:
    """Deterministic queries: 1-6 consecutive content words of sample titles/abstracts."""
    rng = random.Random(seed)
    text = resources.files("paperwire.data").joinpath("sample.jsonl").read_text("utf-8")
    papers = [json.loads(line) for line in text.splitlines()]
    queries = []
    while len(queries) < count:
        paper = rng.choice(papers)
        source = paper["title"] if rng.random() < 0.5 else paper["abstract"]
        words = [
            w.lower() for w in re.findall(r"[A-Za-z][A-Za-z\-]+", source) if w.lower() not in STOP
        ]
        length = 1 + len(queries) % 6
        if len(words) < length:
            continue
        start = rng.randrange(len(words) - length + 1)
        queries.append(" ".join(words[start : start + length]))
    return queries


def time_queries(search, queries: list[str], rounds: int) -> list[float]:
    """Per-query seconds over `rounds` passes (after one warm-up pass)."""
    for q in queries:
        search(q)
    timings = []
    for _ in range(rounds):
        for q in queries:
            started = time.perf_counter()
            search(q)
            timings.append(time.perf_counter() - started)
    return timings


def main() -> None:
    """Time both engines; print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument(
        "--corpus", type=Path, required=True, help="the snapshot file the db was built from"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-bm25s", action="store_true")
    args = parser.parse_args()
    queries = make_queries()
    store = open_store(f"sqlite:///{args.db}")
    n = store.count_papers()
    if hasattr(lexical, "LexicalIndex"):
        index = lexical.LexicalIndex.for_store(store)
        started = time.perf_counter()
        index.sync(store)
        print(f"index brought up to date in {time.perf_counter() - started:.1f} s")
        engine = "paperwire keyword search (tantivy index beside SQLite)"
        ours = time_queries(
            lambda q: lexical.keyword_search(store, index, q, limit=10), queries, args.rounds
        )
    else:  # the FTS5 design this replaced, for the record in RESULTS.md
        engine = "paperwire keyword search (SQLite FTS5, previous design)"
        ours = time_queries(
            lambda q: lexical.keyword_search(store, q, limit=10), queries, args.rounds
        )
    per_length: dict[int, list[float]] = {}
    for i, seconds in enumerate(ours):
        per_length.setdefault(len(queries[i % len(queries)].split()), []).append(seconds)
    rows = [(engine, summary_ms(ours))]
    if not args.skip_bm25s:
        import bm25s

        texts = []
        with args.corpus.open("rb") as f:
            for line in tqdm(f, total=n, desc="bm25s corpus", mininterval=5):
                r = json.loads(line)
                texts.append(f"{r['title']} {r['abstract']} {r['authors']}")
        started = time.perf_counter()
        retriever = bm25s.BM25()
        retriever.index(
            bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False
        )
        build = time.perf_counter() - started
        del texts

        def bm25s_search(q: str) -> None:
            retriever.retrieve(
                bm25s.tokenize([q], stopwords="en", show_progress=False), k=10, show_progress=False
            )

        rows.append(
            (
                f"bm25s in memory (baseline; index built in {build:.0f} s)",
                summary_ms(time_queries(bm25s_search, queries, args.rounds)),
            )
        )
    print(
        f"\nmachine: {machine()}; papers: {n:,}; queries: {len(queries)} x {args.rounds} rounds; "
        f"peak RSS of this process: {rss_mib():.0f} MiB\n"
    )
    print("| engine | p50 ms | p95 ms | mean ms |\n| --- | --- | --- | --- |")
    for name, figures in rows:
        print(f"| {name} | {figures['p50']:.1f} | {figures['p95']:.1f} | {figures['mean']:.1f} |")
    print(
        "\npaperwire by query length (words): "
        + ", ".join(
            f"{k}: p95 {summary_ms(v)['p95']:.0f} ms" for k, v in sorted(per_length.items())
        )
    )


if __name__ == "__main__":
    main()
