"""A Hugging Face source harvesting 10,000 recorded records: papers/s of the whole run
(fetch through the injected client, parse, validate, store, list on the feed, record the
days and the run, then catch the keyword index up) beside parse-only on the same bodies.

    python bench/sources_bench.py --records 10000 --per-day 100

The records are the two real daily-papers items of tests/data/hf_daily_papers.json, each
copy given its own arXiv id and title (100 per day: the API's most per request), replayed
with the client's pacing turned off (arXiv's 3 s would measure the sleep)."""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from benchlib import machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from paperwire.config import Settings  # noqa: E402
from paperwire.deployment import Deployment  # noqa: E402
from paperwire.ingest.fetch import PoliteClient  # noqa: E402
from paperwire.ingest.hf_daily import DailyItem, parse_items  # noqa: E402
from paperwire.sources.config import make_config  # noqa: E402

START = date(2024, 1, 1)


def day_bodies(records: int, per_day: int) -> dict[str, bytes]:
    """One daily_papers response per day, `per_day` records each."""
    items = json.loads((ROOT / "tests" / "data" / "hf_daily_papers.json").read_bytes())
    bodies: dict[str, bytes] = {}
    for start in range(0, records, per_day):
        day = START + timedelta(days=start // per_day)
        batch = []
        for n in range(start, min(start + per_day, records)):
            item = copy.deepcopy(items[n % len(items)])
            item["paper"]["id"] = f"2401.{n:05d}"
            item["paper"]["title"] = f"{item['paper']['title']} (copy {n})"
            batch.append(item)
        bodies[day.isoformat()] = json.dumps(batch).encode()
    return bodies


def parse_only(bodies: dict[str, bytes]) -> tuple[int, float]:
    started = time.perf_counter()
    n = sum(
        1 for body in bodies.values() for item in parse_items(body) if isinstance(item, DailyItem)
    )
    return n, time.perf_counter() - started


def harvest(bodies: dict[str, bytes], folder: Path) -> tuple[int, float, float]:
    def replay(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bodies.get(request.url.params["date"], b"[]"))

    client = PoliteClient(
        httpx.Client(transport=httpx.MockTransport(replay)), min_interval=0.0, sleep=lambda s: None
    )
    last = max(date.fromisoformat(d) for d in bodies) + timedelta(days=1)
    now = datetime(last.year, last.month, last.day, 12, tzinfo=UTC)
    settings = Settings(
        database_url=f"sqlite:///{folder / 'bench.db'}",
        cache_dir=str(folder / "cache"),
        embed_in_background=False,
    )
    with Deployment(settings, arxiv=client, clock=lambda: now) as deployment:
        deployment.add_source("hf", make_config("huggingface", start=START))
        started = time.perf_counter()
        run = deployment.run_sources()
        total = time.perf_counter() - started
        assert run is not None
        [outcome] = run.outcomes
        assert outcome.status == "ok", outcome.problems
        index_started = time.perf_counter()
        assert deployment.keyword_lag() == 0
        index_check = time.perf_counter() - index_started
        return outcome.records, total, index_check


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--per-day", type=int, default=100)
    args = parser.parse_args()
    bodies = day_bodies(args.records, args.per_day)
    size = sum(len(b) for b in bodies.values())
    parsed, parse_s = parse_only(bodies)
    with tempfile.TemporaryDirectory() as folder:
        stored, harvest_s, _ = harvest(bodies, Path(folder))
    print(machine())
    print(f"{len(bodies)} days, {args.records:,} records, {size / 1e6:.1f} MB of JSON")
    print(
        f"parse only      {parsed:>7,} records {parse_s:7.2f} s  {parsed / parse_s:9,.0f} records/s"
    )
    print(f"source harvest  {stored:>7,} records {harvest_s:7.2f} s  {stored / harvest_s:9,.0f} papers/s"
          "  (fetch, parse, store, list, days and run recorded, keyword index caught up)")  # fmt: skip


if __name__ == "__main__":
    main()
