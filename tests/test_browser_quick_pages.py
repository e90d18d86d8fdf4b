"""Issue 27 in a real Chromium at 1280 and 390 px: the pages the quick items changed —
the 401 page's sign-in link, a collection with its listed public link, the delete
question, the account's handle form, and a comment's code block (focusable at 390 px:
axe's scrollable-region-focusable). axe reports nothing on any of them. Screenshots:
test-artifacts/screenshots/quick-*.png."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from browser_support import AXE, SHOTS, SIZES, axe_violations, chromium, require_chromium, serving
from smtp_support import free_port
from support import make_site

require_chromium()
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site = make_site(
        tmp_path_factory.mktemp("quick-pages"),
        now=datetime(2026, 12, 6, 9, tzinfo=UTC),
        base_url=base,
    )
    site.sign_in("ada@example.org")
    csrf = site.csrf()
    made = site.client.post(
        "/collections", data={"csrf_token": csrf, "name": "Reading group"}, follow_redirects=False
    )
    cid = int(made.headers["location"].split("/")[2].split("?")[0])
    site.client.post(f"/collections/{cid}/share", data={"csrf_token": csrf})
    today = site.clock.now.date()
    key = site.store.feed(today, today, "upvotes", 1)[0][0].paper.key
    site.clock.now = datetime(2026, 12, 8, 9, tzinfo=UTC)  # an account old enough to comment
    posted = site.client.post(
        f"/papers/{key}/comments",
        data={"csrf_token": csrf, "body": "```\n" + "wide_code_line = 1; " * 20 + "\n```"},
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text[:300]
    comment = int(re.search(r"#comment-(\d+)$", posted.headers["location"]).group(1))
    with serving(site.client.app, port):
        yield base, site, cid, key, comment


def test_quick_pages_at_both_widths(live):
    if not AXE.exists():
        pytest.skip("axe-core is not installed (npm ci --prefix tests)")
    base, site, cid, key, comment = live
    SHOTS.mkdir(parents=True, exist_ok=True)
    cookies = [{"name": n, "value": v, "url": base} for n, v in site.client.cookies.items()]
    pages = {
        "collection": f"/collections/{cid}",
        "delete": f"/collections/{cid}/delete",
        "comment-delete": f"/comments/{comment}/delete",
        "account": "/account",
        "paper-comment": f"/papers/{key}#comment-{comment}",
    }
    failures: dict[str, list[str]] = {}
    with chromium() as browser:
        for size_name, size in SIZES.items():
            anonymous = browser.new_context(bypass_csp=True, viewport=size)
            page = anonymous.new_page()
            page.goto(base + "/status")
            link = page.get_by_role("link", name="Sign in", exact=True).last
            assert link.get_attribute("href") == "/signin?next=%2Fstatus"
            page.screenshot(path=str(SHOTS / f"quick-401-{size_name}.png"))
            anonymous.close()

            context = browser.new_context(bypass_csp=True, viewport=size)
            context.add_cookies(cookies)
            page = context.new_page()
            for name, url in pages.items():
                page.goto(base + url)
                page.screenshot(path=str(SHOTS / f"quick-{name}-{size_name}.png"))
                found = axe_violations(page)
                if found:
                    failures[f"{name} {size_name}"] = found
            page.goto(f"{base}/collections/{cid}")
            shown = page.locator("#share-heading + p a.token")
            assert shown.inner_text().startswith(f"{base}/shared/sh_")
            page.goto(f"{base}/papers/{key}")
            block = page.locator(".comment-body pre").first
            assert block.get_attribute("tabindex") == "0"
            context.close()
    assert not failures, failures
