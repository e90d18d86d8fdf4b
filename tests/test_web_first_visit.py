"""Issue 18, what a researcher meets on a first visit, through the real app on both
engines: the API docs served from the package under the CSP, HEAD and the favicon, a
folded abstract sent once, upvotes that read right and return to the card, API tokens
behind post/redirect/get, and a submission that does not hang when arXiv is away."""

from __future__ import annotations

import re
import socket
import time
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest

from paperwire.models import Paper
from paperwire.web.security import hash_token
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
    assert 'aria-label="' not in re.sub(r'<(nav|form|section)[^>]*aria-label="[^"]*"', "", daily)


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
    assert added.headers["location"] == "/papers/2501.00001?notice=submitted"
    entry = site.store.entry("2501.00001")
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
    assert site.store.entry("off-arxiv").paper.url == "https://example.org/p"
