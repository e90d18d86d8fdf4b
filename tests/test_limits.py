"""Limits that hold: every worker shares them, atomic in the database (per address,
per client, behind configured proxies only); confirmation mails; calls out to arXiv
(one per user, paced across processes, given up quickly); work per request bounded."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from server_support import Served, csrf_of, serving

# -- limits every worker shares, atomic in the database --------------------------------

_HITTER = """
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from paperwire.store import open_store
store = open_store(sys.argv[1], index_root=Path(sys.argv[2]))
now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
allowed = sum(
    store.hit_limit("signin-address", sys.argv[4], 5, timedelta(minutes=15), now)
    for _ in range(int(sys.argv[3]))
)
store.close()
print(allowed)
"""


def test_a_limit_holds_under_threads_and_processes(store, tmp_path: Path) -> None:
    """Fifty threads, then six processes, hitting one limit of 5 at once: exactly 5 get
    through each window (check-then-insert let 39 of 50 through)."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    window = timedelta(minutes=15)
    with ThreadPoolExecutor(16) as pool:
        results = list(
            pool.map(
                lambda _: store.hit_limit("signin-address", "ada@example.org", 5, window, now),
                range(50),
            )
        )
    assert sum(results) == 5
    # a new window opens once the old one is over; another subject is counted apart
    later = now + window + timedelta(seconds=1)
    assert store.hit_limit("signin-address", "ada@example.org", 5, window, later)
    assert store.hit_limit("signin-address", "bob@example.org", 5, window, now)

    url = store.url
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _HITTER, url, str(tmp_path / "idx"), "5", "carol@example.org"],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        for _ in range(6)
    ]
    outputs = [child.communicate(timeout=120)[0] for child in children]
    assert all(child.returncode == 0 for child in children), outputs
    assert sum(int(out.strip().splitlines()[-1]) for out in outputs) == 5


def test_sign_in_links_per_address_hold_under_parallel_requests(site) -> None:
    """Many sign-in requests for one address at once deliver at most 5 links."""
    from concurrent.futures import ThreadPoolExecutor

    site.services.limiter.limits["signin"] = (1000, 600.0)  # the per-client limit aside
    csrf = site.csrf()

    def ask(_: int) -> int:
        response = site.client.post(
            "/signin", data={"email": "ada@example.org", "csrf_token": csrf}
        )
        return response.status_code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(ask, range(40)))
    assert codes.count(200) == 5 and set(codes) == {200, 429}, codes
    assert sum(1 for m in site.mails() if m["To"] == "ada@example.org") == 5


# -- confirmation mails ------------------------------------------------------------------


def _subscribe(site, address: str, query: str = "") -> int:
    data = {"email": address, "frequency": "daily", "csrf_token": site.csrf()}
    data |= {"query": query, "mode": "lexical"} if query else {"trending": "true"}
    return site.client.post("/subscribe", data=data).status_code


def test_confirmation_mails_are_limited_and_quote_nothing_free_form(site) -> None:
    """Fifteen sign-ups for one inbox send it 3 mails, none quoting the requester's
    text; one requester reaches 10 addresses an hour at most."""
    site.services.limiter.limits["subscribe"] = (1000, 600.0)  # the per-client limit aside
    spam = "WIN A PRIZE call 555 0100 now"
    codes = [_subscribe(site, "victim@example.org", spam) for _ in range(15)]
    assert codes.count(200) == 3 and codes.count(429) == 12, codes
    mails = [m for m in site.mails() if m["To"] == "victim@example.org"]
    assert len(mails) == 3
    for message in mails:
        body = message.get_body(("plain",)).get_content()
        assert "PRIZE" not in body and "555" not in body
        assert "1 saved search" in body
    # per requester: 3 went to the victim above, 7 more addresses, then refused
    codes = [_subscribe(site, f"reader{n}@example.org") for n in range(10)]
    assert codes.count(200) == 7 and codes[-1] == 429, codes
    # the API counts the same limits
    response = site.client.post(
        "/api/v1/subscriptions",
        json={"email": "other@example.org", "frequency": "daily", "trending": True},
        headers={"X-CSRF-Token": site.csrf()},
    )
    assert response.status_code == 429, response.text


# -- calls out to arXiv -------------------------------------------------------------------


def test_a_hanging_arxiv_holds_one_call_per_user_and_never_the_reads(site) -> None:
    """While arXiv hangs, a user's second submission is refused at once (429), a worker
    holds at most MAX_IN_FLIGHT such calls (503 past them), and reads answer at once."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from paperwire.web.outbound import MAX_IN_FLIGHT
    from paperwire.web.usecases import papers

    release = threading.Event()
    entered = threading.Semaphore(0)
    replay = site.arxiv

    def hanging(request: httpx.Request) -> httpx.Response:
        entered.release()
        release.wait(30)
        return replay(request)

    site.services.arxiv.client = httpx.Client(transport=httpx.MockTransport(hanging))
    site.services.limiter.limits["submit"] = (1000, 600.0)
    users = [
        site.store.get_or_create_user(f"u{n}@example.org", site.clock.now)
        for n in range(MAX_IN_FLIGHT + 1)
    ]

    def submit(user) -> int:
        try:
            papers.submit(site.services, user, "2411.00001")
        except Exception as exc:  # the status is what is compared
            return getattr(exc, "status", 500)
        return 200

    with ThreadPoolExecutor(MAX_IN_FLIGHT * 2) as pool:
        hanging_calls = [pool.submit(submit, users[n]) for n in range(MAX_IN_FLIGHT)]
        for _ in range(MAX_IN_FLIGHT):
            assert entered.acquire(timeout=10)
        assert submit(users[0]) == 429  # the same user again
        assert submit(users[MAX_IN_FLIGHT]) == 503  # the worker's slots are taken
        started = time.monotonic()
        assert site.client.get("/api/v1/papers?limit=5").status_code == 200
        assert time.monotonic() - started < 2
        release.set()
        assert [call.result(30) for call in hanging_calls].count(500) == 0


def test_the_web_client_gives_up_on_arxiv_quickly(tmp_path: Path) -> None:
    """The site's own arXiv client: 5 s timeouts, one try, no queue for the pace."""
    from paperwire.config import Settings
    from paperwire.store import open_store
    from paperwire.web.services import build_services

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'a.db'}", mail_dir=str(tmp_path))
    store = open_store(settings.database_url, index_root=tmp_path / "idx")
    try:
        client = build_services(settings, store).arxiv
        assert client.client.timeout.read == 5.0 and client.client.timeout.connect == 3.0
        assert client.max_retries == 1 and client.pace is not None
    finally:
        store.close()


