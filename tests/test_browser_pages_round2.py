"""Issue 27, the rest of "Pages, round 2", in a real Chromium at 1280 and 390 px, each
item read as a reader sees it (text, position, state), and axe-core reporting nothing on
every page changed, at both widths:

- For you keeps one list all day (a reload shows the same papers in the same order); a
  paper opened from it shows "Seen"; Dismiss takes one off; the Reading list tab lists
  the saved papers; the reasons cite no stop word or fragment;
- a shared collection's link opens a page with its name, description and papers as
  cards, for a visitor who is not signed in, with nothing of the owner's own;
- a mention added by editing a comment reaches the mentioned reader's inbox, once;
- the link rule sits right below the comment box; a code block is a panel that scrolls
  inside itself at 390 px (the page does not);
- the curators' queue shows a report's reason under its own label, apart from the comment;
- the sign-in pages and /account link to "Recommended for you";
- /search at 1280 px: the account links keep to the right edge (no gap where the
  header's search box was), and the page's own box is wide.

Screenshots: test-artifacts/screenshots/pages2-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from browser_support import AXE, SHOTS, SIZES, axe_violations, chromium, require_chromium, serving
from paperwire.querylang import content_word
from paperwire.web.security import hash_token, new_token
from paperwire.web.usecases import collections as collection_cases
from paperwire.web.usecases import comments as comment_cases
from smtp_support import free_port
from support import make_site

require_chromium()
pytestmark = pytest.mark.browser
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CODE = "```\n" + "for step in range(10_000): loss = model(batch).mean(); loss.backward()\n```"


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[tuple[str, Any]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site = make_site(tmp_path_factory.mktemp("pages2"), now=NOW, base_url=base)
    with serving(site.client.app, port):
        yield base, site


@pytest.fixture(scope="module")
def browser():
    if not AXE.exists():
        pytest.skip("axe-core is not installed (npm ci --prefix tests)")
    with chromium() as launched:
        yield launched


def session_for(site, address: str, curator: bool = False):
    """A reader and a session cookie value for them (as a sign-in would make)."""
    user = site.store.get_or_create_user(address, NOW - timedelta(days=3))
    if curator:
        site.store.set_curator(address, True)
        user = site.store.get_or_create_user(address, NOW)
    token = new_token()
    site.store.add_session(hash_token(token), user.id, NOW, NOW + timedelta(days=30))
    return user, token


def open_as(browser, base: str, size: str, token: str | None = None):
    context = browser.new_context(bypass_csp=True, viewport=SIZES[size])
    if token:
        context.add_cookies([{"name": "pw_session", "value": token, "url": base}])
    return context, context.new_page()


def look(page, name: str, size: str, failures: dict[str, list[str]]) -> None:
    """A screenshot of the whole page, and axe's findings on it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"pages2-{name}-{size}.png"))
    page.screenshot(path=str(SHOTS / f"pages2-{name}-{size}-full.png"), full_page=True)
    failures[f"{name} {size}"] = axe_violations(page)


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def titles(page) -> list[str]:
    return [t.strip() for t in page.locator("article.entry h2.title a").all_inner_texts()]


def keys(site, n: int, skip: int = 0) -> list[str]:
    today = site.clock.now.date()
    entries = site.store.feed(today, today, "upvotes", n + skip)[0]
    return [e.paper.key for e in entries][skip:]


# -- 1. For you -------------------------------------------------------------------------


