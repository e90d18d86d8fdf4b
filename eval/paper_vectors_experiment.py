"""Other ways of making a paper's one stored vector from the shipped model (issue 13, item 4),
measured on paperwire's test collection: the dev half chooses, the test half confirms.

    python eval/paper_vectors_experiment.py            # dev grids only
    python eval/paper_vectors_experiment.py --test     # + the dev winners on the test half
    python eval/paper_vectors_experiment.py --fusion   # + fusion re-chosen on dev per variant
    python eval/paper_vectors_experiment.py --speed 3  # + embedding throughput, 3 repeats

Variants (queries are embedded exactly as the product does; only papers' vectors change):

- ``base``: v(title. abstract), truncated at 256 word pieces (the current way);
- ``ta w``: normalise(w v(title) + (1 - w) v(abstract)) (title alone if no abstract);
- ``tf w``: normalise(w v(title) + (1 - w) v(title. abstract));
- ``passages n``: texts over 256 word pieces cut into windows of n abstract word pieces,
  half-overlapping, each embedded as "title. window", the paper's vector the normalised mean
  of the windows' (papers that fit: as base); ``tp w``: ``tf w`` over the passage vector.

Each variant's vectors go into the store under a model name of its own and are searched by the
same VectorIndex and search() as the product (meaning leg alone and hybrid). The variant of each
family (title/abstract, passages) with the best dev hybrid nDCG@10 goes to the test half only if
it beats base on dev there; test figures are paired randomization tests against base, same run."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from run import (
    HERE,
    KINDS,
    build_engine,
    fusion_grid,
    mean,
    ndcg_at,
    randomization_test,
    split_of,
)

from paperwire.models import Paper
from paperwire.search.embed import DEFAULT_MODEL, MAX_TOKENS, Vectors, _model_dir
from paperwire.search.hybrid import Mode, SearchEngine, search
from paperwire.search.vectors import VectorIndex, from_bytes, to_bytes

TA_WEIGHTS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
TF_WEIGHTS = (0.1, 0.2, 0.3, 0.4, 0.5)
PASSAGE_TOKENS = (128, 200)
MODES: tuple[Mode, ...] = ("semantic", "hybrid")


class CachedQueries:
    """The engine's embedder with query vectors remembered (each query is embedded once
    per run, however many variants it is searched against; same vectors as uncached)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimensions = inner.dimensions
        self._seen: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Rows for texts, from the cache where possible."""
        missing = [t for t in texts if t not in self._seen]
        if missing:
            for text, row in zip(missing, self.inner.embed(missing), strict=True):
                self._seen[text] = row
        return np.stack([self._seen[t] for t in texts]).astype(np.float32)


def normalise(rows: np.ndarray) -> np.ndarray:
    """L2-normalised rows, float32."""
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.clip(norms, 1e-12, None)).astype(np.float32)


def full_text(paper: Paper) -> str:
    """The current text: title. abstract."""
    title, abstract = paper.title.strip(), paper.abstract.strip()
    return f"{title}. {abstract}" if abstract else title


def passage_texts(paper: Paper, tokenizer: Any, window: int) -> list[str]:
    """One text if title. abstract fits the model; else "title. window" for half-overlapping
    windows of `window` abstract word pieces (cut at word-piece offsets in the abstract)."""
    text = full_text(paper)
    if len(tokenizer.encode(text).ids) <= MAX_TOKENS:
        return [text]
    title, abstract = paper.title.strip(), paper.abstract.strip()
    offsets = [o for o in tokenizer.encode(abstract, add_special_tokens=False).offsets]
    step = max(1, window // 2)
    texts = []
    for start in range(0, len(offsets), step):
        piece = offsets[start : start + window]
        texts.append(f"{title}. {abstract[piece[0][0] : piece[-1][1]]}")
        if start + window >= len(offsets):
            break
    return texts


def passage_vectors(
    papers: list[Paper], embed: Callable[[list[str]], np.ndarray], tokenizer: Any, window: int
) -> np.ndarray:
    """The normalised mean of each paper's passage vectors."""
    groups = [passage_texts(p, tokenizer, window) for p in papers]
    flat = [t for g in groups for t in g]
    rows = embed(flat)
    out, at = [], 0
    for g in groups:
        out.append(rows[at : at + len(g)].mean(axis=0))
        at += len(g)
    return normalise(np.stack(out))


