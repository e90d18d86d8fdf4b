"""Online sources through an injected client whose transport replays recorded arXiv
responses; the pacing, paging, resuming and parsing are the real code."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from paperwire.ingest.fetch import (
    ArxivQuery,
    FetchError,
    OaiHarvest,
    PoliteClient,
    check_arxiv_url,
    fetch_arxiv_api,
    harvest_oai,
    import_url,
)


class Replay:
    """Serves recorded bodies by a request's parameters; records every request."""

    def __init__(
        self, routes: dict[tuple[str, str], bytes | int], fail_once: set[str] | None = None
    ):
        self.routes = routes
        self.requests: list[httpx.Request] = []
        self.fail_once = fail_once or set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        params = request.url.params
        for (name, value), body in self.routes.items():
            if params.get(name) == value:
                if value in self.fail_once:
                    self.fail_once.discard(value)
                    raise httpx.ConnectError("connection reset by peer", request=request)
                if isinstance(body, int):
                    return httpx.Response(body, headers={"Retry-After": "5"})
                return httpx.Response(
                    200, content=body, headers={"Content-Type": "application/xml"}
                )
        return httpx.Response(404)


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def polite(replay: Replay, clock: FakeTime) -> PoliteClient:
    return PoliteClient(
        httpx.Client(transport=httpx.MockTransport(replay)), sleep=clock.sleep, clock=clock.clock
    )


def api_routes(fixtures: Path) -> dict[tuple[str, str], bytes | int]:
    return {
        ("start", "0"): (fixtures / "arxiv/api_page1.xml").read_bytes(),
        ("start", "2"): (fixtures / "arxiv/api_page2.xml").read_bytes(),
    }


def test_api_pages_through_results_at_arxiv_pace(store, fixtures):
    replay, clock = Replay(api_routes(fixtures)), FakeTime()
    report = fetch_arxiv_api(
        polite(replay, clock), store, ArxivQuery(category="cs.LG"), page_size=2
    )
    assert report.papers.inserted == 3
    assert store.get_paper("hep-th/9901001").title.startswith("String Junctions")
    assert [r.url.params["search_query"] for r in replay.requests] == ["cat:cs.LG"] * 2
    assert clock.slept == [3.0]  # one request every 3 s


def test_api_resumes_after_interruption(store, fixtures):
    replay, clock = Replay(api_routes(fixtures)), FakeTime()
    replay.routes[("start", "2")] = (
        b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><id>http://arxiv.org/abs/"
    )
    client = polite(replay, clock)
    # The second page arrives cut off: what came before it is kept, the offset saved.
    with pytest.raises(FetchError, match="run again to resume"):
        fetch_arxiv_api(client, store, ArxivQuery(category="cs.LG"), page_size=2)
    assert store.count_papers() == 2
    replay.routes[("start", "2")] = (fixtures / "arxiv/api_page2.xml").read_bytes()
    replay.requests.clear()
    report = fetch_arxiv_api(client, store, ArxivQuery(category="cs.LG"), page_size=2)
    assert store.count_papers() == 3 and report.papers.inserted == 1
    assert replay.requests[0].url.params["start"] == "2"


