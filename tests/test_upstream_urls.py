"""The upstream base URLs are settings (issue 29): hf_base_url, arxiv_api_url,
arxiv_oai_url (env PAPERWIRE_HF_BASE_URL, ...). A base URL the operator sets is
configuration, not input: the source's host allow-list follows it. Played over real
HTTP: a local server answers with the recorded Hugging Face response."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError

from paperwire import upstream
from paperwire.config import Settings
from paperwire.deployment import Deployment
from paperwire.ingest.fetch import FetchError, Upstreams, check_arxiv_url, upstreams_of
from paperwire.sources.config import make_config

RECORDED = (Path(__file__).parent / "data" / "hf_daily_papers_rich.json").read_bytes()


class Recorded(BaseHTTPRequestHandler):
    """Answers GET /api/daily_papers?date=... with the recorded response."""

    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        Recorded.asked.append(parts.path + "?" + parts.query)
        if parts.path != "/api/daily_papers" or "date" not in parse_qs(parts.query):
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(RECORDED)))
        self.end_headers()
        self.wfile.write(RECORDED)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorded_hf() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorded)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Recorded.asked = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_hf_source_reads_a_recorded_server_at_the_configured_base_url(
    tmp_path, recorded_hf, monkeypatch
):
    monkeypatch.setenv("PAPERWIRE_HF_BASE_URL", recorded_hf)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'x.db'}", cache_dir=str(tmp_path / "cache")
    )
    assert settings.hf_base_url == recorded_hf
    now = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)
    deployment = Deployment(settings, clock=lambda: now)
    deployment.add_source("hf", make_config("huggingface", start=date(2026, 3, 6)))
    run = deployment.run_sources()
    assert run is not None
    [outcome] = run.outcomes
    assert outcome.status == "ok", outcome.problems
    assert Recorded.asked and Recorded.asked[0].startswith("/api/daily_papers?date=2026-03-06")
    paper = deployment.store.get_paper("2602.23229")
    assert paper is not None
    assert upstream.value(paper.extras, upstream.CODE)[0]["stars"] == 9
    assert upstream.value(paper.extras, upstream.SUMMARY).startswith("Large Multimodal")
    deployment.close()


def test_the_allow_list_follows_the_configured_urls_and_nothing_else():
    configured = Upstreams(
        hf_base_url="http://127.0.0.1:8765",
        arxiv_api_url="http://mirror.example:8080/api/query",
        arxiv_oai_url="https://oai.example/oai",
    )
    assert check_arxiv_url("http://127.0.0.1:8765/api/daily_papers", configured.hf_hosts)
    assert check_arxiv_url("http://mirror.example:8080/api/query", configured.arxiv_hosts)
    assert check_arxiv_url("https://oai.example/oai?verb=Identify", configured.arxiv_hosts)
    # Another port of the same host, another host, credentials: refused.
    for url, hosts in (
        ("http://127.0.0.1:8766/api/daily_papers", configured.hf_hosts),
        ("http://127.0.0.1/api/daily_papers", configured.arxiv_hosts),
        ("http://mirror.example:8081/api/query", configured.arxiv_hosts),
        ("http://user:pw@mirror.example:8080/api/query", configured.arxiv_hosts),
        ("http://169.254.169.254/latest/meta-data", configured.arxiv_hosts),
    ):
        with pytest.raises(FetchError):
            check_arxiv_url(url, hosts)
    # The defaults are the real upstreams, ports refused as before.
    default = Upstreams()
    assert default.hf_daily_url == "https://huggingface.co/api/daily_papers"
    with pytest.raises(FetchError, match="ports"):
        check_arxiv_url("https://export.arxiv.org:8443/api/query", default.arxiv_hosts)


@pytest.mark.parametrize(
    "bad",
    ["ftp://mirror.example/", "http://user:pw@mirror.example/", "mirror.example", "http://a b/"],
)
def test_a_base_url_that_is_not_http_is_refused_by_the_settings(tmp_path, bad):
    with pytest.raises(ValidationError, match="hf_base_url"):
        Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", hf_base_url=bad)


def test_the_settings_make_the_clients_upstreams(tmp_path):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        arxiv_api_url="http://127.0.0.1:9/api/query",
        arxiv_oai_url="http://127.0.0.1:9/oai",
    )
    made = upstreams_of(settings)
    assert made.arxiv_api_url == "http://127.0.0.1:9/api/query"
    assert "127.0.0.1:9" in made.arxiv_hosts
