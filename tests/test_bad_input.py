"""Malformed, hostile and huge input: a clear error naming the input and the place, the
good records around it imported, nothing stored lost."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperwire.ingest import FORMATS, parse_any
from paperwire.ingest.common import Deleted, ParseError, RecordError, RecordWarning
from paperwire.ingest.load import load
from paperwire.models import Paper

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2302.02607</id>
<title>&lol3;</title></entry></feed>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record><header>
<identifier>oai:arXiv.org:2302.02607</identifier></header><metadata>
<arXiv xmlns="http://arxiv.org/OAI/arXiv/"><title>&xxe;</title></arXiv></metadata></record>
</ListRecords></OAI-PMH>"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, XXE])
def test_hostile_xml_is_refused(document):
    with pytest.raises(ParseError, match="unsafe XML|refused"):
        list(parse_any(document, "hostile.xml"))


def test_truncated_oai_page_keeps_the_records_before_the_break(fixtures):
    body = (fixtures / "arxiv/oai_arxiv_page1.xml").read_bytes()
    cut = body[: body.index(b"<identifier>oai:arXiv.org:0704.0001")]
    items = list(parse_any(cut, "cut.xml"))
    assert isinstance(items[0], Paper) and items[0].arxiv_id == "2302.02607"
    assert isinstance(items[-1], RecordError) and "line" in items[-1].location


def test_not_xml_at_all():
    with pytest.raises(ParseError, match="not well-formed XML"):
        list(parse_any(b"<<<>>>", "junk.xml", "oai-pmh"))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_empty_and_binary_inputs_are_named_errors(fmt):
    with pytest.raises(ParseError, match="empty.dat"):
        list(parse_any(b"", "empty.dat", fmt))
    with pytest.raises(ParseError, match="binary"):
        list(parse_any(b"\x7fELF\x02\x01\x01\x00\x00\x00\x00" * 10, "a.out", fmt))


def test_wrong_encoding_reports_the_line():
    data = (
        b'{"format":"paperwire","title":"fine"}\n'
        + '{"format":"paperwire","title":"caf\xe9"}\n'.encode("latin-1")
        + b'{"format":"paperwire","title":"also fine"}\n'
    )
    items = list(parse_any(data, "latin1.jsonl"))
    assert [i.title for i in items if isinstance(i, Paper)] == ["fine", "also fine"]
    (error,) = [i for i in items if isinstance(i, RecordError)]
    assert error.location.startswith("line 2") and "UTF-8" in error.message


def test_utf16_with_bom_is_read():
    text = "@misc{x, title={Über Graphen}, year=2020}\n"
    (paper,) = list(parse_any(text.encode("utf-16"), "utf16.bib"))
    assert paper.title == "Über Graphen"


def test_a_100_mb_single_line_is_refused_without_reading_it_whole(tmp_path, store):
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as out:
        out.write(b'{"format":"paperwire","title":"before"}\n')
        out.write(b'{"format":"paperwire","title":"' + b"x" * (100 * 1024 * 1024) + b'"}\n')
        out.write(b'{"format":"paperwire","title":"after"}\n')
    import tracemalloc

    tracemalloc.start()
    with path.open("rb") as stream:
        report = load(store, parse_any(stream, str(path)))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert report.read == 3 and report.error_count == 1
    assert "line 2" in str(report.errors[0]) and "exceeds" in report.errors[0].message
    assert peak < 30 * 1024 * 1024
    assert {p.title for p in store.iter_papers()} == {"before", "after"}


def test_a_failed_import_loses_nothing_already_stored(store, fixtures):
    load(store, parse_any((fixtures / "snapshot_sample.jsonl").read_bytes(), "snap"))
    before = list(store.iter_papers())
    with pytest.raises(ParseError):
        list(parse_any(b"\x00\x00garbage", "garbage.bin"))
    load(store, parse_any(b'{"format":"paperwire","title":' + b"[" * 100_000 + b"\n", "deep.jsonl"))
    assert list(store.iter_papers()) == before


def test_deeply_nested_bibtex_is_an_error_not_a_crash():
    items = list(
        parse_any(
            b"@misc{x, title=" + b"{" * 5000 + b"}" * 5000 + b"}\n@misc{y, title={ok}}\n",
            "deep.bib",
            "bibtex",
        )
    )
    assert isinstance(items[0], RecordError) and "nested" in items[0].message
    assert isinstance(items[-1], Paper) and items[-1].title == "ok"


def _check_parse(data: bytes, source: str, fmt: str) -> None:
    try:
        _check(list(parse_any(data, source, fmt)))
    except ParseError as exc:  # the whole input refused (e.g. a NUL byte): named, not a crash
        assert source in str(exc)


def _check(items):
    for item in items:
        assert isinstance(item, Paper | RecordError | RecordWarning | Deleted)
        if isinstance(item, RecordError | RecordWarning):
            assert item.source and item.location and item.message
        else:
            assert isinstance(item, Deleted) or item.title


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=2000))
def test_any_bytes_give_records_errors_or_one_parse_error(fmt, data):
    _check_parse(data, "fuzz.bin", fmt)


_json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
_snapshot_like = st.fixed_dictionaries(
    {"id": st.one_of(st.just("2302.02607"), st.text(max_size=12), st.integers())},
    optional={
        "title": _json_value,
        "abstract": _json_value,
        "authors": _json_value,
        "authors_parsed": _json_value,
        "versions": _json_value,
        "categories": _json_value,
        "update_date": _json_value,
        "doi": _json_value,
    },
)


@settings(max_examples=200, deadline=None)
@given(records=st.lists(_snapshot_like, min_size=1, max_size=5))
def test_snapshot_records_of_any_shape(records):
    data = "\n".join(json.dumps(r) for r in records).encode()
    _check_parse(data, "fuzz.jsonl", "arxiv-snapshot")


@settings(max_examples=200, deadline=None)
@given(title=st.text(min_size=1, max_size=80), abstract=st.text(max_size=200))
def test_listing_pages_with_any_text(title, abstract):
    page = f"byAK and the research community\n\nMar 18\n\n{title}\n\n{abstract}\n\n  • 3 authors\n·\nJan 2, 2024 4\n"
    _check_parse(page.encode(), "fuzz.txt", "listing")


@settings(max_examples=200, deadline=None)
@given(body=st.text(max_size=300))
def test_bibtex_of_any_text(body):
    _check_parse(("@article{k, " + body).encode(), "fuzz.bib", "bibtex")
