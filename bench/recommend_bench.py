"""Recommendations for one profile over N candidate papers (issue 16: p95 <= 50 ms at 100k
on 2 cores).

    python bench/recommend_bench.py                  # 100,000 candidates
    python bench/recommend_bench.py --n 20000 --runs 20

The candidates: synthetic titles and abstracts from the sample corpus's bigram chain
(bench/synth.py) and random unit vectors of 384 dimensions (what a ranking costs does not
depend on the vectors' content). Timed, each in the same run:
  - build: the corpus's features (tf-idf fit + vectors), done once per store state and
    kept for every later request (recommend.corpus.cached_corpus), and the background's
    kernel (once per corpus);
  - before (the code of be15252, bench/recommend_before.py): scikit-learn's logistic
    regression over 2,000 background papers fitted on every request;
  - paperwire, model, cold: a profile of 10 papers and 5 dismissed never seen before (the
    fit in the dual, scoring every candidate, the top 30 explained) — what the first
    request after a save or a dismissal costs;
  - paperwire, model, warm: the same profile again (fitted scorer and scores kept) — a
    reload, the API, the feed, another page of /for-you, a "seen" mark;
  - paperwire, centroid: a profile of 2 papers, cold;
  - paperwire, digest: a cold profile ranked among 1,000 new papers only (a digest's
    "Recommended for you");
  - baseline, arxiv-sanity-lite: its linear SVM (C=0.01) trained on the profile against
    every other candidate, over the same tf-idf, then scored (--baseline-runs).
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np
from sklearn.svm import LinearSVC

import recommend_before
from benchlib import machine, summary_ms
from paperwire.recommend.corpus import build_corpus
from paperwire.recommend.model import VECTOR_WEIGHT, recommend
from synth import SampleModel


def texts(n: int, seed: int = 7) -> list[str]:
    """N synthetic title + abstract texts."""
    model = SampleModel()
    rng = np.random.default_rng(seed)
    return [model.sentence(rng, 9) + ". " + model.sentence(rng, 120) for _ in range(n)]


def timed(runs: int, call) -> list[float]:
    """Wall seconds of each call."""
    found = []
    for run in range(runs):
        start = time.perf_counter()
        call(run)
        found.append(time.perf_counter() - start)
    return found


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--before-runs", type=int, default=20)
    parser.add_argument("--baseline-runs", type=int, default=2)
    args = parser.parse_args()
    print(f"machine: {machine()}; load average at the start: {os.getloadavg()}")
    start = time.perf_counter()
    corpus_texts = texts(args.n)
    made = time.perf_counter() - start
    rng = np.random.default_rng(11)
    vectors = rng.standard_normal((args.n, 384)).astype(np.float32)
    ids = list(range(1, args.n + 1))
    start = time.perf_counter()
    corpus = build_corpus(
        ids, [f"k{i}" for i in ids], [t[:60] for t in corpus_texts], corpus_texts, vectors,
        np.ones(args.n, dtype=bool),
    )  # fmt: skip
    built = time.perf_counter() - start
    held = corpus.terms.data.nbytes + corpus.terms.indices.nbytes + corpus.vectors.nbytes
    print(
        f"{args.n} candidates; texts made in {made:.1f} s; features built in {built:.1f} s "
        f"({corpus.terms.shape[1]} terms, {held / 2**20:.0f} MiB of features)"
    )

    start = time.perf_counter()
    corpus.background(VECTOR_WEIGHT)
    print(f"background kernel in {time.perf_counter() - start:.2f} s")

    drawn: dict[tuple[int, int], list[int]] = {}

    def draw(run: int, size: int) -> list[int]:
        picks = np.random.default_rng(run).choice(ids, size, replace=False)
        drawn[(run, size)] = [int(x) for x in picks]
        return drawn[(run, size)]

    def profile(run: int, size: int) -> list[int]:
        """Drawn before the clock starts (a draw over 100k ids costs ~10 ms)."""
        return drawn[(run, size)]

    most = max(args.runs, args.before_runs, args.baseline_runs)
    for run in range(most):
        for first, size in ((run, 10), (run + 999, 5), (run + 5000, 2), (run + 7000, 10)):
            draw(first, size)
        draw(run + 8000, 5)

    before = timed(
        args.before_runs,
        lambda run: recommend_before.recommend(
            corpus, profile(run, 10), profile(run + 999, 5), set(), 30
        ),
    )
    cold = timed(
        args.runs,
        lambda run: recommend(corpus, profile(run, 10), profile(run + 999, 5), set(), 30),
    )
    warm = timed(
        args.runs,
        lambda run: recommend(corpus, profile(0, 10), profile(999, 5), {run + 1}, 30),
    )
    centroid = timed(
        args.runs, lambda run: recommend(corpus, profile(run + 5000, 2), [], set(), 30)
    )
    new = draw(424242, 1000)
    digest = timed(
        args.runs,
        lambda run: recommend(
            corpus, profile(run + 7000, 10), profile(run + 8000, 5), set(), 5, among_ids=new
        ),
    )

    def sanity(run: int) -> None:
        labels = np.zeros(args.n)
        labels[[i - 1 for i in profile(run, 10)]] = 1
        svm = LinearSVC(class_weight="balanced", max_iter=10000, tol=1e-6, C=0.01)
        svm.fit(corpus.terms, labels)
        scores = svm.decision_function(corpus.terms)
        np.argpartition(-scores, 30)[:30]

    baseline = timed(args.baseline_runs, sanity) if args.baseline_runs else []
    print("\n| what | runs | p50 ms | p95 ms | mean ms |\n| --- | --- | --- | --- | --- |")
    for name, found in (
        ("before (be15252): model, 10 papers + 5 dismissed", before),
        ("paperwire, model cold (10 papers, 5 dismissed)", cold),
        ("paperwire, model warm (the same profile again)", warm),
        ("paperwire, centroid (2 papers)", centroid),
        ("paperwire, digest section (among 1,000 new papers, cold)", digest),
        ("baseline: arxiv-sanity-lite SVM (10 papers)", baseline),
    ):
        if not found:
            continue
        s = summary_ms(found)
        print(f"| {name} | {len(found)} | {s['p50']:.1f} | {s['p95']:.1f} | {s['mean']:.1f} |")
    print(f"load average after the runs: {os.getloadavg()}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of the process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