def test_for_you_stays_all_day_marks_opened_and_has_a_reading_list_tab(live, browser):
    base, site = live
    ada, token = session_for(site, "ada-foryou@example.org")
    transport = sorted(p.key for p in site.store.iter_papers() if "transport" in p.title.lower())
    reading = site.store.collections_of(ada.id, NOW)[0]
    site.store.add_items(
        ada.id, reading.id, [site.store.find_paper_id(k) for k in transport[:3]], NOW
    )
    failures: dict[str, list[str]] = {}

    context, page = open_as(browser, base, "desktop", token)
    page.goto(base + "/for-you")
    first = titles(page)
    assert len(first) >= 5
    assert page.locator("nav.tabs a[aria-current=page]").inner_text() == "Recommended"
    page.reload()
    assert titles(page) == first  # a reload: the same list, in the same order
    assert page.locator(".seen-mark").count() == 0
    # The reasons cite content words only.
    for why in page.locator("p.why").all_inner_texts():
        cited = why.partition("shared terms: ")[2]
        for term in filter(None, (t.strip() for t in cited.split(","))):
            assert content_word(term), why
    # Open the first paper from the list: its page; back on the list it is marked seen.
    page.locator("article.entry h2.title a").first.click()
    page.wait_for_url(re.compile(r"/papers/"))
    assert page.locator("h1").inner_text().strip() == first[0]
    page.goto(base + "/for-you")
    assert titles(page) == first
    cards = page.locator("article.entry")
    assert cards.nth(0).locator(".seen-mark").inner_text().startswith("✓") or (
        "Seen: you opened it" in cards.nth(0).locator(".seen-mark").inner_text()
    )
    assert cards.nth(1).locator(".seen-mark").count() == 0
    # Dismiss the second: it leaves today's list; the rest keep their order.
    cards.nth(1).get_by_role("button", name=re.compile("^Dismiss")).click()
    page.wait_for_load_state()
    assert titles(page) == [first[0], *first[2:]]
    look(page, "for-you", "desktop", failures)

    # The Reading list tab: the saved papers, as cards.
    page.get_by_role("link", name="Reading list", exact=True).click()
    page.wait_for_url(base + "/for-you/reading-list")
    assert page.locator("nav.tabs a[aria-current=page]").inner_text() == "Reading list"
    saved = {site.store.get_paper(k).title for k in transport[:3]}
    assert set(titles(page)) == saved and "3 papers you saved" in page.locator("main").inner_text()
    look(page, "reading-list", "desktop", failures)
    context.close()

    # At 390 px: the same list, the tabs all on screen, nothing wider than the screen.
    context, page = open_as(browser, base, "phone", token)
    page.goto(base + "/for-you")
    assert titles(page) == [first[0], *first[2:]]
    for tab in page.locator("nav.tabs a").all():
        box = tab.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    no_sideways_scroll(page)
    look(page, "for-you", "phone", failures)
    page.goto(base + "/for-you/reading-list")
    assert set(titles(page)) == saved
    no_sideways_scroll(page)
    look(page, "reading-list", "phone", failures)
    context.close()
    assert all(found == [] for found in failures.values()), failures


# -- 2. A shared collection ------------------------------------------------------------


def test_a_shared_link_opens_a_real_page_for_anyone(live, browser):
    base, site = live
    owner, owner_token = session_for(site, "owner-shared@example.org")
    made = collection_cases.create(site.services, owner, "Reading group: transport")
    papers = keys(site, 4)
    site.store.add_items(owner.id, made.id, [site.store.find_paper_id(k) for k in papers], NOW)
    site.store.set_note(owner.id, made.id, site.store.find_paper_id(papers[0]), "my secret note")
    collection_cases.update(
        site.services, owner, made.id,
        description="Papers for Thursday's group.\n\nStart with the first one.",
    )  # fmt: skip
    link = collection_cases.share(site.services, owner, made.id)
    failures: dict[str, list[str]] = {}
    for size in SIZES:
        context, page = open_as(browser, base, size)  # not signed in
        page.goto(f"{base}/shared/{link}")
        heading = page.locator("main h1")
        assert heading.inner_text() == "Reading group: transport"
        assert page.locator("p.description").all_inner_texts() == [
            "Papers for Thursday's group.",
            "Start with the first one.",
        ]
        assert page.locator("main .count").first.inner_text() == "4 papers"
        shown = titles(page)
        assert shown == [site.store.get_paper(k).title for k in papers]
        # A page: the name above the first card, cards with their sign-in-to-upvote.
        card = page.locator("article.entry").first
        assert heading.bounding_box()["y"] < card.bounding_box()["y"]
        assert card.get_by_role("link", name=re.compile("Sign in to upvote")).count() == 1
        text = page.locator("body").inner_text()
        assert "my secret note" not in text and owner.handle not in text
        assert "owner-shared@example.org" not in text
        no_sideways_scroll(page)
        look(page, "shared", size, failures)
        context.close()
        # The owner's page shows the description under the name, in a labelled box.
        context, page = open_as(browser, base, size, owner_token)
        page.goto(f"{base}/collections/{made.id}")
        heading = page.locator("main h1").bounding_box()
        first = page.locator("main p.description").first
        assert first.inner_text() == "Papers for Thursday's group."
        assert first.bounding_box()["y"] > heading["y"]
        assert page.get_by_label("Description").input_value().startswith("Papers for Thursday")
        no_sideways_scroll(page)
        look(page, "collection-owner", size, failures)
        context.close()
    assert all(found == [] for found in failures.values()), failures


