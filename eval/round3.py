"""Relevance, round 3 (issue 31): other embedders, tuning on the corpus and query-side help
(no cross-encoder ships offline, so there is no re-ranking to measure), each measured on
paperwire's test collection (eval/judgments.json): the dev half (odd query numbers) chooses,
the test half (even) confirms, by paired randomization tests (bench/RESULTS.md §15).

    python eval/round3.py run minilm-int8 minilm-int8-traced minilm-float   # per-query runs
    python eval/round3.py run minilm-int8 --extras                          # + PRF, length grids
    python eval/round3.py report minilm-int8/hybrid minilm-int8-traced/hybrid ...
    python eval/round3.py speed minilm-int8 minilm-float                    # papers/s, query ms

Every variant embeds the same 245 sample papers into a store of its own (as the product does,
64 at a time), searched by the same search() as the product; texts embedded once per model
are cached under --cache (default /tmp/paperwire-round3), so a variant is embedded once.

Embedders:

- ``minilm-int8``: the default until §23, ``minilm-onnx-int8`` (graph written by
  search/bert_onnx.py, int8, 256 word pieces, runs of 32);
- ``minilm-int8-traced``: the same weights, graph traced by torch.onnx.export as before
  22f8ac9 (09ae585's export), quantised the same way;
- ``minilm-float``: sentence-transformers on PyTorch (the reference);
- ``mpnet-float``: all-mpnet-base-v2 from a folder (--mpnet DIR), on PyTorch;
- ``minilm-int8-<parts>``: the shipped graph with other inputs (bench/RESULTS.md §23):
  ``t128`` cut at 128 word pieces, ``win128`` the text in windows of 128 (their vectors
  averaged), ``pieces`` runs formed by word pieces, ``single`` one text a run
  (``minilm-int8-t128-single`` is the default since §23, ``minilm-onnx-int8-128``);
- ``onnx:DIR``: any graph of the shipped weights in DIR/minilm-int8.onnx (eval/round4.py
  writes quantisation variants so);
- ``tuned-int8:DIR``: a model tuned on the sample corpus's titles and abstracts
  (``round3.py tune ROOT``, eval/tune_corpus.py), in DIR."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from run import HERE, KINDS, mean, ndcg_at, randomization_test, split_of

from paperwire.ingest import parse_any
from paperwire.ingest.load import load
from paperwire.search import hybrid
from paperwire.search.embed import OnnxEmbedder, TorchEmbedder, Vectors, _model_dir
from paperwire.search.hybrid import SearchEngine, embed_pending, search
from paperwire.search.native import keyword_index, vector_index
from paperwire.store import open_store

Runner = Callable[[str], list[str]]


class CachedEmbedder:
    """An embedder whose rows are remembered by text (and kept in a file between runs): a
    batch is embedded as given when any of its texts is new, so batching is the caller's."""

    def __init__(self, inner: Any, name: str, path: Path) -> None:
        self.inner = inner
        self.name = name
        self.dimensions = inner.dimensions
        self.path = path
        self._rows: dict[str, np.ndarray] = {}
        self.computed = 0
        if path.exists():
            data = np.load(path, allow_pickle=False)
            for text, row in zip(data["texts"], data["rows"], strict=True):
                self._rows[str(text)] = row

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Rows for texts, from the cache where every text is known."""
        if any(t not in self._rows for t in texts):
            rows = self.inner.embed(list(texts))
            self.computed += len(texts)
            for text, row in zip(texts, rows, strict=True):
                self._rows.setdefault(text, row)
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return np.stack([self._rows[t] for t in texts]).astype(np.float32)

    def save(self) -> None:
        """Write the cache (only when something was computed)."""
        if not self.computed:
            return
        texts = list(self._rows)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, texts=np.array(texts), rows=np.stack([self._rows[t] for t in texts]))
        os.replace(tmp, self.path)


def export_traced_int8(target: Path) -> Path:
    """09ae585's export: the weights traced by torch.onnx.export, quantised per channel."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    target.parent.mkdir(parents=True, exist_ok=True)
    bert = AutoModel.from_pretrained(
        str(_model_dir()), local_files_only=True, attn_implementation="eager"
    ).eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    float_file = target.with_suffix(".float.onnx")
    sample = torch.ones((2, 8), dtype=torch.long)
    mask = sample.clone()
    mask[1, 5:] = 0
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Encoder().eval(),
            (sample, mask, torch.zeros_like(sample)),
            str(float_file),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                n: {0: "batch", 1: "tokens"}
                for n in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]
            },
            opset_version=17,
            dynamo=False,
        )
    logging.getLogger().setLevel(logging.ERROR)
    quantize_dynamic(str(float_file), str(target), weight_type=QuantType.QInt8, per_channel=True)
    float_file.unlink()
    return target


