"""Recommendation quality on paperwire's test collection (eval/judgments.json), by
simulated readers: each topic (a keyword or description query with at least 4 relevant
papers) is a reader whose relevant papers are split in half at random; the profile is
seeded with 1, 3 or 10 papers of the first half (as many as it has) plus 3 dismissed
off-topic papers; every other paper of the corpus is ranked, the rest of the first half
set aside, and the held-out half scored (nDCG@10 with the judged grades, Recall@20).
Five random splits per topic, averaged.

Beside paperwire's ranking (recommend.model: the linear model over tf-idf + MiniLM with
negatives, the centroid under 3 seeds), in the same run:
  - centroid (Rocchio) over the MiniLM vectors: cos(mean of seeds) - 0.5 cos(mean of
    dismissed);
  - arxiv-sanity-lite: its tf-idf (words and pairs, sublinear, max_df 0.1) and a linear
    SVM (C=0.01, balanced) of the seeds against every other paper, no negatives.

    python eval/recommend_eval.py                 # test topics (even numbers)
    python eval/recommend_eval.py --split dev     # dev topics (odd numbers)
    python eval/recommend_eval.py --against minilm-onnx-int8   # also another embedding
        # model, and paired randomization tests over the topics (each topic's mean over its
        # splits) for the systems that read the vectors
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np
from run import ndcg_at, randomization_test, recall_at
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from paperwire.ingest import parse_any
from paperwire.ingest.load import load
from paperwire.recommend.corpus import Corpus, load_corpus
from paperwire.recommend.model import recommend
from paperwire.search.embed import DEFAULT_MODEL, make_embedder
from paperwire.search.hybrid import embed_pending
from paperwire.store.sqlite import SQLiteStore

HERE = Path(__file__).parent
SEEDS = (1, 3, 10)
DISMISSED = 3
SPLITS = 5
MIN_RELEVANT = 4
# arxiv-sanity-lite's word pattern.
SANITY_WORD = r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b"

# (corpus, seed rows, dismissed rows, rows set aside) -> every row's score
Scorer = Callable[[Corpus, list[int], list[int], set[int]], list[int]]


def paperwire_ranking(corpus: Corpus, seeds: list[int], dismissed: list[int], aside: set[int]):
    """recommend.model as the site runs it."""
    ids = corpus.ids
    recs = recommend(
        corpus, [int(ids[r]) for r in seeds], [int(ids[r]) for r in dismissed],
        {int(ids[r]) for r in aside}, len(corpus),
    )  # fmt: skip
    return [corpus.row_of[r.paper_id] for r in recs]


def centroid_ranking(corpus: Corpus, seeds: list[int], dismissed: list[int], aside: set[int]):
    """Rocchio over the MiniLM vectors."""
    query = corpus.vectors[seeds].mean(axis=0)
    if dismissed:
        query = query - 0.5 * corpus.vectors[dismissed].mean(axis=0)
    scores = corpus.vectors @ query
    return _ranked(scores, set(seeds) | set(dismissed) | aside)


def sanity_features(texts: list[str]):
    """arxiv-sanity-lite's tf-idf (min_df lowered for a corpus of 245 papers)."""
    vectorizer = TfidfVectorizer(
        input="content", encoding="utf-8", decode_error="replace", strip_accents="unicode",
        lowercase=True, analyzer="word", stop_words="english",
        token_pattern=SANITY_WORD, ngram_range=(1, 2),
        max_features=20000, norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True,
        max_df=0.1, min_df=1,
    )  # fmt: skip
    return vectorizer.fit_transform(texts)


def sanity_ranking(features) -> Scorer:
    """arxiv-sanity-lite's SVM: the seeds against every other paper."""

    def rank(corpus: Corpus, seeds: list[int], dismissed: list[int], aside: set[int]):
        labels = np.zeros(len(corpus))
        labels[seeds] = 1
        svm = LinearSVC(class_weight="balanced", verbose=False, max_iter=10000, tol=1e-6, C=0.01)
        svm.fit(features, labels)
        return _ranked(svm.decision_function(features), set(seeds) | set(dismissed) | aside)

    return rank


def _ranked(scores, banned: set[int]) -> list[int]:
    order = np.argsort(-np.asarray(scores), kind="stable")
    return [int(r) for r in order if int(r) not in banned]


def topics(split: str) -> list[dict]:
    """The judged queries of a split with enough relevant papers to hold half out."""
    queries = json.loads((HERE / "judgments.json").read_text("utf-8"))["queries"]
    chosen = []
    for number, query in enumerate(queries, start=1):
        in_split = (number % 2 == 0) if split == "test" else (number % 2 == 1)
        relevant = [k for k, g in query["relevant"].items() if g > 0]
        if in_split and query["kind"] != "known-item" and len(relevant) >= MIN_RELEVANT:
            chosen.append(query)
    return chosen


