"""Issue 27, the quick ones, as a reader meets them: /status without a session links to
sign-in; /metrics names the static files' route; a comment's code block is focusable
(axe's scrollable-region-focusable at 390 px); the digest opens with its date and shows
no "· ▲ 0"."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime

from paperwire.config import Settings
from paperwire.digest.compose import compose
from paperwire.digest.select import DigestContent, DigestItem
from paperwire.discussion.markup import render
from paperwire.models import FeedEntry, Paper, Subscription
from support import make_site


def test_status_without_a_session_links_to_sign_in(site):
    answer = site.client.get("/status")
    assert answer.status_code == 401
    assert '<a href="/signin?next=%2Fstatus">Sign in</a> to see this page.' in answer.text


def test_metrics_label_static_files(tmp_path):
    token = "m-" + "0123456789abcdef" * 2
    site = make_site(tmp_path, metrics_token=token)
    assert site.client.get("/static/style.css").status_code == 200
    site.client.get("/no-such-page")
    metrics = site.client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).text
    assert re.search(
        r'paperwire_request_seconds_count\{method="GET",route="static"\} [1-9]', metrics
    )
    assert 'route="unmatched"' in metrics  # a 404 is still unmatched


def test_a_comments_code_block_is_focusable():
    html = render("```\n" + "x" * 300 + "\n```\n\nand `inline` <pre>text</pre>")
    assert html.count('<pre tabindex="0">') == 1
    assert "&lt;pre&gt;" in html  # typed text is never an element


def _digest(upvotes: int) -> tuple[str, str]:
    now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    subscription = Subscription(
        id=7, email="ada@example.org", frequency="daily", trending=True, searches=[],
        status="active", created_at=now, confirmed_at=now,
    )  # fmt: skip
    paper = Paper("A paper", "Its abstract.", "2411.00001")
    content = DigestContent(trending=[DigestItem(FeedEntry(paper, upvotes, None), "trending")])
    item = compose(Settings(), "s" * 40, subscription, content, "daily:2026-12-06", now)
    message = email.message_from_bytes(item.message, policy=email.policy.default)
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def test_the_digest_has_a_date_heading_and_no_zero_upvotes():
    text, html = _digest(0)
    assert text.splitlines()[0] == "Daily digest · Sunday 6 December 2026"
    assert "<h1" in html and "Daily digest · Sunday 6 December 2026</h1>" in html
    assert "▲ 0" not in html and "0 upvotes" not in text
    text, html = _digest(3)
    assert "· ▲ 3" in html and "3 upvotes" in text