def variant_engine(
    engine: SearchEngine, ids: list[int], papers: list[Paper], name: str, vectors: np.ndarray
) -> SearchEngine:
    """The engine with these paper vectors (stored under model `name`) in its meaning leg."""
    engine.store.save_vectors(name, list(zip(ids, papers, to_bytes(vectors), strict=True)))
    index = VectorIndex.for_store(engine.store, name)
    index.sync(engine.store)
    return SearchEngine(engine.store, engine.lexical, index, engine.embedder)


def evaluate(
    engine: SearchEngine,
    ids: list[int],
    papers: list[Paper],
    name: str,
    vectors: np.ndarray,
    queries: list[dict[str, Any]],
) -> dict[str, list[float]]:
    """Per-query nDCG@10 of the meaning leg and hybrid with these paper vectors."""
    variant = variant_engine(engine, ids, papers, name, vectors)
    out: dict[str, list[float]] = {}
    for mode in MODES:
        out[mode] = [
            ndcg_at([h.paper.key for h in search(variant, q["text"], mode, 20)], q["relevant"])
            for q in queries
        ]
    return out


def dev_test(
    results: dict[str, dict[str, list[float]]], name: str, mode: str, at: list[int]
) -> str:
    """A variant's dev difference from base and its paired randomization test's p."""
    a = [results[name][mode][i] for i in at]
    b = [results["base"][mode][i] for i in at]
    return f"{mode} {mean(a) - mean(b):+.3f} p {randomization_test(a, b):.3f}"


