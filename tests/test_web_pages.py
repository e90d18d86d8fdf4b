"""The server-rendered site through the real app and a real SQLite file: the daily feed,
trending, search, paper pages, submitting, voting, signing in, curating — and the
security rules every form and page follows."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperwire.models import Paper

TODAY = "2026-11-23"


def entries(html: str) -> int:
    return html.count('class="entry"')


def test_daily_lists_the_day_with_paging_and_sorting(site):
    page = site.client.get("/")
    assert page.status_code == 200
    assert 'Papers of <span class="weekday">Monday </span>23 November 2026' in page.text
    assert "245 papers" in page.text and "page 1 of 9" in page.text
    assert entries(page.text) == 30
    last = site.client.get(f"/daily/{TODAY}?page=9")
    assert entries(last.text) == 245 - 8 * 30
    newest = site.client.get(f"/daily/{TODAY}?sort=newest")
    assert newest.status_code == 200 and entries(newest.text) == 30
    assert "Next page" in page.text and 'rel="next"' in page.text


def test_week_and_month_views_and_neighbouring_days(site):
    site.store.upsert_papers([Paper(title="An older listed paper", abstract="x")])
    earlier = site.clock.now - timedelta(days=9)
    site.store.submit("an-older-listed-paper", earlier.date(), None, earlier)
    day = site.client.get(f"/daily/{TODAY}")
    assert "/daily/2026-11-14" in day.text  # previous day with papers
    week = site.client.get(f"/daily/{TODAY}?view=week")
    assert "week of 23 November 2026" in week.text and "245 papers" in week.text
    month = site.client.get(f"/daily/{TODAY}?view=month")
    assert "Papers of November 2026" in month.text and "246 papers" in month.text
    empty = site.client.get("/daily/2026-11-20")
    assert "Nothing has been submitted" in empty.text
    assert site.client.get("/daily/not-a-date").status_code == 422


def test_paper_page_has_links_listing_and_escapes_everything(site):
    hostile = Paper(
        title='<script>alert("x")</script> Robust <b>bold</b> claims',
        abstract="An abstract with <img src=x onerror=alert(1)> inside.",
        arxiv_id="2401.00001",
        code_urls=["javascript:alert(1)", "https://github.com/example/repo"],
    )
    site.store.upsert_papers([hostile])
    page = site.client.get("/papers/2401.00001")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
    assert "<img src=x" not in page.text and "&lt;img src=x" in page.text
    assert 'href="javascript:' not in page.text
    assert 'href="https://arxiv.org/abs/2401.00001"' in page.text
    assert 'href="https://arxiv.org/pdf/2401.00001"' in page.text
    assert 'href="https://github.com/example/repo"' in page.text
    # any arXiv form of the id finds the page
    assert site.client.get("/papers/arXiv:2401.00001v3").status_code == 200
    listed = site.client.get("/papers/target-based-surrogates-for-stochastic-optimization")
    assert f'href="/daily/{TODAY}"' in listed.text and "Similar papers" in listed.text


def test_unknown_paper_is_a_friendly_404_page(site):
    page = site.client.get("/papers/no-such-paper-at-all")
    assert page.status_code == 404
    assert "no paper" in page.text and "Traceback" not in page.text
    assert page.headers["content-type"].startswith("text/html")


def test_search_page_finds_highlights_and_pages(site):
    page = site.client.get("/search", params={"q": "diffusion models"})
    assert page.status_code == 200
    assert entries(page.text) >= 5
    assert "<mark>" in page.text
    assert "/feeds/search.atom?" in page.text
    filtered = site.client.get("/search", params={"q": "diffusion", "year_from": 2030})
    assert "No paper matches <q>diffusion</q> with these filters." in filtered.text


def test_search_page_reports_bad_queries_without_failing(site):
    page = site.client.get("/search", params={"q": "-diffusion"})
    assert page.status_code == 400 and 'role="alert"' in page.text
    assert site.client.get("/search", params={"q": "x" * 501}).status_code == 422
    hostile = site.client.get("/search", params={"q": '"<script>alert(1)</script>'})
    assert hostile.status_code in (200, 400)
    assert "<script>alert(1)" not in hostile.text
    bad_category = site.client.get("/search", params={"q": "a", "category": "cs CL;drop"})
    assert bad_category.status_code == 400
    # Digits that str.isdigit() accepts and int() does not (found by the fuzz test below).
    assert site.client.get("/search", params={"q": "a year:²²²²"}).status_code == 400
    assert site.client.get("/subscriptions/²/unsubscribe").status_code == 404


def test_trending_shows_the_formula_and_ranks_by_votes(site):
    def order():
        page = site.client.get("/trending")
        assert "(upvotes + 1) / (hours since submission + 2) ^ 1.8" in page.text
        return re.findall(r'<h2 class="title"><a href="/papers/([^"]+)"', page.text)

    before = order()
    key = before[-1]
    for reader in ("ada", "bob", "cy"):
        site.sign_in(f"{reader}@example.org")
        site.client.post(f"/papers/{key}/vote", data={"csrf_token": site.csrf()})
    after = order()
    assert after.index(key) < len(before) - 1
    assert site.store.entry(key).upvotes >= 3


def test_signin_link_is_single_use_and_sets_a_safe_cookie(site):
    response = site.client.post(
        "/signin", data={"email": "Ada@Example.org", "csrf_token": site.csrf(), "next": "/trending"}
    )
    assert "Check your email" in response.text
    link = site.signin_link("ada@example.org")
    assert link.startswith("http://testserver/signin/confirm?token=")
    query = parse_qs(urlsplit(link).query)
    # Opening the link does not spend it (mail scanners open links).
    opened = site.client.get(link.replace("http://testserver", ""))
    assert opened.status_code == 200 and 'name="token"' in opened.text
    form = {"token": query["token"][0], "csrf_token": site.csrf(), "next": query["next"][0]}
    done = site.client.post("/signin/confirm", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/trending?notice=signed-in"
    cookie = done.headers["set-cookie"]
    assert "pw_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; see the https test
    assert site.client.get("/account").status_code == 200
    # The store keeps only a hash of the link's token.
    with site.store.read() as conn:
        stored = [row[0] for row in conn.execute("SELECT token_hash FROM login_tokens")]
    assert query["token"][0] not in stored and len(stored[0]) == 64
    again = site.client.post("/signin/confirm", data={**form, "csrf_token": site.csrf()})
    assert again.status_code == 400 and "used, expired or unknown" in again.text


def test_signin_link_expires_after_15_minutes(site):
    site.client.post("/signin", data={"email": "bob@example.org", "csrf_token": site.csrf()})
    token = parse_qs(urlsplit(site.signin_link("bob@example.org")).query)["token"][0]
    site.clock.now += timedelta(minutes=15, seconds=1)
    late = site.client.post("/signin/confirm", data={"token": token, "csrf_token": site.csrf()})
    assert late.status_code == 400


def test_cookies_are_secure_behind_https(tmp_path):
    from support import make_site

    secure = make_site(tmp_path, base_url="https://papers.example.org")
    with secure.client:
        response = secure.client.get("https://testserver/signin")
        assert "Secure" in response.headers["set-cookie"]
        assert "strict-transport-security" in response.headers


def test_every_form_needs_the_csrf_token(site):
    site.sign_in("ada@example.org")
    key = "target-based-surrogates-for-stochastic-optimization"
    posts = {
        f"/papers/{key}/vote": {},
        "/submit": {"arxiv": "2106.09685"},
        "/signin": {"email": "x@example.org"},
        "/signin/confirm": {"token": "x"},
        "/signout": {},
        "/account/tokens": {"name": "t"},
        f"/papers/{key}/hide": {"hidden": "1"},
    }
    for path, data in posts.items():
        for token in (None, "0" * 64):
            form = dict(data) if token is None else {**data, "csrf_token": token}
            response = site.client.post(path, data=form)
            assert response.status_code == 403, path
    assert site.store.entry(key).upvotes == 0
    assert site.arxiv.requests == []


def test_pages_of_a_form_carry_its_token(site):
    site.sign_in("ada@example.org")
    page = site.client.get("/")
    tokens = set(re.findall(r'name="csrf_token" value="([0-9a-f]+)"', page.text))
    assert tokens == {site.csrf()}
    assert page.text.count('name="csrf_token"') == page.text.count('<form method="post"')


def test_upvote_toggles_without_and_with_javascript(site):
    site.sign_in("ada@example.org")
    key = "target-based-surrogates-for-stochastic-optimization"
    plain = site.client.post(
        f"/papers/{key}/vote",
        data={"csrf_token": site.csrf(), "next": f"/daily/{TODAY}"},
        follow_redirects=False,
    )
    # Back to the paper's card, with the vote confirmed.
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/daily/{TODAY}?notice=voted#paper-{key}"
    assert site.store.entry(key).upvotes == 1
    back = site.client.get(plain.headers["location"])
    assert "Your upvote is counted." in back.text and f'id="paper-{key}"' in back.text
    scripted = site.client.post(
        f"/papers/{key}/vote",
        data={"csrf_token": site.csrf()},
        headers={"Accept": "application/json"},
    )
    assert scripted.json() == {"key": key, "voted": False, "upvotes": 0}
    # A "next" pointing off-site is not followed.
    away = site.client.post(
        f"/papers/{key}/vote",
        data={"csrf_token": site.csrf(), "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert away.headers["location"].startswith("/?notice=")


def test_anonymous_readers_are_sent_to_sign_in(site):
    page = site.client.get("/")
    assert "/signin?next=" in page.text and 'class="vote"' not in page.text
    response = site.client.post(
        "/papers/target-based-surrogates-for-stochastic-optimization/vote",
        data={"csrf_token": site.csrf()},
    )
    assert response.status_code == 401
    assert "Sign in" in site.client.get("/submit").text


def test_submit_fetches_from_arxiv_once_and_never_lists_twice(site):
    site.sign_in("ada@example.org")
    first = site.client.post(
        "/submit",
        data={"arxiv": "https://arxiv.org/abs/2106.09685v2", "csrf_token": site.csrf()},
        follow_redirects=False,
    )
    assert first.status_code == 303
    assert first.headers["location"] == "/papers/2106.09685?notice=submitted"
    assert len(site.arxiv.requests) == 1
    assert site.arxiv.requests[0].url.host == "export.arxiv.org"
    page = site.client.get("/papers/2106.09685")
    assert "LoRA: Low-Rank Adaptation" in page.text and "submitted by" in page.text
    again = site.client.post(
        "/submit", data={"arxiv": "2106.09685", "csrf_token": site.csrf()}, follow_redirects=False
    )
    assert again.headers["location"] == "/papers/2106.09685?notice=listed"
    assert len(site.arxiv.requests) == 1  # already stored: not fetched again
    assert site.store.feed(site.clock.now.date(), site.clock.now.date())[1] == 246
    mine = site.client.get("/account")
    assert "LoRA" in mine.text


def test_submit_refuses_what_is_not_arxiv_without_fetching(site):
    site.sign_in("ada@example.org")
    for text in (
        "http://169.254.169.254/latest/meta-data",
        "https://evil.example/abs/2106.09685",
        "file:///etc/passwd",
        "not an id",
    ):
        response = site.client.post("/submit", data={"arxiv": text, "csrf_token": site.csrf()})
        assert response.status_code == 400 and "not an arXiv id" in response.text
    assert site.arxiv.requests == []
    missing = site.client.post("/submit", data={"arxiv": "2999.99999", "csrf_token": site.csrf()})
    assert missing.status_code == 404 and "arXiv has no paper" in missing.text


def test_curators_hide_submissions_and_others_cannot(site):
    key = "target-based-surrogates-for-stochastic-optimization"
    site.sign_in("reader@example.org")
    refused = site.client.post(f"/papers/{key}/hide", data={"csrf_token": site.csrf()})
    assert refused.status_code == 403
    site.store.set_curator("reader@example.org", True)
    site.client.post(f"/papers/{key}/hide", data={"csrf_token": site.csrf(), "hidden": "1"})
    assert site.store.feed(site.clock.now.date(), site.clock.now.date())[1] == 244
    assert "hidden by a curator" in site.client.get(f"/papers/{key}").text
    site.client.post(f"/papers/{key}/hide", data={"csrf_token": site.csrf(), "hidden": "0"})
    assert site.store.feed(site.clock.now.date(), site.clock.now.date())[1] == 245


def test_user_page_and_sign_out(site):
    site.sign_in("ada.lovelace@example.org")
    key = "target-based-surrogates-for-stochastic-optimization"
    site.client.post(f"/papers/{key}/vote", data={"csrf_token": site.csrf()})
    handle = site.store.get_or_create_user("ada.lovelace@example.org", site.clock.now).handle
    assert "ada" not in handle  # handles say nothing of the address (issue 19)
    page = site.client.get(f"/users/{handle}")
    assert page.status_code == 200 and "Target-based Surrogates" in page.text
    assert "ada.lovelace@example.org" not in page.text  # addresses are not public
    out = site.client.post("/signout", data={"csrf_token": site.csrf()}, follow_redirects=False)
    assert out.status_code == 303 and 'pw_session=""' in out.headers["set-cookie"]
    assert site.client.get("/account", follow_redirects=False).status_code == 303
    assert site.client.get("/users/nobody").status_code == 404


def test_signin_is_rate_limited_per_address_and_client(site):
    codes = []
    for _ in range(7):
        response = site.client.post(
            "/signin", data={"email": "flood@example.org", "csrf_token": site.csrf()}
        )
        codes.append(response.status_code)
    assert codes[:5] == [200] * 5 and codes[5] == 429  # five links per address
    codes = [
        site.client.post(
            "/signin", data={"email": f"n{i}@example.org", "csrf_token": site.csrf()}
        ).status_code
        for i in range(5)
    ]
    assert 429 in codes  # and at most ten attempts per client
    limited = site.client.post(
        "/signin", data={"email": "z@example.org", "csrf_token": site.csrf()}
    )
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0


def test_size_limits_and_security_headers(site):
    big = site.client.post(
        "/signin",
        content=b"x" * 100_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert big.status_code == 413
    long_url = site.client.get("/search?q=" + "a" * 9000)
    assert long_url.status_code == 414
    page = site.client.get("/")
    assert page.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"


def test_a_crash_is_a_friendly_page_not_a_traceback(tmp_path):
    from support import make_site

    def broken():
        raise ValueError("secret internals")

    crashing = make_site(tmp_path, engine_factory=broken)
    with TestClient(crashing.client.app, raise_server_exceptions=False) as client:
        page = client.get("/search", params={"q": "anything"})
        assert page.status_code == 500
        assert "secret internals" not in page.text and "Traceback" not in page.text
        api = client.get("/api/v1/search", params={"q": "anything"})
        assert api.status_code == 500
        assert api.headers["content-type"] == "application/problem+json"
        assert client.get("/").status_code == 200  # and the site goes on


def test_page_cache_serves_anonymous_pages_and_forgets_after_a_vote(tmp_path):
    from support import make_site

    cached = make_site(tmp_path, page_cache_seconds=60)
    with cached.client as client:
        key = "target-based-surrogates-for-stochastic-optimization"
        before = client.get(f"/papers/{key}").text
        assert client.get(f"/papers/{key}").text == before
        cached.sign_in("ada@example.org")
        client.post(f"/papers/{key}/vote", data={"csrf_token": cached.csrf()})
        client.cookies.delete("pw_session")
        after = client.get(f"/papers/{key}").text
        assert "data-count>1<" in after


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    text=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=300),
    number=st.integers(min_value=-(10**12), max_value=10**12),
)
def test_pages_and_forms_answer_any_input_without_a_server_error(tmp_path_factory, text, number):
    site = _fuzz_site(tmp_path_factory)
    client = site.client
    quoted = quote(text, safe="")
    answers = [
        client.get("/search", params={"q": text, "category": text[:30], "year_from": number}),
        client.get(f"/daily/{quoted}", params={"view": text[:10], "page": number}),
        client.get(f"/papers/{quoted}"),
        client.get(f"/users/{quoted}"),
        client.get("/signin", params={"next": text}),
        client.get("/feeds/search.atom", params={"q": text or "x"}),
        client.post("/signin", data={"email": text, "csrf_token": site.csrf(), "next": text}),
        client.post("/subscribe", data={"email": text, "csrf_token": site.csrf(), "query": [text]}),
        client.post("/submit", data={"arxiv": text, "csrf_token": site.csrf()}),
        client.post(f"/subscriptions/{quoted}/unsubscribe"),
        client.get("/subscriptions/confirm", params={"token": text}),
    ]
    for response in answers:
        assert response.status_code < 500, (response.request.url, response.status_code)
        assert "Traceback" not in response.text
    assert site.arxiv.requests == [] or all(
        r.url.host == "export.arxiv.org" for r in site.arxiv.requests
    )


_SITES: dict[str, object] = {}


def _fuzz_site(tmp_path_factory):
    """One site for every generated example (a fresh one each would take minutes)."""
    if "site" not in _SITES:
        from support import make_site

        made = make_site(tmp_path_factory.mktemp("fuzz"))
        made.services.limiter.limits = {k: (10**9, 1.0) for k in made.services.limiter.limits}
        made.sign_in("fuzz@example.org")
        _SITES["site"] = made
    return _SITES["site"]
