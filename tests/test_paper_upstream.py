"""What upstream says about a paper (issue 29): kept with its source and read time, shown
on the paper page, the cards, the JSON API, the Atom entries and the exports; a later
trusted read updates it, a reader's record never does."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from paperwire import upstream
from paperwire.cite import bibtex as bibtex_entry
from paperwire.ingest.export import csl_item
from paperwire.ingest.hf_daily import parse, parse_items
from paperwire.ingest.load import load
from paperwire.models import Paper, as_reader_record, merge_papers
from support import make_site

DATA = Path(__file__).parent / "data"
RICH = DATA / "hf_daily_papers_rich.json"
KEY = "2602.23229"
ATOM = "{http://www.w3.org/2005/Atom}"
T1 = datetime(2026, 3, 6, 4, 0, tzinfo=UTC)
T2 = datetime(2026, 3, 9, 4, 0, tzinfo=UTC)


def _recorded(read_at: datetime = T1) -> Paper:
    items = [i for i in parse_items(RICH.read_bytes()) if not isinstance(i, Exception)]
    papers = [i.to_paper(read_at) for i in items if hasattr(i, "to_paper")]
    assert len(papers) == 1
    return papers[0]


def test_the_recorded_item_keeps_every_field_with_its_source_and_time():
    paper = _recorded()
    extras = paper.extras
    assert upstream.value(extras, upstream.SUMMARY).startswith("Large Multimodal Models demon")
    assert "in-context learning" in upstream.value(extras, upstream.KEYWORDS)
    assert upstream.value(extras, upstream.ORGANIZATION) == {
        "name": "MHUGLab",
        "fullname": "Multimedia and Human Understanding Group",
    }
    assert upstream.value(extras, upstream.PROJECT_PAGE) == "https://circle-lmm.github.io/"
    assert upstream.value(extras, upstream.CODE) == [
        {"url": "https://github.com/marco-garosi/CIRCLE", "stars": 9}
    ]
    assert upstream.value(extras, upstream.SUBMITTER) == "marco-garosi"
    assert {e.source for e in extras.values()} == {"hf-daily"}
    assert {e.read_at for e in extras.values()} == {"2026-03-06T04:00:00Z"}
    assert paper.code_urls == ["https://github.com/marco-garosi/CIRCLE"]


def test_linked_models_datasets_and_spaces_where_the_api_gives_them():
    # The paper API's shape (numTotalModels + linkedModels[].id); the daily list omits it.
    item = json.loads(RICH.read_text())[0]
    item["paper"] |= {
        "numTotalModels": 3,
        "linkedModels": [{"id": "org/model-a"}, {"id": "bad id with spaces"}],
        "numTotalDatasets": 0,
    }
    (paper,) = [p for p in parse(json.dumps([item]).encode()) if isinstance(p, Paper)]
    assert upstream.value(paper.extras, upstream.MODELS) == {"count": 3, "ids": ["org/model-a"]}
    assert upstream.value(paper.extras, upstream.DATASETS) == {"count": 0, "ids": []}
    assert upstream.value(paper.extras, upstream.SPACES) is None


def test_a_later_trusted_read_updates_a_field_and_the_same_read_changes_nothing(store):
    load(store, [_recorded(T1)])
    again = store.upsert_papers([_recorded(T2)])
    assert again.unchanged == 1  # same values, later read: nothing rewritten
    assert store.get_paper(KEY).extras[upstream.CODE].read_at == "2026-03-06T04:00:00Z"
    later = _recorded(T2)
    later.extras[upstream.CODE] = upstream.make(
        "hf-daily", T2, code=[{"url": "https://github.com/marco-garosi/CIRCLE", "stars": 40}]
    )[upstream.CODE]
    store.upsert_papers([later])
    stored = store.get_paper(KEY)
    assert upstream.value(stored.extras, upstream.CODE)[0]["stars"] == 40
    assert stored.extras[upstream.CODE].read_at == "2026-03-09T04:00:00Z"
    # An older read arriving late does not undo the newer one.
    store.upsert_papers([_recorded(T1)])
    assert upstream.value(store.get_paper(KEY).extras, upstream.CODE)[0]["stars"] == 40


def test_a_readers_record_never_sets_or_changes_an_upstream_field(store):
    load(store, [_recorded()])
    forged = _recorded(T2)
    forged.extras = upstream.make(
        "hf-daily",
        T2,
        summary="Buy cheap watches",
        code=[{"url": "https://github.com/evil/repo", "stars": 10**9}],
    )
    assert as_reader_record(forged).extras == {}
    store.upsert_papers([forged], provenance="reader")
    stored = store.get_paper(KEY)
    assert upstream.value(stored.extras, upstream.SUMMARY).startswith("Large Multimodal")
    assert upstream.value(stored.extras, upstream.CODE)[0]["stars"] == 9
    # A reader's record of a paper nobody else sent keeps no upstream field either.
    alone = Paper(title="Only a reader has this", extras=forged.extras)
    store.upsert_papers([alone], provenance="reader")
    assert store.get_paper(alone.key).extras == {}
    # Confirming it by a trusted record takes the trusted record's fields only.
    assert merge_papers(as_reader_record(alone), Paper(title=alone.title)).extras == {}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(upstream.FIELDS), raw=json_values)
def test_any_upstream_value_is_cleaned_or_dropped_never_raises(name, raw):
    made = upstream.make("hf-daily", T1, **{name: raw})
    # What is kept survives the store's JSON form unchanged.
    assert upstream.from_json(json.loads(json.dumps(upstream.to_json(made)))) == made
    for entry in made.values():
        if name == upstream.PROJECT_PAGE:
            assert entry.value.startswith(("http://", "https://"))


def test_exports_carry_code_project_page_and_keywords():
    paper = _recorded()
    item = csl_item(paper)
    assert "Code: https://github.com/marco-garosi/CIRCLE" in item["note"]
    assert "Project page: https://circle-lmm.github.io/" in item["note"]
    assert "in-context learning" in item["keyword"]
    entry = bibtex_entry(paper)
    assert "note = {Code: https://github.com/marco-garosi/CIRCLE" in entry


def _listed(site) -> None:
    load(site.store, [_recorded()])
    site.store.submit_many([KEY], site.clock.now.date(), site.clock.now)


def test_every_field_on_the_page_in_the_api_and_in_the_atom_entry(site):
    _listed(site)
    page = site.client.get(f"/papers/{KEY}").text
    assert "TL;DR" in page and "Large Multimodal Models demonstrate superior" in page
    assert 'href="/topics/in-context-learning"' in page
    assert 'href="https://github.com/marco-garosi/CIRCLE"' in page and "★ 9 stars" in page
    assert 'href="https://circle-lmm.github.io/"' in page
    assert "Multimedia and Human Understanding Group" in page
    assert 'href="/organizations/MHUGLab"' in page
    assert "marco-garosi" in page
    assert "Hugging Face, read 2026-03-06T04:00:00Z" in page

    card = site.client.get("/daily").text
    assert "Large Multimodal Models demonstrate superior" in card
    assert "★ 9" in card

    api = site.client.get(f"/api/v1/papers/{KEY}").json()["upstream"]
    assert api["summary"].startswith("Large Multimodal Models demonstrate")
    assert "zero-shot classification" in api["keywords"]
    assert api["organization"]["fullname"] == "Multimedia and Human Understanding Group"
    assert api["project_page"] == "https://circle-lmm.github.io/"
    assert api["code"] == [{"url": "https://github.com/marco-garosi/CIRCLE", "stars": 9}]
    assert api["stars"] == 9
    assert api["submitter"] == "marco-garosi"
    assert api["provenance"]["summary"] == {
        "source": "hf-daily",
        "read_at": "2026-03-06T04:00:00Z",
    }

    feed = ET.fromstring(site.client.get("/feeds/daily.atom").content)
    (entry,) = [e for e in feed.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}id", "").endswith(KEY)]
    related = {link.get("href"): link.get("title") for link in entry.iter(f"{ATOM}link")}
    assert related["https://github.com/marco-garosi/CIRCLE"] == "Code (9 stars)"
    assert related["https://circle-lmm.github.io/"] == "Project page"
    terms = {c.get("term") for c in entry.iter(f"{ATOM}category")}
    assert "in-context-learning" in terms
    summary = entry.findtext(f"{ATOM}summary", "")
    assert "TL;DR:" in summary and "Large Multimodal Models demonstrate" in summary
    assert "Multimedia and Human Understanding Group" in summary


def test_the_with_code_tab_lists_papers_with_code_most_stars_first(site):
    _listed(site)
    page = site.client.get(f"/daily/{site.clock.now.date().isoformat()}", params={"sort": "code"})
    assert page.status_code == 200
    assert 'aria-current="true">with code</a>' in page.text
    api = site.client.get("/api/v1/daily", params={"sort": "code"}).json()
    keys = [p["key"] for p in api["data"]]
    assert keys and keys[0] == KEY  # the only one with known stars comes first
    listed = {p.key: p for p in (site.store.get_paper(k) for k in keys)}
    assert all(p is not None and p.code_urls for p in listed.values())
    assert api["total"] == 67  # the recorded paper and the sample's 66 with a code link
    assert site.client.get("/api/v1/daily").json()["total"] > 67  # no code: left out


def test_sort_stars_puts_papers_by_their_code_stars_first(site):
    _listed(site)
    other = Paper(
        title="Classification with more stars",
        abstract="A classification method with code.",
        arxiv_id="2603.00001",
        code_urls=["https://github.com/example/more"],
        extras=upstream.make(
            "hf-daily", T1, code=[{"url": "https://github.com/example/more", "stars": 50}]
        ),
    )
    load(site.store, [other])
    found = site.client.get(
        "/api/v1/search", params={"q": "classification sort:stars", "mode": "lexical"}
    ).json()["data"]
    keys = [h["paper"]["key"] for h in found]
    assert keys[:2] == ["2603.00001", KEY]  # 50 stars, 9 stars, then the rest by rank
    plain = site.client.get(
        "/api/v1/search", params={"q": "classification", "mode": "lexical"}
    ).json()["data"]
    assert {h["paper"]["key"] for h in plain} >= {"2603.00001", KEY}
    bad = site.client.get("/api/v1/search", params={"q": "x sort:upvotes"})
    assert bad.status_code == 400 and "sort:upvotes" in bad.text


def test_a_reader_hides_and_shows_tldrs_on_cards_without_script(tmp_path):
    """The TL;DR toggle is a link that sets a cookie (no JavaScript); the cached anonymous
    feed keeps the two forms apart (the preference is part of the page cache's key)."""
    site = make_site(tmp_path, page_cache_seconds=600)
    _listed(site)
    summary = "Large Multimodal Models demonstrate superior"
    day = f"/daily/{site.clock.now.date().isoformat()}"
    with site.client as reader, TestClient(site.client.app) as other:
        shown = reader.get(day).text
        assert summary in shown and '<span class="tldr">' in shown
        assert 'href="/prefs/tldr?show=off&amp;next=' in shown
        off = reader.get("/prefs/tldr", params={"show": "off", "next": day}, follow_redirects=False)
        assert off.status_code == 303 and off.headers["location"] == day
        assert (
            "pw_tldr=off" in off.headers["set-cookie"] and "HttpOnly" in off.headers["set-cookie"]
        )
        hidden = reader.get(day).text
        assert '<span class="tldr">' not in hidden and "★ 9" in hidden  # the rest stays
        assert reader.get(f"/papers/{KEY}").text.count(summary) >= 1  # the paper page keeps it
        # Another anonymous visitor still gets the TL;DRs (not the hidden page from cache).
        assert '<span class="tldr">' in other.get(day).text
        assert site.services.pages.builds >= 2
        # And back on: the cached shown page again.
        reader.get("/prefs/tldr", params={"show": "on", "next": day})
        assert '<span class="tldr">' in reader.get(day).text
        # An open redirect is not possible through `next`.
        away = reader.get(
            "/prefs/tldr", params={"show": "off", "next": "https://evil.example/"},
            follow_redirects=False,
        )  # fmt: skip
        assert not away.headers["location"].startswith("https://evil")
        assert reader.get("/prefs/tldr", params={"show": "maybe"}).status_code in {400, 422}
    site.store.close()
