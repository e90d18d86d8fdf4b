"""Issue 27: the link rule stated beside the comment form is the renderer's rule. Each
sentence of the statement is played against discussion.markup as written, so the two
cannot drift apart; the statement is on the paper page and the edit page."""

from __future__ import annotations

import re

import pytest

from paperwire.discussion import markup, rules

STATED = [
    # (the text a reader writes, the href it links to, or None: no link)
    ("[the paper](https://arxiv.org/abs/1706.03762)", "https://arxiv.org/abs/1706.03762"),
    ("[a page](http://example.org/x)", "http://example.org/x"),
    ("<https://example.org/y>", "https://example.org/y"),
    ("[write](mailto:ada@example.org)", "mailto:ada@example.org"),
    ("a bare https://example.org/z address", None),
    ("[relative](/papers/x)", None),
    ("[script](javascript:alert(1))", None),
    ("[data](data:text/html,hi)", None),
]


@pytest.mark.parametrize(("text", "href"), STATED)
def test_the_stated_rule_is_what_the_renderer_does(text, href):
    html, _ = markup.stored(text, set())
    hrefs = re.findall(r'<a href="([^"]*)"', html)
    assert hrefs == ([href] if href else []), html
    if href:
        assert 'rel="nofollow' in html


def test_young_accounts_links_as_stated():
    # "Accounts younger than a day cannot post links yet": the rule's own check counts
    # a bare address too (it is a link in mail and chat clients).
    assert rules.links(markup.stored("see https://example.org", set())[0])
    assert rules.NEW_ACCOUNT_AGE.days == 1


def test_the_rule_is_stated_beside_the_forms(site):
    today = site.clock.now.date()
    key = site.store.feed(today, today, "upvotes", 1)[0][0].paper.key
    site.sign_in("ada@example.org")
    page = site.client.get(f"/papers/{key}").text
    form = page[page.index('action="/papers/') : page.index("Post comment")]
    assert "only web (http:// or https://) and mailto: addresses become links" in form
    assert 'aria-describedby="comment-rules"' in form and 'id="comment-rules"' in form
    made = site.client.post(
        f"/papers/{key}/comments",
        data={"body": "A note.", "csrf_token": site.csrf()},
        follow_redirects=False,
    )
    cid = re.search(r"#comment-(\d+)$", made.headers["location"]).group(1)
    edit = site.client.get(f"/comments/{cid}/edit").text
    assert "A bare address stays plain text" in edit
