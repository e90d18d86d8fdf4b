"""The demo corpus shipped beside the seed sample (src/paperwire/data/demo-*.gz, sources in
data/SOURCES.md): 5,000 real arXiv records that `import --sample` reads with the real
importers, so author search, paper pages and categories have something to show, while the
feed days stay the seed papers'."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from datetime import date
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperwire.cli import cli
from paperwire.config import Settings
from paperwire.deployment import Deployment
from paperwire.deployment.imports import (
    DemoInput,
    ImportOutcome,
    SampleInput,
    demo_files,
    sample_inputs,
)
from paperwire.ingest import detect_format
from support import make_site

DAY = date(2026, 11, 23)
# A seed paper (listing page 001) that is also a record of OAI page 089.
MERGED = "1512.06293"


@pytest.fixture(scope="module")
def imported(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Deployment, ImportOutcome]]:
    """One store holding what `import --sample --list-on DAY` imports."""
    folder = tmp_path_factory.mktemp("demo")
    settings = Settings(database_url=f"sqlite:///{folder / 'd.db'}", cache_dir=str(folder))
    with Deployment(settings) as deployment:
        yield deployment, deployment.import_sources(sample_inputs(True), list_on=DAY)


def test_the_demo_files_are_the_recorded_formats_the_importers_read():
    names = demo_files()
    assert len(names) == 5 and all(n.endswith(".gz") for n in names)
    data = resources.files("paperwire.data")
    formats = [
        detect_format(gzip.decompress(data.joinpath(n).read_bytes())[:4096], n) for n in names
    ]
    assert sorted(formats) == ["arxiv-snapshot", *["oai-pmh"] * 4]
    sources = (Path(str(data)) / "SOURCES.md").read_text()
    assert all(name in sources for name in names)  # each file's source is recorded


def test_sample_imports_the_seed_then_the_demo_with_no_error_or_warning(imported):
    _, outcome = imported
    assert [i.name for i in outcome.inputs] == ["sample corpus", "demo corpus"]
    demo = outcome.inputs[1].report
    assert demo is not None and demo.read == 5000
    assert demo.error_count == 0 and demo.warning_count == 0
    # one seed paper is also a demo record: merged, not doubled
    assert (demo.papers.inserted, demo.papers.updated) == (4999, 1)
    assert outcome.total.read == 5245 and outcome.failed_inputs == 0


def test_the_seed_days_still_list_the_seed_papers_only(imported):
    deployment, outcome = imported
    assert outcome.listed == 245
    assert deployment.store.feed(DAY, DAY)[1] == 245
    assert deployment.store.count_papers() == 5244


def test_a_seed_paper_that_is_a_demo_record_becomes_one_better_paper(imported):
    deployment, _ = imported
    paper = deployment.store.get_paper(MERGED)
    assert paper is not None
    assert [a.name for a in paper.authors] == ["Thomas Wiatowski", "Helmut Bölcskei"]
    assert paper.categories[0] == "cs.IT" and "cs.LG" in paper.categories
    assert {s.split(":")[0] for s in paper.sources} == {"listing", "oai-pmh"}


def test_author_search_finds_a_real_authors_papers(imported):
    deployment, _ = imported
    hits = deployment.search('author:"H. Vincent Poor"', mode="lexical", limit=50)
    assert len(hits) == 13
    assert all("H. Vincent Poor" in [a.name for a in h.paper.authors] for h in hits)
    resnet = deployment.search("author:kaiming residual", mode="lexical", limit=5)
    assert resnet[0].paper.arxiv_id == "1512.03385"


def test_a_demo_paper_page_shows_its_authors_and_categories(tmp_path):
    site = make_site(tmp_path)
    with site.client as client:
        site.services.deployment.import_sources([DemoInput()])
        page = client.get("/papers/1512.03385")
        assert page.status_code == 200
        shown = re.sub(r"<[^>]+>", "", page.text)  # each author links to their page
        assert "Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun" in shown
        assert '<a class="quiet" href="/authors/kaiming-he">Kaiming He</a>' in page.text
        assert "<dt>Categories</dt><dd>cs.CV</dd>" in page.text
        snapshot = client.get("/papers/0704.0001")  # a Kaggle snapshot record
        assert "P. M. Nadolsky" in snapshot.text and "hep-ph" in snapshot.text
        assert "245 papers" in client.get("/").text  # the day lists the seed papers only


def test_no_demo_imports_the_seed_papers_alone(tmp_path):
    assert sample_inputs(True, demo=False) == [SampleInput()]
    assert sample_inputs(False) == []
    result = CliRunner().invoke(
        cli, ["--db", f"sqlite:///{tmp_path / 'c.db'}", "import", "--sample", "--no-demo"]
    )
    assert result.exit_code == 0 and "demo corpus" not in result.output
    assert "total" not in result.output and "245 new" in result.output
