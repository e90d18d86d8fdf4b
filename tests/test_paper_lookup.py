"""One lookup rule for a typed paper reference (issue 25, defects found by hand):
`paperwire similar 1512.03385v1` answered "no paper with key" while `show` found it.
Every command, page and API route now reads a key, an arXiv id with or without version, an
arXiv URL or a DOI the same way (store.papers.find_row); and `similar` before `embed` says
the paper has no vector yet and how to make one, instead of "No papers match"."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from paperwire.cli import cli
from paperwire.ingest.jsonl import dumps
from paperwire.models import Author, Paper
from paperwire.search.embed import make_embedder
from paperwire.search.hybrid import SearchEngine
from paperwire.search.native import keyword_index, vector_index
from support import make_site

RESNET = Paper(
    title="Deep Residual Learning for Image Recognition",
    abstract="Deeper neural networks are more difficult to train.",
    arxiv_id="1512.03385",
    authors=[Author("Kaiming He")],
    doi="10.1109/CVPR.2016.90",
)
FORMS = [
    "1512.03385",
    "1512.03385v1",
    "arXiv:1512.03385v2",
    "https://arxiv.org/abs/1512.03385v1",
    "https://arxiv.org/abs/1512.03385",
    "http://arxiv.org/pdf/1512.03385v1",
    "https://arxiv.org/pdf/1512.03385v1.pdf",
    "10.1109/CVPR.2016.90",
    "10.1109/cvpr.2016.90",
    "https://doi.org/10.1109/CVPR.2016.90",
    "doi:10.1109/CVPR.2016.90",
    "10.48550/arXiv.1512.03385",
]
TITLE_ONLY = Paper(title="A Paper Known Only By Its DOI", doi="10.5555/ABC.123")


def test_every_store_lookup_reads_every_form(store):
    store.upsert_papers([RESNET, TITLE_ONLY])
    for form in FORMS:
        expected = store.find_paper_id("1512.03385")
        assert store.find_paper_id(form) == expected, form
        assert store.paper_ids([form]) == {form: expected}, form
        assert store.get_paper(form).key == "1512.03385", form
        assert store.entry(form).paper.key == "1512.03385", form
    assert store.get_paper("https://doi.org/10.5555/abc.123").key == TITLE_ONLY.key
    assert store.find_paper_id("10.1109/CVPR.2016.91") is None
    assert store.find_paper_id("x" * 10_000) is None


def test_show_and_similar_in_the_cli_find_the_same_paper_by_every_form(tmp_path):
    path = tmp_path / "resnet.jsonl"
    path.write_text(dumps(RESNET) + "\n" + dumps(TITLE_ONLY) + "\n")
    db = ["--db", f"sqlite:///{tmp_path / 'p.db'}"]
    runner = CliRunner()
    assert runner.invoke(cli, [*db, "import", "-q", str(path)]).exit_code == 0
    for form in FORMS:
        shown = runner.invoke(cli, [*db, "show", "--json", form])
        assert shown.exit_code == 0 and json.loads(shown.stdout)["key"] == "1512.03385", form
        start = time.monotonic()
        answer = runner.invoke(cli, [*db, "similar", form])
        assert answer.exit_code == 1, (form, answer.output)
        assert "no paper with key" not in answer.output, form
        # Before `embed`: the paper has no vector, and the way to make one (no model load).
        assert "has no vector yet" in answer.output and "paperwire embed" in answer.output
        assert "No papers match" not in answer.output
        assert time.monotonic() - start < 5
    unknown = runner.invoke(cli, [*db, "similar", "1512.03386"])
    assert unknown.exit_code == 1 and "no paper with key '1512.03386'" in unknown.output


@pytest.mark.parametrize("site", ["sqlite"], indirect=True)
def test_pages_and_the_api_find_a_paper_by_every_form(site):
    site.store.upsert_papers([RESNET])
    for form in FORMS:
        path = quote(form, safe="/:")
        page = site.client.get(f"/papers/{path}")
        assert page.status_code == 200 and "Deep Residual Learning" in page.text, form
        api = site.client.get(f"/api/v1/papers/{path}")
        assert api.status_code == 200 and api.json()["key"] == "1512.03385", form


def test_the_api_says_a_paper_has_no_vector_yet_instead_of_an_empty_list(tmp_path):
    """A site with a model configured (its weights load on the first embedding: never
    here) and nothing embedded yet."""
    holder: dict[str, object] = {}

    def engine():
        store = holder["site"].store
        embedder = make_embedder("minilm-onnx-int8", tmp_path / "models")
        return SearchEngine(
            store, keyword_index(store), vector_index(store, embedder.name), embedder
        )

    site = make_site(tmp_path, engine_factory=engine)
    holder["site"] = site
    site.store.upsert_papers([RESNET])
    answer = site.client.get("/api/v1/papers/10.1109/CVPR.2016.90/similar")
    assert answer.status_code == 503, answer.text
    assert "has no vector yet" in answer.text and "paperwire embed" in answer.text
    assert site.client.get("/papers/1512.03385v1").status_code == 200  # the page still shows