class SentenceTransformerEmbedder:
    """Any sentence-transformers folder on PyTorch (for models the product does not ship)."""

    def __init__(self, folder: Path, threads: int = 2, prefix: str = "") -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self.model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        self.model.max_seq_length = 256
        self.dimensions = int(self.model.get_embedding_dimension())
        self.prefix = prefix

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Normalised rows."""
        rows = self.model.encode(
            [self.prefix + t for t in texts],
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(rows, dtype=np.float32)


def raw_embedder(name: str, cache: Path, args: argparse.Namespace, threads: int = 2) -> Any:
    """The embedder a variant name stands for."""
    if name == "minilm-int8":
        return OnnxEmbedder(cache / "models" / "new", threads=threads)
    if name.startswith("minilm-int8-"):  # the shipped graph, read or run otherwise (§23)
        return OnnxEmbedder(cache / "models" / "new", threads=threads, **int8_options(name))
    if name == "minilm-int8-traced":
        folder = cache / "models" / "traced"
        if not (folder / "minilm-int8.onnx").exists():
            export_traced_int8(folder / "minilm-int8.onnx")
        return OnnxEmbedder(folder, threads=threads)
    if name == "minilm-float":
        return TorchEmbedder(threads=threads)
    if name == "mpnet-float":
        return SentenceTransformerEmbedder(Path(args.mpnet), threads=threads)
    if name.startswith("onnx:"):  # a folder holding a graph as minilm-int8.onnx (round4.py)
        return OnnxEmbedder(Path(name.split(":", 1)[1]), threads=threads)
    if name.startswith("tuned-int8:"):
        from tune_corpus import TunedEmbedder

        return TunedEmbedder(Path(name.split(":", 1)[1]), threads=threads)
    raise SystemExit(f"unknown variant {name!r}")


def int8_options(name: str) -> dict[str, Any]:
    """OnnxEmbedder's options a name such as ``minilm-int8-t128-pieces`` stands for:
    ``t<N>`` cut at N word pieces, ``win<N>`` read in windows of N (vectors averaged),
    ``pieces`` / ``single`` the runs formed by word pieces / one text a run."""
    options: dict[str, Any] = {}
    for part in name.removeprefix("minilm-int8-").split("-"):
        if part.startswith("t") and part[1:].isdigit():
            options["max_tokens"] = int(part[1:])
        elif part.startswith("win") and part[3:].isdigit():
            options.update(max_tokens=int(part[3:]), windows=True)
        elif part in ("pieces", "single", "chars"):
            options["runs"] = part
        else:
            raise SystemExit(f"unknown part {part!r} of variant {name!r}")
    return options


def variant_key(name: str) -> str:
    """A file-safe name for a variant."""
    return name.replace("/", "_").replace(":", "_")


def cached_embedder(name: str, cache: Path, args: argparse.Namespace) -> CachedEmbedder:
    """A variant's embedder, its rows kept between runs in cache/vectors (a file each)."""
    key = variant_key(name)
    return CachedEmbedder(raw_embedder(name, cache, args), key, cache / "vectors" / f"{key}.npz")


def engine_for(embedder: Any, workdir: Path) -> SearchEngine:
    """The sample corpus in a SQLite store, both indexes beside it, every paper embedded."""
    store = open_store(f"sqlite:///{workdir / 'eval.db'}", index_root=workdir / "indexes")
    data = resources.files("paperwire.data").joinpath("sample.jsonl").read_bytes()
    load(store, parse_any(data, "sample", "paperwire"))
    embed_pending(store, embedder)
    if isinstance(embedder, CachedEmbedder):
        embedder.save()
    lexical_index = keyword_index(store, "beside")
    lexical_index.sync(store)
    if embedder.dimensions != 384:  # the product's index is for 384 dimensions
        return SearchEngine(store, lexical_index, ExactVectors(store, embedder.name), embedder)  # type: ignore[arg-type]
    vectors = vector_index(store, embedder.name)
    vectors.sync(store)
    return SearchEngine(store, lexical_index, vectors, embedder)


