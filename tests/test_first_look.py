"""Issue 27, the first look: what `make run` shows a newcomer. The seed papers sit on the
days their pages listed them (year inferred where a page gave none, and said so), the
home page shows the latest day with papers and says which, the cards say what a reader
needs ("listed Mar 18, 2025", "▲ 12 on Hugging Face"), a page past the last is 404, and
TeX that lost its backslashes reads as TeX would print it."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperwire import texmath
from paperwire.cli import cli
from paperwire.config import Settings
from paperwire.deployment import Deployment
from paperwire.deployment.imports import sample_inputs
from paperwire.seeddays import SAVED_YEAR, earliest, page_days, seed_days
from paperwire.texrepair import repair
from support import make_site

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site over what `paperwire import --sample` (no --list-on) stores."""
    folder = tmp_path_factory.mktemp("firstlook")
    settings = Settings(database_url=f"sqlite:///{folder / 'site.db'}", cache_dir=str(folder))
    with Deployment(settings) as deployment:
        outcome = deployment.import_sources(sample_inputs(True))
    assert outcome.seed_listed == 245
    return make_site(folder, now=NOW, sample_loaded=True)


def test_the_fifth_page_lists_each_paper_on_its_own_day():
    days = page_days((FIXTURES / "listing_002.txt").read_text(), "listing_002.txt")
    by_title = {d.key: d for d in days}
    first = by_title["exploring-transformers-for-open-world-instance-segmentation"]
    assert (first.day, first.stated, first.year_inferred) == (
        date(2023, 8, 8),
        "Aug 8, 2023",
        False,
    )
    flowopt = next(d for k, d in by_title.items() if k.startswith("flowopt"))
    assert (flowopt.day, flowopt.stated, flowopt.year_inferred) == (
        date(SAVED_YEAR, 10, 24),
        "Oct 24",
        True,
    )


def test_the_shipped_days_are_the_pages_days():
    shipped = seed_days()
    assert len(shipped) == 245
    counts = Counter(d.day for d in shipped.values())
    # the four one-day pages, in the year the pages were saved
    assert {date(2025, 3, 13), date(2025, 3, 14), date(2025, 3, 17), date(2025, 3, 18)} <= set(
        counts
    )
    fifth = earliest(page_days((FIXTURES / "listing_002.txt").read_text(), "listing_002.txt"))
    for key, item in fifth.items():
        assert shipped[key].day <= item.day  # the earliest of its pages


def test_cli_says_the_years_it_inferred(tmp_path):
    result = CliRunner().invoke(
        cli, ["--db", f"sqlite:///{tmp_path / 'x.db'}", "import", "--sample", "--no-demo", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert "listed 245 seed papers on the days their pages listed them" in result.output
    assert f"had no year on the page: {SAVED_YEAR} is inferred" in result.output


def test_home_shows_the_latest_day_and_says_which(site):
    page = site.client.get("/").text
    assert 'Papers of <span class="weekday">Tuesday </span>25 November 2025' in page
    assert "Nothing is listed today (6 Dec 2026): showing 25 Nov 2025, the latest day" in page


def test_days_weeks_and_months_differ_like_the_real_service(site):
    def count(url: str) -> int:
        return int(re.search(r'<p class="count[^"]*">(\d+) paper', site.client.get(url).text)[1])

    day, week, month = (count(f"/daily/2025-03-18{q}") for q in ("", "?view=week", "?view=month"))
    assert (day, week) == (45, 45 + 58)  # Mon 17 and Tue 18 March
    assert month == 45 + 58 + 62 + 37
    page = site.client.get("/daily/2025-03-18").text
    assert 'href="/daily/2025-03-17"' in page and "← Mar 17" in page  # the previous day with papers


def test_cards_say_listed_and_where_upvotes_were_counted(site):
    page = site.client.get("/daily/2023-09-12").text
    assert "submitted to" not in page and "upstream" not in page
    some = site.client.get("/daily/2019-09-12").text
    assert "▲ 1 on Hugging Face" in some
    assert (
        'listed <a href="/daily/2019-09-12"><time datetime="2019-09-12">Sep 12, 2019</time></a>'
        in some
    )


def test_a_paper_page_links_the_day_it_was_listed(site):
    page = site.client.get("/papers/target-based-surrogates-for-stochastic-optimization").text
    assert 'href="/daily/2023-02-06"' in page


def test_a_page_past_the_last_is_404_naming_the_last(site):
    response = site.client.get("/daily/2025-03-18?page=99")
    assert response.status_code == 404
    assert "There is no page 99 of the day of 2025-03-18: it has 2 pages." in response.text
    assert site.client.get("/daily/2025-03-18?page=2").status_code == 200


def test_list_rows_carry_an_upvote_button_and_whole_dates(site):
    page = site.client.get("/daily/2019-09-12?layout=list").text
    row = page[page.index('<li class="row"') :]
    assert "row-vote" in row and "Sign in to upvote" in row
    assert "2019-09-12</time>" not in row and ">Sep 12, 2019</time>" in row


def test_seed_papers_get_arxiv_ids_only_where_the_demo_corpus_knows_the_title(site):
    merged = site.client.get("/papers/1512.06293").text
    assert "arXiv 1512.06293" in merged and "Thomas Wiatowski" in merged
    unknown = site.client.get("/papers/target-based-surrogates-for-stochastic-optimization").text
    assert "arxiv.org/abs" not in unknown  # says nothing it does not know


@pytest.mark.parametrize(
    ("lost", "shown"),
    [
        ("complexity mathcal{O}(d^2), where", "complexity 𝒪(d^2), where"),
        ("as UV^top for", "as UV^⊤ for"),
        ("time O(epsilon^{-3})", "time O(ε^{-3})"),
        ("a mutual top result on the left", "a mutual top result on the left"),  # words stay
        (r"intact $\mathcal{O}(n)$ TeX", r"intact $\mathcal{O}(n)$ TeX"),
    ],
)
def test_lost_backslashes_are_repaired_only_inside_math_runs(lost, shown):
    assert repair(lost) == shown


def test_the_repaired_abstract_is_what_the_page_shows(site):
    page = site.client.get(
        "/papers/low-rank-matrix-completion-via-robust-alternating-minimization-in-nearly-linear-time"
    ).text
    # the abstract as shown (the BibTeX block quotes the stored text, as an export does)
    shown = re.sub(r'<pre id="bibtex".*?</pre>', "", page, flags=re.S)
    assert "mtimes" not in shown and "m×" in shown
    assert "mathcal" not in texmath.plain("cost mathcal{O}(d^2)")