# -- 3. A mention added by editing -----------------------------------------------------


def test_a_mention_added_by_editing_reaches_the_inbox_once(live, browser):
    base, site = live
    key = keys(site, 1, skip=5)[0]
    bob, token = session_for(site, "bob-edit@example.org")
    carol, _ = session_for(site, "carol-edit@example.org")
    made = comment_cases.post(site.services, bob, key, "A thought on the method.", None, "t")
    deployment = site.services.deployment
    mailed = lambda: [m for m in site.mails() if m["To"] == carol.email]  # noqa: E731
    before = len(mailed())
    failures: dict[str, list[str]] = {}
    for size in SIZES:
        context, page = open_as(browser, base, size, token)
        page.goto(f"{base}/comments/{made.id}/edit")
        box = page.get_by_label("Comment").bounding_box()
        rules = page.locator("#comment-rules").bounding_box()
        assert 0 <= rules["y"] - (box["y"] + box["height"]) < 40  # right below the box
        look(page, "comment-edit", size, failures)
        page.get_by_label("Comment").fill(f"A thought on the method, cc @{carol.handle} ({size}).")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url(re.compile(rf"/papers/.*#comment-{made.id}"))
        assert f"@{carol.handle}" in page.locator(f"#comment-{made.id}").inner_text()
        context.close()
        site.clock.now += timedelta(hours=2)  # past the hourly batch
        deployment.queue_comment_mail()
        deployment.deliver_outbox()
    # Two edits mention carol; she is told once, as for a new comment's mention.
    messages = mailed()[before:]
    assert len(messages) == 1
    assert "mentioned you" in messages[0].get_body(("plain",)).get_content()
    site.clock.now = NOW
    assert all(found == [] for found in failures.values()), failures


# -- 4. The link rule and code blocks --------------------------------------------------


def test_the_link_rule_sits_below_the_box_and_code_blocks_scroll_inside(live, browser):
    base, site = live
    key = keys(site, 1, skip=6)[0]
    dan, token = session_for(site, "dan-code@example.org")
    comment_cases.post(site.services, dan, key, f"Try this:\n\n{CODE}\n\nand `x = 1`.", None, "t")
    failures: dict[str, list[str]] = {}
    for size in SIZES:
        context, page = open_as(browser, base, size, token)
        page.goto(f"{base}/papers/{key}#comments")
        box = page.get_by_label("Add a comment").bounding_box()
        rules = page.locator("#comment-rules")
        button = page.get_by_role("button", name="Post comment").bounding_box()
        top = rules.bounding_box()["y"]
        assert 0 <= top - (box["y"] + box["height"]) < 40 and top < button["y"]
        assert "only web (http:// or https://) and mailto: addresses become links" in (
            rules.inner_text()
        )
        pre = page.locator(".comment-body pre").first
        style = pre.evaluate(
            "p => { const s = getComputedStyle(p); return [s.backgroundColor, s.paddingLeft,"
            " getComputedStyle(document.body).backgroundColor, p.tabIndex] }"
        )
        assert style[0] != style[2] and style[1] != "0px" and style[3] == 0
        pre_box = pre.bounding_box()
        assert pre_box["x"] >= 0 and pre_box["x"] + pre_box["width"] <= SIZES[size]["width"]
        if size == "phone":  # the line scrolls inside the block, not the page
            assert pre.evaluate("p => p.scrollWidth > p.clientWidth")
        inline = page.locator(".comment-body p code").first
        assert inline.evaluate("c => getComputedStyle(c).fontFamily").startswith("ui-monospace")
        no_sideways_scroll(page)
        page.locator("#comments").scroll_into_view_if_needed()
        look(page, "paper-comments", size, failures)
        context.close()
    assert all(found == [] for found in failures.values()), failures


# -- 5. The curators' queue ------------------------------------------------------------


