"""Issue 27, the paper page: a reader saves the paper itself to a collection chosen
from their own (Reading list first and selected), lands back at the Save form
(``#save``), reads "Saved to <collection>" and can Undo; the page shows arXiv's
comments, the submitter, authors linking to their author pages, and the BibTeX with a
Copy button that only JavaScript reveals."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from paperwire import upstream
from paperwire.models import Author, Paper
from paperwire.web.render import author_slug

KEY = "2501.00007"
PAPER = Paper(
    title="Saved from its own page",
    abstract="x",
    arxiv_id=KEY,
    authors=[Author("Ada Lovelace"), Author("Grace Hopper")],
    published=date(2025, 1, 3),
    comments="12 pages, ICLR 2026",
    extras=upstream.make("hf-daily", datetime(2025, 1, 3, tzinfo=UTC), submitter="akhaliq"),
)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _options(page: str) -> list[tuple[str, str, bool]]:
    select = re.search(r'<select id="save-to"[^>]*>(.*?)</select>', page, re.S).group(1)
    return [
        (value, name, bool(selected))
        for value, selected, name in re.findall(
            r'<option value="(\d+)"( selected)?>([^<]*)</option>', select
        )
    ]


def test_save_from_the_paper_page_stays_there_and_undoes(site):
    site.store.upsert_papers([PAPER])
    anonymous = site.client.get(f"/papers/{KEY}").text
    assert "Sign in to save this paper" in anonymous and 'id="save-to"' not in anonymous
    site.sign_in("reader@example.org")
    csrf = site.csrf()
    assert [n for _, n, _ in _options(site.client.get(f"/papers/{KEY}").text)] == ["Reading list"]
    site.client.post("/collections", data={"csrf_token": csrf, "name": "Thesis"})
    page = site.client.get(f"/papers/{KEY}").text
    options = _options(page)
    assert [(name, chosen) for _, name, chosen in options] == [
        ("Reading list", True),
        ("Thesis", False),
    ]
    thesis = options[1][0]

    saved = site.client.post(
        f"/papers/{KEY}/save",
        data={"csrf_token": csrf, "collection_id": thesis},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/papers/{KEY}?saved={thesis}#save"
    page = site.client.get(saved.headers["location"]).text
    status = re.search(r'<div class="saved" role="status">(.*?)</div>', page, re.S).group(1)
    assert _text(status) == "Saved to Thesis . Undo"
    assert f'action="/papers/{KEY}/unsave"' in status
    listed = site.client.get(f"/collections/{thesis}").text
    assert "Saved from its own page" in listed

    undone = site.client.post(
        f"/papers/{KEY}/unsave",
        data={"csrf_token": csrf, "collection_id": thesis},
        follow_redirects=False,
    )
    assert undone.headers["location"] == f"/papers/{KEY}?unsaved={thesis}#save"
    page = site.client.get(undone.headers["location"]).text
    assert "Removed from" in _text(page) and "Saved to Thesis" not in _text(page)
    assert "Saved from its own page" not in site.client.get(f"/collections/{thesis}").text
    # a stale ?saved= (the save undone) names nothing
    assert "Saved to" not in _text(site.client.get(f"/papers/{KEY}?saved={thesis}").text)


def test_save_without_a_choice_goes_to_the_reading_list(site):
    site.store.upsert_papers([PAPER])
    site.sign_in("reader@example.org")
    saved = site.client.post(
        f"/papers/{KEY}/save", data={"csrf_token": site.csrf()}, follow_redirects=True
    )
    assert "Saved to Reading list" in _text(saved.text)


def test_save_into_another_readers_collection_is_refused(site):
    site.store.upsert_papers([PAPER])
    site.sign_in("owner@example.org")
    site.client.get("/collections")
    site.client.post("/collections", data={"csrf_token": site.csrf(), "name": "Mine"})
    theirs = _options(site.client.get(f"/papers/{KEY}").text)[1][0]
    site.client.cookies.clear()
    site.sign_in("other@example.org")
    refused = site.client.post(
        f"/papers/{KEY}/save", data={"csrf_token": site.csrf(), "collection_id": theirs}
    )
    assert refused.status_code == 404
    page = site.client.get(f"/papers/{KEY}?saved={theirs}").text
    assert "Saved to" not in _text(page) and "Mine" not in page


def test_paper_page_shows_comments_submitter_author_links_and_copy(site):
    site.store.upsert_papers([PAPER])
    page = site.client.get(f"/papers/{KEY}").text
    text = _text(page)
    assert "arXiv comments 12 pages, ICLR 2026" in text
    assert "Submitter akhaliq" in text
    for name in ("Ada Lovelace", "Grace Hopper"):
        assert f'href="/authors/{author_slug(name)}">{name}</a>' in page
    assert '<pre id="bibtex" tabindex="0">' in page
    assert (
        '<button type="button" class="copy" data-copy="bibtex" hidden>Copy BibTeX</button>' in page
    )
    assert '<script src="/static/copy.js" defer></script>' in page
