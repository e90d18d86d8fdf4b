"""Health you can see (issue 15): /healthz, /readyz, /metrics and the curators' /status
page, over the real app and store (both engines); the sources run as `paperwire serve`
runs them, by the app's background jobs, against recorded Hugging Face responses replayed
through the injected client."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from paperwire.config import Settings
from paperwire.ingest.fetch import PoliteClient
from paperwire.search.hybrid import SearchEngine
from paperwire.search.native import keyword_index
from paperwire.sources.config import make_config
from paperwire.store import open_store
from paperwire.web.app import create_app
from paperwire.web.services import build_services
from test_sources import NOW, Clock, Upstream, day_list

pytestmark = pytest.mark.timeout(120)
METRICS_TOKEN = "m-" + "0123456789abcdef" * 2
SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request, tmp_path: Path):
    """The app as `serve` runs it (lifespan: background jobs on) with a Hugging Face
    source whose upstream replays two recorded days."""
    from conftest import engine_url

    url = engine_url(request, tmp_path)
    settings = Settings(
        database_url=url,
        base_url="http://testserver",
        cache_dir=str(tmp_path / "cache"),
        mail_dir=str(tmp_path / "mail"),
        page_cache_seconds=0,
        embed_in_background=False,
        metrics_token=METRICS_TOKEN,
    )
    store = open_store(url, index_root=tmp_path / "indexes")
    upstream = Upstream({"2024-07-22": day_list(0), "2024-07-23": [503, day_list(1)]})
    client = PoliteClient(
        httpx.Client(transport=httpx.MockTransport(upstream)), sleep=lambda s: None
    )
    services = build_services(settings, store, arxiv=client)
    services.clock = Clock(NOW)
    services.engine_factory = lambda: SearchEngine(store, keyword_index(store, "beside"))
    services.deployment.add_source(
        "huggingface", make_config("huggingface", start=date(2024, 7, 22))
    )
    app = create_app(settings, store, services=services)
    with TestClient(app) as test_client:  # starts the background jobs, as serve does
        yield test_client, services, upstream
    store.close()


def _wait_for_run(services, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        runs = services.store.source_runs("huggingface")
        if runs and runs[0].status != "running":
            return
        time.sleep(0.1)
    raise AssertionError("the sources job did not run")


def test_serve_fills_the_feed_and_the_status_page_and_metrics_show_the_run(served, tmp_path):
    client, services, _upstream = served
    _wait_for_run(services)

    daily = client.get("/daily/2024-07-22")
    assert "SciCode" in daily.text
    assert "by amber1120 on Hugging Face" in daily.text
    assert "▲ 17 on Hugging Face" in daily.text
    assert "2509.04664" in client.get("/daily/2024-07-23").text

    api = client.get("/api/v1/papers/2407.13168").json()
    assert (api["upvotes"], api["upstream_upvotes"], api["local_upvotes"]) == (17, 17, 0)
    assert api["listed"]["upstream_source"] == "huggingface"
    assert api["listed"]["upstream_submitter"] == "amber1120"

    assert client.get("/status").status_code == 401
    services.store.get_or_create_user("curator@example.org", NOW)
    services.store.set_curator("curator@example.org", True)
    from conftest import Site

    site = Site(client, services, tmp_path / "mail", None, services.clock)  # type: ignore[arg-type]
    site.sign_in("curator@example.org")
    status = client.get("/status")
    assert status.status_code == 200, status.text
    assert 'data-source="huggingface"' in status.text
    assert "Harvested through 2024-07-23 (1 day behind today)" in status.text
    assert "<td>ok</td><td>2</td><td>2</td><td>3</td>" in status.text

    # Only the scraper holding the metrics token reads them (issue 25: they were public).
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": METRICS_TOKEN}).status_code == 401
    metrics = client.get("/metrics", headers=SCRAPER)
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert _sample(
        text, 'paperwire_source_last_success_timestamp_seconds{source="huggingface"}'
    ) == (NOW.timestamp())
    assert _sample(text, 'paperwire_source_failures{source="huggingface"}') == 0
    assert 'paperwire_imported_records_total{via="source"}' in text
    assert 'paperwire_request_seconds_count{method="GET",route="/daily/{day}"}' in text
    client.get("/search", params={"q": "scientific coding", "mode": "lexical"})
    again = client.get("/metrics", headers=SCRAPER).text
    assert 'paperwire_search_seconds_count{leg="keyword"}' in again
    assert "paperwire_outbox_messages" in again


def _sample(text: str, series: str) -> float:
    """The value of one series in Prometheus' text format."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{series} not in /metrics")


def test_other_readers_cannot_see_the_status_page(site):
    site.sign_in("reader@example.org")
    assert site.client.get("/status").status_code == 403


def test_healthz_and_readyz(site):
    assert site.client.get("/healthz").json() == {"status": "ok"}
    unready = site.client.get("/readyz")  # the index has not caught up
    assert (unready.status_code, unready.text) == (503, "not ok\n")
    site.services.deployment.catch_up()  # as `serve` does before it answers
    ready = site.client.get("/readyz")
    assert (ready.status_code, ready.text) == (200, "ok\n")
    assert ready.headers["content-type"].startswith("text/plain")


def test_metrics_are_not_served_without_a_token(site):
    """Without PAPERWIRE_METRICS_TOKEN, /metrics is not there (no loopback exception:
    behind a reverse proxy on the same host every client is loopback)."""
    assert site.client.get("/metrics").status_code == 404
    assert site.client.get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 404
    assert "paperwire_" not in site.client.get("/metrics").text


def _problems(site) -> str:
    """The readiness problems as the curators' /status page shows them (signed in as a
    curator the first time)."""
    page = site.client.get("/status")
    if page.status_code != 200:
        site.store.get_or_create_user("curator@example.org", site.clock.now)
        site.store.set_curator("curator@example.org", True)
        site.sign_in("curator@example.org")
        page = site.client.get("/status")
    assert page.status_code == 200, page.text
    return page.text


def test_readyz_says_what_is_wrong(site):
    # A paper stored behind the keyword index's back: the index lags until it catches up.
    from paperwire.models import Paper

    site.services.deployment.catch_up()

    site.store.upsert_papers([Paper(title="A paper the index has not seen", arxiv_id="2407.99999")])
    lagging = site.client.get("/readyz")
    assert (lagging.status_code, lagging.text) == (503, "not ok\n")  # no detail to strangers
    assert "keyword index 1 papers behind" in _problems(site)
    site.services.deployment.catch_up()
    assert site.client.get("/readyz").status_code == 200
    # Vectors saved in the background change no paper: the keyword index is not behind
    # (each batch of vectors took a number of the change sequence and was counted as lag).
    batch = list(site.store.get_papers([1, 2, 3]).items())
    site.store.save_vectors("minilm", [(pid, p, b"\x00" * 1536) for pid, p in batch])
    assert site.client.get("/readyz").status_code == 200
    # A migration the code knows and the database lacks.
    with site.store.write() as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version = 8")
    unready = site.client.get("/readyz")
    assert (unready.status_code, unready.text) == (503, "not ok\n")
    assert "migrations not applied: [8]" in _problems(site)
