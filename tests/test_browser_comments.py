"""Discussion end to end in a real headless Chromium (Debian's, through Playwright): a
reader signs in by the link a real SMTP server received, comments with math, a second
reader replies with JavaScript off, the batch of reply mail arrives at the first reader
through the outbox, and its one-click link turns that mail off. axe-core checks the paper
page with its discussion when it is installed."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from browser_support import AXE, SHOTS, axe_violations, chromium, mailing_site, require_chromium

pytestmark = pytest.mark.browser

require_chromium()


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[tuple[str, object, object]]:
    """The app on a loopback port (keyword search only), mailing through aiosmtpd."""
    with mailing_site(tmp_path_factory.mktemp("browser-comments")) as served:
        yield served


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def sign_in(page, base: str, inbox, address: str, next_path: str) -> None:
    before = len(inbox.to(address))
    page.goto(f"{base}/signin?next={next_path}")
    page.get_by_label("Email address").fill(address)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    message = inbox.wait_for(address, before + 1)
    link = re.search(r"https?://\S+", message.get_body(("plain",)).get_content()).group(0)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("You are signed in.").wait_for()


def test_comment_with_math_reply_mail_and_one_click_unsubscribe(live, browser):
    base, site, inbox = live
    today = site.clock.now.date()
    key = site.store.feed(today, today, "upvotes", 1)[0][0].paper.key
    paper = f"/papers/{key}"

    alice_context = browser.new_context(bypass_csp=True, viewport={"width": 1200, "height": 900})
    alice = alice_context.new_page()
    sign_in(alice, base, inbox, "alice@example.org", paper)
    alice.goto(base + paper)
    alice.get_by_label("Add a comment").fill("Energy: $E = mc^2$, and *more*.")
    alice.get_by_role("button", name="Post comment").click()
    alice.get_by_text("Your comment is posted.").wait_for()
    comment = alice.locator("article.comment").first
    assert comment.locator("math").count() == 1 and comment.locator("em").count() == 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    alice.screenshot(path=str(SHOTS / "comments-01-posted.png"))

    # Bob replies with JavaScript off: plain forms, post/redirect/get.
    bob_context = browser.new_context(java_script_enabled=False)
    bob = bob_context.new_page()
    sign_in(bob, base, inbox, "bob@example.org", paper)
    bob.goto(base + paper)
    bob.locator("article.comment summary", has_text="Reply").first.click()
    bob.get_by_label("Your reply").fill("Only at rest: $E^2 = (pc)^2 + (mc^2)^2$.")
    bob.get_by_role("button", name="Reply", exact=True).click()
    bob.get_by_text("Your comment is posted.").wait_for()
    assert bob.locator("article.comment.reply math").count() == 1

    # The reply reaches alice in one batch through the outbox, once.
    mails_before = len(inbox.to("alice@example.org"))
    deployment = site.services.deployment
    assert deployment.queue_comment_mail().queued == 1
    assert deployment.deliver_outbox().sent == 1
    message = inbox.wait_for("alice@example.org", mails_before + 1)
    assert "replied to you" in message.get_body(("plain",)).get_content()
    assert deployment.queue_comment_mail().queued == 0
    stop = re.search(r"<(https?://[^>]+)>", message["List-Unsubscribe"]).group(1)
    alice.goto(stop)
    alice.get_by_role("button", name="Stop mailing me replies and mentions").click()
    alice.get_by_text("no longer mailed to you").wait_for()
    user = site.store.get_or_create_user("alice@example.org", site.clock.now)
    assert not site.store.comment_mail_enabled(user.id)

    if AXE.exists():
        alice.goto(base + paper)
        assert axe_violations(alice, within="#comments") == []
    alice_context.close()
    bob_context.close()
