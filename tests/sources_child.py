"""A runner process for test_sources_killed.py: runs the Hugging Face source over a store
with recorded responses replayed through an injected client. With "hang", the request
for the second day never returns (the parent kills the process there)."""

from __future__ import annotations

import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from paperwire.config import Settings
from paperwire.deployment import Deployment
from paperwire.ingest.fetch import PoliteClient
from paperwire.sources.config import make_config
from test_sources import NOW, Upstream, day_list


def hang(request: httpx.Request) -> httpx.Response:
    print("HANGING", flush=True)
    time.sleep(120)
    return httpx.Response(503)


def main() -> None:
    url, cache, mode, origin = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    started = datetime.fromtimestamp(origin, UTC)

    def clock() -> datetime:
        """The test's fixed day, moving on with the wall clock (leases lapse)."""
        return NOW + (datetime.now(UTC) - started)

    second = hang if mode == "hang" else day_list(1)
    upstream = Upstream({"2024-07-22": day_list(0), "2024-07-23": second})
    client = PoliteClient(
        httpx.Client(transport=httpx.MockTransport(upstream)), sleep=lambda s: None
    )
    settings = Settings(database_url=url, cache_dir=cache, sources_lease_seconds=2.0)
    with Deployment(settings, arxiv=client, clock=clock) as deployment:
        if deployment.store.get_source("hf") is None:
            deployment.add_source("hf", make_config("huggingface", start=date(2024, 7, 22)))
        run = deployment.run_sources(["hf"])
        if run is None:
            print("LEASE HELD", flush=True)
            return
        [outcome] = run.outcomes
        asked = sorted(r.url.params["date"] for r in upstream.requests)
        print(f"{outcome.status} {outcome.cursor} {' '.join(asked)}", flush=True)


if __name__ == "__main__":
    main()
