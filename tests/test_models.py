from datetime import date

from paperwire.models import (
    Author,
    Paper,
    extract_code_urls,
    merge_papers,
    normalise_arxiv_id,
    normalise_title,
    title_key,
)


def test_arxiv_ids_in_every_form_normalise_to_one():
    for raw in [
        "2302.02607",
        "2302.02607v2",
        "arXiv:2302.02607",
        "https://arxiv.org/abs/2302.02607v1",
        "http://export.arxiv.org/abs/2302.02607",
        "https://arxiv.org/pdf/2302.02607v2.pdf",
        "oai:arXiv.org:2302.02607",
    ]:
        assert normalise_arxiv_id(raw) == "2302.02607", raw
    assert normalise_arxiv_id("hep-th/9901001v3") == "hep-th/9901001"
    assert normalise_arxiv_id("math.gt/0309136") == "math.GT/0309136"
    assert normalise_arxiv_id("not an id") is None
    assert normalise_arxiv_id("12345.678") is None


def test_title_normalisation_folds_case_punctuation_space_and_accents():
    assert (
        normalise_title("Target-based  Surrogates: for  Stochastic Optimization!")
        == "target-based-surrogates-for-stochastic-optimization"
    )
    assert normalise_title("Élan  VITAL") == normalise_title("elan vital")
    assert title_key("Attention Is All You Need") == "attention-is-all-you-need"
    long_key = title_key("word " * 80)
    assert len(long_key) <= 100 and long_key == title_key("WORD " * 80)
    assert title_key("!!!") != title_key("???")


def test_key_is_arxiv_id_when_known():
    assert Paper(title="X", arxiv_id="1706.03762").key == "1706.03762"
    assert Paper(title="Attention is all you need").key == "attention-is-all-you-need"


def test_merge_fills_missing_and_drops_nothing():
    listing = Paper(
        title="Attention Is All You Need",
        abstract="short",
        author_count=8,
        published=date(2017, 6, 12),
        upvotes=12,
        sources=["listing:a.txt"],
    )
    arxiv = Paper(
        title="Attention is all you need",
        abstract="a much longer abstract",
        arxiv_id="1706.03762",
        authors=[Author("Ashish Vaswani"), Author("Noam Shazeer")],
        categories=["cs.CL", "cs.LG"],
        published=date(2017, 6, 12),
        sources=["arxiv-api"],
    )
    merged = merge_papers(listing, arxiv)
    assert merged.arxiv_id == "1706.03762"
    assert merged.key == "1706.03762"
    assert merged.abstract == "a much longer abstract"
    assert merged.upvotes == 12
    assert [a.name for a in merged.authors] == ["Ashish Vaswani", "Noam Shazeer"]
    assert merged.author_count is None and merged.n_authors == 2
    assert merged.sources == ["listing:a.txt", "arxiv-api"]
    assert merged.categories == ["cs.CL", "cs.LG"]
    # merging is idempotent
    assert merge_papers(merged, arxiv) == merged
    assert merge_papers(merged, listing) == merged


def test_code_links_found_in_abstracts():
    text = (
        "Code is available at https://github.com/bytedance/decoupleQ. Models at "
        "https://huggingface.co/org/model, see also https://github.com (no repo)."
    )
    assert extract_code_urls(text) == [
        "https://github.com/bytedance/decoupleQ",
        "https://huggingface.co/org/model",
    ]