class ExactVectors:
    """Exact cosine search over every stored vector of a model (any dimension): the
    meaning leg for models the product's 384-dimension index cannot hold."""

    def __init__(self, store: Any, model: str) -> None:
        from paperwire.search.vectors import from_bytes

        self.model = model
        ids = [pid for pid, _ in store.changes((0, 0), 0, 1_000_000).papers]
        stored = store.get_vectors(model, ids)
        self.ids = np.array(list(stored), dtype=np.int64)
        self.matrix = from_bytes(list(stored.values()))

    def sync(self, store: Any, progress: Any = None) -> int:
        return 0

    def has_any(self) -> bool:
        return len(self.ids) > 0

    def search(
        self, vector: np.ndarray, k: int, keep: Any = None, exclude: Any = None
    ) -> list[tuple[int, float]]:
        scores = self.matrix @ vector
        order = np.argsort(-scores)
        found = [(int(self.ids[i]), float(scores[i])) for i in order]
        if exclude:
            found = [f for f in found if f[0] not in exclude]
        if keep is not None:
            allowed = keep([pid for pid, _ in found])
            found = [f for f in found if f[0] in allowed]
        return found[:k]


def mode_runner(engine: SearchEngine, mode: str) -> Runner:
    """Query -> ranked keys through the product's search()."""

    def run(text: str) -> list[str]:
        return [h.paper.key for h in search(engine, text, mode=mode, limit=20)]  # type: ignore[arg-type]

    return run


# --- query-side help ---------------------------------------------------------------------


def legs(engine: SearchEngine, text: str) -> tuple[Any, list[tuple[int, float]], Any]:
    """The parsed query, its keyword leg and its meaning leg (depth as the product)."""
    parsed = hybrid.parse_query(text)
    lex = engine.lexical.search(parsed, hybrid.LEG_DEPTH)
    sem = hybrid._semantic_leg(engine, parsed, hybrid.LEG_DEPTH)
    return parsed, lex, sem


def weights_runner(
    engine: SearchEngine, keys: dict[int, str], rule: Callable[[Any], float]
) -> Runner:
    """Hybrid with the meaning leg's weight given by `rule(parsed query)`."""

    def run(text: str) -> list[str]:
        parsed, lex, sem = legs(engine, text)
        fused = hybrid.fuse(lex, sem, alpha=rule(parsed), query=parsed)
        return [keys[pid] for pid, _ in fused[:20]]

    return run


def prf_runner(
    engine: SearchEngine, keys: dict[int, str], vectors: dict[int, np.ndarray], k: int, beta: float
) -> Runner:
    """Pseudo-relevance feedback across the legs: the hybrid ranking's top k papers move the
    query vector (q + beta * mean of their vectors, normalised), the meaning leg is searched
    again with it and fused with the same keyword leg."""

    def run(text: str) -> list[str]:
        parsed, lex, sem = legs(engine, text)
        fused = hybrid.fuse(lex, sem, query=parsed)
        top = [pid for pid, _ in fused[:k] if pid in vectors]
        if not top or not parsed.free_text:
            return [keys[pid] for pid, _ in fused[:20]]
        assert engine.embedder is not None and engine.vectors is not None
        q = engine.embedder.embed([parsed.free_text])[0]
        moved = q + beta * np.mean([vectors[p] for p in top], axis=0)
        moved /= np.linalg.norm(moved)
        found = engine.vectors.search(moved.astype(np.float32), hybrid.LEG_DEPTH)
        sem2 = [(pid, s) for pid, s in found if s >= hybrid.MIN_COSINE]
        fused2 = hybrid.fuse(lex, sem2, query=parsed)
        return [keys[pid] for pid, _ in fused2[:20]]

    return run


def all_vectors(engine: SearchEngine) -> dict[int, np.ndarray]:
    """Every stored vector of the engine's model, by paper id."""
    from paperwire.search.vectors import from_bytes

    assert engine.vectors is not None
    ids = [pid for pid, _ in engine.store.changes((0, 0), 0, 1_000_000).papers]
    stored = engine.store.get_vectors(engine.vectors.model, ids)
    return {pid: from_bytes([blob])[0] for pid, blob in stored.items()}


# --- runs and reports --------------------------------------------------------------------


def load_queries() -> list[dict[str, Any]]:
    """The judged queries, in order."""
    return json.loads((HERE / "judgments.json").read_text("utf-8"))["queries"]  # type: ignore[no-any-return]


def per_query(queries: list[dict[str, Any]], run: Runner) -> list[float]:
    """nDCG@10 of every query."""
    return [ndcg_at(run(q["text"]), q["relevant"]) for q in queries]


def results_file(cache: Path, variant: str) -> Path:
    """Where a variant's per-query figures are kept."""
    return cache / "results" / f"{variant_key(variant)}.json"


