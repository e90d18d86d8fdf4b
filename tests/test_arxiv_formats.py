"""The arXiv API (Atom), OAI-PMH (arXiv and arXivRaw), and the metadata snapshot."""

from datetime import date

import pytest

from paperwire.ingest import arxiv_atom, detect_format, oai_pmh, parse_any, snapshot
from paperwire.ingest.common import Deleted, ParseError, RecordError
from paperwire.models import Paper


def test_atom_entries(fixtures):
    items = list(arxiv_atom.parse((fixtures / "arxiv/api_page1.xml").read_bytes(), "page1"))
    assert all(isinstance(i, Paper) for i in items)
    first, second = items
    assert first.arxiv_id == "2302.02607"
    assert first.title == "Target-based Surrogates for Stochastic Optimization"
    assert first.authors[0].name == "Jonathan Wilder Lavington"
    assert first.authors[0].affiliation == "University of British Columbia"
    assert first.published == date(2023, 2, 6) and first.updated == date(2023, 6, 15)
    assert first.categories == ["cs.LG", "math.OC"]
    assert first.code_urls == [
        "https://github.com/WilderLavington/Target-Based-Surrogates-For-Stochastic-Optimization"
    ]
    assert "\n" not in first.abstract
    assert second.doi == "10.48550/arXiv.1706.03762"
    assert second.journal_ref.startswith("Advances in Neural")
    info = arxiv_atom.page_info((fixtures / "arxiv/api_page1.xml").read_bytes())
    assert (info.total, info.start, info.per_page) == (3, 0, 2)


def test_atom_error_entry_is_an_error_not_a_paper(fixtures):
    items = list(arxiv_atom.parse((fixtures / "arxiv/api_error.xml").read_bytes(), "err"))
    assert len(items) == 1 and arxiv_atom.is_error(items[0])
    assert "incorrect id format" in items[0].message


def test_oai_arxiv_format_with_resumption_token(fixtures):
    body = (fixtures / "arxiv/oai_arxiv_page1.xml").read_bytes()
    items = list(oai_pmh.parse(body, "oai"))
    assert [i.arxiv_id for i in items] == ["2302.02607", "0704.0001"]
    physics = items[1]
    assert physics.authors[0].name == "C. Balázs" and physics.authors[0].affiliation == "Argonne"
    assert physics.published == date(2007, 4, 2) and physics.doi == "10.1103/PhysRevD.76.013009"
    assert physics.title.endswith("Tevatron and LHC energies")
    state = oai_pmh.page_state(body)
    assert state.token == "6960524|1001" and state.complete_size == 4 and state.cursor == 0


def test_oai_deleted_records_and_last_page(fixtures):
    body = (fixtures / "arxiv/oai_arxiv_page2.xml").read_bytes()
    items = list(oai_pmh.parse(body, "oai"))
    assert items[0] == Deleted("0704.0001")
    assert items[1].arxiv_id == "math/0309136" and items[1].authors[1].name == "Zoltán Szabó"
    assert oai_pmh.page_state(body).token is None


def test_oai_arxivraw_format(fixtures):
    items = list(oai_pmh.parse((fixtures / "arxiv/oai_arxivraw.xml").read_bytes(), "raw"))
    first, second = items
    assert [a.name for a in first.authors] == [
        "C. Balázs",
        "E. L. Berger",
        "P. M. Nadolsky",
        "C.-P. Yuan",
    ]
    assert first.published == date(2007, 4, 2) and first.updated == date(2007, 7, 24)
    assert [(a.name, a.affiliation) for a in second.authors] == [
        ("Ileana Streinu", None),
        ("Louis Theran", "U. Mass. Amherst"),
    ]
    assert second.categories == ["math.CO", "cs.CG"]


def test_oai_error_is_read(fixtures):
    state = oai_pmh.page_state((fixtures / "arxiv/oai_no_records.xml").read_bytes())
    assert state.error_code == "noRecordsMatch" and state.token is None


