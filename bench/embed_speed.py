"""Embedding throughput of `paperwire embed`, before and after a change, in one run.

Each cell is one child process (its own `src` on PYTHONPATH) embedding the same texts the way
that version's `paperwire embed` feeds its model, timed after a warm-up; rounds interleave
the cells so the shared machine's noise falls on all alike. Papers/s is wall time; CPU ms a
paper counts the child and its worker processes (psutil), so it holds on a loaded machine.
Each cell's vectors are compared with the first cell's (cosine, per text).

    python bench/embed_speed.py --before /tmp/base/src --arxiv /tmp/big/a20k.jsonl

Texts: the demo corpus (5,000 real arXiv records shipped in paperwire/data: 202 word pieces
a text on average, 30 % cut at 256), the sample corpus (245 texts; 99 % reach 256 word
pieces: the worst case) and the first N of an arXiv-shaped synthetic corpus (`bench/synth.py
--profile arxiv`).

Cells: "before" — the given checkout's OnnxEmbedder on all cores, fed 64 papers a call (its
embed_pending); "2 processes x 1 thread" — this checkout's PooledEmbedder fed 512 a call
(what `paperwire embed` now runs for a backlog on two cores: the same runs, dealt to two
one-thread workers); "one session, 1 thread" — OnnxEmbedder on one thread fed 64 (a web
worker's background embedding; and what each worker does); "runs cut by word pieces" — a
variant measured here and not taken: texts sorted by word pieces, runs of up to 32 x 256
padded word pieces each padded to its own longest (less padding; but a text's vector
depends on its run, so the vectors move)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CELLS = {
    "before": ("before", 64),
    "2 processes x 1 thread (now the default)": ("pooled", 512),
    "one session, 1 thread": ("onnx-1", 64),
    "runs cut by word pieces, 1 thread (not taken)": ("pieces", 512),
}


def texts_of(corpus: str, n: int) -> list[str]:
    """Title + abstract texts, as paper_text makes them."""
    from paperwire.models import Paper
    from paperwire.search.embed import paper_text

    if corpus == "demo":
        from paperwire.ingest import parse_any

        folder = resources.files("paperwire.data")
        papers = [
            p
            for entry in sorted(folder.iterdir(), key=lambda e: e.name)
            if entry.name.startswith("demo-")
            for p in parse_any(entry.read_bytes(), entry.name)
            if isinstance(p, Paper)
        ]
        texts = [paper_text(p) for p in papers][:n]
        return (texts * (n // len(texts) + 1))[:n]
    if corpus == "sample":
        lines = resources.files("paperwire.data").joinpath("sample.jsonl").read_text("utf-8")
        rows = [json.loads(line) for line in lines.splitlines()]
    else:
        with open(corpus, encoding="utf-8") as source:
            rows = [json.loads(line) for _, line in zip(range(n), source, strict=False)]
    texts = [
        paper_text(Paper(title=r["title"].strip(), abstract=r["abstract"].strip())) for r in rows
    ]
    return (texts * (n // len(texts) + 1))[:n]


class _Pieces:
    """OnnxEmbedder on one thread, its runs cut by word pieces (the variant not taken)."""

    def __init__(self, models: Path) -> None:
        from paperwire.search.embed import OnnxEmbedder

        self.inner = OnnxEmbedder(models, threads=1)

    def embed(self, texts: list[str]):  # type: ignore[no-untyped-def]
        import numpy as np

        tokenizer = self.inner._tokenizer
        tokenizer.no_padding()
        encodings = tokenizer.encode_batch(texts)
        lengths = [len(e.ids) for e in encodings]
        order = sorted(range(len(texts)), key=lengths.__getitem__)
        out = np.empty((len(texts), 384), dtype=np.float32)
        start = 0
        while start < len(order):
            end = start + 1
            while end < len(order) and (end - start + 1) * lengths[order[end]] <= 32 * 256:
                end += 1
            rows = order[start:end]
            width = lengths[rows[-1]]
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, i in enumerate(rows):
                ids[r, : lengths[i]] = encodings[i].ids
                mask[r, : lengths[i]] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": 0 * ids}
            hidden = self.inner._session.run(None, feeds)[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
            out[rows] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
            start = end
        return out


def child(kind: str, batch: int, corpus: str, n: int, models: str, out: str) -> None:
    """Embed the texts as `kind` does; print papers/s and CPU ms a paper; save the vectors."""
    import numpy as np
    import psutil

    from paperwire.search.embed import OnnxEmbedder

    texts = texts_of(corpus, n)
    pooled = None
    if kind == "pieces":
        embedder = _Pieces(Path(models))  # type: ignore[assignment]
    elif kind == "pooled":
        from paperwire.search.embed_pool import PooledEmbedder

        pooled = PooledEmbedder(Path(models))
        embedder = pooled
    else:
        threads = {"before": None, "onnx-1": 1}[kind]
        embedder = OnnxEmbedder(Path(models), threads=threads)  # type: ignore[assignment]
    embedder.embed(texts[:16])  # load the model (every worker)
    me = psutil.Process()

    def cpu() -> float:
        own = me.cpu_times()
        total = own.user + own.system
        for worker in me.children(recursive=True):
            times = worker.cpu_times()
            total += times.user + times.system
        return total

    cpu0, wall0 = cpu(), time.perf_counter()
    parts = [embedder.embed(texts[i : i + batch]) for i in range(0, len(texts), batch)]
    wall, used = time.perf_counter() - wall0, cpu() - cpu0
    np.save(out, np.concatenate(parts))
    if pooled is not None:
        pooled.close()
    print(json.dumps({"rate": len(texts) / wall, "cpu_ms": used / len(texts) * 1000}))


def main() -> None:
    """Run the cells in rounds; print the Markdown table."""
    import numpy as np

    from benchlib import machine

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", type=Path, required=True, help="the baseline's src folder")
    parser.add_argument("--arxiv", help="an arXiv-shaped synthetic corpus (synth.py)")
    parser.add_argument("--corpora", nargs="+", default=["demo", "sample", "arXiv-shaped"])
    parser.add_argument("--n-demo", type=int, default=512)
    parser.add_argument("--n-sample", type=int, default=245)
    parser.add_argument("--n-arxiv", type=int, default=490)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, batch, corpus, n, models, out = args.child
        child(kind, int(batch), corpus, int(n), models, out)
        return
    corpora = {"demo": ("demo", args.n_demo), "sample": ("sample", args.n_sample)}
    if args.arxiv:
        corpora["arXiv-shaped"] = (str(Path(args.arxiv).resolve()), args.n_arxiv)
    corpora = {k: v for k, v in corpora.items() if k in args.corpora}
    models = ROOT / "bench" / "out" / "models"
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    cosines: dict[tuple[str, str], tuple[float, float]] = {}
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            for label, (corpus, n) in corpora.items():
                vectors = {}
                for cell, (kind, batch) in CELLS.items():
                    src = args.before.resolve() if kind == "before" else ROOT / "src"
                    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{HERE}"}
                    out = Path(tmp) / f"{label}-{kind}.npy"
                    loads.append(os.getloadavg()[0])
                    command = [sys.executable, __file__, "--before", str(args.before)]
                    command += ["--child", kind, str(batch), corpus, str(n), str(models), str(out)]
                    done = subprocess.run(
                        command,
                        env=env,
                        cwd=ROOT,
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    results.setdefault((label, cell), []).append(
                        json.loads(done.stdout.strip().splitlines()[-1])
                    )
                    vectors[cell] = np.load(out)
                    print(f"round {round_ + 1}: {label}, {cell} done", file=sys.stderr)
                base = vectors["before"]
                for cell, got in vectors.items():
                    agree = np.sum(base * got, axis=1)
                    cosines[(label, cell)] = (float(agree.min()), float(agree.mean()))
    print(f"\nmachine: {machine()}; load average {min(loads):.1f}-{max(loads):.1f}")
    print(f"median of {args.rounds} rounds; cosine against 'before', per text\n")
    print(
        "| texts | how | papers/s | x before | CPU ms a paper | x before (CPU) | cosine min / mean |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for label in corpora:
        first = results[(label, "before")]
        base_rate = statistics.median(r["rate"] for r in first)
        base_cpu = statistics.median(r["cpu_ms"] for r in first)
        for cell in CELLS:
            rows = results[(label, cell)]
            rate = statistics.median(r["rate"] for r in rows)
            used = statistics.median(r["cpu_ms"] for r in rows)
            low, mean = cosines[(label, cell)]
            print(
                f"| {label} | {cell} | {rate:.1f} | {rate / base_rate:.2f} | {used:.1f} | "
                f"{base_cpu / used:.2f} | {low:.6f} / {mean:.6f} |"
            )


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
