"""Topics offline (issue 29): arXiv categories by their human names, HF keywords, and
keyphrases extracted here for papers without them (KeyBERT's method on the shipped
MiniLM), which `topic:` then finds."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from paperwire import upstream
from paperwire.ingest.hf_daily import parse
from paperwire.ingest.load import load
from paperwire.keyphrases import candidates, extract, extract_pending, mmr
from paperwire.models import Paper
from paperwire.search.embed import make_embedder
from paperwire.search.lexical import keyword_search
from paperwire.search.native import keyword_index
from paperwire.topics import categories_for, category_label, slugify, topic_matches, topics_of

pytestmark = pytest.mark.model
RICH = Path(__file__).parent / "data" / "hf_daily_papers_rich.json"


def test_categories_by_human_name_and_keywords_by_slug():
    assert category_label("cs.LG") == "Machine Learning (cs.LG)"
    assert category_label("xx.YY") == "xx.YY"
    assert set(categories_for("machine-learning")) == {"cs.LG", "stat.ML"}
    assert categories_for("cs-lg") == ("cs.LG",)
    assert slugify("Diffusion  Models!") == slugify("diffusion-models") == "diffusion-models"
    paper = Paper(title="x", categories=["cs.CL"], extras=upstream.make(
        "hf-daily", datetime(2026, 1, 1, tzinfo=UTC), keywords=["Diffusion Models"]
    ))  # fmt: skip
    names = [(t.slug, t.name, t.kind) for t in topics_of(paper)]
    assert names == [
        ("computation-and-language", "Computation and Language (cs.CL)", "category"),
        ("diffusion-models", "Diffusion Models", "keyword"),
    ]
    assert topic_matches(paper, "diffusion-models") and topic_matches(paper, "cs-cl")
    assert not topic_matches(paper, "cs") and not topic_matches(paper, "diffusion")


def test_candidates_are_noun_ish_phrases():
    found = candidates(
        "Large Multimodal Models as General In-Context Classifiers",
        "We propose CIRCLE, a simple training-free method trained significantly faster.",
    )
    assert "large multimodal models" in found and "in-context classifiers" in found
    assert not any(w in p.split() for p in found for w in ("we", "as", "propose", "trained"))


def test_mmr_prefers_relevant_and_different():
    doc = np.array([1.0, 0.0], dtype=np.float32)
    rows = np.array([[1.0, 0.0], [0.99, 0.141], [0.6, 0.8]], dtype=np.float32)
    assert mmr(doc, rows, 2, 0.0) == [0, 1]  # relevance only
    assert mmr(doc, rows, 2, 0.7) == [0, 2]  # the near-duplicate gives way


def test_extracted_keyphrases_become_topics_that_topic_finds(store, tmp_path):
    embedder = make_embedder("minilm-onnx-int8", tmp_path / "models")
    rich = [p for p in parse(RICH.read_bytes()) if isinstance(p, Paper)]
    plain = Paper(
        title="Denoising diffusion models for image synthesis",
        abstract="Denoising diffusion models generate images by reversing a noising process; "
        "we study sampling schedules for diffusion models on image synthesis benchmarks.",
        arxiv_id="2301.09999",
        published=date(2023, 1, 20),
    )
    load(store, [*rich, plain])
    now = datetime(2026, 3, 7, tzinfo=UTC)
    assert extract_pending(store, embedder, now) == 1  # the HF paper has keywords already
    assert extract_pending(store, embedder, now) == 0  # resumable: done is done
    stored = store.get_paper("2301.09999")
    phrases = upstream.value(stored.extras, upstream.KEYPHRASES)
    assert phrases and stored.extras[upstream.KEYPHRASES].source == "local"
    assert phrases == extract(plain.title, plain.abstract, embedder.embed)
    assert any("diffusion" in p for p in phrases)
    slug = slugify(next(p for p in phrases if "diffusion" in p))
    index = keyword_index(store)
    found = {h.paper.key for h in keyword_search(store, index, f"topic:{slug}", 50)}
    assert found == {"2301.09999"}
    # HF's keywords stay the rich paper's topics; its keyphrases are not made.
    assert upstream.KEYPHRASES not in store.get_paper("2602.23229").extras