def test_api_retries_503_with_retry_after_and_connection_errors(store, fixtures):
    routes = api_routes(fixtures)
    replay, clock = Replay(routes, fail_once={"2"}), FakeTime()
    answers = iter([503, routes[("start", "0")]])
    replay.routes[("start", "0")] = 503

    def first_503_then_ok(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("start") == "0":
            replay.routes[("start", "0")] = next(answers)
        return replay(request)

    client = PoliteClient(
        httpx.Client(transport=httpx.MockTransport(first_503_then_ok)),
        sleep=clock.sleep,
        clock=clock.clock,
    )
    report = fetch_arxiv_api(client, store, ArxivQuery(category="cs.LG"), page_size=2)
    assert report.papers.inserted == 3
    assert 5.0 in clock.slept  # the Retry-After was honoured


def test_api_error_entry_raises(store, fixtures):
    replay = Replay({("id_list", "1234.12345"): (fixtures / "arxiv/api_error.xml").read_bytes()})
    with pytest.raises(FetchError, match="incorrect id format"):
        fetch_arxiv_api(polite(replay, FakeTime()), store, ArxivQuery(id_list=["1234.12345"]))


def oai_routes(fixtures: Path) -> dict[tuple[str, str], bytes | int]:
    return {
        ("metadataPrefix", "arXiv"): (fixtures / "arxiv/oai_arxiv_page1.xml").read_bytes(),
        ("resumptionToken", "6960524|1001"): (fixtures / "arxiv/oai_arxiv_page2.xml").read_bytes(),
    }


def test_oai_harvest_follows_tokens_and_applies_deletions(store, fixtures):
    replay, clock = Replay(oai_routes(fixtures)), FakeTime()
    report = harvest_oai(polite(replay, clock), store, OaiHarvest(set="cs"))
    assert report.papers.inserted == 3 and report.deleted == 1
    assert store.get_paper("0704.0001") is None
    assert store.get_paper("math/0309136") is not None
    assert replay.requests[1].url.params["resumptionToken"] == "6960524|1001"
    assert "metadataPrefix" not in replay.requests[1].url.params


def test_oai_harvest_resumes_from_saved_token(store, fixtures):
    replay, clock = Replay(oai_routes(fixtures), fail_once={"6960524|1001"}), FakeTime()
    client = polite(replay, clock)
    # Fails on every retry of page two: the harvest stops, the token of page one is kept.
    replay.routes[("resumptionToken", "6960524|1001")] = 500
    with pytest.raises(FetchError):
        harvest_oai(client, store, OaiHarvest(set="cs"))
    assert store.count_papers() == 2
    replay.routes[("resumptionToken", "6960524|1001")] = (
        fixtures / "arxiv/oai_arxiv_page2.xml"
    ).read_bytes()
    replay.requests.clear()
    harvest_oai(client, store, OaiHarvest(set="cs"))
    assert (
        replay.requests[0].url.params.get("resumptionToken") == "6960524|1001"
    )  # no page one again
    assert store.count_papers() == 2  # 0704.0001 deleted, math/0309136 added


def test_oai_no_records_is_not_an_error(store, fixtures):
    replay = Replay(
        {("metadataPrefix", "arXiv"): (fixtures / "arxiv/oai_no_records.xml").read_bytes()}
    )
    report = harvest_oai(polite(replay, FakeTime()), store, OaiHarvest(set="cs"))
    assert report.read == 0


def test_only_arxiv_hosts_are_fetched(store):
    for url in [
        "http://127.0.0.1/abs/2302.02607",
        "https://evil.example/api/query",
        "file:///etc/passwd",
        "https://arxiv.org.evil.example/abs/1706.03762",
        "https://user:pw@arxiv.org/abs/1706.03762",
        "https://arxiv.org:8080/abs/1706.03762",
    ]:
        with pytest.raises(FetchError):
            check_arxiv_url(url)
    replay = Replay({})
    with pytest.raises(FetchError):
        import_url(polite(replay, FakeTime()), store, "http://169.254.169.254/latest/meta-data")
    assert replay.requests == []


def test_redirects_leaving_arxiv_are_refused(store):
    def redirect(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://10.0.0.1/internal"})

    client = PoliteClient(
        httpx.Client(transport=httpx.MockTransport(redirect)), sleep=lambda s: None
    )
    with pytest.raises(FetchError, match="only arXiv"):
        client.get("https://export.arxiv.org/api/query")


def test_import_url_of_an_abstract_page(store, fixtures):
    replay = Replay({("id_list", "2302.02607"): (fixtures / "arxiv/api_page1.xml").read_bytes()})
    import_url(polite(replay, FakeTime()), store, "https://arxiv.org/abs/2302.02607v2")
    assert store.get_paper("2302.02607") is not None


def test_harvest_commands_through_the_cli(tmp_path, fixtures, monkeypatch):
    from click.testing import CliRunner

    import paperwire.cli as cli_module
    from paperwire.deployment import Deployment

    routes = {**oai_routes(fixtures), **api_routes(fixtures)}
    client = polite(Replay(routes), FakeTime())
    # The deployment's arXiv client replays the recorded responses.
    monkeypatch.setattr(Deployment, "arxiv", property(lambda _self: client))
    db = ["--db", f"sqlite:///{tmp_path / 'h.db'}"]
    result = CliRunner().invoke(cli_module.cli, [*db, "harvest", "oai", "--set", "cs", "-q"])
    assert result.exit_code == 0 and "3 new" in result.output and "1 deleted" in result.output
    result = CliRunner().invoke(
        cli_module.cli, [*db, "harvest", "api", "--category", "cs.LG", "-q"]
    )
    assert result.exit_code == 0 and "records read" in result.output
    assert CliRunner().invoke(cli_module.cli, [*db, "harvest", "api"]).exit_code == 2
    found = CliRunner().invoke(cli_module.cli, [*db, "search", "--mode", "lexical", "knot floer"])
    assert "math/0309136" in found.output