def evaluate(
    corpus: Corpus, chosen: list[dict], systems: dict[str, Scorer]
) -> tuple[dict, dict[tuple[str, int], list[float]]]:
    """Mean nDCG@10 and Recall@20 per system and seed count; and each topic's mean
    nDCG@10 over its splits (for paired tests)."""
    table: dict[tuple[str, int], list[tuple[float, float]]] = {}
    per_topic: dict[tuple[str, int], list[float]] = {}
    row_of_key = {key: i for i, key in enumerate(corpus.keys)}
    for query in chosen:
        mine: dict[tuple[str, int], list[float]] = {}
        grades = {k: g for k, g in query["relevant"].items() if k in row_of_key}
        relevant = sorted(k for k, g in grades.items() if g > 0)
        off_topic = sorted(k for k in corpus.keys if k not in grades)
        for split in range(SPLITS):
            rng = np.random.default_rng(1000 * split + len(query["id"]) + int(query["id"][1:]))
            shuffled = list(rng.permutation(relevant))
            half = len(shuffled) // 2
            first, held_out = shuffled[:half], shuffled[half:]
            dismissed = [row_of_key[k] for k in rng.choice(off_topic, DISMISSED, replace=False)]
            held = {k: grades[k] for k in held_out}
            for n in SEEDS:
                seeds = [row_of_key[k] for k in first[:n]]
                aside = {row_of_key[k] for k in first[n:]}
                for name, rank in systems.items():
                    ranked = [corpus.keys[r] for r in rank(corpus, seeds, dismissed, aside)]
                    table.setdefault((name, n), []).append(
                        (ndcg_at(ranked, held), recall_at(ranked, held))
                    )
                    mine.setdefault((name, n), []).append(table[(name, n)][-1][0])
        for key, scores in mine.items():
            per_topic.setdefault(key, []).append(float(np.mean(scores)))
    means = {
        key: (float(np.mean([r[0] for r in rows])), float(np.mean([r[1] for r in rows])))
        for key, rows in table.items()
    }
    return means, per_topic


def build_corpus(model: str) -> tuple[Corpus, list[str]]:
    """The sample corpus embedded by `model` (as embed_pending does), and its texts."""
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(f"sqlite:///{Path(tmp) / 'eval.db'}")
        data = resources.files("paperwire.data").joinpath("sample.jsonl").read_bytes()
        load(store, parse_any(data, "sample", "paperwire"))
        embedder = make_embedder(model, Path(tmp) / "models")
        embed_pending(store, embedder)
        corpus = load_corpus(store, embedder.name)
        texts = [f"{p.title}. {p.abstract}" for p in store.iter_papers()]
        store.close()
    return corpus, texts


def main() -> None:
    """Print the figures as a Markdown table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", choices=("test", "dev"), default="test")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--against", help="another model: both, and paired tests")
    args = parser.parse_args()
    corpus, texts = build_corpus(args.model)
    chosen = topics(args.split)
    systems: dict[str, Scorer] = {
        "paperwire (linear model, tf-idf + MiniLM, negatives)": paperwire_ranking,
        "centroid (Rocchio, MiniLM)": centroid_ranking,
        "arxiv-sanity-lite (tf-idf + linear SVM)": sanity_ranking(sanity_features(texts)),
    }
    results, per_topic = evaluate(corpus, chosen, systems)
    print(
        f"{args.split} topics: {len(chosen)} (>= {MIN_RELEVANT} relevant, known-item queries "
        f"left out); {SPLITS} splits each; {DISMISSED} dismissed off-topic papers; "
        f"corpus {len(corpus)} papers; model {args.model}\n"
    )
    _table(systems, results)
    if args.against:
        vectors = list(systems)[:2]  # the systems that read the model's vectors
        other, _ = build_corpus(args.against)
        theirs, their_topics = evaluate(other, chosen, {n: systems[n] for n in vectors})
        print(f"\nmodel {args.against}\n")
        _table(vectors, theirs)
        print(f"\n{args.model} - {args.against}, nDCG@10, paired over the {len(chosen)} topics\n")
        print("| system | " + " | ".join(f"{n} seed{'s' if n > 1 else ''}" for n in SEEDS) + " |")
        print("|---|" + "---|" * len(SEEDS))
        for name in vectors:
            cells = []
            for n in SEEDS:
                a, b = per_topic[(name, n)], their_topics[(name, n)]
                diff = float(np.mean(a) - np.mean(b))
                cells.append(f"{diff:+.3f} (p {randomization_test(a, b):.3f})")
            print(f"| {name} | " + " | ".join(cells) + " |")


def _table(systems, results: dict) -> None:
    print("| system | " + " | ".join(f"{n} seed{'s' if n > 1 else ''}" for n in SEEDS) + " |")
    print("|---|" + "---|" * len(SEEDS))
    for name in systems:
        cells = [f"{results[(name, n)][0]:.3f} / {results[(name, n)][1]:.3f}" for n in SEEDS]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\n(each cell: nDCG@10 / Recall@20 on the held-out half)")


if __name__ == "__main__":
    main()
