"""A recommendation's reasons cite content words only (issue 27: For-you explained a
paper by "won" and "i"). The rule is querylang.content_word — the project's one stop-word
list, and no fragment shorter than MIN_CONTENT_CHARS — for every term, whatever words the
papers share."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from paperwire.querylang import MIN_CONTENT_CHARS, STOP_WORDS, content_word
from paperwire.recommend.corpus import build_corpus
from paperwire.recommend.model import recommend

# Words the papers of one topic share besides their topic: contractions, pronouns and
# fragments that a tf-idf vocabulary keeps ("won't" -> "won"; "et al." -> "et").
FILLER = "I won't say we didn't: it isn't what they don't know, et al. fo bo ll re ve"


def corpus(texts: list[str]):
    ids = list(range(1, len(texts) + 1))
    vectors = np.zeros((len(texts), 384), dtype=np.float32)
    has = np.zeros(len(texts), dtype=bool)
    return build_corpus(ids, [f"k{i}" for i in ids], texts, texts, vectors, has)


def test_reasons_never_cite_stop_words_contractions_or_fragments():
    texts = [f"{FILLER} {FILLER} graph neural message passing {i}" for i in range(6)]
    texts += [f"protein folding structure {i}" for i in range(6)]
    made = corpus(texts)
    found = recommend(made, [1, 2, 3], [], set(), 5)
    assert found and found[0].paper_id in (4, 5, 6)
    cited = [t for r in found for t in r.terms]
    assert cited, "the topic's own words are still cited"
    assert all(content_word(t) for t in cited), cited
    assert not {"won", "didn", "isn", "don", "et", "fo", "ll"} & {
        w for t in cited for w in t.split()
    }
    assert "graph" in cited or "neural" in cited or "message" in cited, cited


@settings(max_examples=40, deadline=None)
@given(
    shared=st.lists(
        st.sampled_from([*sorted(STOP_WORDS), "ab", "xy", "won't", "I", "topic", "graphs"]),
        min_size=1,
        max_size=12,
    )
)
def test_whatever_words_papers_share_the_reasons_are_content_words(shared):
    common = " ".join(shared)
    texts = [f"{common} {common} alpha{i} beta" for i in range(5)]
    texts += [f"gamma delta{i}" for i in range(5)]
    made = corpus(texts)
    for r in recommend(made, [1, 2], [], set(), 4):
        for term in r.terms:
            assert all(len(w) >= MIN_CONTENT_CHARS and w not in STOP_WORDS for w in term.split())


def test_content_word_is_the_rule():
    assert content_word("graph neural") and content_word("gan")
    assert not content_word("won") and not content_word("i") and not content_word("et")
    assert not content_word("optimization using")  # a stop word inside a pair
