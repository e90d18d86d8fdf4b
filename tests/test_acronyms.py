"""Acronyms (issue 27): "gan", "resnet" and "LoRA" find the papers behind them, from the
corpus's own "Long Form (ACRONYM)" pairs, on the tantivy index beside the store and on
PostgreSQL's own keyword index alike."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperwire.acronyms import AcronymDictionary, definitions, expand
from paperwire.models import Paper
from paperwire.search.lexical import ACRONYMS_FILE, LexicalIndex, keyword_search
from paperwire.search.native import keyword_index
from paperwire.store.postgres import PostgresStore
from paperwire.store.sqlite import SQLiteStore
from support import fresh_postgres_url


def test_the_pairs_a_text_defines():
    text = (
        "We train generative adversarial networks (GANs) and deep residual networks "
        "(ResNets; He et al.) with Low-Rank Adaptation (LoRA). The rest (see below) is "
        "not a pair, nor is (e.g., this), nor (2023), nor (Section 3)."
    )
    assert definitions(text) == [
        ("gan", "generative adversarial networks"),
        ("resnet", "residual networks"),
        ("lora", "low rank adaptation"),
    ]
    # Letters must match the long form's, the first at the start of a word.
    assert definitions("a residual unit (ResNet) and a big model (GAN)") == []
    assert definitions("mixture of experts (MoE) layers") == [("moe", "mixture of experts")]


@given(st.text(max_size=300))
def test_any_text_gives_well_formed_pairs(text):
    for key, long_form in definitions(text):
        words = long_form.split()
        assert 2 <= len(words) <= 8
        assert key.isalnum() and key == key.lower()
        assert words[0][0] == key[0]


def test_a_query_expands_both_ways():
    dictionary = AcronymDictionary.of_texts(
        [
            "Generative adversarial networks (GANs) make faces.",
            "Generative adversarial networks (GANs) make cats.",
            "A generative adversarial network (GAN).",
            "Sharpness-aware minimization (SAM) and the segment anything model (SAM).",
        ]
    )
    # Forms with the same stems are one long form, written as most papers write it.
    assert dictionary.long_forms("GAN") == [("generative", "adversarial", "networks")]
    assert dictionary.long_forms("sam") == [
        ("segment", "anything", "model"),
        ("sharpness", "aware", "minimization"),
    ]
    found = expand([("gan",), ("faces",)], ["gan", "faces"], dictionary)
    assert found.long_forms == {0: dictionary.long_forms("gan")} and found.acronyms == []
    words = ["a", "generative", "adversarial", "network", "for", "faces"]
    found = expand([("generative",), ("adversarial",), ("network",), ("faces",)], words, dictionary)
    # The acronym stands for the ranked words 0-2 (the engines score the better of them).
    assert found.acronyms == [("gan", (0, 1, 2))]
    # Not added when the query holds the acronym already.
    assert expand([("gan",)], ["gan", *words], dictionary).acronyms == []


def test_a_rare_spelling_of_a_long_form_is_not_searched():
    """A long form defined by fewer than MIN_FORM_SHARE as many papers as the acronym's
    most frequent one is left out: each form kept is one more phrase every query holding
    the acronym searches (at 2.7M papers "llm"'s second form cost as much as its first,
    bench/RESULTS.md §25), and the rare ones are variants and misreadings."""
    texts = [f"Large language models (LLMs) in paper {i}." for i in range(5)]
    texts.append("Large-scale language models (LLMs) again.")
    texts.append("Artificial intelligence (AI) here, and arti cial intelligence (AI) there.")
    texts += ["Artificial intelligence (AI) once more."] * 4
    dictionary = AcronymDictionary.of_texts(texts)
    assert dictionary.long_forms("llm") == [("large", "language", "models")]
    assert dictionary.long_forms("llms") == [("large", "language", "models")]
    assert dictionary.long_forms("ai") == [("artificial", "intelligence")]
    # Still counted: a later corpus where the variant is as common brings it back.
    dictionary.merge(AcronymDictionary.of_texts(["Large-scale language models (LLMs)."] * 1))
    assert dictionary.long_forms("llm") == [
        ("large", "language", "models"),
        ("large", "scale", "language", "models"),
    ]
    # Only a kept long form typed in a query brings in its acronym.
    words = ["arti", "cial", "intelligence"]
    assert expand([(w,) for w in words], words, dictionary).acronyms == []
    words = ["artificial", "intelligence"]
    assert expand([(w,) for w in words], words, dictionary).acronyms == [("ai", (0, 1))]


# A corpus where the long form and the acronym each stand alone in some papers, and one
# paper ties them (the pair the dictionary learns).
DEFINES = Paper(
    title="Training GANs on faces",
    abstract="We train generative adversarial networks (GANs) on faces.",
    arxiv_id="2401.00001",
)
LONG_ONLY = Paper(
    title="Generative Adversarial Networks",
    abstract="Two networks trained against each other: a generator and a discriminator.",
    arxiv_id="2401.00002",
)
ACRONYM_ONLY = Paper(
    title="Faster training for image synthesis",
    abstract="A GAN trained in half the steps with a new schedule.",
    arxiv_id="2401.00003",
)
RESNET_DEFINES = Paper(
    title="Pruning convolutional networks",
    abstract="We prune deep residual networks (ResNets) and VGG.",
    arxiv_id="2401.00004",
)
RESNET_LONG = Paper(
    title="Deep residual learning",
    abstract="Residual networks are easier to optimise and gain accuracy from depth.",
    arxiv_id="2401.00005",
)
LORA = Paper(
    title="Adapters for language models",
    abstract="We compare full fine-tuning with Low-Rank Adaptation (LoRA).",
    arxiv_id="2401.00006",
)
LORA_LONG = Paper(
    title="Low-rank adaptation of large language models",
    abstract="Freeze the weights and train rank decomposition matrices.",
    arxiv_id="2401.00007",
)
UNRELATED = Paper(
    title="Gradient descent on sparse graphs",
    abstract="Convergence of first-order methods on graph problems.",
    arxiv_id="2401.00008",
)
# The long form's words, but not in a row: not what "GAN" stands for.
SCATTERED = Paper(
    title="Generative models of graph networks",
    abstract="Robustness to adversarial edits of the networks we generate.",
    arxiv_id="2401.00009",
)


@pytest.fixture(params=["tantivy", "postgresql"])
def corpus(request, tmp_path):
    """(store, keyword index) of each engine, holding every paper but the definitions."""
    if request.param == "tantivy":
        store = SQLiteStore(f"sqlite:///{tmp_path / 'a.db'}")
        index = LexicalIndex.for_store(store)
    else:
        server = request.getfixturevalue("postgres_server")
        store = PostgresStore(fresh_postgres_url(server), index_root=tmp_path / "i")
        index = keyword_index(store, "database")
    store.upsert_papers([LONG_ONLY, ACRONYM_ONLY, RESNET_LONG, LORA_LONG, UNRELATED, SCATTERED])
    yield store, index
    store.close()


def found(store, index, text):
    return [h.paper.key for h in keyword_search(store, index, text, limit=20)]


def test_acronyms_find_their_long_forms_and_back(corpus):
    store, index = corpus
    # No paper ties "GAN" to its long form yet: each form finds only itself.
    assert found(store, index, "gan") == ["2401.00003"]
    assert "2401.00003" not in found(store, index, "generative adversarial networks")
    assert "2401.00005" not in found(store, index, "resnet")
    store.upsert_papers([DEFINES, RESNET_DEFINES, LORA])
    # The paper that says "generative adversarial networks (GANs)" teaches the pair.
    for query in ("gan", "GAN", "GANs", "gans"):
        assert set(found(store, index, query)) == {"2401.00001", "2401.00002", "2401.00003"}
    assert "2401.00003" in found(store, index, "generative adversarial networks")
    assert "2401.00003" in found(store, index, "generative adversarial network")
    assert "2401.00005" in found(store, index, "resnet")
    assert "2401.00005" in found(store, index, "ResNet")
    assert "2401.00007" in found(store, index, "lora")
    assert "2401.00007" in found(store, index, "LoRA fine-tuning")
    assert found(store, index, "gan")[0] != "2401.00008"
    assert "2401.00008" not in found(store, index, "gan")
    # The long form is matched as a phrase: its words scattered over a paper are not it
    # (a conjunction of the words, cheaper, put such papers among an acronym's hits:
    # bench/RESULTS.md §25).
    assert "2401.00009" in found(store, index, "generative adversarial networks")
    assert "2401.00009" not in found(store, index, "gan")


def test_an_index_without_a_dictionary_is_rebuilt_with_one(tmp_path):
    """Schema 5 keeps the dictionary beside the index: an index of schema 4 has none, so
    it is wiped on open and rebuilt from the store (with its pairs)."""
    store = SQLiteStore(f"sqlite:///{tmp_path / 'a.db'}")
    store.upsert_papers([DEFINES, LONG_ONLY])
    index = LexicalIndex.for_store(store)
    assert set(found(store, index, "gan")) == {"2401.00001", "2401.00002"}
    meta = index.path / "paperwire.json"
    saved = json.loads(meta.read_text("utf-8"))
    meta.write_text(json.dumps({**saved, "schema": 4}), "utf-8")
    (index.path / ACRONYMS_FILE).unlink()
    reopened = LexicalIndex.for_store(store)
    assert reopened.doc_count() == 0 and not reopened.acronyms.pairs
    assert set(found(store, reopened, "gan")) == {"2401.00001", "2401.00002"}
    assert reopened.acronyms.long_forms("gan")
    # A second process opening the index reads the saved dictionary.
    assert LexicalIndex.for_store(store).acronyms.long_forms("gan")
    store.close()


# -- the dictionary's memory is capped (issue 30) ---------------------------------------


def _rare(i: int) -> str:
    """A text defining an acronym of its own (four letters from i): a pair no other text
    defines, as most real pairs are (86 % on the demo corpus)."""
    code = ""
    for _ in range(4):
        code += "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i % 26]
        i //= 26
    return "We study " + " ".join(c.lower() + "ormal" for c in code) + f" ({code}) here."


def test_the_dictionary_is_capped_and_keeps_the_pairs_many_papers_define():
    """Fed pair after new pair, the dictionary never holds more than max_pairs (it grew
    with the corpus: ~350 MiB at 2.7M real papers), and the acronym one paper in five
    defines keeps its long form through every pruning."""
    dictionary = AcronymDictionary(max_pairs=40)
    sizes = []
    for i in range(2000):
        dictionary.add_text(_rare(i))
        if i % 5 == 0:
            dictionary.add_text("We train generative adversarial networks (GANs) here.")
        sizes.append(dictionary.size)
        assert dictionary.size == sum(len(forms) for forms in dictionary.pairs.values())
    assert max(sizes) <= 40 and max(sizes) == 40  # it did fill up, and never past the cap
    assert dictionary.long_forms("gan") == [("generative", "adversarial", "networks")]
    assert dictionary.pairs["gan"]["generative adversarial networks"] >= 300
    # The reverse view (long form -> acronym) is rebuilt from what was kept.
    assert dictionary.by_stems()[("generat", "adversari", "network")] == "gan"


def test_a_saved_dictionary_past_the_cap_is_cut_when_read(tmp_path):
    """A dictionary saved before the cap (or with a larger one) is cut when a process
    loads it, so no web worker holds more than max_pairs."""
    big = AcronymDictionary(max_pairs=10**6)
    for i in range(500):
        big.add_text(_rare(i))
    big.add_text("A mixture of experts (MoE). ")
    big.add_text("A mixture of experts (MoE) again.")
    path = tmp_path / ACRONYMS_FILE
    big.save(path)
    assert big.size == 501
    loaded = AcronymDictionary.load(path)
    assert loaded.size == 501  # under the shipped cap: unchanged
    small = AcronymDictionary(dict(loaded.pairs), max_pairs=100)
    assert small.size <= 100 and small.long_forms("moe") == [("mixture", "of", "experts")]


def test_the_index_s_dictionary_stays_under_the_cap(tmp_path, monkeypatch):
    """The keyword index's dictionary, filled as it indexes a store, is held to the cap
    (here 30 pairs over 200 papers each defining its own) and is saved so."""
    import paperwire.acronyms as acronyms

    monkeypatch.setattr(acronyms, "MAX_PAIRS", 30)
    store = SQLiteStore(f"sqlite:///{tmp_path / 'a.db'}")
    store.upsert_papers(
        [Paper(title=f"Paper {i}", abstract=_rare(i), arxiv_id=f"2401.{i:05d}") for i in range(200)]
        + [DEFINES, LONG_ONLY]
    )
    index = LexicalIndex.for_store(store)
    index.sync(store)
    assert 0 < index.acronyms.size <= 30
    saved = json.loads((index.path / ACRONYMS_FILE).read_text("utf-8"))
    assert sum(len(forms) for forms in saved.values()) <= 30
    store.close()
