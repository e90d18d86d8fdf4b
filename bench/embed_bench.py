"""Embedding throughput on this CPU: the PyTorch reference beside the ONNX int8 path, on
the same abstracts (the sample corpus, repeated to N texts), same run.

    python bench/embed_bench.py --n 490
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np

from benchlib import machine
from paperwire.models import Paper
from paperwire.search.embed import OnnxEmbedder, TorchEmbedder, paper_text


def main() -> None:
    """Time both paths (three runs each, median) and check they agree."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=490)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    lines = (
        resources.files("paperwire.data").joinpath("sample.jsonl").read_text("utf-8").splitlines()
    )
    papers = [json.loads(line) for line in lines]
    texts = [paper_text(Paper(title=p["title"], abstract=p["abstract"])) for p in papers]
    texts = (texts * (args.n // len(texts) + 1))[: args.n]
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        outputs = {}
        for name, embedder in [
            ("PyTorch (sentence-transformers), float32", TorchEmbedder()),
            ("ONNX Runtime, int8 dynamic quantisation", OnnxEmbedder(Path(tmp))),
        ]:
            started = time.perf_counter()
            embedder.embed(texts[:8])  # load (and for ONNX: export + quantise once)
            load = time.perf_counter() - started
            rates = []
            for _ in range(args.runs):
                started = time.perf_counter()
                outputs[name] = embedder.embed(texts)
                rates.append(len(texts) / (time.perf_counter() - started))
            rows.append((name, statistics.median(rates), load))
    first, second = outputs.values()
    agreement = np.sum(first * second, axis=1)
    print(
        f"\nmachine: {machine()}; {len(texts)} title+abstract texts, median of {args.runs} runs\n"
    )
    print("| path | texts/s | first load s |\n| --- | --- | --- |")
    for name, rate, load in rows:
        print(f"| {name} | {rate:.1f} | {load:.1f} |")
    print(
        f"\nspeed-up: {rows[1][1] / rows[0][1]:.2f}x; cosine(int8, float32) mean {agreement.mean():.4f}, "
        f"min {agreement.min():.4f}"
    )


if __name__ == "__main__":
    main()
