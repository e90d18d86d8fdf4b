from datetime import date

import pytest

from paperwire.ingest import detect_format, listing
from paperwire.ingest.common import ParseError, RecordError
from paperwire.ingest.load import load

TODAY = date(2026, 11, 23)


def _papers(data: bytes, today: date = TODAY):
    return [
        p for p in listing.parse(data, "page.txt", today=today) if not isinstance(p, RecordError)
    ]


def test_all_five_seed_pages_import_as_245_distinct_papers(store, seed_pages):
    for page in seed_pages:
        report = load(store, listing.parse(page.read_bytes(), page.name, today=TODAY))
        assert report.error_count == 0
    assert store.count_papers() == 245
    # importing again changes nothing
    for page in seed_pages:
        report = load(store, listing.parse(page.read_bytes(), page.name, today=TODAY))
        assert report.papers.inserted == 0
    assert store.count_papers() == 245


def test_entry_fields_are_read(fixtures):
    papers = _papers((fixtures / "listing_002.txt").read_bytes())
    first = papers[0]
    assert first.title == "Exploring Transformers for Open-world Instance Segmentation"
    assert first.abstract.startswith("Open-world instance segmentation is a rising task")
    assert first.author_count == 6
    assert first.published == date(2023, 8, 8)
    assert first.upvotes == 0
    no_meta = papers[1]
    assert no_meta.title == "Agentic Entropy-Balanced Policy Optimization"
    assert no_meta.author_count is None and no_meta.published is None
    # "Oct 24 1": a date without a year, then one upvote. The page says "Nov 25", which,
    # imported on 2026-11-23, is 2025-11-25; so Oct 24 is 2025-10-24.
    flow = next(p for p in papers if p.title.startswith("FlowOpt"))
    assert flow.published == date(2025, 10, 24) and flow.upvotes == 1
    ssl = next(p for p in papers if p.title.startswith("Understanding self-supervised"))
    assert ssl.upvotes == 1 and ssl.code_urls


def test_year_less_dates_resolve_against_the_page_date():
    assert listing.resolve_day(10, 24, None, date(2025, 11, 25)) == date(2025, 10, 24)
    assert listing.resolve_day(12, 1, None, date(2025, 11, 25)) == date(2024, 12, 1)
    assert listing.resolve_day(2, 29, None, date(2025, 11, 25)) == date(2024, 2, 29)
    assert listing.resolve_day(2, 30, None, date(2025, 11, 25)) is None


def test_page_date_falls_back_to_import_day():
    page = b"Some Title\n\nSome abstract text that is long enough.\n\n  \xe2\x80\xa2 2 authors\n\xc2\xb7\nMar 3\n"
    assert _papers(page, today=date(2026, 2, 1))[0].published == date(2025, 3, 3)


def test_truncated_page_imports_what_is_whole_and_reports_the_rest(fixtures):
    data = (fixtures / "listing_002.txt").read_bytes()
    cut = data[: data.index(b"Sequential Gradient Coding") + 30]
    items = list(listing.parse(cut, "cut.txt", today=TODAY))
    papers = [i for i in items if not isinstance(i, RecordError)]
    errors = [i for i in items if isinstance(i, RecordError)]
    assert [p.title[:8] for p in papers] == ["Explorin", "Agentic ", "Understa", "FlowOpt:"]
    assert len(errors) == 1 and "no abstract" in errors[0].message and "cut.txt" in str(errors[0])


def test_a_badly_encoded_line_costs_only_its_entry(fixtures):
    data = (fixtures / "listing_002.txt").read_bytes()
    bad = data.replace(b"Agentic Entropy", b"Agentic \xff\xfeEntropy", 1)
    items = list(listing.parse(bad, "bad.txt", today=TODAY))
    errors = [i for i in items if isinstance(i, RecordError)]
    assert any("UTF-8" in e.message for e in errors)
    assert len([i for i in items if not isinstance(i, RecordError)]) == len(_papers(data)) - 1


def test_detection_and_refusals(fixtures):
    assert detect_format((fixtures / "listing_002.txt").read_bytes()[:4096], "x") == "listing"
    with pytest.raises(ParseError, match="empty"):
        list(listing.parse(b"   \n\n", "empty.txt"))
    with pytest.raises(ParseError, match="binary"):
        list(listing.parse(b"\x00\x01\x02PK\x03\x04", "zip.txt"))
