"""The hybrid fusion re-chosen for the default embedding model (issue 31, bench/RESULTS.md §27).

The fusion's settings (search/hybrid.py: FusionWeights, MIN_COSINE, LEG_DEPTH; RRF_K for
``fusion="rrf"``) were chosen on the dev half with the vectors of ``minilm-onnx-int8``; the
default is now ``minilm-onnx-int8-128`` (§23). This runs the existing grids again on the dev
half with the model given (the default unless --model): each query's two legs are computed once
through the product's own code (keyword leg at LEG_DEPTH; meaning leg at LEG_DEPTH with every
cosine kept, so the floor can vary), then every setting is fused from them.

    python eval/fusion128.py                 # dev grids, the best of each, test of the choice
    python eval/fusion128.py --model minilm-onnx-int8

Grids (dev only): `run.py --tune`'s fusion grid (norm x short x long x long_from) at each
MIN_COSINE in 0.1-0.3 and leg depth 20/50/100; RRF (k 10/30/60/100); §15's length rules (a
third step, a ramp). The dev half's best setting is then reported on the test half, paired
against the shipped setting, by kind. The test half chooses nothing."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from run import (
    HERE,
    KINDS,
    build_engine,
    mean,
    ndcg_at,
    query_legs,
    randomization_test,
    split_of,
)

from paperwire.querylang import ranking_terms
from paperwire.search import hybrid
from paperwire.search.embed import DEFAULT_MODEL, MODELS


@dataclass(frozen=True)
class Setting:
    """One point of the grids: the product's FusionWeights, its cosine floor and leg depth,
    the fusion kind (convex or rrf, with its k) and an optional length rule for long queries
    (`ramp` per word from long_from, capped at 1; or a third step `very` from `very_from`)."""

    weights: hybrid.FusionWeights = hybrid.DEFAULT_WEIGHTS
    min_cosine: float = 0.2
    depth: int = 100
    fusion: str = "convex"
    rrf_k: int = 60
    ramp: float = 0.0
    very: float = 0.0
    very_from: int = 0

    def label(self) -> str:
        w = self.weights
        if self.fusion == "rrf":
            return f"rrf k {self.rrf_k}, floor {self.min_cosine}, depth {self.depth}"
        text = (
            f"{w.norm} short {w.short} long {w.long} from {w.long_from}, "
            f"floor {self.min_cosine}, depth {self.depth}"
        )
        if self.ramp:
            text += f", ramp {self.ramp}/word"
        if self.very:
            text += f", {self.very} from {self.very_from}"
        return text

    def alpha(self, parsed: Any) -> float:
        words, phrases = ranking_terms(parsed)
        n = len(words) + len(phrases)
        w = self.weights
        if n < w.long_from:
            return w.short
        if self.ramp:
            return min(1.0, w.long + self.ramp * (n - w.long_from))
        if self.very and n >= self.very_from:
            return self.very
        return w.long


SHIPPED = Setting(
    weights=hybrid.DEFAULT_WEIGHTS,
    min_cosine=hybrid.MIN_COSINE,
    depth=hybrid.LEG_DEPTH,
    rrf_k=hybrid.RRF_K,
)


NONSENSE = ("zzzqqqxxx", "zzqx vrrbl", "asdf qwerty", "blorp fnargle wibble", "my cat likes tuna")


def fused_keys(
    setting: Setting, leg: tuple[Any, list[Any], list[Any]], keys: dict[int, str]
) -> list[str]:
    """The top 20 keys of one query under a setting (as search() ranks them)."""
    parsed, lex, sem = leg
    lex = lex[: setting.depth]
    sem = [(pid, s) for pid, s in sem[: setting.depth] if s >= setting.min_cosine]
    if setting.fusion == "rrf":
        saved = hybrid.RRF_K
        hybrid.RRF_K = setting.rrf_k
        try:
            fused = hybrid.fuse(lex, sem, "rrf")
        finally:
            hybrid.RRF_K = saved
    else:
        fused = hybrid.fuse(lex, sem, alpha=setting.alpha(parsed), weights=setting.weights)
    return [keys[pid] for pid, _ in fused[:20]]


def grid() -> list[Setting]:
    """Every setting tried on dev."""
    out: list[Setting] = []
    for floor in (0.1, 0.15, 0.2, 0.25, 0.3):
        for depth in (20, 50, 100):
            for norm in ("max", "minmax"):
                for short in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
                    for long_ in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
                        for long_from in (2, 3, 4, 5, 6):
                            weights = hybrid.FusionWeights(short, long_, long_from, norm)
                            out.append(Setting(weights, floor, depth))
        for k in (10, 30, 60, 100):
            out.append(Setting(min_cosine=floor, fusion="rrf", rrf_k=k))
    # §15's length rules, on top of the shipped weights and on top of the best two-step
    # weights (added in main once known)
    return out


def length_rules(base: Setting) -> list[Setting]:
    """§15's grids for long queries on top of `base`: a third step, a ramp."""
    out = []
    for very_from in (8, 10, 12):
        for very in (0.8, 0.85, 0.9, 1.0):
            if very > base.weights.long:
                out.append(Setting(**{**base.__dict__, "very": very, "very_from": very_from}))
    for slope in (0.02, 0.04, 0.06):
        out.append(Setting(**{**base.__dict__, "ramp": slope}))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", choices=MODELS, default=DEFAULT_MODEL)
    parser.add_argument("--top", type=int, default=15, help="dev grid rows to print")
    args = parser.parse_args()
    queries = json.loads((HERE / "judgments.json").read_text("utf-8"))["queries"]
    with tempfile.TemporaryDirectory() as tmp:
        engine = build_engine(args.model, Path(tmp))
        keys = {pid: p.key for pid, p in engine.store.changes((0, 0), 0, 1_000_000).papers}
        saved = hybrid.MIN_COSINE
        hybrid.MIN_COSINE = -1.0  # keep every cosine; each setting applies its own floor
        try:
            legs = query_legs(engine, queries)
            nonsense = {
                text: [c for _, c in hybrid._semantic_leg(engine, hybrid.parse_query(text), 245)]
                for text in NONSENSE
            }
        finally:
            hybrid.MIN_COSINE = saved
        # the shipped setting from the legs must be the product's own ranking
        product = [
            [h.paper.key for h in hybrid.search(engine, q["text"], limit=20)] for q in queries
        ]
        engine.store.close()
    mine = [fused_keys(SHIPPED, leg, keys) for leg in legs]
    same = sum(a == b for a, b in zip(mine, product, strict=True))
    print(f"model {args.model}; shipped setting from the cached legs = search(): {same}/120\n")

    dev = [i for i in range(len(queries)) if split_of(i + 1) == "dev"]
    test = [i for i in range(len(queries)) if split_of(i + 1) == "test"]

    def per_query(setting: Setting, members: list[int]) -> list[float]:
        return [
            ndcg_at(fused_keys(setting, legs[i], keys), queries[i]["relevant"]) for i in members
        ]

    def dev_score(setting: Setting) -> float:
        return mean(per_query(setting, dev))

    shipped_dev = dev_score(SHIPPED)
    scored = sorted(((dev_score(s), s) for s in grid()), key=lambda r: -r[0])
    best_two_step = next(s for v, s in scored if s.fusion == "convex")
    rules = [(dev_score(s), s) for s in length_rules(SHIPPED) + length_rules(best_two_step)]
    everything = sorted(scored + rules, key=lambda r: -r[0])
    print(f"### dev grid, hybrid nDCG@10 (best {args.top} of {len(everything)})\n")
    for value, s in everything[: args.top]:
        print(f"- {value:.3f} {s.label()}")
    print(f"\nshipped ({SHIPPED.label()}): {shipped_dev:.3f}")
    print(
        f"settings at or above shipped: {sum(v >= shipped_dev - 1e-12 for v, _ in everything)}"
        f" of {len(everything)}\n"
    )
    print("best of each family on dev:")
    for name, pick in (
        ("floor", lambda s: s.fusion == "convex" and not s.ramp and not s.very),
        ("rrf", lambda s: s.fusion == "rrf"),
        ("length rule", lambda s: bool(s.ramp or s.very)),
    ):
        v, s = next((v, s) for v, s in everything if pick(s))
        print(f"- {name}: {v:.3f} {s.label()}")
    for floor in (0.1, 0.15, 0.2, 0.25, 0.3):
        v, s = next((v, s) for v, s in everything if s.min_cosine == floor and s.fusion == "convex")
        print(f"- floor {floor}: {v:.3f} {s.label()}")
    for depth in (20, 50, 100):
        v, s = next((v, s) for v, s in everything if s.depth == depth and s.fusion == "convex")
        print(f"- depth {depth}: {v:.3f} {s.label()}")
    for slope in (0.02, 0.04, 0.06):
        ramped = Setting(**{**SHIPPED.__dict__, "ramp": slope})
        print(f"- shipped + ramp {slope}: {dev_score(ramped):.3f}")

    v, s = max(
        (
            (v, s)
            for v, s in rules
            if s.weights == SHIPPED.weights
            and s.depth == 100
            and s.min_cosine == SHIPPED.min_cosine
            and s.very
        ),
        key=lambda r: r[0],
    )
    print(f"- shipped + a third step, best: {v:.3f} {s.label()}")

    # The floor is also the product's rule that nonsense finds nothing by meaning
    # (tests/test_semantic.py): how many papers each floor lets through for nonsense.
    print("\nnonsense queries, papers the meaning leg keeps at each floor (of 245):\n")
    for text, found in nonsense.items():
        cells = ", ".join(f"{f}: {sum(c >= f for c in found)}" for f in (0.1, 0.15, 0.2, 0.25))
        print(f"- {text!r} (top cosine {max(found):.3f}): {cells}")

    keeps_floor = next(
        s for v, s in everything if s.min_cosine >= SHIPPED.min_cosine and s != SHIPPED
    )
    for title, chosen in (
        ("the grid's best", everything[0][1]),
        ("the best that keeps the floor", keeps_floor),
    ):
        print(f"\n### {title} on dev, against shipped: {chosen.label()}\n")
        print(
            "| half | group | chosen | shipped | diff | p |\n| --- | --- | --- | --- | --- | --- |"
        )
        for half, members in (("dev", dev), ("test", test)):
            for kind in (None, *KINDS):
                group = [i for i in members if kind in (None, queries[i]["kind"])]
                a = per_query(chosen, group)
                b = per_query(SHIPPED, group)
                print(
                    f"| {half} | {kind or 'all'} | {mean(a):.3f} | {mean(b):.3f} | "
                    f"{mean(a) - mean(b):+.3f} | {randomization_test(a, b):.3f} |"
                )


if __name__ == "__main__":
    main()
