"""Reach (issue 28): what MCP adds over the JSON API, and channels at scale.

1. MCP `search` against the JSON API's /api/v1/search for the same queries, in the same
   run, against the same server: the web app (sample corpus, keyword mode so the model's
   load is not in either figure) under a real uvicorn on loopback. Each query is asked of
   both, interleaved, from one client each (an MCP client session of the `mcp` SDK over
   streamable HTTP; an httpx client), and the latency is timed at the client. Goal: MCP
   adds at most 20% at p95.
2. `paperwire channels run` for N channels (plain signed webhooks, trending) against a
   local receiver: two runs started at once as separate processes; messages per second
   over the wall time of both, and the check that exactly N distinct messages arrived.

    python bench/reach_bench.py [--rounds 5] [--channels 10000]

Before and after in one run (each version's `src` first on the path of its own child
processes, the versions alternated round by round; the receiver is the same):

    git archive main src | tar -x -C /tmp/reach-main
    python bench/reach_bench.py --version before=/tmp/reach-main/src --version after=src \
        --runs 3 --rounds 5 --channels 10000
    # a receiver that takes 100 ms to answer, as a chat service does:
    python bench/reach_bench.py --version ... --rounds 0 --channels 1000 --delay 0.1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import httpx
import httpx2
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from benchlib import machine, summary_ms
from channel_support import Receiver, listed_store, start_receiver
from paperwire.channels.manage import Choice
from paperwire.config import Settings
from paperwire.deployment import Deployment
from paperwire.store import open_store
from paperwire.web.app import create_app

QUERIES = [
    "diffusion guidance", "language model reasoning", "video generation", "reinforcement learning",
    "retrieval augmented", "vision transformer", "speech recognition", "code generation",
    "mixture of experts", "image editing", "benchmark evaluation", "multimodal agents",
    "quantization", "long context", "robot manipulation", "3D reconstruction",
    "text to image", "instruction tuning", "sparse attention", "preference optimization",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_search(folder: Path, rounds: int) -> dict[str, dict[str, float]]:
    url = listed_store(folder / "search.db")
    settings = Settings(
        database_url=url, base_url="http://127.0.0.1", cache_dir=str(folder / "cache"),
        embed_in_background=False, sources_schedule=False, channels_schedule=False,
        page_cache_seconds=0,
    )  # fmt: skip
    store = open_store(url, index_root=folder / "indexes")
    port = free_port()
    app = create_app(settings, store)
    # Every call of both sides counts against the limiter; a long run is over its minute's
    # allowance: lift it (the limiter's own cost stays in both figures).
    limits = app.state.services.limiter.limits
    limits.update({action: (10**9, window) for action, (_, window) in limits.items()})
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    api: list[float] = []
    mcp: list[float] = []

    async def run() -> None:
        async with (
            httpx2.AsyncClient(timeout=60) as http,
            Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client,
        ):
            plain = httpx.Client(base_url=base, timeout=60)
            for q in QUERIES[:3]:  # warm both paths (index open, caches)
                plain.get("/api/v1/search", params={"q": q, "mode": "lexical", "limit": 10})
                await client.call_tool("search", {"query": q, "mode": "lexical", "limit": 10})
            for r in range(rounds):
                for i, q in enumerate(QUERIES):
                    order = (0, 1) if (i + r) % 2 == 0 else (1, 0)
                    for which in order:
                        start = time.perf_counter()
                        if which == 0:
                            got = plain.get(
                                "/api/v1/search", params={"q": q, "mode": "lexical", "limit": 10}
                            )
                            assert got.status_code == 200, got.text
                            api.append(time.perf_counter() - start)
                        else:
                            result = await client.call_tool(
                                "search", {"query": q, "mode": "lexical", "limit": 10}
                            )
                            assert not result.is_error, result.content
                            mcp.append(time.perf_counter() - start)
            plain.close()

    asyncio.run(run())
    server.should_exit = True
    store.close()
    return {"api": summary_ms(api), "mcp": summary_ms(mcp)}


def bench_channels(folder: Path, count: int, delay: float = 0.0) -> dict[str, float]:
    receiver = Receiver(delay=delay)
    http_server = start_receiver(receiver)
    url = listed_store(folder / "channels.db")
    settings = Settings(
        database_url=url, base_url="https://papers.example.org",
        cache_dir=str(folder / "cache"), allow_private_targets=True,
    )  # fmt: skip
    site = Deployment(settings, clock=lambda: datetime.now(UTC))
    start = time.perf_counter()
    for n in range(count):
        site.add_channel(f"c{n}", receiver.url(f"/c{n}"), "daily", Choice("trending"))
    added = time.perf_counter() - start
    site.close()
    env = {
        **os.environ, "PAPERWIRE_DATABASE_URL": url, "PAPERWIRE_CACHE_DIR": str(folder / "cache"),
        "PAPERWIRE_ALLOW_PRIVATE_TARGETS": "true", "PAPERWIRE_BASE_URL": "https://papers.example.org",
    }  # fmt: skip
    start = time.perf_counter()
    runs = [
        subprocess.Popen([sys.executable, "-m", "paperwire.cli", "channels", "run", "-q"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    outputs = [run.communicate() for run in runs]
    wall = time.perf_counter() - start
    http_server.shutdown()
    ids = {r.headers["webhook-id"] for r in receiver.got}
    return {
        "channels": count,
        "receiver_delay_ms": round(delay * 1000),
        "add_seconds": round(added, 1),
        "run_wall_seconds": round(wall, 1),
        "messages_per_second": round(len(receiver.got) / wall, 1),
        "received": len(receiver.got),
        "distinct": len(ids),
        "exit_codes": [r.returncode for r in runs],  # type: ignore[dict-item]
        "outputs": [o[0].strip().replace("\n", " | ") for o in outputs],  # type: ignore[dict-item]
    }


def one(part: str, rounds: int, channels: int, delay: float = 0.0) -> dict[str, object]:
    """One part in this process (with whatever `paperwire` is first on the path)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if part == "search":
            search = bench_search(folder, rounds)
            return {
                **{f"{side}_{k}": round(v, 2) for side, f in search.items() for k, v in f.items()},
                "over_p95": round(search["mcp"]["p95"] / search["api"]["p95"] - 1, 3),
                "over_p50_ms": round(search["mcp"]["p50"] - search["api"]["p50"], 2),
            }
        return bench_channels(folder, channels, delay)


