"""Issue 27: a collection's public link is listed on the collection (not shown once
and lost), with Revoke; sharing redirects after the POST (a reload posts nothing); a
new link replaces the old one; the link is derived from the site's secret and a nonce
kept in the store (migration 0016), so the database alone does not hold it."""

from __future__ import annotations

import re


def _link(page: str) -> str | None:
    found = re.search(r'<a class="token" href="(/shared/sh_[\w-]+)">', page)
    return found.group(1) if found else None


def test_the_public_link_is_listed_with_revoke(site):
    site.sign_in("ada@example.org")
    csrf = site.csrf()
    made = site.client.post(
        "/collections", data={"csrf_token": csrf, "name": "Reading group"}, follow_redirects=False
    )
    cid = int(made.headers["location"].split("/")[2].split("?")[0])
    page = site.client.get(f"/collections/{cid}").text
    assert "Private: no link opens it." in page and _link(page) is None

    shared = site.client.post(
        f"/collections/{cid}/share", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert shared.status_code == 303  # post/redirect/get
    assert shared.headers["location"] == f"/collections/{cid}?notice=shared#share-heading"
    first = _link(site.client.get(shared.headers["location"]).text)
    assert first is not None
    # Still listed on a later visit, and it opens the collection as a page.
    assert _link(site.client.get(f"/collections/{cid}").text) == first
    public = site.client.get(first)
    assert public.status_code == 200 and "Reading group" in public.text
    # The store keeps a nonce and a hash, never the link.
    row = site.store.get_collection(
        site.store.get_or_create_user("ada@example.org", site.clock.now).id, cid
    )
    assert row.share_nonce and row.share_nonce not in first

    site.client.post(f"/collections/{cid}/share", data={"csrf_token": csrf})
    second = _link(site.client.get(f"/collections/{cid}").text)
    assert second and second != first
    assert site.client.get(first).status_code == 404

    revoked = site.client.post(
        f"/collections/{cid}/unshare", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert "The public link is revoked" in revoked.text and _link(revoked.text) is None
    assert site.client.get(second).status_code == 404