def test_the_queue_shows_a_reports_reason_as_a_reason(live, browser):
    base, site = live
    key = keys(site, 1, skip=7)[0]
    erin, _ = session_for(site, "erin-report@example.org")
    fay, _ = session_for(site, "fay-report@example.org")
    target = comment_cases.post(site.services, erin, key, "Buy cheap pills here.", None, "t")
    comment_cases.report(site.services, fay, target.id, "Spam: an advert for pills")
    _, token = session_for(site, "curator-queue@example.org", curator=True)
    failures: dict[str, list[str]] = {}
    for size in SIZES:
        context, page = open_as(browser, base, size, token)
        page.goto(base + "/curate/reports")
        item = page.locator(f"#comment-{target.id}")
        body = item.locator(".comment-body")
        reasons = item.locator("section.report-reasons")
        assert body.inner_text().strip() == "Buy cheap pills here."
        assert reasons.get_by_role("heading").inner_text().lower() == (
            "reason given by the reporting reader"
        )
        assert reasons.locator("li").inner_text().strip('“”"') == "Spam: an advert for pills"
        assert "pills" not in body.inner_text().replace("Buy cheap pills here.", "")
        # Set apart: below the comment, on its own panel.
        assert (
            reasons.bounding_box()["y"]
            > body.bounding_box()["y"] + body.bounding_box()["height"] - 1
        )
        panel = reasons.evaluate("s => getComputedStyle(s).backgroundColor")
        assert panel != page.evaluate("getComputedStyle(document.body).backgroundColor")
        no_sideways_scroll(page)
        look(page, "reports", size, failures)
        context.close()
    assert all(found == [] for found in failures.values()), failures


# -- 6. Sign-in pages and /account -----------------------------------------------------


def test_the_sign_in_pages_and_account_lead_to_recommended_for_you(live, browser):
    base, site = live
    failures: dict[str, list[str]] = {}
    for size in SIZES:
        address = f"new-{size}@example.org"
        context, page = open_as(browser, base, size)
        page.goto(base + "/signin")
        page.get_by_label("Email address").fill(address)
        page.get_by_role("button", name="Email me a sign-in link").click()
        page.get_by_role("heading", name="Check your email").wait_for()
        link = page.locator("main").get_by_role("link", name="Recommended for you")
        assert link.get_attribute("href") == "/for-you" and link.is_visible()
        look(page, "signin-sent", size, failures)
        page.goto(site.signin_link(address))
        link = page.locator("main").get_by_role("link", name="Recommended for you")
        assert link.get_attribute("href") == "/for-you" and link.is_visible()
        look(page, "signin-confirm", size, failures)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("You are signed in.").wait_for()
        page.goto(base + "/account")
        section = page.locator("section.for-you-pointer")
        assert section.get_by_role("heading").inner_text() == "Recommended for you"
        assert section.is_visible()
        look(page, "account", size, failures)
        section.get_by_role("link", name="Recommended for you").click()
        page.wait_for_url(base + "/for-you")
        assert page.locator("main h1").inner_text() == "For you"
        context.close()
    assert all(found == [] for found in failures.values()), failures


# -- 7. /search's header ---------------------------------------------------------------


def test_search_header_has_no_gap_where_its_box_was(live, browser):
    base, _ = live
    failures: dict[str, list[str]] = {}
    for size in SIZES:
        context, page = open_as(browser, base, size)
        width = SIZES[size]["width"]
        page.goto(base + "/search?q=optimal+transport")
        header = page.locator("header.site").bounding_box()
        account = page.locator("header.site .account").bounding_box()
        # The account links end at the header's right edge (less its padding), as on
        # every other page; nothing is left empty between them and the edge.
        assert header["x"] + header["width"] - (account["x"] + account["width"]) <= 20
        box = page.locator("#q").bounding_box()
        main = page.locator("main").bounding_box()
        assert box["width"] >= main["width"] - 40  # the page's box takes the width
        page.goto(base + "/")
        home = page.locator("header.site .account").bounding_box()
        assert abs(home["x"] + home["width"] - (account["x"] + account["width"])) <= 2
        assert header["height"] <= (60 if width > 400 else 50)
        page.goto(base + "/search?q=optimal+transport")
        no_sideways_scroll(page)
        look(page, "search", size, failures)
        context.close()
    assert all(found == [] for found in failures.values()), failures
