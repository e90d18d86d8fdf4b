"""An import's report adds up (issue 25, defects found by hand): read = new + merged +
unchanged + deleted + skipped + errors. One OAI file reported 987 read, 963 new, 0 merged,
0 unchanged, 1 error: records repeated within a batch were folded into one and counted
nowhere, and broken records were not counted as read."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperwire.ingest import Deleted, RecordError, parse_any
from paperwire.ingest.load import ImportReport, load
from paperwire.models import Paper
from paperwire.store.sqlite import SQLiteStore

DATA = Path(__file__).parent / "data"


def _oai_page(ids: list[str], broken: int) -> bytes:
    records = "".join(
        f"<record><header><identifier>oai:arXiv.org:{arxiv_id}</identifier></header>"
        f"<metadata><arXiv><id>{arxiv_id}</id><title>Paper {arxiv_id}</title>"
        f"<abstract>About {arxiv_id}.</abstract></arXiv></metadata></record>"
        for arxiv_id in ids
    )
    records += "<record><header><identifier>nonsense</identifier></header></record>" * broken
    return (
        '<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        f"<ListRecords>{records}</ListRecords></OAI-PMH>"
    ).encode()


def test_an_oai_file_with_repeated_records_reports_counts_that_add_up(tmp_path):
    """The shape of the file from the report: 987 records, 23 of them repeats, 1 broken."""
    ids = [f"2401.{n:05d}" for n in range(963)] + [f"2401.{n:05d}" for n in range(23)]
    store = SQLiteStore(f"sqlite:///{tmp_path / 'p.db'}")
    report = load(store, parse_any(_oai_page(ids, 1), "page.xml"))
    counts = report.papers
    assert report.read == 987
    assert (counts.inserted, counts.updated, counts.unchanged) == (963, 0, 0)
    assert report.skipped == 23 and report.error_count == 1
    assert report.read == report.accounted
    store.close()


def _paper(n: int, with_id: bool) -> Paper:
    return Paper(
        title=f"Paper number {n}",
        abstract=f"Abstract {n}.",
        arxiv_id=f"2301.{n:05d}" if with_id else None,
    )


_items = st.lists(
    st.one_of(
        st.tuples(st.just("paper"), st.integers(0, 12), st.booleans()),
        st.tuples(st.just("error"), st.integers(0, 0), st.booleans()),
        st.tuples(st.just("deleted"), st.integers(0, 12), st.booleans()),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stored=_items, incoming=_items, batch_size=st.integers(1, 7))
def test_the_report_always_adds_up(stored, incoming, batch_size):
    """Any mix of new papers, repeats (by arXiv id or title), papers already stored,
    broken records and deletions (of stored papers or absent ones), in batches of any
    size: every record read is counted exactly once."""

    def parsed(spec):
        for kind, n, flag in spec:
            if kind == "paper":
                yield _paper(n, flag)
            elif kind == "error":
                yield RecordError("mix", f"record {n}", "broken")
            else:
                yield Deleted(f"2301.{n:05d}")

    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(f"sqlite:///{Path(folder) / 'p.db'}")
        try:
            first = load(store, parsed(stored), batch_size=batch_size)
            assert first.read == len(stored) == first.accounted
            report = load(store, parsed(incoming), batch_size=batch_size)
            assert report.read == len(incoming)
            assert report.read == report.accounted, report
            assert report.skipped >= 0
            total = ImportReport()
            total.add(first)
            total.add(report)
            assert total.read == total.accounted
        finally:
            store.close()