def versions(args: argparse.Namespace) -> None:
    """Each version's parts in its own child processes, alternated run by run."""
    chosen = dict(v.split("=", 1) for v in args.version)
    parts = [p for p, on in (("search", args.rounds > 0), ("channels", args.channels > 0)) if on]
    for run in range(1, args.runs + 1):
        order = list(chosen.items()) if run % 2 else list(reversed(chosen.items()))
        for part in parts:
            for name, src in order:
                env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
                got = subprocess.run(
                    [sys.executable, __file__, "--part", part, "--rounds", str(args.rounds),
                     "--channels", str(args.channels), "--delay", str(args.delay)],
                    env=env, capture_output=True, text=True, check=False,
                )  # fmt: skip
                if got.returncode != 0:
                    print(got.stderr[-2000:], file=sys.stderr)
                    continue
                figures = json.loads(got.stdout.strip().splitlines()[-1])
                print(
                    json.dumps({"run": run, "version": name, "part": part, **figures}), flush=True
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--channels", type=int, default=10_000)
    parser.add_argument("--version", action="append", metavar="NAME=SRC")
    parser.add_argument("--runs", type=int, default=3, help="With --version: runs of each.")
    parser.add_argument(
        "--delay", type=float, default=0.0, help="Seconds the receiver takes to answer each."
    )
    parser.add_argument("--part", choices=("search", "channels"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        print(json.dumps(one(args.part, args.rounds, args.channels, args.delay)))
        return
    print(machine())
    if args.version:
        versions(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        search = bench_search(folder, args.rounds)
        n = len(QUERIES) * args.rounds
        for name, figures in search.items():
            print(f"search {name:3} ({n} queries): p50 {figures['p50']:.1f} ms, "
                  f"p95 {figures['p95']:.1f} ms, mean {figures['mean']:.1f} ms")  # fmt: skip
        added = search["mcp"]["p95"] / search["api"]["p95"] - 1
        print(f"MCP over the JSON API at p95: {added:+.0%} (goal: at most +20%)")
        print(bench_channels(folder, args.channels, args.delay))


if __name__ == "__main__":
    main()
