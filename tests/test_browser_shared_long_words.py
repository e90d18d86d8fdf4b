"""A shared collection whose name and description hold one long unbroken word (a URL, a
DOI, a gene name): its page, and the owner's, still fit a phone (390 px) without
scrolling sideways; the words wrap inside their boxes. Real Chromium, the app on a real
loopback port.

Before: the description kept its length (white-space: pre-line, no wrap inside a word):
a 120-character word made the shared page 1,153 px wide; a 94-character name made
the owner's page 876 px wide."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from browser_support import SIZES, chromium, require_chromium, serving
from paperwire.web.security import hash_token, new_token
from paperwire.web.usecases import collections as collection_cases
from smtp_support import free_port
from support import make_site

require_chromium()
pytestmark = pytest.mark.browser
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LONG = "https://example.org/" + "a" * 100


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[tuple[str, Any]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site = make_site(tmp_path_factory.mktemp("longwords"), now=NOW, base_url=base)
    with serving(site.client.app, port):
        yield base, site


def test_a_long_unbroken_word_in_a_description_wraps_on_a_phone(live):
    base, site = live
    owner = site.store.get_or_create_user("long-words@example.org", NOW - timedelta(days=3))
    made = collection_cases.create(site.services, owner, "Reading-group-" + "x" * 80)
    collection_cases.update(
        site.services, owner, made.id, description=f"Start here: {LONG}\n\nThen {LONG}"
    )
    link = collection_cases.share(site.services, owner, made.id)
    token = new_token()
    site.store.add_session(hash_token(token), owner.id, NOW, NOW + timedelta(days=30))
    with chromium() as browser:
        context = browser.new_context(viewport=SIZES["phone"])
        context.add_cookies([{"name": "pw_session", "value": token, "url": base}])
        page = context.new_page()
        for path in (f"/shared/{link}", f"/collections/{made.id}"):
            page.goto(base + path)
            shown = page.locator("p.description").all_inner_texts()
            assert shown == [f"Start here: {LONG}", f"Then {LONG}"], path
            assert page.locator("main h1").inner_text().startswith("Reading-group-xxx")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
        context.close()
