"""Issue 18, what a researcher meets on a first visit, through the real app on both
engines: the API docs served from the package under the CSP, HEAD and the favicon, a
folded abstract sent once, upvotes that read right and return to the card, API tokens
behind post/redirect/get, and a submission that does not hang when arXiv is away."""

from __future__ import annotations

import re
import socket
import time
from datetime import date, timedelta
from html.parser import HTMLParser
from itertools import pairwise
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from paperwire.ingest import parse_any
from paperwire.models import Author, Paper
from paperwire.search.lexical import LexicalIndex
from paperwire.search.spelling import distance
from paperwire.web.security import csrf_token, hash_token
from paperwire.web.services import SUBMIT_TIMEOUT_S, submission_client

TODAY = "2026-11-23"
KEY = "target-based-surrogates-for-stochastic-optimization"


class Tags(HTMLParser):
    """Every start tag of a page, with its attributes, and the text of each script."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.script_text.append(data)


def parsed(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


def test_api_docs_come_from_the_package_with_no_inline_script(site):
    page = site.client.get("/api/docs")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    tags = parsed(page.text)
    assert tags.script_text == []  # nothing inline for the CSP to block
    assets = [a.get("src") or a.get("href") for t, a in tags.tags if t in ("script", "link")]
    assert "/static/swagger-ui/swagger-ui-bundle.js" in assets
    assert "/static/swagger-ui/swagger-ui.css" in assets
    for asset in assets:
        assert asset.startswith("/"), asset  # no CDN: it works offline
        fetched = site.client.get(asset)
        assert fetched.status_code == 200, asset
    spec = next(a["data-spec"] for t, a in tags.tags if "data-spec" in a)
    assert site.client.get(spec).json()["info"]["title"] == "paperwire"
    assert site.client.get("/static/swagger-ui/LICENSE").status_code == 200


def test_head_answers_like_get_without_a_body_and_the_favicon_exists(site):
    for path in (
        "/",
        f"/daily/{TODAY}",
        f"/papers/{KEY}",
        "/search?q=diffusion",
        "/feeds/daily.atom",
        "/feeds/trending.atom",
        "/static/style.css",
        "/api/v1/trending",
        "/favicon.ico",
    ):
        got = site.client.get(path)
        head = site.client.head(path)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b"", path
        assert head.headers["content-type"] == got.headers["content-type"], path
    icon = site.client.get("/favicon.ico")
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert site.client.head("/papers/no-such-paper").status_code == 404


def test_a_folded_abstract_is_sent_once(site):
    words = [f"w{i:03d}" for i in range(120)]
    site.store.upsert_papers([Paper(title="A long abstract", abstract=" ".join(words))])
    site.store.submit("a-long-abstract", site.clock.now.date(), None, site.clock.now)
    page = site.client.get(f"/daily/{TODAY}?sort=newest").text
    assert '<details class="abstract">' in page
    for word in words:
        assert page.count(word) == 1, word


def test_upvote_counts_read_right_in_singular_and_plural(site):
    site.sign_in("ada@example.org")
    site.client.post(f"/papers/{KEY}/vote", data={"csrf_token": site.csrf()})
    page = site.client.get(f"/papers/{KEY}").text
    count = re.search(r'<span class="count">(.*?)</span></span>', page).group(1)
    text = re.sub(r"<[^>]+>", "", count)
    assert text == "1 upvote"
    site.sign_in("bob@example.org")
    site.client.post(f"/papers/{KEY}/vote", data={"csrf_token": site.csrf()})
    page = site.client.get(f"/papers/{KEY}").text
    assert re.search(r"<span data-count>2</span> <span data-unit>upvotes</span>", page)
    # Cards carry their count in words for screen readers, on no bare aria-label.
    daily = site.client.get(f"/daily/{TODAY}").text
    assert not re.search(r"<span[^>]*aria-label", daily)


def test_creating_a_token_redirects_and_shows_it_once(site):
    site.sign_in("ada@example.org")
    made = site.client.post(
        "/account/tokens",
        data={"name": "script", "csrf_token": site.csrf()},
        follow_redirects=False,
    )
    assert made.status_code == 303
    assert made.headers["location"] == "/account?notice=token-created"
    page = site.client.get(made.headers["location"])
    token = re.search(r'<code class="token">(pw_[^<]+)</code>', page.text).group(1)
    ada = site.store.api_token_user(hash_token(token))
    assert ada is not None and ada.email == "ada@example.org"
    # A reload (of the page the redirect landed on) neither shows it again nor makes another.
    again = site.client.get(made.headers["location"])
    assert '<code class="token">' not in again.text
    assert len(site.store.list_api_tokens(ada.id)) == 1
    # The API takes it.
    me = site.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["email"] == "ada@example.org"


class Blackhole(httpx.HTTPTransport):
    """Every request goes to a local socket that accepts and never answers: arXiv as a
    reader meets it when it is down behind a load balancer."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
        return super().handle_request(request)


