"""The figures of one large instance (bench/RESULTS.md §22): the sizes on disk, keyword
search in process, and `paperwire serve` (2 workers, page cache off) answering the feed and
paper pages one request at a time, with its resident memory. Hybrid search needs vectors:
`--hybrid` runs bench/relevance_latency.py on the same store (it stores vectors drawn around
the sample's real embeddings once, 384 float32 a paper, and builds their index).

    python bench/synth.py 2700000 --profile arxiv --jobs 2 -o /tmp/big/synth-2.7m.jsonl
    /usr/bin/time -v paperwire --db sqlite:////tmp/big/2.7m.db import -q /tmp/big/synth-2.7m.jsonl
    python bench/big_instance.py --db /tmp/big/2.7m.db [--hybrid]

CPU seconds are given beside wall times: the machine is shared, and CPU is what a quiet
machine would also spend."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def size_mib(path: Path) -> float:
    """Bytes under a file or folder, in MiB."""
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def keyword_latency(db: Path, cache: Path) -> dict[str, dict[str, float]]:
    """p50/p95 wall and mean CPU ms of keyword search over the benchmark's query sets."""
    from benchlib import percentile
    from paperwire.config import load_settings
    from paperwire.deployment import Deployment
    from relevance_latency import _queries

    deployment = Deployment(
        load_settings(None, database_url=f"sqlite:///{db}", cache_dir=str(cache))
    )
    out = {}
    for name, texts in _queries().items():
        for text in texts:  # warm-up
            deployment.search(text, mode="lexical")
        walls, cpus = [], []
        for text in texts:
            wall, cpu = time.perf_counter(), time.process_time()
            deployment.search(text, mode="lexical")
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        out[name] = {
            "p50": percentile(walls, 50),
            "p95": percentile(walls, 95),
            "cpu_p50": percentile(cpus, 50),
            "cpu_p95": percentile(cpus, 95),
        }
    deployment.close()
    return out


def pages(db: Path, cache: Path, requests: int) -> dict[str, object]:
    """`paperwire serve --workers 2`, page cache off: the home page, a day's page and paper
    pages, one request at a time; the server's resident memory after them."""
    import web_bench
    from benchlib import percentile

    web_bench.MODELS = cache
    url = f"sqlite:///{db}"
    server = web_bench.Server(url, workers=2, cache_seconds=0)
    try:
        rss_idle = _rss(server.process.pid)
        papers = web_bench.paper_paths(url, requests)
        kinds = {"home (/)": ["/"], "paper": papers}
        server.warm(["/", *papers[:4]])
        out: dict[str, object] = {"rss_idle_mib": rss_idle}
        with httpx.Client(base_url=server.base, timeout=120) as client:
            for kind, paths in kinds.items():
                times = []
                for i in range(requests):
                    started = time.perf_counter()
                    answer = client.get(paths[i % len(paths)])
                    times.append((time.perf_counter() - started) * 1000)
                    answer.raise_for_status()
                out[kind] = {"p50": percentile(times, 50), "p95": percentile(times, 95)}
        out["rss_after_mib"] = _rss(server.process.pid)
    finally:
        server.stop()
    return out


def _rss(pid: int) -> float:
    """Resident memory of a process and its children, MiB."""
    parent = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)]) / 2**20


def main() -> None:
    """Print one JSON object of the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / "out" / "models")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--hybrid", action="store_true")
    args = parser.parse_args()
    db = args.db.resolve()
    figures: dict[str, object] = {"load_before": os.getloadavg()[0]}
    files = sorted(db.parent.glob(db.name + "*"))
    figures["sizes_mib"] = {p.name: round(size_mib(p), 1) for p in files}
    figures["keyword"] = keyword_latency(db, args.cache)
    figures["pages"] = pages(db, args.cache, args.requests)
    if args.hybrid:
        done = subprocess.run(
            [sys.executable, str(HERE / "relevance_latency.py"), "--db", str(db), "--rounds", "1"],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        figures["hybrid_table"] = done.stdout
    figures["load_after"] = os.getloadavg()[0]
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