_PACED = """
import sys, time
from pathlib import Path
from paperwire.pacing import StorePacer
from paperwire.store import open_store
store = open_store(sys.argv[1], index_root=Path(sys.argv[2]))
waits = []
pace = StorePacer(store, float(sys.argv[3]), sleep=lambda s: (waits.append(s), time.sleep(s)))
for _ in range(3):
    before = time.time()
    pace.clock = lambda: before
    waits.append(0.0)
    pace("export.arxiv.org")
    print(before + waits[-1], flush=True)  # the slot this request was given
store.close()
"""


def test_arxiv_pace_holds_across_threads_and_processes(store, tmp_path: Path) -> None:
    """Requests to one host from 3 threads and 3 processes at once get slots spaced by
    the interval, and each waits for its slot (per-client pacing let 16 of 29 gaps be
    ~0 s)."""
    import threading

    from paperwire.pacing import StorePacer

    interval = 0.25
    slots: list[float] = []
    lock = threading.Lock()

    def thread() -> None:
        for _ in range(3):
            waited: list[float] = [0.0]
            now = time.time()
            pacer = StorePacer(
                store,
                interval,
                sleep=lambda s, waited=waited: (waited.append(s), time.sleep(s)),
                clock=lambda now=now: now,
            )
            pacer("export.arxiv.org")
            assert time.time() >= now + waited[-1] - 0.01  # it did wait for its slot
            with lock:
                slots.append(now + waited[-1])

    children = [
        subprocess.Popen(
            [sys.executable, "-c", _PACED, store.url, str(tmp_path / "idx"), str(interval)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        for _ in range(3)
    ]
    threads = [threading.Thread(target=thread) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        slots.extend(float(line) for line in out.split())
    slots.sort()
    assert len(slots) == 18
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert min(gaps) > interval - 1e-3, gaps
    # another host has its own pace
    started = time.time()
    StorePacer(store, interval)("oaipmh.arxiv.org")
    assert time.time() - started < interval


# -- bounded work per request --------------------------------------------------------------


def _cursor(value: int) -> str:
    import base64

    return base64.urlsafe_b64encode(f"id:{value}".encode()).decode().rstrip("=")


def test_search_depth_is_bounded_and_documented(site) -> None:
    """No search request ranks past MAX_SEARCH_RESULTS: a cursor beyond is a 400 naming
    the limit, the page before it has no `next`, the web form's deep pages are refused
    too, and the API's description says so."""
    from paperwire.web.usecases.search import MAX_SEARCH_RESULTS

    for offset in (MAX_SEARCH_RESULTS, 100_000, 2**62):
        response = site.client.get(f"/api/v1/search?q=model&mode=lexical&cursor={_cursor(offset)}")
        assert response.status_code == 400, response.text
        assert f"{MAX_SEARCH_RESULTS:,}" in response.json()["detail"]
    response = site.client.get(
        f"/api/v1/search?q=model&mode=lexical&limit=100&cursor={_cursor(MAX_SEARCH_RESULTS - 10)}"
    )
    assert response.status_code == 200 and response.json()["next"] is None
    assert site.client.get("/search?q=model&mode=lexical&page=500").status_code == 400
    description = site.client.get("/openapi.json").json()["paths"]["/api/v1/search"]["get"]
    assert f"{MAX_SEARCH_RESULTS:,}" in description["description"]


def test_huge_cursor_ids_are_a_400(site) -> None:
    """A cursor id a database integer cannot hold (>= 2^63) is the caller's mistake."""
    for value in (2**63, 2**64 + 5, 10**30):
        response = site.client.get(f"/api/v1/papers?cursor={_cursor(value)}")
        assert response.status_code == 400, response.text
    assert site.client.get(f"/api/v1/papers?cursor={_cursor(2**63 - 1)}").status_code == 200


def test_forwarded_for_counts_only_from_configured_proxies(tmp_path: Path) -> None:
    """A local client sending X-Forwarded-For no longer escapes the per-client limit;
    a configured proxy's header is believed."""
    from paperwire.web.ratelimit import LIMITS

    allowed = LIMITS["signin"][0]

    def attempts(running: Served) -> list[int]:
        with httpx.Client(base_url=running.base, timeout=30) as client:
            csrf = csrf_of(client)
            return [
                client.post(
                    "/signin",
                    data={"email": f"r{n}@example.org", "csrf_token": csrf},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"},
                ).status_code
                for n in range(allowed + 2)
            ]

    with serving(tmp_path / "a") as running:
        codes = attempts(running)
    assert codes[:allowed] == [200] * allowed and codes[allowed:] == [429, 429], codes
    with serving(tmp_path / "b", trusted_proxies="127.0.0.1") as running:
        assert attempts(running) == [200] * (allowed + 2)
