"""The feed pages rendered uncached, in process: the cost of building each page (issue 25:
TeX folded and rendered on every card was O(characters x formulas)).

The site is the real app over the sample corpus (245 papers listed on one day), driven
through Starlette's TestClient one request at a time, the page cache off
(PAPERWIRE_PAGE_CACHE_SECONDS=0), so that every request builds its page. The pages are
timed interleaved; then, on the same site, the first home page after one paper with an
abstract of 7,000 `$x$y` is listed (the attack of issue 25). Run it on two checkouts
(PYTHONPATH=<checkout>/src) for a before/after in the same run; it uses only the app's
routes, so it runs on either.

    python bench/feed_pages_bench.py [--requests 40]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from benchlib import machine, summary_ms
from paperwire.ingest.load import load
from paperwire.models import Paper
from support import make_site


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        site = make_site(Path(folder))
        day = site.clock.now.date().isoformat()
        key = site.store.feed(site.clock.now.date(), site.clock.now.date(), "upvotes", 1)[0][0]
        pages = {
            "home": "/",
            "daily, cards, page 2": f"/daily/{day}?page=2",
            "daily, list": f"/daily/{day}?layout=list",
            "trending": "/trending",
            "paper": f"/papers/{key.paper.key}",
        }
        times: dict[str, list[float]] = {name: [] for name in pages}
        with site.client as client:
            for path in pages.values():  # warm up the app, the store, texmath's imports
                assert client.get(path).status_code == 200
            for _ in range(args.requests):
                for name, path in pages.items():
                    start = time.perf_counter()
                    response = client.get(path)
                    times[name].append(time.perf_counter() - start)
                    assert response.status_code == 200
            crafted = Paper(
                title="Crafted", abstract="$x$y" * 7000 + uuid.uuid4().hex, arxiv_id="2401.99999"
            )
            load(site.store, iter([crafted]))
            site.store.submit_many([crafted.key], site.clock.now.date(), site.clock.now)
            start = time.perf_counter()
            home = client.get("/")
            first = time.perf_counter() - start
            start = time.perf_counter()
            client.get("/")
            second = time.perf_counter() - start
        print(f"machine: {machine()}")
        print("| page | requests | p50 ms | p95 ms |")
        print("| --- | --- | --- | --- |")
        for name, seconds in times.items():
            stats = summary_ms(seconds)
            print(f"| {name} | {len(seconds)} | {stats['p50']:.1f} | {stats['p95']:.1f} |")
        print(
            f"home with a 7,000 `$x$y` abstract: first {first * 1000:.0f} ms, "
            f"second {second * 1000:.0f} ms, {len(home.content) / 1024:.0f} KiB"
        )


if __name__ == "__main__":
    main()
