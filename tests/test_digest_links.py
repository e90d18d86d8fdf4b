"""Links in digest mail: code links are http or https only."""

from __future__ import annotations

import email
import email.policy

import pytest

# -- links in digest mail ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("urls", "shown"),
    [
        (["http\tjavascript:alert(1)"], None),
        (["javascript:alert(1)"], None),
        (["JaVaScRiPt:alert(1)", "data:text/html,x", "ftp://example.org/x"], None),
        (["http:no-host", "https://"], None),
        ([" https://github.com/a/b"], None),
        (["https://github.com/a/b\r\nBcc: x@example.org"], None),
        (["vbscript:x", "HTTPS://github.com/a/b"], "HTTPS://github.com/a/b"),
        (["https://github.com/a/b", "http://x.org"], "https://github.com/a/b"),
    ],
)
def test_code_links_in_digests_are_http_or_https_only(urls, shown) -> None:
    """Both parts of a digest carry a paper's code link only if it parses as http(s) with
    a host ("http\\tjavascript:" passed the HTML part's prefix check; the text part
    printed any scheme)."""
    from datetime import UTC, datetime

    from paperwire.config import Settings
    from paperwire.digest.compose import compose
    from paperwire.digest.select import DigestContent, DigestItem
    from paperwire.models import FeedEntry, Paper, Subscription

    paper = Paper("A paper", "Its abstract.", "2411.00001", code_urls=urls)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    subscription = Subscription(
        id=7, email="ada@example.org", frequency="daily", trending=True, searches=[],
        status="active", created_at=now, confirmed_at=now,
    )  # fmt: skip
    content = DigestContent(trending=[DigestItem(FeedEntry(paper, 3, None), "trending")])
    item = compose(Settings(), "s" * 40, subscription, content, "daily:2026-11-23", now)
    message = email.message_from_bytes(item.message, policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for bad in ("javascript", "vbscript", "data:", "ftp:", "Bcc"):
        assert bad.lower() not in (text + html).lower()
    if shown is None:
        assert "Code:" not in text and ">code</a>" not in html
    else:
        assert f"Code: {shown}" in text and f'href="{shown}">code</a>' in html