def save_results(cache: Path, variant: str, systems: dict[str, list[float]]) -> None:
    """Merge systems into the variant's results file."""
    path = results_file(cache, variant)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(path.read_text("utf-8")) if path.exists() else {}
    old.update(systems)
    path.write_text(json.dumps(old), "utf-8")


def dev_score(queries: list[dict[str, Any]], scores: list[float]) -> float:
    """Mean over the dev half."""
    return mean([s for i, s in enumerate(scores) if split_of(i + 1) == "dev"])


def run_variant(name: str, args: argparse.Namespace) -> None:
    """Embed (or read the cache), run semantic and hybrid, and the extras if asked."""
    cache = Path(args.cache)
    queries = load_queries()
    embedder = cached_embedder(name, cache, args)
    with tempfile.TemporaryDirectory() as tmp:
        engine = engine_for(embedder, Path(tmp))
        systems = {
            mode: per_query(queries, mode_runner(engine, mode)) for mode in ("semantic", "hybrid")
        }
        systems["lexical"] = per_query(queries, mode_runner(engine, "lexical"))
        keys = {pid: p.key for pid, p in engine.store.changes((0, 0), 0, 1_000_000).papers}
        if args.extras:
            extras(engine, keys, queries, systems)
        engine.store.close()
    embedder.save()
    save_results(cache, name, systems)
    for system, scores in systems.items():
        print(f"{name}/{system}: dev {dev_score(queries, scores):.3f}")


def extras(
    engine: SearchEngine,
    keys: dict[int, str],
    queries: list[dict[str, Any]],
    systems: dict[str, list[float]],
) -> None:
    """Query-side help grids (hybrid, nDCG@10 per query): feedback across the legs, the
    meaning weight by length."""
    vectors = all_vectors(engine)
    for k in (3, 5, 10):
        for beta in (0.25, 0.5, 1.0):
            systems[f"prf k{k} b{beta}"] = per_query(
                queries, prf_runner(engine, keys, vectors, k, beta)
            )
    from paperwire.querylang import ranking_terms

    def words(parsed: Any) -> int:
        w, p = ranking_terms(parsed)
        return len(w) + len(p)

    for long_from in (8, 10, 12):
        for very in (0.8, 0.85, 0.9, 1.0):

            def rule(parsed: Any, long_from: int = long_from, very: float = very) -> float:
                n = words(parsed)
                return 0.3 if n < 4 else (very if n >= long_from else 0.7)

            systems[f"len3 from{long_from} a{very}"] = per_query(
                queries, weights_runner(engine, keys, rule)
            )
    for slope in (0.02, 0.04, 0.06):

        def ramp(parsed: Any, slope: float = slope) -> float:
            n = words(parsed)
            return 0.3 if n < 4 else min(1.0, 0.7 + slope * (n - 4))

        systems[f"ramp s{slope}"] = per_query(queries, weights_runner(engine, keys, ramp))


def load_system(cache: Path, ref: str) -> list[float]:
    """`variant/system` from the results files."""
    variant, system = ref.rsplit("/", 1)
    data = json.loads(results_file(cache, variant).read_text("utf-8"))
    return data[system]  # type: ignore[no-any-return]


def report(refs: list[str], args: argparse.Namespace) -> None:
    """nDCG@10 by split and kind for each system; paired tests against the first."""
    cache = Path(args.cache)
    queries = load_queries()
    kinds = [q["kind"] for q in queries]
    splits = [split_of(i + 1) for i in range(len(queries))]
    if args.all_of:
        data = json.loads(results_file(cache, args.all_of).read_text("utf-8"))
        refs = refs + [f"{args.all_of}/{s}" for s in data if f"{args.all_of}/{s}" not in refs]
    scores = {ref: load_system(cache, ref) for ref in refs}

    def group(split: str, kind: str | None) -> list[int]:
        return [i for i in range(len(queries)) if splits[i] == split and kind in (None, kinds[i])]

    print("| system | dev | dev kw / desc / known | test | test kw / desc / known |")
    print("| --- | --- | --- | --- | --- |")
    order = (
        refs
        if not args.sort
        else sorted(refs, key=lambda r: -mean([scores[r][i] for i in group("dev", None)]))
    )
    for ref in order:
        s = scores[ref]
        cells = []
        for split in ("dev", "test"):
            cells.append(f"{mean([s[i] for i in group(split, None)]):.3f}")
            cells.append(" / ".join(f"{mean([s[i] for i in group(split, k)]):.3f}" for k in KINDS))
        print(f"| {ref} | " + " | ".join(cells) + " |")
    base = refs[0]
    print(f"\npaired randomization tests against {base} (nDCG@10)\n")
    print("| system | split | all: diff (p) | keyword | description | known-item |")
    print("| --- | --- | --- | --- | --- | --- |")
    for ref in refs[1:]:
        for split in ("dev", "test"):
            cells = []
            for kind in (None, *KINDS):
                members = group(split, kind)
                a = [scores[ref][i] for i in members]
                b = [scores[base][i] for i in members]
                cells.append(f"{mean(a) - mean(b):+.3f} ({randomization_test(a, b):.3f})")
            print(f"| {ref} | {split} | " + " | ".join(cells) + " |")


