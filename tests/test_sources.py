"""Sources on a schedule (issue 15): Hugging Face daily papers and arXiv categories
harvested through an injected client whose transport replays recorded upstream responses
(tests/data/hf_daily_papers.json, tests/fixtures/arxiv/oai_arxiv_page*.xml; the fault
variants are those files cut, emptied or refused, see tests/data/SOURCES.md). The store,
the parsers, the cursor, the lease and the keyword index are the real ones, on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from paperwire.config import Settings
from paperwire.deployment import Deployment
from paperwire.ingest.fetch import PoliteClient
from paperwire.search.hybrid import SearchEngine
from paperwire.search.native import keyword_index
from paperwire.sources.config import make_config
from paperwire.store.base import Store

DATA = Path(__file__).parent / "data"
FIXTURES = Path(__file__).parent / "fixtures" / "arxiv"
ITEMS = json.loads((DATA / "hf_daily_papers.json").read_bytes())
# 2024-07-24 is a Wednesday.
NOW = datetime(2024, 7, 24, 12, 0, tzinfo=UTC)

Answer = bytes | int | str | Callable[[httpx.Request], httpx.Response]


def day_list(*indexes: int) -> bytes:
    """A daily_papers response listing recorded items."""
    return json.dumps([ITEMS[i] for i in indexes]).encode()


class Upstream:
    """Replays upstream answers by the `date` parameter (Hugging Face) or the `set` /
    `resumptionToken` parameters (OAI-PMH). An answer is a body, an HTTP status (sent
    with Retry-After: 7), "down" (connection refused) or a function; a list of answers is
    used one per request, the last repeated."""

    def __init__(self, answers: dict[str, Answer | list[Answer]] | None = None) -> None:
        self.answers: dict[str, Answer | list[Answer]] = answers or {}
        self.requests: list[httpx.Request] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
        params = request.url.params
        name = params.get("date") or params.get("resumptionToken") or params.get("set") or ""
        answer = self.answers.get(name, b"[]" if "date" in params else 404)
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if callable(answer):
            return answer(request)
        if answer == "down":
            raise httpx.ConnectError("connection refused", request=request)
        if isinstance(answer, int):
            return httpx.Response(answer, headers={"Retry-After": "7"})
        assert isinstance(answer, bytes)
        return httpx.Response(200, content=answer)

    def asked(self, name: str) -> int:
        return sum(
            1 for r in self.requests if name in (r.url.params.get("date"), r.url.params.get("set"))
        )


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_deployment(
    store: Store, tmp_path: Path, upstream: Upstream, clock: Clock, **settings: object
) -> tuple[Deployment, list[float]]:
    slept: list[float] = []
    client = PoliteClient(httpx.Client(transport=httpx.MockTransport(upstream)), sleep=slept.append)
    values = {"database_url": store.url, "cache_dir": str(tmp_path / "cache"), **settings}
    deployment = Deployment(
        Settings(**values),  # type: ignore[arg-type]
        store=store,
        arxiv=client,
        clock=clock,
        engine_factory=lambda: SearchEngine(store, keyword_index(store, "beside")),
    )
    return deployment, slept


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


def hf_source(deployment: Deployment, start: date = date(2024, 7, 22), **options: object) -> None:
    deployment.add_source("hf", make_config("huggingface", start=start, **options))  # type: ignore[arg-type]


def test_huggingface_fills_the_feed_for_a_date_range(store, tmp_path, clock):
    upstream = Upstream({"2024-07-22": day_list(0), "2024-07-23": day_list(1)})
    deployment, _ = make_deployment(store, tmp_path, upstream, clock)
    hf_source(deployment)

    run = deployment.run_sources()

    assert run is not None
    [outcome] = run.outcomes
    assert (outcome.status, outcome.records, outcome.listed, outcome.days) == ("ok", 2, 2, 3)
    # Today (the 24th) is still filling up: the cursor stops the day before.
    assert outcome.cursor == date(2024, 7, 23)
    entries, total = store.feed(date(2024, 7, 22), date(2024, 7, 22))
    assert total == 1
    entry = entries[0]
    assert entry.paper.arxiv_id == "2407.13168"
    assert entry.submission is not None
    assert entry.submission.upstream_source == "huggingface"
    assert entry.submission.upstream_submitter == "amber1120"
    # Upstream upvotes are kept apart from the votes cast here; the total shows both.
    assert (entry.paper.upvotes, entry.upvotes) == (17, 17)
    user = store.get_or_create_user("reader@example.org", NOW)
    store.set_vote(user.id, "2407.13168", True, NOW)
    voted = store.entry("2407.13168")
    assert voted is not None and (voted.paper.upvotes, voted.upvotes) == (17, 18)
    # The keyword index caught up after the harvest: the new papers are searchable.
    assert [h.paper.arxiv_id for h in deployment.search("SciCode", mode="lexical")] == [
        "2407.13168"
    ]
    [recorded] = store.source_runs("hf")
    assert (recorded.status, recorded.records, recorded.days) == ("ok", 2, 3)
    assert recorded.finished_at is not None and recorded.started_at <= recorded.finished_at


def test_the_next_day_harvests_only_what_is_missing(store, tmp_path, clock):
    upstream = Upstream({"2024-07-22": day_list(0), "2024-07-23": day_list(1)})
    deployment, _ = make_deployment(store, tmp_path, upstream, clock)
    hf_source(deployment)
    deployment.run_sources()
    asked = len(upstream.requests)

    clock.now = NOW + timedelta(days=1)
    run = deployment.run_sources()

    assert run is not None and run.outcomes[0].cursor == date(2024, 7, 24)
    # The 24th (yesterday now) and the 25th (today); nothing before the cursor again.
    assert [r.url.params["date"] for r in upstream.requests[asked:]] == [
        "2024-07-24",
        "2024-07-25",
    ]


def test_a_source_not_due_is_left_alone(store, tmp_path, clock):
    upstream = Upstream()
    deployment, _ = make_deployment(store, tmp_path, upstream, clock)
    hf_source(deployment)
    deployment.run_sources()
    asked = len(upstream.requests)
    clock.now = NOW + timedelta(minutes=30)  # the interval is an hour
    run = deployment.run_sources()
    assert run is not None and run.outcomes == []
    assert len(upstream.requests) == asked


# -- faults -------------------------------------------------------------------------


def test_upstream_down_is_recorded_retried_sooner_and_nothing_is_lost(store, tmp_path, clock):
    upstream = Upstream({"2024-07-22": "down"})
    deployment, slept = make_deployment(store, tmp_path, upstream, clock)
    hf_source(deployment)

    run = deployment.run_sources()

    assert run is not None
    [outcome] = run.outcomes
    assert outcome.status == "failed" and "connection refused" in (outcome.error or "")
    # A host that refuses the connection is tried once more after a second, then
    # reported (issue 25: five paced retries made a run with no network take 46 s).
    assert upstream.asked("2024-07-22") == 2 and sum(slept) < 5
    assert "cannot connect to huggingface.co" in (outcome.error or "")
    source = store.get_source("hf")
    assert source is not None and source.cursor is None and source.failures == 1
    assert source.next_run_at == NOW + timedelta(seconds=60)  # sooner than the hour
    assert store.source_runs("hf")[0].status == "failed"

    upstream.answers["2024-07-22"] = day_list(0)
    upstream.answers["2024-07-23"] = day_list(1)
    clock.now = NOW + timedelta(minutes=2)
    again = deployment.run_sources()
    assert again is not None and again.outcomes[0].status == "ok"
    assert again.outcomes[0].cursor == date(2024, 7, 23)
    assert store.get_paper("2407.13168") is not None
    assert store.get_paper("2509.04664") is not None
    source = store.get_source("hf")
    assert source is not None and source.failures == 0


def test_503_with_retry_after_is_waited_out(store, tmp_path, clock):
    upstream = Upstream({"2024-07-22": [503, day_list(0)]})
    deployment, slept = make_deployment(store, tmp_path, upstream, clock)
    hf_source(deployment, start=date(2024, 7, 22))

    run = deployment.run_sources()

    assert run is not None and run.outcomes[0].status == "ok"
    assert 7.0 in slept  # the Retry-After upstream asked for
    assert upstream.asked("2024-07-22") == 2
    assert store.get_paper("2407.13168") is not None


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(day_list(0, 1)[:-40], id="truncated"),
        pytest.param(b"<html><body>Bad gateway</body></html>", id="html-page"),
        pytest.param(day_list(0, 1).replace(b'"paper"', b'"pap\xffer"', 1), id="garbled"),
    ],
)
def test_a_truncated_or_garbled_response_holds_the_cursor(store, tmp_path, clock, broken):
    upstream = Upstream({"2024-07-22": [broken, day_list(0, 1)]})
    deployment, _ = make_deployment(store, tmp_path, upstream, clock)
    hf_source(deployment)

    run = deployment.run_sources()

    assert run is not None
    [outcome] = run.outcomes
    assert outcome.status == "partial"
    assert any("2024-07-22 failed" in p for p in outcome.problems)
    days = {d.day: d for d in store.source_days(store.get_source("hf").id)}  # type: ignore[union-attr]
    assert days[date(2024, 7, 22)].status == "failed"
    # The 23rd was complete, but the cursor never passes a day that is not.
    assert store.get_source("hf").cursor is None  # type: ignore[union-attr]

    clock.now = NOW + timedelta(hours=2)
    again = deployment.run_sources()
    assert again is not None and again.outcomes[0].status == "ok"
    assert again.outcomes[0].cursor == date(2024, 7, 23)
    assert {e.paper.arxiv_id for e in store.feed(date(2024, 7, 22), date(2024, 7, 22))[0]} == {
        "2407.13168",
        "2509.04664",
    }


def _oai(page: str) -> bytes:
    return (FIXTURES / page).read_bytes()


def test_an_arxiv_list_shorter_than_its_stated_count_is_suspect_and_retried(store, tmp_path, clock):
    # The first page announces completeListSize="4" but ends the list (no token): the
    # partly updated upstream list that once collapsed a feed.
    cut = _oai("oai_arxiv_page1.xml").replace(b">6960524|1001</resumptionToken>", b"/>")
    whole = {
        "cs:cs:LG": [cut, _oai("oai_arxiv_page1.xml")],
        "6960524|1001": _oai("oai_arxiv_page2.xml"),
    }
    upstream = Upstream(whole)  # type: ignore[arg-type]
    clock.now = datetime(2023, 2, 8, 9, tzinfo=UTC)
    deployment, _ = make_deployment(store, tmp_path, upstream, clock)
    deployment.add_source("arxiv-lg", make_config("arxiv", ["cs.LG"], start=date(2023, 2, 7)))

    run = deployment.run_sources()

    assert run is not None
    [outcome] = run.outcomes
    assert outcome.status == "partial"
    source = store.get_source("arxiv-lg")
    assert source is not None and source.cursor is None
    [day, _today] = store.source_days(source.id)
    assert (day.status, day.records, day.stated) == ("suspect", 2, 4)
    assert "2 of the 4" in (day.note or "")
    # Only the new cs.LG paper reaches the feed (0704.0001 is hep-ph).
    listed = store.feed(date(2023, 2, 7), date(2023, 2, 7))[0]
    assert [e.paper.arxiv_id for e in listed] == ["2302.02607"]

    clock.now += timedelta(hours=2)
    again = deployment.run_sources()
    assert again is not None and again.outcomes[0].status == "ok"
    assert again.outcomes[0].cursor == date(2023, 2, 7)
    assert store.get_paper("math/0309136") is not None  # from the second page


def test_a_zero_record_weekday_is_suspect_and_accepted_after_three_checks(store, tmp_path, clock):
    # Mon 15 - Thu 18 July list one paper each; Fri 19 lists nothing.
    answers: dict[str, Answer | list[Answer]] = {
        f"2024-07-{d}": day_list(d % 2) for d in (15, 16, 17, 18)
    }
    upstream = Upstream(answers)
    clock.now = datetime(2024, 7, 20, 9, tzinfo=UTC)  # a Saturday
    deployment, _ = make_deployment(store, tmp_path, upstream, clock)
    hf_source(deployment, start=date(2024, 7, 15))

    run = deployment.run_sources()

    assert run is not None and run.outcomes[0].status == "partial"
    source = store.get_source("hf")
    assert source is not None and source.cursor == date(2024, 7, 18)
    friday = {d.day: d for d in store.source_days(source.id)}[date(2024, 7, 19)]
    assert friday.status == "suspect" and "median" in (friday.note or "")

    for hours in (2, 4):
        clock.now += timedelta(hours=hours)
        deployment.run_sources()
    source = store.get_source("hf")
    assert source is not None
    friday = {d.day: d for d in store.source_days(source.id)}[date(2024, 7, 19)]
    assert friday.status == "done" and friday.attempts == 3
    assert (friday.note or "").startswith("accepted after 3 attempts")
    assert source.cursor == date(2024, 7, 19)
    assert upstream.asked("2024-07-19") == 3


def test_a_quiet_weekend_day_is_not_suspect(store, tmp_path, clock):
    answers: dict[str, Answer | list[Answer]] = {
        f"2024-07-{d}": day_list(d % 2) for d in (15, 16, 17, 18, 19)
    }
    clock.now = datetime(2024, 7, 22, 9, tzinfo=UTC)  # Monday; 20 and 21 are empty
    deployment, _ = make_deployment(store, tmp_path, Upstream(answers), clock)
    hf_source(deployment, start=date(2024, 7, 15))
    run = deployment.run_sources()
    assert run is not None and run.outcomes[0].status == "ok"
    assert run.outcomes[0].cursor == date(2024, 7, 21)


def test_a_failing_source_is_marked_and_the_others_keep_running(store, tmp_path, clock):
    upstream = Upstream(
        {
            "2024-07-22": "down",
            "cs:cs:LG": _oai("oai_arxiv_page1.xml"),
            "6960524|1001": _oai("oai_arxiv_page2.xml"),
        }
    )
    deployment, _ = make_deployment(store, tmp_path, upstream, clock)
    hf_source(deployment)
    deployment.add_source("arxiv-lg", make_config("arxiv", ["cs.LG"], start=date(2024, 7, 23)))

    for _ in range(3):
        run = deployment.run_sources()
        assert run is not None
        by_name = {o.name: o for o in run.outcomes}
        assert by_name["hf"].status == "failed"
        assert by_name["arxiv-lg"].status == "ok"
        clock.now += timedelta(hours=1, minutes=1)

    statuses = {s.record.name: s for s in deployment.sources()}
    assert statuses["hf"].failing and statuses["hf"].record.failures == 3
    assert not statuses["arxiv-lg"].failing
    assert statuses["arxiv-lg"].record.last_success_at is not None
    # A failing source does not hold the digests back forever; a healthy one that has
    # not run since the digest hour does.
    assert deployment.sources_settled()


def test_a_runner_killed_mid_harvest_resumes_on_the_next_start(store, tmp_path, clock):
    def killed(request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt  # what SIGINT does to a process mid-request

    upstream = Upstream({"2024-07-22": day_list(0), "2024-07-23": killed})
    deployment, _ = make_deployment(store, tmp_path, upstream, clock)
    hf_source(deployment)
    with pytest.raises(KeyboardInterrupt):
        deployment.run_sources()
    [run] = store.source_runs("hf")
    assert run.status == "running" and run.records == 1  # its progress was saved
    assert store.get_source("hf").cursor is None  # type: ignore[union-attr]

    # A new process (a new deployment over the same store) starts later.
    upstream.answers["2024-07-23"] = day_list(1)
    clock.now += timedelta(minutes=5)
    fresh, _ = make_deployment(store, tmp_path, upstream, clock)
    again = fresh.run_sources(["hf"])
    assert again is not None and again.outcomes[0].status == "ok"
    assert again.outcomes[0].cursor == date(2024, 7, 23)
    runs = store.source_runs("hf")
    assert [r.status for r in runs] == ["ok", "interrupted"]
    assert upstream.asked("2024-07-22") == 1  # the complete day was not fetched again
    assert store.feed(date(2024, 7, 23), date(2024, 7, 23))[1] == 1


def test_two_runners_started_together_make_one_harvest(store, tmp_path, clock):
    inside = threading.Event()
    release = threading.Event()

    def slow(request: httpx.Request) -> httpx.Response:
        inside.set()
        release.wait(10)
        return httpx.Response(200, content=day_list(0))

    upstream = Upstream({"2024-07-22": slow})
    first, _ = make_deployment(store, tmp_path, upstream, clock)
    hf_source(first)
    from paperwire.store import open_store

    other_store = open_store(store.url, index_root=tmp_path / "indexes-2")
    try:
        second, _ = make_deployment(other_store, tmp_path / "second", upstream, clock)
        results: dict[str, object] = {}
        worker = threading.Thread(target=lambda: results.update(first=first.run_sources()))
        worker.start()
        assert inside.wait(10)
        results["second"] = second.run_sources()  # while the first holds the lease
        release.set()
        worker.join(20)
    finally:
        other_store.close()
    assert results["second"] is None
    assert upstream.asked("2024-07-22") == 1
    assert len(store.source_runs("hf")) == 1


def test_the_lease_lapses_when_its_holder_dies(store):
    now = NOW
    assert store.take_lease("sources", "a", now, now + timedelta(minutes=15))
    assert not store.take_lease("sources", "b", now, now + timedelta(minutes=15))
    assert store.take_lease("sources", "a", now, now + timedelta(minutes=15))  # renewal
    later = now + timedelta(minutes=16)
    assert store.lease_holder("sources", later) is None
    assert store.take_lease("sources", "b", later, later + timedelta(minutes=15))
    store.release_lease("sources", "a")  # not its holder any more: nothing happens
    assert store.lease_holder("sources", later) == "b"


def test_digests_wait_for_the_days_harvest(store, tmp_path, clock):
    upstream = Upstream({"2024-07-22": day_list(0)})
    deployment, _ = make_deployment(store, tmp_path, upstream, clock, digest_hour=7)
    hf_source(deployment)
    assert not deployment.sources_settled()  # added, never run
    store.take_lease("sources", "someone-else", NOW, NOW + timedelta(minutes=5))
    assert deployment.run_sources() is None
    assert not deployment.sources_settled()  # a harvest is running
    store.release_lease("sources", "someone-else")
    deployment.run_sources()
    assert deployment.sources_settled()
    assert "sources" in [job.name for job in deployment.background_jobs()]


def test_the_search_rule_lists_only_matching_papers(store, tmp_path, clock):
    upstream = Upstream({"2024-07-22": day_list(0, 1)})
    deployment, _ = make_deployment(store, tmp_path, upstream, clock)
    deployment.add_source(
        "hf-code",
        make_config(
            "huggingface",
            rule="search",
            query="scientific coding benchmark",
            start=date(2024, 7, 22),
        ),
    )
    run = deployment.run_sources()
    assert run is not None and run.outcomes[0].listed == 1
    assert [e.paper.arxiv_id for e in store.feed(date(2024, 7, 22), date(2024, 7, 22))[0]] == [
        "2407.13168"
    ]
    assert store.get_paper("2509.04664") is not None  # stored, searchable, not listed


def test_sources_from_the_settings_file_are_added_once(store, tmp_path, clock):
    deployment, _ = make_deployment(
        store,
        tmp_path,
        Upstream(),
        clock,
        sources=[{"name": "ml", "kind": "arxiv", "categories": ["cs.LG", "stat.ML"]}],
    )
    assert deployment.configure_sources() == ["ml"]
    assert deployment.configure_sources() == []
    [status] = deployment.sources()
    assert status.config.categories == ("cs.LG", "stat.ML")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"kind": "rss"}, "kind 'rss'"),
        ({"kind": "arxiv"}, "needs at least one category"),
        ({"kind": "arxiv", "categories": ["cs LG"]}, "category 'cs LG'"),
        ({"kind": "huggingface", "rule": "search"}, "needs a query"),
        ({"kind": "huggingface", "start": "July 1"}, "start 'July 1'"),
    ],
)
def test_bad_source_settings_are_refused_by_name(options, message):
    with pytest.raises(ValueError, match=message):
        make_config(where="settings sources[1]", **options)  # type: ignore[arg-type]


def test_the_similar_rule_lists_the_papers_closest_to_what_readers_upvoted(tmp_path, clock):
    """Rule "similar" with the real MiniLM model: the day's papers ranked by cosine to
    the mean vector of the papers upvoted here; without upvotes, upstream's order."""
    from paperwire.models import Paper
    from paperwire.store import open_store

    url = f"sqlite:///{tmp_path / 'site.db'}"
    store = open_store(url, index_root=tmp_path / "indexes")
    try:
        upstream = Upstream({"2024-07-22": day_list(0, 1), "2024-07-23": day_list(0, 1)})
        client = PoliteClient(
            httpx.Client(transport=httpx.MockTransport(upstream)), sleep=lambda s: None
        )
        settings = Settings(
            database_url=url, cache_dir=str(tmp_path / "cache"), embedding_model="minilm"
        )
        deployment = Deployment(settings, store=store, arxiv=client, clock=clock)
        config = make_config("huggingface", rule="similar", top_n=1, start=date(2024, 7, 22))
        deployment.add_source("hf-similar", config)
        store.upsert_papers(
            [
                Paper(
                    title="Calibrated abstention: language models that say I do not know",
                    abstract="Models trained to admit uncertainty instead of guessing produce "
                    "fewer confident false statements (hallucinations).",
                    arxiv_id="2401.00001",
                )
            ]
        )
        while deployment.embed_step() > 0:
            pass

        # Nobody has upvoted anything yet: upstream's first paper.
        first = deployment.run_sources()
        assert first is not None and first.outcomes[0].listed == 1
        assert [e.paper.arxiv_id for e in store.feed(date(2024, 7, 22), date(2024, 7, 22))[0]] == [
            "2407.13168"
        ]

        # Readers upvote the paper on hallucinations: the next day's pick follows them.
        user = store.get_or_create_user("reader@example.org", NOW)
        store.set_vote(user.id, "2401.00001", True, NOW)
        store.remove_source("hf-similar")
        deployment.add_source(
            "hf-similar-2",
            make_config("huggingface", rule="similar", top_n=1, start=date(2024, 7, 23)),
        )
        with store.write() as conn:  # the day's papers, unlisted again for the second pick
            conn.execute("DELETE FROM submissions")
        second = deployment.run_sources()
        assert second is not None and second.outcomes[0].listed == 1
        assert [e.paper.arxiv_id for e in store.feed(date(2024, 7, 23), date(2024, 7, 23))[0]] == [
            "2509.04664"
        ]
    finally:
        store.close()


def test_the_similar_rule_without_a_model_fails_the_run_by_name(store, tmp_path, clock):
    upstream = Upstream({"2024-07-22": day_list(0, 1)})
    deployment, _ = make_deployment(store, tmp_path, upstream, clock)
    deployment.add_source(
        "hf-similar", make_config("huggingface", rule="similar", start=date(2024, 7, 22))
    )
    run = deployment.run_sources()
    assert run is not None
    assert run.outcomes[0].status == "failed"
    assert "needs an embedding model" in (run.outcomes[0].error or "")
