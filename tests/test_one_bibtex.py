"""Issue 27: one BibTeX. The paper page, its cite.bib and a collection's BibTeX export
give the same entry for the same paper: the same key, and arXiv's TeX written as it is
(an em dash ``---`` stays ``---``, never ``-{}-{}-``)."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import date

from paperwire.cite import bibtex
from paperwire.ingest.export import unique_keys
from paperwire.models import Author, Paper

PAPER = Paper(
    title=r"Flat minima --- and why $\mathcal{O}(d^2)$ & friends generalise",
    abstract="x",
    arxiv_id="2501.00001",
    authors=[Author("Ada Lovelace"), Author("Łukasz Kaiser")],
    published=date(2025, 1, 2),
    categories=["cs.LG"],
    comments="12 pages, ICLR 2026",
)


def _page_entry(text: str) -> str:
    (block,) = re.findall(r"<pre[^>]*><code[^>]*>(.*?)</code></pre>", text, re.S)
    return html.unescape(block)


def test_page_cite_file_and_collection_export_give_the_same_entry(site):
    site.store.upsert_papers([PAPER])
    site.sign_in("reader@example.org")
    page = site.client.get("/papers/2501.00001").text
    shown = _page_entry(page)
    assert shown.startswith("@misc{lovelace2025flat,\n")
    assert "Flat minima --- and why" in shown and "-{}-" not in shown
    assert r"\& friends" in shown and "note = {12 pages, ICLR 2026}" in shown
    assert site.client.get("/papers/2501.00001/cite.bib").text == shown

    csrf = site.csrf()
    made = site.client.post(
        "/collections", data={"csrf_token": csrf, "name": "Bib"}, follow_redirects=False
    )
    collection = made.headers["location"].split("/")[2].split("?")[0]
    site.client.post(
        "/papers/save",
        data={"csrf_token": csrf, "key": "2501.00001", "collection_id": collection},
    )
    exported = site.client.get(f"/collections/{collection}/export?format=bibtex").text
    assert exported == shown


def test_one_file_never_holds_a_key_twice():
    twins = [PAPER, replace(PAPER, arxiv_id="2501.00002"), PAPER]
    keys = [key for _, key in unique_keys(twins)]
    assert keys == ["lovelace2025flat", "lovelace2025flatb", "lovelace2025flatc"]
    assert bibtex(PAPER, keys[1]).startswith("@misc{lovelace2025flatb,\n")