def sample_texts() -> list[str]:
    """What the 245 sample papers are embedded from, in store order."""
    from paperwire.search.embed import paper_text

    data = resources.files("paperwire.data").joinpath("sample.jsonl").read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 's.db'}")
        load(store, parse_any(data, "sample", "paperwire"))
        texts = [paper_text(p) for _, p in store.changes((0, 0), 0, 1_000_000).papers]
        store.close()
    return texts


def speed(names: list[str], args: argparse.Namespace) -> None:
    """Papers embedded a second (the first --texts sample papers, 64 a batch, all cores, best of
    `--rounds`) and one query's embedding time on one thread (the 120 judged queries,
    p50 / p95), each variant in turn, rounds interleaved."""
    cache = Path(args.cache)
    texts = sample_texts()[: args.texts]
    queries = [q["text"] for q in load_queries()]
    batch = {n: raw_embedder(n, cache, args, threads=2) for n in names}
    single = {n: raw_embedder(n, cache, args, threads=1) for n in names}
    rates: dict[str, list[float]] = {n: [] for n in names}
    latencies: dict[str, list[float]] = {n: [] for n in names}
    for n in names:  # warm up (first load, export)
        batch[n].embed(texts[:8])
        single[n].embed(queries[:3])
    for _ in range(args.rounds):
        for n in names:
            start = time.perf_counter()
            for i in range(0, len(texts), 64):
                batch[n].embed(texts[i : i + 64])
            rates[n].append(len(texts) / (time.perf_counter() - start))
            for q in queries:
                t0 = time.perf_counter()
                single[n].embed([q])
                latencies[n].append((time.perf_counter() - t0) * 1000)
    print(f"load average {os.getloadavg()[0]:.1f}\n")
    print("| embedder | papers/s (best of rounds) | query ms p50 / p95 (one thread) |")
    print("| --- | --- | --- |")
    for n in names:
        lat = np.array(latencies[n])
        print(
            f"| {n} | {max(rates[n]):.1f} | {np.percentile(lat, 50):.1f} / "
            f"{np.percentile(lat, 95):.1f} |"
        )


def tune_on_sample(root: Path, args: argparse.Namespace) -> None:
    """`paperwire tune` on the sample corpus (its titles and abstracts only), into root."""
    from tune_corpus import TuneSettings, pairs_from_store, tune

    data = resources.files("paperwire.data").joinpath("sample.jsonl").read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 's.db'}")
        load(store, parse_any(data, "sample", "paperwire"))
        pairs = pairs_from_store(store)
        store.close()
    settings = TuneSettings(
        epochs=args.epochs,
        learning_rate=args.lr,
        batch_size=args.batch,
        max_tokens=args.max_tokens,
        threads=2,
    )
    outcome = tune(pairs, root, settings)
    print(
        f"{outcome.folder} pairs {outcome.pairs} steps {outcome.steps} "
        f"{outcome.seconds:.0f} s loss {outcome.final_loss:.3f}"
    )


def main() -> None:
    """Subcommands: run, report, speed."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=("run", "report", "speed", "tune"))
    parser.add_argument("names", nargs="+")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "paperwire-round3"))
    parser.add_argument("--mpnet", help="all-mpnet-base-v2 folder (sentence-transformers)")
    parser.add_argument("--extras", action="store_true", help="PRF and length-weight grids")
    parser.add_argument("--all-of", help="report: every system of this variant too")
    parser.add_argument("--sort", action="store_true", help="report: by dev, best first")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--texts", type=int, default=245, help="speed: papers embedded a round")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--max-tokens", type=int, default=256)
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.ERROR)
    if args.command == "run":
        for name in args.names:
            run_variant(name, args)
    elif args.command == "tune":
        tune_on_sample(Path(args.names[0]), args)
    elif args.command == "report":
        report(args.names, args)
    else:
        speed(args.names, args)


if __name__ == "__main__":
    main()
