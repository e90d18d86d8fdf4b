"""Issue 27: importing a library redirects after the POST (post/redirect/get): the
collection page shows the import's report once, and reloading it imports nothing and
shows no stale report; a forged report cookie is ignored, never an error."""

from __future__ import annotations


def test_import_redirects_and_reports_once(site, fixtures):
    site.sign_in("ada@example.org")
    csrf = site.csrf()
    ada = site.store.get_or_create_user("ada@example.org", site.clock.now)
    cid = site.store.collections_of(ada.id, site.clock.now)[0].id
    posted = site.client.post(
        f"/collections/{cid}/import/library",
        data={"csrf_token": csrf},
        files={"library": ("library.bib", (fixtures / "sample.bib").read_bytes())},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == f"/collections/{cid}#report-heading"
    before = site.store.count_papers()
    page = site.client.get(f"/collections/{cid}").text
    assert "1 found here and linked, 2 imported as new records, 0 not read." in page
    reloaded = site.client.get(f"/collections/{cid}").text
    assert "imported as new records" not in reloaded
    assert site.store.count_papers() == before


def test_a_forged_report_cookie_is_ignored(site):
    site.sign_in("ada@example.org")
    ada = site.store.get_or_create_user("ada@example.org", site.clock.now)
    cid = site.store.collections_of(ada.id, site.clock.now)[0].id
    for forged in ("not base64 !", "e30", "W10", "eyJjb3VudHMiOiJ4In0"):
        site.client.cookies.set("pw_import_report", forged, path=f"/collections/{cid}")
        page = site.client.get(f"/collections/{cid}")
        assert page.status_code == 200 and "imported as new records" not in page.text
