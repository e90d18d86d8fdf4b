"""Follow and claim flows end to end in a real headless Chromium (issue 29): a reader
signs in by the link a real SMTP server received, follows a topic and an author from
their pages, claims authorship on a paper (JavaScript off), a curator confirms it, and
the confirmed author describes the author page. axe-core checks the author page when it
is installed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from browser_support import AXE, SHOTS, axe_violations, chromium, mailing_site, require_chromium
from paperwire.ingest.hf_daily import parse
from paperwire.ingest.load import load
from paperwire.models import Paper

pytestmark = pytest.mark.browser

RICH = Path(__file__).parent / "data" / "hf_daily_papers_rich.json"
KEY = "2602.23229"

require_chromium()


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[tuple[str, object, object]]:
    """The app on a loopback port with the recorded HF paper listed today."""
    with mailing_site(tmp_path_factory.mktemp("browser-people")) as (base, site, inbox):
        load(site.store, [p for p in parse(RICH.read_bytes()) if isinstance(p, Paper)])
        site.store.submit_many([KEY], site.clock.now.date(), site.clock.now)
        yield base, site, inbox


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def sign_in(page, base: str, inbox, address: str) -> None:
    before = len(inbox.to(address))
    page.goto(f"{base}/signin?next=/")
    page.get_by_label("Email address").fill(address)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    message = inbox.wait_for(address, before + 1)
    link = re.search(r"https?://\S+", message.get_body(("plain",)).get_content()).group(0)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("You are signed in.").wait_for()


def test_follow_claim_confirm_and_describe(live, browser):
    base, site, inbox = live
    alice_context = browser.new_context(java_script_enabled=False)
    alice = alice_context.new_page()
    sign_in(alice, base, inbox, "alice@example.org")

    alice.goto(f"{base}/topics/in-context-learning")
    alice.get_by_role("button", name="Follow in-context learning").click()
    alice.get_by_text("Followed:").wait_for()
    alice.goto(f"{base}/authors/marco-garosi")
    alice.get_by_role("button", name="Follow Marco Garosi").click()
    alice.goto(f"{base}/following")
    assert alice.locator("ul.follows").get_by_role("link", name="Marco Garosi").count() == 1
    assert alice.get_by_text("Large Multimodal Models as General In-Context").count() >= 1

    alice.goto(f"{base}/papers/{KEY}")
    alice.locator("details.claim summary").click()
    alice.get_by_label("I am").select_option("Marco Garosi")
    alice.get_by_role("button", name="Claim authorship").click()
    alice.get_by_text("Claim sent").wait_for()
    SHOTS.mkdir(parents=True, exist_ok=True)
    alice.screenshot(path=str(SHOTS / "people-01-claimed.png"))

    carol_context = browser.new_context(bypass_csp=True)  # for axe's script
    carol = carol_context.new_page()
    sign_in(carol, base, inbox, "carol@example.org")
    site.store.set_curator("carol@example.org", True)
    carol.goto(f"{base}/claims")
    carol.get_by_role("button", name=re.compile("^Confirm the claim")).click()
    carol.get_by_text("The claim is confirmed.").wait_for()

    alice.goto(f"{base}/papers/{KEY}")
    assert alice.locator("span.confirmed").count() == 1
    alice.goto(f"{base}/authors/marco-garosi")
    alice.get_by_label("Describe your page").fill("I work on *multimodal* classifiers.")
    alice.get_by_role("button", name="Save your page").click()
    alice.get_by_text("Done.").wait_for()
    assert alice.locator("section.profile em").count() == 1
    alice.screenshot(path=str(SHOTS / "people-02-author-page.png"))

    if AXE.exists():
        carol.goto(f"{base}/authors/marco-garosi")
        assert axe_violations(carol, within="main") == []
    alice_context.close()
    carol_context.close()
