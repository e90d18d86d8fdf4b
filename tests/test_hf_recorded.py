"""The Hugging Face reader on six whole recorded daily-papers responses (138 papers,
tests/fixtures/hf_daily_recorded/, see its SOURCE.md): every paper comes out, and the
fields upstream gives (TL;DR, keywords, organization, GitHub repository and stars,
project page, submitter, upvotes, authors) are kept as the response has them, through
the format detection and gzip of an ordinary import and a real store on both engines.

The oracle reads the raw JSON directly (the API's own field names), not the reader."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from paperwire import upstream
from paperwire.ingest import parse_any
from paperwire.ingest.load import load
from paperwire.models import Paper

DAYS = sorted((Path(__file__).parent / "fixtures" / "hf_daily_recorded").glob("*.json.gz"))


def _raw(path: Path) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(gzip.decompress(path.read_bytes()))
    return items


def _ws(text: str) -> str:
    return " ".join(text.split())


def _expected(item: dict[str, Any]) -> dict[str, Any]:
    """What a reader should keep of one raw item, read straight from the API's fields."""
    paper = item["paper"]
    org = paper.get("organization") or item.get("organization")
    code = (
        [{"url": paper["githubRepo"], "stars": paper.get("githubStars")}]
        if paper.get("githubRepo")
        else None
    )
    return {
        "key": paper["id"],
        "title": _ws(paper["title"]),
        "abstract": _ws(paper["summary"]),
        "authors": [_ws(a["name"]) for a in paper["authors"]],
        "upvotes": paper["upvotes"],
        upstream.SUMMARY: _ws(paper["ai_summary"]) if paper.get("ai_summary") else None,
        # Kept once each, in the order given (one recorded list names "pre-training" twice).
        upstream.KEYWORDS: list(dict.fromkeys(map(_ws, paper["ai_keywords"])))
        if paper.get("ai_keywords")
        else None,
        upstream.ORGANIZATION: {"name": org["name"], "fullname": _ws(org["fullname"])}
        if org
        else None,
        upstream.PROJECT_PAGE: paper.get("projectPage") or None,
        upstream.CODE: code,
        upstream.SUBMITTER: (paper.get("submittedOnDailyBy") or {}).get("user"),
    }


def _kept(paper: Paper) -> dict[str, Any]:
    fields = (
        upstream.SUMMARY,
        upstream.KEYWORDS,
        upstream.ORGANIZATION,
        upstream.PROJECT_PAGE,
        upstream.CODE,
        upstream.SUBMITTER,
    )
    return {
        "key": paper.key,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": [a.name for a in paper.authors],
        "upvotes": paper.upvotes,
        **{name: upstream.value(paper.extras, name) for name in fields},
    }


def _read(path: Path) -> list[Paper]:
    out = list(parse_any(path.read_bytes(), path.name))
    problems = [p for p in out if not isinstance(p, Paper)]
    assert problems == [], problems
    return [p for p in out if isinstance(p, Paper)]


def test_the_fixture_is_what_the_keyphrase_figure_needs():
    items = [i for day in DAYS for i in _raw(day)]
    both = [i for i in items if i["paper"].get("summary") and i["paper"].get("ai_keywords")]
    assert (len(DAYS), len(items), len(both)) == (6, 140, 138)
    assert len({i["paper"]["id"] for i in items}) == len(items)


@pytest.mark.parametrize("day", DAYS, ids=lambda p: p.name[:10])
def test_every_recorded_item_is_read_with_what_upstream_gives(day: Path):
    raw = _raw(day)
    papers = _read(day)
    assert [p.key for p in papers] == [i["paper"]["id"] for i in raw]
    for item, paper in zip(raw, papers, strict=True):
        assert _kept(paper) == _expected(item), item["paper"]["id"]
        assert {e.source for e in paper.extras.values()} == {"hf-daily"}
        if item["paper"].get("githubRepo"):
            assert paper.code_urls[0] == item["paper"]["githubRepo"]


def test_the_recorded_fields_are_present_not_just_allowed():
    # The fixture does exercise each field: counted from the raw responses and from the
    # papers read, so a reader that dropped one would show here as well as above.
    papers = [p for day in DAYS for p in _read(day)]

    def having(name: str) -> int:
        return sum(upstream.value(p.extras, name) is not None for p in papers)

    assert having(upstream.SUMMARY) == 138
    assert having(upstream.KEYWORDS) == 138
    assert having(upstream.ORGANIZATION) >= 30
    assert having(upstream.CODE) >= 50
    assert having(upstream.PROJECT_PAGE) >= 30
    assert having(upstream.SUBMITTER) == 140
    assert (
        sum(bool((upstream.value(p.extras, upstream.CODE) or [{}])[0].get("stars")) for p in papers)
        >= 40
    )


def test_a_recorded_day_round_trips_through_a_real_store(store):
    day = next(d for d in DAYS if d.name.startswith("2026-04-01"))
    raw = _raw(day)
    load(store, _read(day))
    for item in raw:
        stored = store.get_paper(item["paper"]["id"])
        assert stored is not None
        assert _kept(stored) == _expected(item)
    # Importing the same response again changes nothing.
    again = store.upsert_papers(_read(day))
    assert again.unchanged == len(raw)
