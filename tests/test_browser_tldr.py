"""Every list of paper cards offers the TL;DR toggle (issue 29), in a real Chromium at
1280 and 390 px: the day, week and month feeds, trending, a topic, an author, an
organization and a search. On each the reader sees the toggle whole (inside the window),
sees a card's TL;DR, turns TL;DRs off and is brought back to the same list without them,
and turns them on again; nothing runs off the side of the window; axe-core reports
nothing. The papers are a recorded Hugging Face
day (tests/fixtures/hf_daily_recorded/2026-04-01), listed today. Screenshots:
test-artifacts/screenshots/tldr-*.png.

Before: only the day/week/month feed had the toggle; trending, topic, author,
organization and search pages showed TL;DRs with no way to hide them; and at 390 px
every card of these real papers ran 170-210 px off the side (its line of dates and
"▲ 250 on Hugging Face" could not wrap: nowrap spans with no space between them)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from browser_support import AXE, SHOTS, SIZES, axe_violations, chromium, require_chromium, serving
from paperwire.ingest.hf_daily import parse
from paperwire.ingest.load import load
from paperwire.models import Paper
from smtp_support import free_port
from support import make_site

require_chromium()
pytestmark = pytest.mark.browser

DAY = Path(__file__).parent / "fixtures" / "hf_daily_recorded" / "2026-04-01.json.gz"
NOW = datetime(2026, 4, 1, 12, tzinfo=UTC)
PAGES = {
    "today": "/",
    "week": "/daily/2026-04-01?view=week",
    "month": "/daily/2026-04-01?view=month",
    "trending": "/trending",
    "topic": "/topics/reinforcement-learning",
    "author": "/authors/chiyu-ma",
    "organization": "/organizations/Qwen",
    "search": "/search?q=reinforcement+learning",
}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site = make_site(tmp_path_factory.mktemp("browser-tldr"), now=NOW, base_url=base)
    papers = [p for p in parse(gzip.decompress(DAY.read_bytes())) if isinstance(p, Paper)]
    load(site.store, papers)
    site.store.submit_many([p.key for p in papers], NOW.date(), NOW)
    with serving(site.client.app, port):
        yield base


def _toggle(page, label: str):
    return page.locator(".tldr-toggle").get_by_role("link", name=label, exact=True)


def test_every_card_list_offers_the_tldr_toggle_at_both_widths(live):
    if not AXE.exists():
        pytest.skip("axe-core is not installed (npm ci --prefix tests)")
    base = live
    SHOTS.mkdir(parents=True, exist_ok=True)
    failures: dict[str, list[str]] = {}
    with chromium() as browser:
        for size_name, size in SIZES.items():
            context = browser.new_context(bypass_csp=True, viewport=size)
            page = context.new_page()
            for name, path in PAGES.items():
                where = f"{name} at {size['width']} px"
                response = page.goto(base + path)
                assert response is not None and response.ok, where
                toggle = page.locator(".tldr-toggle")
                assert toggle.count() == 1, where
                box = toggle.bounding_box()
                assert box is not None and box["x"] >= 0, where
                assert box["x"] + box["width"] <= size["width"], where  # whole, no overflow
                assert page.locator(".entry .tldr").first.is_visible(), where
                assert _toggle(page, "shown").get_attribute("aria-current") == "true", where
                # Nothing runs off the side: a card's line of dates and upvotes wraps.
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= size["width"], (where, width)
                page.screenshot(path=str(SHOTS / f"tldr-{name}-{size_name}.png"), full_page=True)
                found = axe_violations(page)
                if found:
                    failures[where] = found

                _toggle(page, "hidden").click()
                page.wait_for_load_state()
                assert page.url == base + path or page.url == base + path.rstrip("/") + "/", where
                assert page.locator(".entry").count() > 0, where
                assert page.locator(".entry .tldr").count() == 0, where
                assert _toggle(page, "hidden").get_attribute("aria-current") == "true", where
                _toggle(page, "shown").click()
                page.wait_for_load_state()
                assert page.locator(".entry .tldr").first.is_visible(), where
            context.close()
    assert failures == {}
