"""How the int8 graph reads texts (search/embed.py, ONNX_MODELS; bench/RESULTS.md §23): the
old model id still makes exactly the vectors it always made; the default cuts at 128 word
pieces and runs each text alone, so a text's vector is its own; windows and runs by word
pieces keep their rules."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer

from paperwire.models import Paper
from paperwire.search.embed import (
    DEFAULT_MODEL,
    MAX_WINDOWS,
    RUN_TEXTS,
    OnnxEmbedder,
    _model_dir,
    make_embedder,
    paper_text,
)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    OnnxEmbedder(folder).model_file()
    return folder


def _texts(n: int = 48) -> list[str]:
    lines = resources.files("paperwire.data").joinpath("sample.jsonl").read_text("utf-8")
    papers = [json.loads(line) for line in lines.splitlines()[:n]]
    return [paper_text(Paper(title=p["title"], abstract=p["abstract"])) for p in papers] + [
        p["title"] for p in papers[: n // 4]
    ]


def _as_before(embedder: OnnxEmbedder, texts: list[str]) -> np.ndarray:
    """The embedder as it was before §23: the tokenizer's own truncation at 256 and
    padding to the longest, texts sorted by characters, runs of 32."""
    tokenizer = embedder._tokenizer.__class__.from_str(embedder._tokenizer.to_str())
    tokenizer.enable_truncation(max_length=256)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.empty((len(texts), 384), dtype=np.float32)
    for start in range(0, len(order), 32):
        run = order[start : start + 32]
        encodings = tokenizer.encode_batch([texts[i] for i in run])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": 0 * ids}
        hidden = embedder._session.run(None, feeds)[0]
        pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        out[run] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    return out


@pytest.mark.model
def test_the_old_model_id_makes_the_vectors_it_always_made(models):
    texts = _texts()
    embedder = make_embedder("minilm-onnx-int8", models, threads=1)
    assert isinstance(embedder, OnnxEmbedder)
    got = embedder.embed(texts)
    assert np.max(np.abs(got - _as_before(embedder, texts))) < 1e-6


@pytest.mark.model
def test_the_default_reads_128_pieces_and_a_texts_vector_is_its_own(models):
    texts = _texts()
    embedder = make_embedder(DEFAULT_MODEL, models, threads=1)
    assert embedder.name == DEFAULT_MODEL
    together = embedder.embed(texts)
    alone = np.concatenate([embedder.embed([t]) for t in texts])
    assert float(np.min(np.sum(together * alone, axis=1))) >= 0.99999
    # Words past the 128th word piece change nothing.
    long = texts[0]
    assert len(embedder._tokenizer.encode(long).ids) == 128
    moved = embedder.embed([long + " and then a great many more words about other things"])
    assert float(moved[0] @ alone[0]) >= 0.99999
    # The old reading cut elsewhere: a different model.
    old = make_embedder("minilm-onnx-int8", models, threads=1).embed(texts[:8])
    assert float(np.min(np.sum(old * alone[:8], axis=1))) < 0.9999


WORDS = st.sampled_from(["graph", "neural", "transformers", "quantisation", "of", "LoRA", "2x"])


TEXTS = st.builds(lambda words, times: " ".join(words * times), st.lists(WORDS), st.integers(1, 80))


@given(st.lists(TEXTS, min_size=1, max_size=12))
@settings(max_examples=40, deadline=None)
def test_windows_hold_every_piece_and_runs_keep_their_budget(texts):
    # The real tokenizer (no model run): windows of 128, runs by word pieces.
    embedder = OnnxEmbedder(Path("unused"), max_tokens=128, runs="pieces", windows=True)
    whole = Tokenizer.from_file(str(_model_dir() / "tokenizer.json"))
    whole.no_truncation()  # the file's own settings: cut at 128, padded to 128
    whole.no_padding()
    items, owners = embedder._pieces(texts)
    for owner, text in enumerate(texts):
        mine = [items[i] for i in range(len(items)) if owners[i] == owner]
        cls, *body, sep = whole.encode(text).ids
        assert mine and all(len(w) <= 128 and w[0] == cls and w[-1] == sep for w in mine)
        assert len(mine) <= MAX_WINDOWS
        assert [p for w in mine for p in w[1:-1]] == body[: MAX_WINDOWS * (128 - 2)]
    runs = embedder._runs(texts, items, owners)
    assert sorted(i for run in runs for i in run) == list(range(len(items)))
    for run in runs:
        assert len(run) * max(len(items[i]) for i in run) <= RUN_TEXTS * 128 or len(run) == 1
