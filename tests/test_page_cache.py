"""The page cache against what readers send (issue 25): keys normalised to the
parameters a page reads (2,000 distinct ``?cb=N`` grew the server by 600 MB), a bound in
bytes with least-recently-used eviction, expired pages swept, and single flight — N
concurrent misses of one page build it once (6 concurrent misses of a slow home page
were 6 builds and 65 s)."""

from __future__ import annotations

import threading
import time
import uuid

import httpx
from fastapi.responses import HTMLResponse

from browser_support import serving
from paperwire.ingest.load import load
from paperwire.lru import ENTRY_OVERHEAD, ByteLRU
from paperwire.models import Paper
from paperwire.web.pagecache import PageCache
from smtp_support import free_port
from support import make_site


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def page(text: str) -> HTMLResponse:
    return HTMLResponse(text)


def test_two_thousand_cache_busters_are_one_entry_per_page(tmp_path):
    site = make_site(tmp_path, page_cache_seconds=600)
    day = site.clock.now.date().isoformat()
    pages = site.services.pages
    with site.client as client:
        first = {path: client.get(path).text for path in ("/", f"/daily/{day}")}
        for n in range(2000):
            path = "/" if n % 2 else f"/daily/{day}"
            response = client.get(path, params={"cb": str(n)})
            assert response.status_code == 200
            assert response.text == first[path]  # the same entry, cb nowhere in it
        assert "cb=" not in first["/"] and "cb=" not in first[f"/daily/{day}"]
        assert pages.builds == 2 and len(pages) == 2
        held = sum(len(text.encode()) for text in first.values())
        assert pages.size_bytes < held + 2 * (ENTRY_OVERHEAD + 200)
        # The parameters the page reads are the key, as parsed: page=01 is page=1.
        assert client.get(f"/daily/{day}", params={"page": "1", "x": "y"}).status_code == 200
        assert client.get(f"/daily/{day}", params={"page": "01", "cb": "7"}).status_code == 200
        assert pages.builds == 3 and len(pages) == 3
        # A known notice is shown (and kept apart); an unknown one is the plain page.
        assert client.get("/", params={"notice": "bogus-1"}).text == first["/"]
        assert "You are signed out." in client.get("/", params={"notice": "signed-out"}).text
        assert pages.builds == 4


def test_the_cache_is_bounded_by_bytes_least_recently_used_out_first():
    clock = Clock()
    cache = PageCache(60, max_bytes=3 * (1000 + ENTRY_OVERHEAD + 10), clock=clock)
    body = b"x" * 1000
    for key in ("/a", "/b", "/c"):
        cache.put(key, body)
    assert len(cache) == 3
    assert cache.get("/a") is not None  # /a is now the most recently used
    cache.put("/d", body)
    assert cache.get("/b") is None  # the least recently used went
    assert all(cache.get(key) is not None for key in ("/a", "/c", "/d"))
    assert cache.size_bytes <= cache._pages.max_bytes
    cache.put("/huge", b"x" * 10_000)  # larger than the whole bound: not kept
    assert cache.get("/huge") is None and len(cache) == 3
    for n in range(5000):  # any number of pages: the bytes stay under the bound
        cache.put(f"/p{n}", body)
        assert cache.size_bytes <= cache._pages.max_bytes


def test_expired_pages_are_swept_not_kept_until_a_write():
    clock = Clock()
    cache = PageCache(5, clock=clock)
    for n in range(100):
        cache.put(f"/old{n}", b"old page")
    assert len(cache) == 100
    clock.now += 6
    assert cache.get("/old0") is None  # expired: not served, and gone
    cache.put("/new", b"new page")  # the sweep, once per lifetime, takes the rest
    assert len(cache) == 1 and cache.get("/new") == (b"new page", "text/html; charset=utf-8")


def test_byte_lru_counts_replacements_once():
    lru: ByteLRU[str, bytes] = ByteLRU(10_000)
    for _ in range(100):
        lru.put("k", b"v" * 100, 100)
    assert len(lru) == 1 and lru.size_bytes == 100 + ENTRY_OVERHEAD
    lru.pop("k")
    assert lru.size_bytes == 0


def test_concurrent_misses_of_one_key_build_once():
    cache = PageCache(60)
    calls = 0
    lock = threading.Lock()

    def build() -> HTMLResponse:
        nonlocal calls
        with lock:
            calls += 1
        time.sleep(0.5)
        return page("<p>slow page</p>")

    start = threading.Barrier(8)
    bodies: list[bytes] = []

    def visit() -> None:
        start.wait()
        bodies.append(bytes(cache.serve("/", build).body))

    threads = [threading.Thread(target=visit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == 1 and bodies == [b"<p>slow page</p>"] * 8


def test_a_failed_build_is_not_shared_and_a_write_during_a_build_is_not_cached():
    cache = PageCache(60)
    assert cache.serve("/", lambda: HTMLResponse("gone", status_code=404)).status_code == 404
    assert cache.get("/") is None

    def failing() -> HTMLResponse:
        raise RuntimeError("the store is down")

    try:
        cache.serve("/", failing)
    except RuntimeError:
        pass
    assert cache.serve("/", lambda: page("back")).body == b"back"  # no flight left behind

    def raced() -> HTMLResponse:
        cache.clear()  # a vote while this page was being built
        return page("before the vote")

    cache.serve("/x", raced)
    assert cache.get("/x") is None


def test_concurrent_first_visits_of_a_slow_home_page_build_it_once(tmp_path):
    """The attack of issue 25 over real sockets: a paper with thousands of formulas
    on the home page, its first render requested by several readers at once."""
    site = make_site(tmp_path, page_cache_seconds=600)
    unique = uuid.uuid4().hex[:8]  # formulas no earlier test has rendered
    crafted = Paper(
        title=f"Crafted {unique}",
        abstract="".join(f"$x_{{{n}{unique}}}$y" for n in range(7000)),
        arxiv_id="2401.99999",
    )
    load(site.store, iter([crafted]))
    site.store.submit_many([crafted.key], site.clock.now.date(), site.clock.now)
    port = free_port()
    start = threading.Barrier(6)
    answers: list[tuple[int, bytes]] = []

    def visit() -> None:
        start.wait()
        response = httpx.get(f"http://127.0.0.1:{port}/?cb={threading.get_ident()}", timeout=60)
        answers.append((response.status_code, response.content))

    with serving(site.client.app, port):
        threads = [threading.Thread(target=visit) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [status for status, _ in answers] == [200] * 6
    assert len({body for _, body in answers}) == 1
    assert site.services.pages.builds == 1
