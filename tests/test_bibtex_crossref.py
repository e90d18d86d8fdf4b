"""BibTeX ``crossref`` (issue 25, defects found by hand): an entry that only cross-
references another entry of the file was refused "has no title" and the import exited 1.
Fields are now inherited as biber does (appendix B of the biblatex manual), in either
order of appearance."""

from __future__ import annotations

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from paperwire.cli import cli
from paperwire.ingest import RecordError, RecordWarning, parse_any
from paperwire.ingest.bibtex import Entry
from paperwire.ingest.crossref import inherit
from paperwire.models import Paper

CHILD = b"""@inproceedings{lovelace1843,
  author = {Ada Lovelace},
  title = {Notes on the Analytical Engine},
  pages = {1--10},
  crossref = {engines1843}
}
"""
PARENT = b"""@proceedings{engines1843,
  booktitle = {Proceedings of the Society of Engines},
  editor = {Charles Babbage},
  year = {1843},
  month = oct,
  doi = {10.5555/engines.1843}
}
"""
CHAPTER = b"""@inbook{chapter3,
  crossref = {thebook},
  chapter = {3}
}
"""
BOOK = b"""@book{thebook,
  title = {The Difference Engine},
  shorttitle = {Engine},
  author = {Charles Babbage},
  year = {1832}
}
"""


def _parsed(data: bytes):
    items = list(parse_any(data, "refs.bib"))
    papers = {p.title: p for p in items if isinstance(p, Paper)}
    return papers, [i for i in items if isinstance(i, RecordError)], items


def test_a_child_inherits_from_its_parent_in_either_order():
    for data in (CHILD + PARENT, PARENT + CHILD):
        papers, errors, _ = _parsed(data)
        assert errors == []
        child = papers["Notes on the Analytical Engine"]
        assert child.journal_ref == "Proceedings of the Society of Engines"
        assert child.published is not None and child.published.isoformat() == "1843-10-01"
        assert child.doi == "10.5555/engines.1843"
        # The parent has no title: a container for its children, not a paper, not an error.
        assert list(papers) == ["Notes on the Analytical Engine"]


def test_an_entry_that_only_crossrefs_takes_what_it_lacks():
    for data in (CHAPTER + BOOK, BOOK + CHAPTER):
        _, errors, items = _parsed(data)
        assert errors == []
        chapter = next(p for p in items if isinstance(p, Paper) and p.journal_ref)
        # biber: the book's title is the chapter's booktitle; BibTeX: a missing title is
        # copied too, so the chapter is not refused.
        assert chapter.journal_ref == "The Difference Engine"
        assert chapter.title == "The Difference Engine"
        assert [a.name for a in chapter.authors] == ["Charles Babbage"]


def test_biber_title_mappings():
    def entry(kind, key, **fields):
        return Entry(kind, key, fields, 1, [])

    book = entry("book", "b", title="Big Book", subtitle="Sub", shorttitle="BB", author="X")
    part = inherit(entry("inbook", "p", title="Part", crossref="b"), book)
    assert part.fields["booktitle"] == "Big Book" and part.fields["booksubtitle"] == "Sub"
    assert part.fields["bookauthor"] == "X" and part.fields["title"] == "Part"
    assert "shorttitle" not in part.fields and "crossref" in part.fields
    journal = entry("periodical", "j", title="Journal of Engines", year="1900")
    article = inherit(entry("article", "a", title="An Article", crossref="j"), journal)
    assert article.fields["journaltitle"] == "Journal of Engines"
    assert article.fields["year"] == "1900"
    volumes = entry("mvbook", "m", title="Collected Works")
    assert inherit(entry("book", "v", title="Vol 1"), volumes).fields["maintitle"] == (
        "Collected Works"
    )
    misc = inherit(entry("misc", "c", crossref="o"), entry("misc", "o", title="Other", ids="z"))
    assert misc.fields["title"] == "Other" and "ids" not in misc.fields


def test_the_cli_import_succeeds(tmp_path):
    path = tmp_path / "refs.bib"
    path.write_bytes(CHILD + PARENT + CHAPTER + BOOK)
    result = CliRunner().invoke(
        cli, ["--db", f"sqlite:///{tmp_path / 'p.db'}", "import", "-q", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output


def test_a_crossref_to_no_entry_is_a_warning_and_an_untitled_entry_still_an_error():
    orphan = CHILD.replace(b"engines1843", b"missing")
    untitled = b"@misc{nothing, year = {2000}}\n"
    _, errors, items = _parsed(orphan + untitled)
    warnings = [i for i in items if isinstance(i, RecordWarning)]
    assert any("'missing' names no entry of this file" in w.message for w in warnings)
    assert [e.message for e in errors] == ["entry 'nothing' has no title"]


@settings(max_examples=40, deadline=None)
@given(st.permutations([CHILD, PARENT, CHAPTER, BOOK]))
def test_the_order_of_entries_does_not_change_the_papers(order):
    papers, errors, _ = _parsed(b"".join(order))
    assert errors == []
    expected, _, _ = _parsed(CHILD + PARENT + CHAPTER + BOOK)
    assert {t: (p.journal_ref, p.published) for t, p in papers.items()} == {
        t: (p.journal_ref, p.published) for t, p in expected.items()
    }
