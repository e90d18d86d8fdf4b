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
embed_pending); "2 processes x 1 thread, <model>" — this checkout's PooledEmbedder of that
model fed 512 a call (what `paperwire embed` runs for a backlog on two cores: the groups a
single session is fed, dealt to two one-thread workers); "one session, 1 thread" —
OnnxEmbedder on one thread fed 64 (a web worker's background embedding; and what each
worker does); the rest — the same graph read otherwise (OnnxEmbedder's options, named as
eval/round3.py names them, bench/RESULTS.md §23): cut at 128 word pieces, read in windows
of 128, runs formed by word pieces (up to 32 x max padded pieces a run) or one text a run.
Any reading but the shipped one moves the vectors (the int8 graph quantises a run's
activations with one scale): the cosine column says how far. `--cells KIND ...` runs some."""

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
    "2 processes x 1 thread, minilm-onnx-int8 (`paperwire embed` before §23)": (
        "pooled:minilm-onnx-int8",
        512,
    ),
    "2 processes x 1 thread, minilm-onnx-int8-128 (`paperwire embed` now)": (
        "pooled:minilm-onnx-int8-128",
        512,
    ),
    "one session, 1 thread": ("onnx-1", 64),
    "runs cut by word pieces, 1 thread": ("int8:pieces", 64),
    "cut at 128, 1 thread": ("int8:t128", 64),
    "windows of 128 averaged, 1 thread": ("int8:win128", 64),
    "cut at 128, runs by word pieces, 1 thread": ("int8:t128-pieces", 64),
    "one text a run, 1 thread": ("int8:single", 64),
    "cut at 128, one text a run, 1 thread": ("int8:t128-single", 64),
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


def child(kind: str, batch: int, corpus: str, n: int, models: str, out: str) -> None:
    """Embed the texts as `kind` does; print papers/s and CPU ms a paper; save the vectors."""
    import numpy as np
    import psutil

    from paperwire.search.embed import OnnxEmbedder

    texts = texts_of(corpus, n)
    pooled = None
    if kind.startswith("int8:"):  # the shipped graph run otherwise (eval/round3.py's names)
        from round3 import int8_options

        options = int8_options(f"minilm-int8-{kind.removeprefix('int8:')}")
        embedder = OnnxEmbedder(Path(models), threads=1, **options)  # type: ignore[assignment]
    elif kind.startswith("pooled:"):
        from paperwire.search.embed_pool import PooledEmbedder

        pooled = PooledEmbedder(Path(models), model=kind.removeprefix("pooled:"))
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
    parser.add_argument(
        "--cells", nargs="+", help="the kinds of cell to run (default: all; 'before' always)"
    )
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
    cells = {
        label: cell
        for label, cell in CELLS.items()
        if not args.cells or cell[0] == "before" or cell[0] in args.cells
    }
    models = ROOT / "bench" / "out" / "models"
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    cosines: dict[tuple[str, str], tuple[float, float]] = {}
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            for label, (corpus, n) in corpora.items():
                vectors = {}
                for cell, (kind, batch) in cells.items():
                    src = args.before.resolve() if kind == "before" else ROOT / "src"
                    env = {
                        **os.environ,
                        "PYTHONPATH": os.pathsep.join(map(str, (src, HERE, ROOT / "eval"))),
                    }
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
        for cell in cells:
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
