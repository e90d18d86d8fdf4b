from datetime import date

from paperwire.ingest import bibtex, jsonl
from paperwire.ingest.common import RecordError
from paperwire.ingest.load import load
from paperwire.models import Author, Paper


def test_bibtex_entries(fixtures):
    items = list(bibtex.parse((fixtures / "sample.bib").read_bytes(), "refs.bib"))
    assert all(isinstance(i, Paper) for i in items), items
    attention, target, balazs = items
    assert attention.arxiv_id == "1706.03762" and attention.categories == ["cs.CL"]
    assert len(attention.authors) == 8 and attention.published == date(2017, 1, 1)
    assert target.authors[0].name == "Jonathan Wilder Lavington"
    assert target.authors[4].name == "Nicolas Le Roux"
    assert target.published == date(2023, 7, 1)
    assert target.journal_ref == "Advances in Neural Information Processing Systems (workshop)"
    assert target.abstract.endswith("it is expensive to compute the gradient.")
    assert balazs.arxiv_id == "0704.0001" and balazs.authors[0].name == "C. Balázs"
    assert (
        balazs.title
        == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )


def test_bibtex_broken_entry_reported_and_rest_imported():
    text = (
        b"@article{good1, title={First}, year=2020}\n"
        b"@article{broken, title={Never closed, year=2020\n"
        b'@article{good2, title = "Second", author = {A. B and C, D}}\n'
        b"@book{notitle, year = 1999}\n"
    )
    items = list(bibtex.parse(text, "refs.bib"))
    assert [i.title for i in items if isinstance(i, Paper)] == ["First", "Second"]
    errors = [i for i in items if isinstance(i, RecordError)]
    assert len(errors) == 2
    assert "entry at line 2" in errors[0].location
    assert "no title" in errors[1].message


def test_jsonl_round_trip_loses_nothing(store):
    paper = Paper(
        title="A <b>bold</b> title",
        abstract="text",
        arxiv_id="2401.00001",
        authors=[Author("Ada Lovelace", "Analytical Engines Ltd")],
        published=date(2024, 1, 2),
        categories=["cs.LG"],
        doi="10.1/x",
        code_urls=["https://github.com/a/b"],
        upvotes=7,
        sources=["bibtex"],
        journal_ref="J",
        comments="c",
    )
    line = jsonl.dumps(paper)
    (back,) = list(jsonl.parse(line.encode(), "export.jsonl"))
    assert back == paper
    load(store, [paper])
    assert store.get_paper("2401.00001") == paper


def test_jsonl_field_errors_name_the_field():
    items = list(
        jsonl.parse(
            b'{"format":"paperwire","title":"x","upvotes":-1}\n'
            b'{"format":"paperwire","title":"y","published":"yesterday"}\n',
            "e.jsonl",
        )
    )
    assert "upvotes" in items[0].message and items[0].location == "line 1"
    assert "published" in items[1].message and items[1].location == "line 2"
