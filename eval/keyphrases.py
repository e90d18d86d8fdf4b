"""Keyphrases extracted here (paperwire.keyphrases, KeyBERT's method on the shipped
MiniLM) against Hugging Face's ai_keywords, on every recorded paper that has both
(tests/data/hf_daily_papers*.json: real daily-papers items).

Phrases are compared normalised: slug form (paperwire.topics.slugify: accents, case,
hyphens folded) and the last word's plural "s" dropped. Reported: precision and recall
of exact phrase matches (micro-averaged over papers), and of "soft" matches (a predicted
phrase that shares a content word with a gold one, and vice versa), for the extraction
and for a no-model baseline (the most frequent candidates), same papers, same run.

    PYTHONPATH=src python eval/keyphrases.py [--top 5]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from paperwire import upstream
from paperwire.ingest.hf_daily import parse
from paperwire.keyphrases import extract, frequency_baseline
from paperwire.models import Paper
from paperwire.querylang import STOP_WORDS
from paperwire.search.embed import make_embedder
from paperwire.topics import slugify

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def norm(phrase: str) -> str:
    words = slugify(phrase).split("-")
    if words and len(words[-1]) > 3 and words[-1].endswith("s") and not words[-1].endswith("ss"):
        words[-1] = words[-1][:-1]
    return " ".join(w for w in words if w)


def content(phrase: str) -> set[str]:
    return {w for w in norm(phrase).split() if w not in STOP_WORDS}


def score(predicted: list[list[str]], gold: list[list[str]]) -> dict[str, float]:
    hit_p = hit_r = soft_p = soft_r = n_p = n_g = 0
    for pred, want in zip(predicted, gold, strict=True):
        p_norm, g_norm = {norm(p) for p in pred}, {norm(g) for g in want}
        hit_p += len(p_norm & g_norm)
        hit_r += len(g_norm & p_norm)
        soft_p += sum(any(content(p) & content(g) for g in want) for p in pred)
        soft_r += sum(any(content(p) & content(g) for p in pred) for g in want)
        n_p += len(pred)
        n_g += len(want)
    return {
        "P": hit_p / n_p, "R": hit_r / n_g, "softP": soft_p / n_p, "softR": soft_r / n_g,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=5, help="keyphrases per paper")
    parser.add_argument("--model", default="minilm-onnx-int8", help="embedding model")
    args = parser.parse_args()
    papers: dict[str, Paper] = {}
    for path in sorted(DATA.glob("hf_daily_papers*.json")):
        for paper in parse(path.read_bytes()):
            if isinstance(paper, Paper) and upstream.value(paper.extras, upstream.KEYWORDS):
                papers[paper.key] = paper
    gold = [list(upstream.value(p.extras, upstream.KEYWORDS)) for p in papers.values()]
    embedder = make_embedder(args.model, Path(tempfile.gettempdir()) / "paperwire-eval-models")
    extracted = [
        extract(p.title, p.abstract, embedder.embed, top_n=args.top) for p in papers.values()
    ]
    baseline = [frequency_baseline(p.title, p.abstract, args.top) for p in papers.values()]
    phrases = sum(map(len, gold))
    print(f"papers with HF keywords: {len(papers)}; gold phrases: {phrases}; top {args.top}")
    for name, predicted in (("keybert-mmr", extracted), ("frequency", baseline)):
        s = score(predicted, gold)
        print(
            f"{name:12} P={s['P']:.2f} R={s['R']:.2f} softP={s['softP']:.2f} softR={s['softR']:.2f}"
        )
    for paper, want, got in zip(papers.values(), gold, extracted, strict=True):
        print(f"\n{paper.key}\n  HF:   {want}\n  here: {got}")


if __name__ == "__main__":
    main()
