"""Issue 27 in a real Chromium at 1280 and 390 px: the honest search page. "zzqxv" is
answered plainly first, the page holds one search box, a year range says what it left
out; axe reports nothing. Screenshots: test-artifacts/screenshots/search-honest-*.png."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from browser_support import AXE, SHOTS, SIZES, axe_violations, chromium, require_chromium, serving
from smtp_support import free_port
from support import make_site

require_chromium()
pytestmark = pytest.mark.browser
PAGES = {
    "nothing": "/search?q=zzqxv",
    "counted": "/search?q=diffusion&mode=lexical",
    "years": "/search?q=diffusion&mode=lexical&year_from=2030",
}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    site = make_site(
        tmp_path_factory.mktemp("search-honest"), now=datetime(2026, 12, 6, tzinfo=UTC)
    )
    port = free_port()
    with serving(site.client.app, port):
        yield f"http://127.0.0.1:{port}"


def test_search_page_reads_honestly_at_both_widths(base):
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
                page.screenshot(path=str(SHOTS / f"search-honest-{name}-{size_name}.png"))
                assert page.get_by_role("search").count() == 1
                count = page.locator("p.count").first
                assert count.is_visible()
                if name == "nothing":
                    assert count.inner_text().startswith("No paper contains")
                    assert count.bounding_box()["y"] < size["height"]
                elif name == "counted":
                    assert " papers match " in count.inner_text()
                else:
                    assert "with these filters" in count.inner_text()
                found = axe_violations(page)
                if found:
                    failures[f"{name} {size_name}"] = found
        context.close()
    assert not failures, failures