@pytest.fixture
def silent_port():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)  # connections complete in the backlog; nothing ever answers
    yield listener.getsockname()[1]
    listener.close()


def test_submit_gives_up_on_a_silent_arxiv_in_seconds_and_offers_a_way_on(site, silent_port):
    site.services.arxiv = submission_client(Blackhole(silent_port))
    site.sign_in("ada@example.org")
    started = time.monotonic()
    page = site.client.post("/submit", data={"arxiv": "2501.00001", "csrf_token": site.csrf()})
    waited = time.monotonic() - started
    assert waited < SUBMIT_TIMEOUT_S + 3, waited
    assert page.status_code == 504
    assert "arXiv did not answer for 2501.00001 just now" in page.text
    assert "Traceback" not in page.text and "httpx" not in page.text
    tags = parsed(page.text)
    forms = [a.get("action") for t, a in tags.tags if t == "form"]
    assert "/submit" in forms and "/submit/manual" in forms  # retry, or add by hand
    assert 'value="2501.00001"' in page.text and ">Try again</button>" in page.text
    assert 'value="https://arxiv.org/abs/2501.00001"' in page.text  # the link, filled in

    added = site.client.post(
        "/submit/manual",
        data={
            "csrf_token": site.csrf(),
            "title": "  A paper typed   by hand ",
            "authors": "Ada Lovelace\nCharles Babbage, Mary Somerville",
            "abstract": "We add a paper while arXiv is away.",
            "link": "https://arxiv.org/abs/2501.00001v2",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    # Kept as the reader's record (issue 25): theirs to see until it is confirmed.
    assert added.headers["location"] == "/papers/2501.00001?notice=kept"
    ada = site.store.get_or_create_user("ada@example.org", site.clock.now)
    entry = site.store.entry("2501.00001", ada)
    assert entry.paper.title == "A paper typed by hand"
    assert [a.name for a in entry.paper.authors] == [
        "Ada Lovelace", "Charles Babbage", "Mary Somerville",
    ]  # fmt: skip
    assert entry.submission is not None and entry.submission.submitter is not None
    assert entry.submission.day.isoformat() == TODAY
    paper_page = site.client.get(urlsplit(added.headers["location"]).path)
    assert "A paper typed by hand" in paper_page.text and "Ada Lovelace" in paper_page.text


def test_adding_by_hand_refuses_what_it_cannot_keep(site):
    site.sign_in("ada@example.org")
    for fields, said in (
        ({"title": "   "}, "the title is empty"),
        ({"title": "x", "link": "javascript:alert(1)"}, "is not an http(s) URL"),
        ({"title": "x", "abstract": "a" * 10_001}, "over 10,000 characters"),
    ):
        page = site.client.post("/submit/manual", data={"csrf_token": site.csrf(), **fields})
        assert page.status_code == 400, fields
        assert said in page.text and 'aria-describedby="manual-error"' in page.text
    anonymous = site.client.post("/signout", data={"csrf_token": site.csrf()})
    assert anonymous.status_code == 200
    refused = site.client.post("/submit/manual", data={"csrf_token": site.csrf(), "title": "x"})
    assert refused.status_code == 401
    # A paper with a web link (not arXiv) keeps the link.
    site.sign_in("cy@example.org")
    site.client.post(
        "/submit/manual",
        data={"csrf_token": site.csrf(), "title": "Off arXiv", "link": "https://example.org/p"},
    )
    cy = site.store.get_or_create_user("cy@example.org", site.clock.now)
    assert site.store.entry("off-arxiv", cy).paper.url == "https://example.org/p"


def test_an_arxiv_id_in_the_search_box_goes_to_the_paper_or_offers_to_add_it(site):
    site.store.upsert_papers([Paper(title="Known by id", abstract="x", arxiv_id="2401.00001")])
    for typed in ("2401.00001", "arXiv:2401.00001v2", "https://arxiv.org/abs/2401.00001"):
        found = site.client.get("/search", params={"q": typed}, follow_redirects=False)
        assert found.status_code == 303 and found.headers["location"] == "/papers/2401.00001"
    missing = site.client.get("/search", params={"q": "2106.09685"})
    assert missing.status_code == 200
    assert "arXiv 2106.09685 is not on paperwire yet" in missing.text
    assert 'href="/submit?arxiv=2106.09685"' in missing.text
    site.sign_in("ada@example.org")
    form = site.client.get("/submit?arxiv=2106.09685")
    assert 'value="2106.09685"' in form.text
    words = site.client.get("/search", params={"q": "diffusion 2401.00001"})
    assert words.status_code == 200 and "not on paperwire yet" not in words.text


def test_home_shows_the_latest_day_with_papers_and_no_empty_future(site):
    site.clock.now += timedelta(days=3)  # nothing listed since
    home = site.client.get("/")
    assert (
        'Papers of <span class="weekday">Monday </span>23 November 2026' in home.text
        and "245 papers" in home.text
    )
    week = site.client.get("/daily/2026-11-25?view=week").text
    assert "Previous week" in week and "Next week" not in week
    month = site.client.get("/daily/2026-11-25?view=month").text
    assert "Next month" not in month
    past = site.client.get("/daily/2026-10-14?view=month").text
    assert "Next month" in past
    picked = site.client.get("/daily?date=2026-11-20&view=week", follow_redirects=False)
    assert picked.status_code == 303 and picked.headers["location"] == "/daily/2026-11-20?view=week"
    paged = site.client.get(f"/daily/{TODAY}?page=5").text
    for n in (1, 3, 4, 6, 7, 9):
        assert f'aria-label="Page {n}"' in paged, n
    assert 'aria-current="page">5</a>' in paged and "…" in paged
    assert '<nav class="tabs" aria-label="Period">' in paged


def test_errors_speak_to_readers_and_a_used_link_offers_a_new_one(site):
    bad_date = site.client.get("/daily/not-a-date")
    assert bad_date.status_code == 422
    assert "“not-a-date” is not a date (write it as 2026-11-23)." in bad_date.text
    assert "path" not in bad_date.text.split("<main")[1]
    bad_page = site.client.get(f"/daily/{TODAY}?page=0")
    assert "The page number must be at least 1." in bad_page.text
    bad_view = site.client.get(f"/daily/{TODAY}?view=year")
    assert "“year” is not a choice here" in bad_view.text
    api = site.client.get("/api/v1/daily?date=not-a-date")
    assert api.headers["content-type"] == "application/problem+json"  # machines keep paths
    used = site.client.post(
        "/signin/confirm", data={"token": "used-or-unknown", "csrf_token": site.csrf()}
    )
    assert used.status_code == 400
    assert "ask for a new one" in used.text
    assert 'name="email"' in used.text and 'aria-describedby="signin-error"' in used.text


def test_landmarks_are_named_and_the_banner_sits_in_one(site):
    page = site.client.get("/search", params={"q": "diffusion"}).text
    searches = re.findall(r'role="search" aria-label="([^"]+)"', page)
    assert searches == ["Search with filters"]  # one search box per page (issue 27)
    daily = site.client.get("/daily").text
    assert re.findall(r'role="search" aria-label="([^"]+)"', daily) == ["Site search"]
    assert '<aside class="banner" aria-label="Email digest">' in page
    assert "banner-email" not in site.client.get("/subscribe").text  # not on its own page
    daily = site.client.get(f"/daily/{TODAY}").text
    levels = [int(n) for n in re.findall(r"<h([1-6])", daily)]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in pairwise(levels))


def test_typos_get_a_suggestion_from_the_index_and_rescue_an_empty_search(site):
    if not isinstance(site.services.engine.lexical, LexicalIndex):
        pytest.skip("only the tantivy index has a vocabulary to walk")
    rescued = site.client.get("/search", params={"q": "trasnformer", "mode": "lexical"})
    assert "No paper contains <q>trasnformer</q>. Showing papers for <q>transformer</q>." in (
        rescued.text
    )
    assert rescued.text.count('class="entry"') >= 5
    hybrid = site.client.get("/search", params={"q": "difusion models"})
    assert 'Did you mean <a href="/search?q=diffusion+models&amp;mode=hybrid">' in hybrid.text
    right = site.client.get("/search", params={"q": "diffusion models"})
    assert "Did you mean" not in right.text and "No paper contains" not in right.text
    nothing = site.client.get("/search", params={"q": "qzxwvkjh", "mode": "lexical"})
    assert "Did you mean" not in nothing.text and "No paper contains" in nothing.text


@settings(max_examples=200, deadline=None)
@given(st.text("abcde", max_size=8), st.text("abcde", max_size=8))
def test_edit_distance_is_a_distance_and_counts_a_swap_as_one(a, b):
    d = distance(a, b, 20)
    assert d == distance(b, a, 20)
    assert (d == 0) == (a == b)
    assert d <= max(len(a), len(b))
    assert distance(a, b, 1) == min(d, 2)
    if len(a) >= 2:
        swapped = a[1] + a[0] + a[2:]
        assert distance(a, swapped, 20) == (0 if swapped == a else 1)


def test_cite_gives_bibtex_that_reads_back_as_the_same_paper(site):
    paper = Paper(
        title=r"Attention Is All You Need: $\mathcal{O}(n^2)$ & more",
        abstract="x",
        arxiv_id="1706.03762",
        authors=[Author("Ashish Vaswani"), Author("Noam Shazeer"), Author("Łukasz Kaiser")],
        published=date(2017, 6, 12),
        categories=["cs.CL", "cs.LG"],
        code_urls=["https://github.com/tensorflow/tensor2tensor"],
    )
    site.store.upsert_papers([paper])
    page = site.client.get("/papers/1706.03762").text
    assert 'href="/papers/1706.03762/cite.bib" download' in page
    assert "Code on github.com" in page and "@misc{vaswani2017attention," in page
    bib = site.client.get("/papers/1706.03762/cite.bib")
    assert bib.status_code == 200 and bib.headers["content-type"].startswith("application/x-bibtex")
    assert 'filename="vaswani2017attention.bib"' in bib.headers["content-disposition"]
    (read,) = [p for p in parse_any(bib.content, "cite.bib") if isinstance(p, Paper)]
    assert read.arxiv_id == "1706.03762"
    assert [a.name for a in read.authors] == ["Ashish Vaswani", "Noam Shazeer", "Łukasz Kaiser"]
    assert read.title.startswith("Attention Is All You Need") and "more" in read.title
    assert site.client.get("/papers/no-such-paper/cite.bib").status_code == 404


def test_compact_list_and_author_and_category_links(site):
    site.store.upsert_papers(
        [Paper(title="Linked names", abstract="x", arxiv_id="2401.00005",
               authors=[Author("Ada Lovelace")], categories=["cs.LG"])]
    )  # fmt: skip
    site.store.submit("2401.00005", site.clock.now.date(), None, site.clock.now)
    cards = site.client.get(f"/daily/{TODAY}?sort=newest").text
    assert 'href="/search?q=author%3A%22Ada+Lovelace%22"' in cards
    assert 'href="/search?q=category%3Acs.LG"' in cards
    by_author = site.client.get("/search?q=author%3A%22Ada+Lovelace%22&mode=lexical").text
    assert "Linked names" in by_author
    listed = site.client.get(f"/daily/{TODAY}?layout=list&page=2").text
    assert listed.count('<li class="row"') == 30 and 'class="entry"' not in listed
    assert '<ol class="rows" start="31">' in listed
    assert "page=3&amp;layout=list" in listed or "layout=list&amp;page=3" in listed
    picked = site.client.get("/daily?date=2026-11-20&layout=list", follow_redirects=False)
    assert picked.headers["location"] == "/daily/2026-11-20?layout=list"


def test_the_banner_is_dismissed_or_gone_once_subscribed(site):
    assert "banner-email" in site.client.get("/").text
    hidden = site.client.get("/banner/hide?next=/trending", follow_redirects=False)
    assert hidden.status_code == 303 and hidden.headers["location"] == "/trending"
    assert "pw_banner=off" in hidden.headers["set-cookie"]
    assert "banner-email" not in site.client.get("/").text  # not served from the cache
    other = TestClient(site.client.app)
    assert "banner-email" in other.get("/").text  # another reader still sees it
    fresh = TestClient(site.client.app)
    fresh.get("/subscribe")
    token = csrf_token(site.services.secret, fresh.cookies["pw_csrf"])
    done = fresh.post(
        "/subscribe",
        data={"csrf_token": token, "email": "new@example.org", "frequency": "daily",
              "trending": "true"},
    )  # fmt: skip
    assert done.status_code == 200 and "banner-email" not in fresh.get("/").text


def test_adding_from_a_file_takes_one_paper_and_refuses_the_rest(site):
    site.sign_in("ada@example.org")
    one = b"""@article{lovelace1843notes,
  title = {Notes on the Analytical Engine},
  author = {Ada Lovelace and Charles Babbage},
  year = {1843},
  abstract = {We describe a machine that computes Bernoulli numbers.}
}
"""
    added = site.client.post(
        "/submit/file",
        data={"csrf_token": site.csrf()},
        files={"file": ("notes.bib", one, "text/plain")},
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    key = added.headers["location"].split("?")[0].removeprefix("/papers/")
    ada = site.store.get_or_create_user("ada@example.org", site.clock.now)
    entry = site.store.entry(key, ada)
    assert entry.paper.title == "Notes on the Analytical Engine"
    assert [a.name for a in entry.paper.authors] == ["Ada Lovelace", "Charles Babbage"]
    assert entry.submission is not None and entry.submission.day.isoformat() == TODAY
    two = one + one.replace(b"lovelace1843notes", b"other").replace(b"Notes on", b"More on")
    for content, said in (
        (two, "notes.bib holds 2 papers; submit one at a time"),
        (b"   ", "notes.bib is empty"),
        (b"\x00\x01\x02binary", "notes.bib could not be read"),
    ):
        page = site.client.post(
            "/submit/file",
            data={"csrf_token": site.csrf()},
            files={"file": ("notes.bib", content, "text/plain")},
        )
        assert page.status_code == 400, (content, page.status_code)
        assert said in page.text and 'aria-describedby="file-error"' in page.text
    refused = site.client.post("/submit/file", files={"file": ("notes.bib", one, "text/plain")})
    assert refused.status_code == 403  # the CSRF token is required here too
