"""Issue 27 in a real Chromium: the feed's first look at 1280 and 390 px. The first paper's
title shows within the first 250 px of a phone, list rows keep their dates whole and carry
an upvote button, and axe reports nothing on the pages changed. Screenshots go to
test-artifacts/screenshots/first-look-*.png."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from browser_support import AXE, SHOTS, SIZES, axe_violations, chromium, require_chromium, serving
from paperwire.config import Settings
from paperwire.deployment import Deployment
from paperwire.deployment.imports import sample_inputs
from smtp_support import free_port
from support import make_site

require_chromium()
pytestmark = pytest.mark.browser
PAGES = {
    "home": "/",
    "day": "/daily/2025-03-18",
    "day-list": "/daily/2019-09-12?layout=list",
    "week": "/daily/2025-03-18?view=week&layout=list",
    "paper": "/papers/low-rank-matrix-completion-via-robust-alternating-minimization-in-nearly-linear-time",
}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    folder = tmp_path_factory.mktemp("firstlook-browser")
    settings = Settings(database_url=f"sqlite:///{folder / 'site.db'}", cache_dir=str(folder))
    with Deployment(settings) as deployment:
        deployment.import_sources(sample_inputs(True, demo=False))
    site = make_site(folder, now=datetime(2026, 12, 6, 9, tzinfo=UTC), sample_loaded=True)
    port = free_port()
    with serving(site.client.app, port):
        yield f"http://127.0.0.1:{port}"


def test_first_look_at_both_widths(base):
    if not AXE.exists():
        pytest.skip("axe-core is not installed (npm ci --prefix tests)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    failures: dict[str, list[str]] = {}
    with chromium() as browser:
        context = browser.new_context(bypass_csp=True)
        page = context.new_page()
        for size_name, size in SIZES.items():
            page.set_viewport_size(size)
            for name, url in PAGES.items():
                page.goto(base + url)
                page.screenshot(path=str(SHOTS / f"first-look-{name}-{size_name}.png"))
                found = axe_violations(page)
                if found:
                    failures[f"{name} {size_name}"] = found
                if name == "paper":
                    continue
                title = page.locator("article.entry .title, li.row .row-title").first
                top = title.bounding_box()["y"]
                if size_name == "phone":
                    assert top <= 250, (name, top)
            # the home page says which day it shows
            page.goto(base + "/")
            assert page.get_by_text("the latest day with papers").is_visible()
            # a list row: one line of date, an upvote control beside the title
            page.goto(base + "/daily/2019-09-12?layout=list")
            row = page.locator("li.row").first
            date_box = row.locator("time").bounding_box()
            assert date_box["height"] < 30, date_box  # never broken over two lines
            assert row.locator(".row-vote").is_visible()
        context.close()
    assert failures == {}, failures