def test_snapshot_lines(fixtures):
    items = list(snapshot.parse((fixtures / "snapshot_sample.jsonl").read_bytes(), "snap"))
    assert [p.arxiv_id for p in items] == ["0704.0001", "2302.02607", "math/0309136"]
    assert items[0].authors[0].name == "C. Balázs"
    assert items[0].published == date(2007, 4, 2) and items[0].updated == date(2007, 7, 24)
    assert items[1].code_urls == ["https://github.com/example/tbs"]
    assert items[2].categories == ["math.GT", "math.SG"]


def test_snapshot_bad_lines_are_reported_by_number():
    data = (
        b'{"id": "2302.02607", "title": "Good", "abstract": "a", "versions": []}\n'
        b'{"id": "2302.02608", "title": \n'
        b"[1, 2]\n"
        b'{"id": "nope", "title": "x", "versions": []}\n'
        b'{"id": "2302.02609", "title": "Also good", "versions": []}\n'
    )
    items = list(snapshot.parse(data, "dump.jsonl"))
    assert [i.title for i in items if isinstance(i, Paper)] == ["Good", "Also good"]
    errors = [str(i) for i in items if isinstance(i, RecordError)]
    assert errors[0].startswith("dump.jsonl: line 2") and "invalid JSON" in errors[0]
    assert errors[1].startswith("dump.jsonl: line 3") and "JSON object" in errors[1]
    assert errors[2].startswith("dump.jsonl: line 4") and "not an arXiv id" in errors[2]


def test_detection_of_every_format(fixtures):
    assert detect_format((fixtures / "arxiv/api_page1.xml").read_bytes(), "x") == "arxiv-api"
    assert detect_format((fixtures / "arxiv/oai_arxivraw.xml").read_bytes(), "x") == "oai-pmh"
    assert detect_format((fixtures / "snapshot_sample.jsonl").read_bytes(), "x") == "arxiv-snapshot"
    assert detect_format((fixtures / "sample.bib").read_bytes(), "x") == "bibtex"
    with pytest.raises(ParseError, match="unknown format"):
        detect_format(b"just some words", "notes.txt")
    with pytest.raises(ParseError, match="neither"):
        detect_format(b"<html><body>hi</body></html>", "page.html")


def test_same_paper_from_four_sources_is_one_paper(store, fixtures):
    from paperwire.ingest.load import load

    for name in [
        "arxiv/api_page1.xml",
        "arxiv/oai_arxiv_page1.xml",
        "snapshot_sample.jsonl",
        "sample.bib",
    ]:
        load(store, parse_any((fixtures / name).read_bytes(), name))
    paper = store.get_paper("2302.02607")
    assert paper is not None
    assert set(paper.sources) == {"arxiv-api", "oai-pmh", "arxiv-snapshot", "bibtex"}
    assert paper.authors[0].affiliation == "University of British Columbia"
    # 2302.02607, 1706.03762, 0704.0001, math/0309136: nothing doubled
    assert store.count_papers() == 4


def test_snapshot_author_entries_of_every_length():
    """authors_parsed entries are [last, first, suffix, affiliation...]: the name is
    "first last suffix" with blanks left out, affiliations joined; an entry with no name
    is dropped (the written-out form of issue 30 keeps this)."""
    from paperwire.ingest.snapshot import _authors
    from paperwire.models import Author

    parsed = [
        ["Smith", "Jane", "Jr.", "MIT", "", "CMU"],
        ["Curie"],
        ["", "Ada"],
        [" ", " ", "III"],
        ['M\\"uller', "K.", ""],
        ["", "", ""],
        [],
        "not a list",
        [42, None],
    ]
    assert _authors({"authors_parsed": parsed}) == [
        Author("Jane Smith Jr.", "MIT, CMU"),
        Author("Curie"),
        Author("Ada"),
        Author("III"),
        Author("K. Müller"),
        Author("None 42"),
    ]
