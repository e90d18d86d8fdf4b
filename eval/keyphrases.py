"""Keyphrases extracted here (paperwire.keyphrases, KeyBERT's method on the shipped
MiniLM) against Hugging Face's ai_keywords, on six whole recorded daily-papers responses
(tests/fixtures/hf_daily_recorded/, 138 papers with an abstract and ai_keywords).

Phrases are compared normalised: slug form (paperwire.topics.slugify: accents, case,
hyphens folded) and the last word's plural "s" dropped. Scores are micro-averaged over
papers: precision = matched extracted phrases / extracted phrases, recall = matched HF
phrases / HF phrases; "soft" counts a phrase that shares a content word with one on the
other side. The baseline (no model: the most frequent candidates) runs on the same
papers in the same run.

Split by whole days, alternating (SOURCE.md): the dev days choose each method's
parameters (top N, and MMR diversity for the extraction) by exact-match F1; the test days
are scored once with them, with 95% confidence intervals from a bootstrap over the test
papers (resampled with replacement; the paired difference extraction - baseline too).

    PYTHONPATH=src python eval/keyphrases.py [--resamples 10000]
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from paperwire import upstream
from paperwire.ingest.hf_daily import parse
from paperwire.keyphrases import DIVERSITY, TOP_N, candidates, extract, frequency_baseline
from paperwire.models import Paper
from paperwire.querylang import STOP_WORDS
from paperwire.search.embed import make_embedder
from paperwire.topics import slugify

DATA = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "hf_daily_recorded"
DEV_DAYS = ("2025-07-01", "2026-01-15", "2026-06-10")
TEST_DAYS = ("2025-10-01", "2026-04-01", "2026-08-20")
TOP_NS = (3, 5, 7, 10, 15)
DIVERSITIES = (0.0, 0.2, 0.35, 0.5, 0.7)


def norm(phrase: str) -> str:
    words = slugify(phrase).split("-")
    if words and len(words[-1]) > 3 and words[-1].endswith("s") and not words[-1].endswith("ss"):
        words[-1] = words[-1][:-1]
    return " ".join(w for w in words if w)


def content(phrase: str) -> set[str]:
    return {w for w in norm(phrase).split() if w not in STOP_WORDS}


@dataclass(frozen=True)
class Counts:
    """One paper's match counts: exact hits (the same on both sides once normalised),
    soft hits of each side, and the number of phrases on each side."""

    hits: int
    soft_p: int
    soft_r: int
    n_pred: int
    n_gold: int


def counts(pred: list[str], gold: list[str]) -> Counts:
    p_norm, g_norm = {norm(p) for p in pred}, {norm(g) for g in gold}
    return Counts(
        hits=len(p_norm & g_norm),
        soft_p=sum(any(content(p) & content(g) for g in gold) for p in pred),
        soft_r=sum(any(content(p) & content(g) for p in pred) for g in gold),
        n_pred=len(p_norm),
        n_gold=len(g_norm),
    )


def scores(rows: np.ndarray) -> dict[str, float]:
    """Micro P, R, F1 and soft P, R of rows of Counts (columns in field order)."""
    hits, soft_p, soft_r, n_pred, n_gold = rows.sum(axis=0)
    p, r = hits / max(n_pred, 1), hits / max(n_gold, 1)
    return {
        "P": p,
        "R": r,
        "F1": 2 * p * r / (p + r) if p + r else 0.0,
        "softP": soft_p / max(n_pred, 1),
        "softR": soft_r / max(n_gold, 1),
    }


def table(results: list[Counts]) -> np.ndarray:
    return np.array(
        [(c.hits, c.soft_p, c.soft_r, c.n_pred, c.n_gold) for c in results], dtype=np.float64
    )


def papers_of(days: Sequence[str]) -> list[Paper]:
    found: list[Paper] = []
    for day in days:
        for paper in parse(gzip.decompress((DATA / f"{day}.json.gz").read_bytes())):
            if (
                isinstance(paper, Paper)
                and paper.abstract
                and upstream.value(paper.extras, upstream.KEYWORDS)
            ):
                found.append(paper)
    return found


def gold_of(paper: Paper) -> list[str]:
    return list(upstream.value(paper.extras, upstream.KEYWORDS))


Method = Callable[[Paper], list[str]]


def run(method: Method, papers: list[Paper]) -> np.ndarray:
    return table([counts(method(p), gold_of(p)) for p in papers])


def bootstrap(
    rows: dict[str, np.ndarray], resamples: int, seed: int = 29
) -> dict[str, dict[str, tuple[float, float]]]:
    """95% percentile intervals of each method's scores, and of the paired differences
    to the first method named, over papers resampled with replacement."""
    rng = np.random.default_rng(seed)
    n = len(next(iter(rows.values())))
    names = list(rows)
    drawn: dict[str, dict[str, list[float]]] = {k: {} for k in [*names, "diff"]}
    for _ in range(resamples):
        pick = rng.integers(0, n, n)
        got = {name: scores(rows[name][pick]) for name in names}
        for name in names:
            for metric, value in got[name].items():
                drawn[name].setdefault(metric, []).append(value)
        for metric in got[names[0]]:
            drawn["diff"].setdefault(metric, []).append(
                got[names[0]][metric] - got[names[1]][metric]
            )
    return {
        name: {
            m: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))) for m, v in ms.items()
        }
        for name, ms in drawn.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="minilm-onnx-int8", help="embedding model")
    parser.add_argument("--resamples", type=int, default=10_000, help="bootstrap resamples")
    parser.add_argument("--show", type=int, default=3, help="test papers to print in full")
    args = parser.parse_args()
    dev, test = papers_of(DEV_DAYS), papers_of(TEST_DAYS)
    embedder = make_embedder(args.model, Path(tempfile.gettempdir()) / "paperwire-eval-models")
    cache: dict[tuple[str, ...], np.ndarray] = {}

    def embed(texts: Sequence[str]) -> np.ndarray:  # the same phrases embed once
        key = tuple(texts)
        if key not in cache:
            cache[key] = embedder.embed(list(texts))
        return cache[key]

    def keybert(top: int, diversity: float) -> Method:
        return lambda p: extract(p.title, p.abstract, embed, top_n=top, diversity=diversity)

    def frequency(top: int) -> Method:
        return lambda p: frequency_baseline(p.title, p.abstract, top)

    for name, papers in (("dev", dev), ("test", test)):
        gold = [gold_of(p) for p in papers]
        reachable = sum(
            len({norm(g) for g in want} & {norm(c) for c in candidates(p.title, p.abstract)})
            for p, want in zip(papers, gold, strict=True)
        )
        phrases = sum(len({norm(g) for g in want}) for want in gold)
        print(
            f"{name}: {len(papers)} papers, {phrases} HF phrases, "
            f"{reachable / phrases:.2f} of them among the candidates (the recall ceiling)"
        )

    print("\ndev, exact-match F1 (choosing the parameters):")
    kb_grid = {
        (top, div): scores(run(keybert(top, div), dev))["F1"]
        for top in TOP_NS
        for div in DIVERSITIES
    }
    fq_grid = {top: scores(run(frequency(top), dev))["F1"] for top in TOP_NS}
    for top in TOP_NS:
        cells = "  ".join(f"d={div}: {kb_grid[(top, div)]:.3f}" for div in DIVERSITIES)
        print(f"  keybert top {top:2}: {cells}   | frequency: {fq_grid[top]:.3f}")
    kb_top, kb_div = max(kb_grid, key=lambda k: (kb_grid[k], -k[0], k[1]))
    fq_top = max(fq_grid, key=lambda k: (fq_grid[k], -k))
    print(f"chosen: keybert top {kb_top}, diversity {kb_div}; frequency top {fq_top}")

    print(
        f"\ntest ({len(test)} papers), 95% bootstrap intervals over papers, "
        f"{args.resamples} resamples:"
    )
    print("| method | P | R | F1 | soft P | soft R |")
    print("| --- | --- | --- | --- | --- | --- |")
    pairs = [
        (
            f"keybert-mmr, chosen on dev (top {kb_top}, diversity {kb_div})",
            keybert(kb_top, kb_div),
            f"frequency, chosen on dev (top {fq_top})",
            frequency(fq_top),
        ),
        (
            f"keybert-mmr as shipped (top {TOP_N}, diversity {DIVERSITY})",
            keybert(TOP_N, DIVERSITY),
            f"frequency (top {TOP_N})",
            frequency(TOP_N),
        ),
    ]
    for kb_name, kb_method, fq_name, fq_method in pairs:
        rows = {kb_name: run(kb_method, test), fq_name: run(fq_method, test)}
        ci = bootstrap(rows, args.resamples)
        for name, data in rows.items():
            s = scores(data)
            cells = [
                f"{s[m]:.2f} [{ci[name][m][0]:.2f}, {ci[name][m][1]:.2f}]"
                for m in ("P", "R", "F1", "softP", "softR")
            ]
            print(f"| {name} | " + " | ".join(cells) + " |")
        diff = {
            m: scores(rows[kb_name])[m] - scores(rows[fq_name])[m]
            for m in ("P", "R", "F1", "softP", "softR")
        }
        cells = [f"{diff[m]:+.2f} [{ci['diff'][m][0]:+.2f}, {ci['diff'][m][1]:+.2f}]" for m in diff]
        print("| difference, paired (keybert - frequency) | " + " | ".join(cells) + " |")
    for paper in test[: args.show]:
        print(f"\n{paper.key}\n  HF:   {gold_of(paper)}\n  here: {keybert(kb_top, kb_div)(paper)}")


if __name__ == "__main__":
    main()