def main() -> None:
    """Print the dev grid (and with --test the test half of the dev winners)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--test", action="store_true", help="the dev winners on the test half")
    parser.add_argument("--fusion", action="store_true", help="re-choose fusion per variant on dev")
    parser.add_argument("--speed", type=int, default=0, help="throughput repeats (0: none)")
    args = parser.parse_args()
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(_model_dir() / "tokenizer.json"))
    tokenizer.no_truncation()  # the file truncates at 128; here we count every word piece
    queries = json.loads((HERE / "judgments.json").read_text("utf-8"))["queries"]
    dev_at = [i for i in range(len(queries)) if split_of(i + 1) == "dev"]
    test_at = [i for i in range(len(queries)) if split_of(i + 1) == "test"]
    with tempfile.TemporaryDirectory() as tmp:
        engine = build_engine(DEFAULT_MODEL, Path(tmp))
        raw = engine.embedder
        assert raw is not None
        engine.embedder = CachedQueries(raw)
        listed = engine.store.changes((0, 0), 0, 1_000_000).papers
        ids = [pid for pid, _ in listed]
        papers = [p for _, p in listed]
        lengths = np.array([len(tokenizer.encode(full_text(p)).ids) for p in papers])
        print(
            f"corpus: {len(papers)} papers; title. abstract in word pieces: median "
            f"{np.median(lengths):.0f}, max {lengths.max()}, {int((lengths > MAX_TOKENS).sum())} "
            f"over {MAX_TOKENS} (truncated by the current way)\n"
        )

        def embed(texts: list[str]) -> np.ndarray:
            # In batches of 64 texts, as embed_pending calls the model: the int8 model's
            # activation scales are per batch, so a vector depends slightly on its batch.
            return np.concatenate(
                [np.asarray(raw.embed(texts[i : i + 64])) for i in range(0, len(texts), 64)]
            )

        stored = engine.store.get_vectors(raw.name, ids)
        full = from_bytes([stored[pid] for pid in ids])
        again = embed([full_text(p) for p in papers])
        print(
            f"base = the stored vectors; re-embedded in batches of 64, min cosine to them "
            f"{float(np.min(np.sum(full * again, axis=1))):.4f}\n"
        )
        titles = embed([p.title.strip() for p in papers])
        has_abstract = np.array([bool(p.abstract.strip()) for p in papers])
        abstracts = embed([p.abstract.strip() or p.title.strip() for p in papers])
        variants: dict[str, tuple[str, np.ndarray]] = {"base": ("base", full)}
        for w in TA_WEIGHTS:
            mixed = normalise(w * titles + (1 - w) * abstracts)
            mixed[~has_abstract] = titles[~has_abstract]
            variants[f"ta {w}"] = ("title/abstract", mixed)
        for w in TF_WEIGHTS:
            variants[f"tf {w}"] = ("title/abstract", normalise(w * titles + (1 - w) * full))
        passages = {}
        for window in PASSAGE_TOKENS:
            passages[window] = passage_vectors(papers, embed, tokenizer, window)
            variants[f"passages {window}"] = ("passages", passages[window])
            for w in (0.2, 0.3):
                variants[f"tp {window} {w}"] = (
                    "passages",
                    normalise(w * titles + (1 - w) * passages[window]),
                )

        results = {}
        print("### dev grid, nDCG@10 (60 dev queries)\n")
        print("| variant | meaning | hybrid | " + " | ".join(f"hybrid {k}" for k in KINDS) + " |")
        print("| --- | --- | --- | " + " | ".join("---" for _ in KINDS) + " |")
        for n, (name, (_family, vectors)) in enumerate(variants.items()):
            results[name] = evaluate(engine, ids, papers, f"exp-{n}", vectors, queries)
            r = results[name]
            per_kind = [
                mean([r["hybrid"][i] for i in dev_at if queries[i]["kind"] == k]) for k in KINDS
            ]
            print(
                f"| {name} | {mean([r['semantic'][i] for i in dev_at]):.3f} | "
                f"{mean([r['hybrid'][i] for i in dev_at]):.3f} | "
                + " | ".join(f"{v:.3f}" for v in per_kind)
                + " |"
            )
        print()
        base_dev = mean([results["base"]["hybrid"][i] for i in dev_at])
        winners = []
        for family in ("title/abstract", "passages"):
            named = [n for n, (f, _) in variants.items() if f == family]
            best = max(named, key=lambda n: mean([results[n]["hybrid"][i] for i in dev_at]))
            best_dev = mean([results[best]["hybrid"][i] for i in dev_at])
            verdict = "goes to test" if best_dev > base_dev else "does not beat base: stops here"
            tests = ", ".join(dev_test(results, best, mode, dev_at) for mode in MODES)
            print(
                f"- best {family} on dev (hybrid): {best} {best_dev:.3f} vs base {base_dev:.3f} "
                f"(dev paired tests against base: {tests}): {verdict}"
            )
            if best_dev > base_dev:
                winners.append(best)
        print()
        if args.fusion:
            # Fusion weights were chosen with base vectors: give the best variant of each
            # family on the meaning leg its own dev-chosen fusion before calling it a loss.
            for family in ("base", "title/abstract", "passages"):
                named = [n for n, (f, _) in variants.items() if f == family]
                best = max(named, key=lambda n: mean([results[n]["semantic"][i] for i in dev_at]))
                print(
                    f"#### fusion re-chosen on dev for {best} (best {family} on the meaning leg)\n"
                )
                fusion_grid(
                    queries,
                    variant_engine(engine, ids, papers, f"fusion-{best}", variants[best][1]),
                )
        if args.test and winners:
            print("### test half, nDCG@10, paired randomization tests against base (same run)\n")
            print(
                "| variant | mode | group | variant | base | diff | p |\n"
                "| --- | --- | --- | --- | --- | --- | --- |"
            )
            for name in winners:
                for mode in ("semantic", "hybrid"):
                    for group in ("test", *KINDS):
                        at = [i for i in test_at if group == "test" or queries[i]["kind"] == group]
                        a = [results[name][mode][i] for i in at]
                        b = [results["base"][mode][i] for i in at]
                        print(
                            f"| {name} | {mode} | {group} | {mean(a):.3f} | {mean(b):.3f} | "
                            f"{mean(a) - mean(b):+.3f} | {randomization_test(a, b):.4f} |"
                        )
            print()
        if args.speed:
            speed(raw, papers, tokenizer, args.speed)
        engine.store.close()


def speed(embedder: Any, papers: list[Paper], tokenizer: Any, repeats: int) -> None:
    """Papers embedded per second: base (one text each) against title + title. abstract
    (two texts each) and passages, interleaved, best of `repeats`."""
    texts = [full_text(p) for p in papers]
    titles = [p.title.strip() for p in papers]
    ways: dict[str, Callable[[], object]] = {
        "base: title. abstract": lambda: embedder.embed(texts),
        "tf: title, then title. abstract": lambda: (embedder.embed(titles), embedder.embed(texts)),
        "passages 200": lambda: passage_vectors(
            papers, lambda t: np.asarray(embedder.embed(t)), tokenizer, 200
        ),
    }
    best: dict[str, float] = {}
    for _ in range(repeats):
        for name, way in ways.items():
            start = time.perf_counter()
            way()
            best[name] = min(best.get(name, 1e9), time.perf_counter() - start)
    print(f"### embedding throughput ({len(papers)} papers, best of {repeats}, interleaved)\n")
    for name, seconds in best.items():
        print(f"- {name}: {len(papers) / seconds:.1f} papers/s")
    print()


if __name__ == "__main__":
    main()
