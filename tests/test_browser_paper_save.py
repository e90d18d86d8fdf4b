"""Issue 27 in a real Chromium at 1280 and 390 px: the paper page's save flow. A
signed-in reader picks a collection, presses Save, lands back at the Save form (not at
the top of the page) reading "Saved to <collection>", presses Undo and reads "Removed
from"; the BibTeX's Copy button shows with JavaScript and reports the copy, and is
absent without it (the block stays selectable). axe reports nothing at either width.
Screenshots: test-artifacts/screenshots/paper-save-*.png."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from browser_support import AXE, SHOTS, SIZES, axe_violations, chromium, require_chromium, serving
from paperwire.models import Author, Paper
from smtp_support import free_port
from support import make_site

require_chromium()
pytestmark = pytest.mark.browser
KEY = "2501.00009"
PAPER = Paper(
    title="A paper a reader keeps: saving from its own page",
    abstract="Readers save papers where they read them. " * 12,
    arxiv_id=KEY,
    authors=[Author(f"Author Number{i}") for i in range(12)],
    published=date(2025, 1, 9),
    categories=["cs.LG"],
    comments="12 pages, ICLR 2026",
)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site = make_site(
        tmp_path_factory.mktemp("paper-save"),
        now=datetime(2026, 12, 6, 9, tzinfo=UTC),
        base_url=base,
    )
    site.store.upsert_papers([PAPER])
    site.sign_in("reader@example.org")
    site.client.get("/collections")
    site.client.post("/collections", data={"csrf_token": site.csrf(), "name": "Thesis"})
    with serving(site.client.app, port):
        yield base, site


def _axe(page) -> list[str]:
    return axe_violations(page)


def test_save_undo_and_copy_at_both_widths(live):
    if not AXE.exists():
        pytest.skip("axe-core is not installed (npm ci --prefix tests)")
    base, site = live
    SHOTS.mkdir(parents=True, exist_ok=True)
    cookies = [
        {"name": name, "value": value, "url": base} for name, value in site.client.cookies.items()
    ]
    failures: dict[str, list[str]] = {}
    with chromium() as browser:
        for size_name, size in SIZES.items():
            context = browser.new_context(bypass_csp=True, viewport=size)
            context.add_cookies(cookies)
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
            page = context.new_page()
            page.goto(f"{base}/papers/{KEY}")
            picker = page.get_by_label("Save to")
            assert picker.evaluate("s => [...s.options].map(o => o.text)") == [
                "Reading list",
                "Thesis",
            ]
            assert picker.input_value() == picker.evaluate("s => s.options[0].value")
            failures[f"paper {size_name}"] = _axe(page)
            page.screenshot(path=str(SHOTS / f"paper-save-before-{size_name}.png"))

            picker.select_option(label="Thesis")
            page.get_by_role("button", name="Save", exact=True).click()
            status = page.locator("#save [role=status]")
            status.wait_for()
            assert " ".join(status.inner_text().split()) == "Saved to Thesis. Undo"
            assert page.evaluate("location.hash") == "#save"
            box = status.bounding_box()
            assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"], box
            if size_name == "phone":  # the page scrolled to the form, not to the top
                assert page.evaluate("window.scrollY") > 0
            failures[f"saved {size_name}"] = _axe(page)
            page.screenshot(path=str(SHOTS / f"paper-save-saved-{size_name}.png"))

            status.get_by_role("button", name="Undo").click()
            page.wait_for_url("**unsaved=*")
            assert page.locator("#save [role=status]").inner_text().startswith("Removed from")
            assert page.evaluate("location.hash") == "#save"
            failures[f"undone {size_name}"] = _axe(page)

            page.get_by_text("Cite: show the BibTeX to copy").click()
            copy = page.get_by_role("button", name="Copy BibTeX")
            assert copy.is_visible()
            copy.click()
            page.get_by_text("Copied.").wait_for()
            copied = page.evaluate("navigator.clipboard.readText()")
            assert copied.startswith("@misc{number02025paper,")
            failures[f"cite {size_name}"] = _axe(page)
            page.screenshot(path=str(SHOTS / f"paper-save-cite-{size_name}.png"), full_page=True)
            context.close()

        plain = browser.new_context(java_script_enabled=False)
        page = plain.new_page()
        page.goto(f"{base}/papers/{KEY}")
        page.get_by_text("Cite: show the BibTeX to copy").click()
        assert not page.get_by_role("button", name="Copy BibTeX").is_visible()
        assert page.locator("#bibtex").inner_text().startswith("@misc{")
        plain.close()
    assert not {k: v for k, v in failures.items() if v}, failures
