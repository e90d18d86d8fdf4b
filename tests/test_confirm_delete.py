"""Issue 27: deleting a collection or a comment asks first, on a page of its own (no
JavaScript needed): the Delete control is a link to the question, the question names
what goes and offers Cancel, and only its form deletes; a post without the answer (an
old one-click form) is shown the question and deletes nothing."""

from __future__ import annotations

import re

from test_comments_web import comment_id, first_key, post, reader


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_deleting_a_collection_asks_first(site):
    site.sign_in("ada@example.org")
    csrf = site.csrf()
    made = site.client.post(
        "/collections", data={"csrf_token": csrf, "name": "Thesis"}, follow_redirects=False
    )
    cid = int(made.headers["location"].split("/")[2].split("?")[0])
    page = site.client.get(f"/collections/{cid}").text
    assert f'<a href="/collections/{cid}/delete">Delete</a>' in page
    question = site.client.get(f"/collections/{cid}/delete").text
    text = _text(question)
    assert "Delete “Thesis”?" in text and "This cannot be undone." in text
    assert f'<a href="/collections/{cid}">Cancel, keep it</a>' in question
    one_click = site.client.post(
        f"/collections/{cid}/delete", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert one_click.headers["location"] == f"/collections/{cid}/delete"
    assert site.client.get(f"/collections/{cid}").status_code == 200  # still there
    done = site.client.post(
        f"/collections/{cid}/delete",
        data={"csrf_token": csrf, "confirmed": "1"},
        follow_redirects=True,
    )
    assert "Deleted." in done.text and "Thesis" not in done.text
    assert site.client.get(f"/collections/{cid}").status_code == 404


def test_deleting_a_comment_asks_first(site):
    key = first_key(site)
    reader(site, "alice")
    mine = comment_id(post(site, key, "words to take back"))
    page = site.client.get(f"/papers/{key}").text
    assert f'<a href="/comments/{mine}/delete">Delete</a>' in page
    question = site.client.get(f"/comments/{mine}/delete").text
    assert "Delete your comment?" in _text(question)
    assert f'#comment-{mine}">Cancel, keep it</a>' in question
    csrf = site.csrf()
    one_click = site.client.post(
        f"/comments/{mine}/delete", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert one_click.headers["location"] == f"/comments/{mine}/delete"
    assert "words to take back" in site.client.get(f"/papers/{key}").text
    site.client.post(f"/comments/{mine}/delete", data={"csrf_token": csrf, "confirmed": "1"})
    assert "words to take back" not in site.client.get(f"/papers/{key}").text
    reader(site, "bob")
    assert site.client.get(f"/comments/{mine}/delete").status_code == 404
