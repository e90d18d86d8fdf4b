"""Search quality on paperwire's own test collection (eval/judgments.json): nDCG@10,
Recall@20 and MRR for each mode, overall, per kind of query, and per split.

    python eval/run.py                         # all modes, default model
    python eval/run.py --choose-alpha          # pick the hybrid weight on the dev split
    python eval/run.py --model minilm-onnx-int8

The weight of the meaning leg is chosen on the dev queries (odd numbers) only; the figures
to quote are the test queries' (even numbers)."""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from paperwire.ingest import parse_any
from paperwire.ingest.load import load
from paperwire.search.embed import DEFAULT_MODEL, MODELS, make_embedder
from paperwire.search.hybrid import DEFAULT_ALPHA, SearchEngine, embed_pending, search
from paperwire.search.lexical import LexicalIndex
from paperwire.search.vectors import VectorIndex
from paperwire.store.sqlite import SQLiteStore

HERE = Path(__file__).parent


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


def build_engine(model: str, workdir: Path) -> SearchEngine:
    """A store of the sample corpus with both indexes and every paper embedded."""
    store = SQLiteStore(f"sqlite:///{workdir / 'eval.db'}")
    data = resources.files("paperwire.data").joinpath("sample.jsonl").read_bytes()
    load(store, parse_any(data, "sample", "paperwire"))
    embedder = make_embedder(model, workdir / "models")
    embed_pending(store, embedder)
    lexical = LexicalIndex.for_store(store)
    lexical.sync(store)
    vectors = VectorIndex.for_store(store, embedder.name)
    vectors.sync(store)
    return SearchEngine(store, lexical, vectors, embedder)


Runner = Callable[[str], list[str]]


def evaluate(queries: list[dict], run: Runner) -> dict[str, dict[str, float]]:
    """Mean metrics over the queries: overall, per kind and per split."""
    groups: dict[str, list[tuple[float, float, float]]] = {}
    for number, q in enumerate(queries, start=1):
        ranked = run(q["text"])
        row = (
            ndcg_at(ranked, q["relevant"]),
            recall_at(ranked, q["relevant"]),
            reciprocal_rank(ranked, q["relevant"]),
        )
        split = "dev" if number % 2 else "test"
        for group in ("all", q["kind"], split):
            groups.setdefault(group, []).append(row)
    return {
        group: {
            "nDCG@10": sum(r[0] for r in rows) / len(rows),
            "R@20": sum(r[1] for r in rows) / len(rows),
            "MRR": sum(r[2] for r in rows) / len(rows),
            "n": len(rows),
        }
        for group, rows in groups.items()
    }


def runner(
    engine: SearchEngine, mode: str, fusion: str = "convex", alpha: float | None = None
) -> Runner:
    """A function from query text to ranked keys."""

    def run(text: str) -> list[str]:
        engine.alpha = DEFAULT_ALPHA if alpha is None else alpha
        return [h.paper.key for h in search(engine, text, mode=mode, limit=20, fusion=fusion)]  # type: ignore[arg-type]

    return run


def main() -> None:
    """Print the figures as Markdown tables."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", choices=MODELS, default=DEFAULT_MODEL)
    parser.add_argument(
        "--choose-alpha", action="store_true", help="grid-search alpha on the dev split"
    )
    args = parser.parse_args()
    queries = json.loads((HERE / "judgments.json").read_text("utf-8"))["queries"]
    with tempfile.TemporaryDirectory() as tmp:
        engine = build_engine(args.model, Path(tmp))
        alpha = DEFAULT_ALPHA
        if args.choose_alpha:
            dev = [q for i, q in enumerate(queries, start=1) if i % 2]
            grid = [round(a * 0.05, 2) for a in range(21)]
            scores = {
                a: evaluate(dev, runner(engine, "hybrid", alpha=a))["all"]["nDCG@10"] for a in grid
            }
            alpha = max(scores, key=lambda a: (scores[a], -abs(a - 0.5)))
            print("dev nDCG@10 by alpha: " + ", ".join(f"{a}: {s:.3f}" for a, s in scores.items()))
            print(f"chosen alpha (dev split): {alpha}\n")
        systems = {
            "lexical (BM25)": runner(engine, "lexical"),
            "semantic": runner(engine, "semantic"),
            f"hybrid, convex alpha={alpha}": runner(engine, "hybrid", "convex", alpha),
            "hybrid, RRF k=60": runner(engine, "hybrid", "rrf", alpha),
        }
        results = {name: evaluate(queries, run) for name, run in systems.items()}
        engine.store.close()
    print(f"model: {args.model}; {len(queries)} queries; corpus: sample (245 papers)\n")
    for group in ("all", "test", "dev", "keyword", "description", "known-item"):
        print(f"### {group} ({results['semantic'][group]['n']} queries)\n")
        print("| system | nDCG@10 | Recall@20 | MRR |\n| --- | --- | --- | --- |")
        for name, figures in results.items():
            f = figures[group]
            print(f"| {name} | {f['nDCG@10']:.3f} | {f['R@20']:.3f} | {f['MRR']:.3f} |")
        print()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
