"""Relevance, round 4 (issue 31, bench/RESULTS.md §21): the int8 graph's quantisation gap and
keyword-side pseudo-relevance feedback (RM3), each measured as round 3 measured its
variants (eval/round3.py: the product's store, indexes and search(); the dev half chooses,
the test half confirms by paired randomization tests).

    python eval/round4.py quant                 # sensitivity of each MatMul, graph variants,
                                                # cosine to the float32 graph
    python eval/round3.py run onnx:/tmp/paperwire-round4/models/<variant> ...   # nDCG@10
    python eval/round4.py rm3                   # keyword-side feedback grids (dev), both halves
    python eval/round3.py report ...            # tables, paired tests

The acronyms' cost (§21, §25): how a long form is searched when the query holds its acronym.

    python eval/round4.py acronym-cost --db S --acronyms D        # with / without expansion
    python eval/round4.py acronym-forms --acronyms D              # nDCG@10 of each form
    python eval/round4.py acronym-forms-real --db <shipped corpora store>   # hits on the concept
    python eval/round4.py acronym-forms-cost --db S --index I --acronyms D  # CPU ms of each form

Graph variants (written under --cache/models/<name>/minilm-int8.onnx, which OnnxEmbedder
reads as its model):

- ``shipped``: bert_onnx's graph, quantize_dynamic per channel (what export_onnx_int8 does);
- ``float``: bert_onnx's float32 graph on ONNX Runtime (no quantisation);
- ``keep<k>``: shipped, with the k MatMuls whose int8 form moves the vectors most (each
  quantised alone, cosine to float32 over 64 sample texts) left in float32;
- ``keep-ffn-out``: the six feed-forward output MatMuls (after GELU) left in float32."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from round3 import load_queries, per_query, sample_texts, save_results
from run import KINDS, mean, randomization_test, split_of

from paperwire.search import bert_onnx, hybrid
from paperwire.search.embed import OnnxEmbedder, _model_dir
from paperwire.store import open_store


def named_float_graph(target: Path) -> tuple[Path, dict[str, str]]:
    """bert_onnx's float graph with every node named (quantize_dynamic selects nodes by
    name); returns it and {MatMul node name: the weight it multiplies by}."""
    import onnx

    raw = bert_onnx.build(_model_dir(), target.with_suffix(".raw.onnx"))
    model = onnx.load(str(raw))
    inits = {i.name for i in model.graph.initializer}
    matmuls = {}
    for node in model.graph.node:
        node.name = node.output[0]
        if node.op_type == "MatMul" and node.input[1] in inits:
            matmuls[node.name] = node.input[1]
    onnx.save(model, str(target))
    raw.unlink()
    return target, matmuls


def quantise(float_file: Path, folder: Path, **options: Any) -> Path:
    """quantize_dynamic per channel (as export_onnx_int8) with `options`, into folder."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "minilm-int8.onnx"
    logging.getLogger().setLevel(logging.ERROR)
    quantize_dynamic(
        str(float_file), str(target), weight_type=QuantType.QInt8, per_channel=True, **options
    )
    return target


def embed_all(folder: Path, texts: list[str]) -> np.ndarray:
    """Rows for texts, 64 a batch as embed_pending does."""
    embedder = OnnxEmbedder(folder, threads=2)
    return np.concatenate([embedder.embed(texts[i : i + 64]) for i in range(0, len(texts), 64)])


def cosines(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean and minimum row cosine (rows are normalised)."""
    c = np.sum(a * b, axis=1)
    return float(c.mean()), float(c.min())


def quant(args: argparse.Namespace) -> None:
    """Write the graph variants and print each one's cosine to the float32 graph."""
    root = Path(args.cache) / "models"
    texts = sample_texts()
    float_dir = root / "float"
    float_dir.mkdir(parents=True, exist_ok=True)
    float_file, matmuls = named_float_graph(float_dir / "named.float.onnx")
    (float_dir / "minilm-int8.onnx").write_bytes(float_file.read_bytes())  # read as the model
    reference = embed_all(float_dir, texts)
    probe = texts[:64]
    reference_probe = reference[:64]
    sensitivity = []
    for name, weight in matmuls.items():
        folder = Path(tempfile.mkdtemp(prefix="one-", dir=root))
        quantise(float_file, folder, nodes_to_quantize=[name])
        mean_cos, _ = cosines(embed_all(folder, probe), reference_probe)
        sensitivity.append((1 - mean_cos, name, weight))
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
        print(f"{weight}: 1 - cosine {1 - mean_cos:.5f}", flush=True)
    sensitivity.sort(reverse=True)
    (root / "sensitivity.json").write_text(json.dumps(sensitivity, indent=1), "utf-8")
    variants: dict[str, list[str]] = {"shipped": []}
    for k in (1, 2, 4, 6, 9, 12):
        variants[f"keep{k}"] = [name for _, name, _ in sensitivity[:k]]
    variants["keep-ffn-out"] = [n for n, w in matmuls.items() if w.endswith("output.dense.weight")]
    print("\n| graph | MatMuls in float | mean / min cosine to float32 (245 texts) | file MB |")
    print("| --- | --- | --- | --- |")
    for name, keep in variants.items():
        folder = root / name
        model = quantise(float_file, folder, nodes_to_exclude=keep)
        mean_cos, min_cos = cosines(embed_all(folder, texts), reference)
        size = model.stat().st_size / 1e6
        print(f"| {name} | {len(keep)} | {mean_cos:.4f} / {min_cos:.4f} | {size:.1f} |", flush=True)
    print(f"| float | 36 | 1 / 1 | {float_file.stat().st_size / 1e6:.1f} |")


# --- keyword-side pseudo-relevance feedback (RM3) -------------------------------------------


def rm3_terms(
    docs: list[tuple[float, list[str]]], k: int, m: int, skip: set[str]
) -> list[tuple[str, float]]:
    """RM3's relevance model over the top k documents (score, stemmed words): P(w|R) =
    sum over docs of P(w|D) x P(D|q), P(D|q) the documents' scores normalised to sum 1;
    the m most probable words not in `skip` (the query's own and stop words), weights
    normalised to sum 1."""
    top = docs[:k]
    total = sum(max(s, 0.0) for s, _ in top) or 1.0
    model: dict[str, float] = {}
    for score, words in top:
        if not words:
            continue
        weight = max(score, 0.0) / total
        counts: dict[str, int] = {}
        for w in words:
            counts[w] = counts.get(w, 0) + 1
        for w, c in counts.items():
            model[w] = model.get(w, 0.0) + weight * c / len(words)
    ranked = sorted(((p, w) for w, p in model.items() if w not in skip), reverse=True)[:m]
    norm = sum(p for p, _ in ranked) or 1.0
    return [(w, p / norm) for p, w in ranked]


def rm3(args: argparse.Namespace) -> None:
    """Grids of keyword-side feedback on the sample store: the keyword leg's top k papers
    give m expansion words (RM3), added as SHOULD clauses, each boosted by lam x its
    weight x the query's word count (so lam is the expansion's share against the original
    words); the keyword leg alone and hybrid (fused with the same meaning leg), per query."""
    import tantivy
    from round3 import cached_embedder, engine_for, mode_runner

    from paperwire.querylang import STEMMED, STOP_WORDS, ranking_terms

    cache = Path(args.cache)
    queries = load_queries()
    name = args.variant
    embedder = cached_embedder(name, cache, args)
    systems: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        engine = engine_for(embedder, Path(tmp))
        papers = dict(engine.store.changes((0, 0), 0, 1_000_000).papers)
        keys = {pid: p.key for pid, p in papers.items()}
        stemmed = {
            pid: [t for t in STEMMED.analyze(f"{p.title} {p.abstract}") if t not in STOP_WORDS]
            for pid, p in papers.items()
        }
        index = engine.lexical
        stop_stems = {s for w in STOP_WORDS for s in STEMMED.analyze(w)}
        systems["lexical"] = per_query(queries, mode_runner(engine, "lexical"))
        systems["hybrid"] = per_query(queries, mode_runner(engine, "hybrid"))
        legs = {}
        for q in queries:
            parsed = hybrid.parse_query(q["text"])
            legs[q["text"]] = (
                parsed,
                index.search(parsed, hybrid.LEG_DEPTH),
                hybrid._semantic_leg(engine, parsed, hybrid.LEG_DEPTH),
            )

        def expanded_leg(text: str, k: int, m: int, lam: float) -> list[tuple[int, float]]:
            parsed, lex, _ = legs[text]
            words, _phrases = ranking_terms(parsed)
            own = {s for t in words for s in STEMMED.analyze(" ".join(t.words))}
            docs = [(s, stemmed[pid]) for pid, s in lex[:k]]
            terms = rm3_terms(docs, k, m, own | stop_stems)
            if not terms:
                return lex
            base = index._build(parsed)
            clauses = [(tantivy.Occur.Must, base)]
            extra = [
                (
                    tantivy.Occur.Should,
                    tantivy.Query.boost_query(
                        tantivy.Query.term_query(index.schema, "text", w),
                        lam * weight * max(len(words), 1),
                    ),
                )
                for w, weight in terms
            ]
            clauses.append((tantivy.Occur.Should, tantivy.Query.boolean_query(extra)))
            # The original query must match (its words' union), expansion words re-rank.
            searcher = index.index.searcher()
            found = searcher.search(
                tantivy.Query.boolean_query(clauses), hybrid.LEG_DEPTH, count=False
            )
            from paperwire.search.lexical import _pids

            pids = _pids(searcher, [a for _s, a in found.hits])
            return [(pid, float(s)) for pid, (s, _a) in zip(pids, found.hits, strict=True)]

        for k in (3, 5, 10):
            for m in (5, 10, 20):
                for lam in (0.1, 0.25, 0.5):
                    label = f"rm3 k{k} m{m} l{lam}"
                    lex_scores, hyb_scores = [], []
                    for q in queries:
                        parsed, _lex, sem = legs[q["text"]]
                        lex2 = expanded_leg(q["text"], k, m, lam)
                        fused = hybrid.fuse(lex2, sem, query=parsed)
                        from run import ndcg_at

                        lex_scores.append(ndcg_at([keys[p] for p, _ in lex2[:20]], q["relevant"]))
                        hyb_scores.append(ndcg_at([keys[p] for p, _ in fused[:20]], q["relevant"]))
                    systems[f"lexical {label}"] = lex_scores
                    systems[f"hybrid {label}"] = hyb_scores
                    dev = [i for i in range(len(queries)) if split_of(i + 1) == "dev"]
                    print(
                        f"{label}: dev lexical {mean([lex_scores[i] for i in dev]):.3f} "
                        f"hybrid {mean([hyb_scores[i] for i in dev]):.3f}",
                        flush=True,
                    )
        engine.store.close()
    save_results(cache, f"{name}-rm3", systems)
    dev = [i for i in range(len(queries)) if split_of(i + 1) == "dev"]
    for leg in ("lexical", "hybrid"):
        base = systems[leg]
        best = max(
            (s for s in systems if s.startswith(f"{leg} rm3")),
            key=lambda s: mean([systems[s][i] for i in dev]),
        )
        print(f"\nbest {leg} on dev: {best}")
        for split in ("dev", "test"):
            for kind in (None, *KINDS):
                idx = [
                    i
                    for i, q in enumerate(queries)
                    if split_of(i + 1) == split and kind in (None, q["kind"])
                ]
                a = [systems[best][i] for i in idx]
                b = [base[i] for i in idx]
                print(
                    f"  {split} {kind or 'all'}: {mean(b):.3f} -> {mean(a):.3f} "
                    f"({mean(a) - mean(b):+.3f}, p {randomization_test(a, b):.3f})"
                )


def acronym_cost(args: argparse.Namespace) -> None:
    """The keyword leg's time with and without acronym expansion, in one process over one
    index (a store's keyword index beside it, --db; its dictionary from --acronyms), the
    two interleaved run by run (so a loaded machine's noise falls on both alike): each
    query's median over --rounds runs; per query set p50 / p95 over the queries of each,
    and of the per-query difference."""
    import time

    sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
    from keyword_bench import make_queries
    from paperwire.acronyms import AcronymDictionary
    from paperwire.search.lexical import LexicalIndex

    store = open_store(f"sqlite:///{Path(args.db).resolve()}")
    index = LexicalIndex.for_store(store)
    if not index.is_current(store):
        index.sync(store)
    with_pairs = AcronymDictionary.load(Path(args.acronyms))
    without = AcronymDictionary()
    judged = [q["text"] for q in load_queries()]
    sets = {"bench 1-6 words": make_queries(), "judged (120)": judged}
    print("| query set | expanded | without p50 / p95 | with p50 / p95 | difference p50 / p95 |")
    print("| --- | --- | --- | --- | --- |")
    for name, texts in sets.items():
        parsed = [hybrid.parse_query(t) for t in texts]
        per_query: dict[str, list[list[float]]] = {"without": [], "with": []}
        flags = [_expanded_with(index, with_pairs, q) for q in parsed]
        expanded = sum(flags)
        for q in parsed:
            runs: dict[str, list[float]] = {"without": [], "with": []}
            for rounds in range(args.rounds + 1):
                for label, dictionary in (("without", without), ("with", with_pairs)):
                    index.acronyms = dictionary
                    started = time.perf_counter()
                    index.search(q, hybrid.LEG_DEPTH)
                    if rounds:  # the first round warms up
                        runs[label].append((time.perf_counter() - started) * 1000)
            for label in runs:
                per_query[label].append(runs[label])
        # Each query's median over the rounds (a loaded machine's stalls fall on single runs).
        medians = {k: [float(np.median(r)) for r in v] for k, v in per_query.items()}
        medians["diff"] = [w - o for w, o in zip(medians["with"], medians["without"], strict=True)]
        cells = [
            " / ".join(f"{np.percentile(medians[k], p):.2f}" for p in (50, 95))
            for k in ("without", "with", "diff")
        ]
        print(f"| {name} | {expanded} of {len(texts)} | " + " | ".join(cells) + " |", flush=True)
        for flag, what in ((True, "expanded"), (False, "not expanded")):
            mine = [i for i, f in enumerate(flags) if f == flag]
            if mine:
                means = {k: np.mean([medians[k][i] for i in mine]) for k in ("without", "with")}
                print(
                    f"|   {what} ({len(mine)}), mean ms | | {means['without']:.2f} | "
                    f"{means['with']:.2f} | {means['with'] - means['without']:+.2f} |",
                    flush=True,
                )
    store.close()


# The forms a long form may take in the keyword query when the query holds its acronym
# (LexicalIndex._long_form_query's alternatives, bench/RESULTS.md §25): the words as a
# phrase (positions read) or as a conjunction (no positions), in the text and the title
# or in the text alone; each weighted as one word (boost / its word count).
# "-major": only the long forms defined by at least a quarter as many papers as the
# acronym's most frequent one (paperwire.acronyms.MIN_FORM_SHARE); otherwise every form
# kept up to MAX_LONG_FORMS, as 280866a did.
BOTH = (("text", 1.0), ("title", 0.25))
LONG_FORM_VARIANTS = {
    "phrase": ("phrase", BOTH, 0.0),
    "words": ("words", BOTH, 0.0),
    "phrase-text": ("phrase", (("text", 1.0),), 0.0),
    "words-text": ("words", (("text", 1.0),), 0.0),
    "phrase-major": ("phrase", BOTH, 0.25),
    "phrase-text-major": ("phrase", (("text", 1.0),), 0.25),
    "words-text-major": ("words", (("text", 1.0),), 0.25),
}


def long_form_query(index: Any, variant: str, words: tuple[str, ...]) -> Any | None:
    """A long form as one of LONG_FORM_VARIANTS would query it."""
    import tantivy

    from paperwire.querylang import STEMMED

    how, fields, _share = LONG_FORM_VARIANTS[variant]
    tokens = STEMMED.analyze(" ".join(words))
    if len(tokens) < 2:
        return None
    clauses = []
    for field, boost in fields:
        if how == "phrase":
            matched = tantivy.Query.phrase_query(index.schema, field, tokens)
        else:
            matched = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, tantivy.Query.term_query(index.schema, field, t))
                    for t in tokens
                ]
            )
        clauses.append(
            (tantivy.Occur.Should, tantivy.Query.boost_query(matched, boost / len(tokens)))
        )
    return tantivy.Query.boolean_query(clauses)


def use_long_form(index: Any, variant: str) -> None:
    """Make an index query long forms as `variant` says (the form on this instance only;
    the share of papers a long form needs, for every dictionary)."""
    from paperwire import acronyms

    acronyms.MIN_FORM_SHARE = LONG_FORM_VARIANTS[variant][2]
    index._long_form_query = lambda words: long_form_query(index, variant, words)


def acronym_forms(args: argparse.Namespace) -> None:
    """nDCG@10 of each long-form variant on the sample store (keyword leg and hybrid,
    the product's search()), with the store's own pairs and with --acronyms' pairs added;
    per query, saved under --cache/results; the first variant is the base of the tests."""
    from round3 import cached_embedder, engine_for, mode_runner

    from paperwire.acronyms import AcronymDictionary

    cache = Path(args.cache)
    queries = load_queries()
    name = args.variant
    embedder = cached_embedder(name, cache, args)
    systems: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        engine = engine_for(embedder, Path(tmp))
        index = engine.lexical
        own = AcronymDictionary(dict(index.acronyms.pairs))
        dictionaries = {"own": own}
        if args.acronyms:
            added = AcronymDictionary(dict(own.pairs))
            added.merge(AcronymDictionary.load(Path(args.acronyms)))
            dictionaries["+corpora"] = added
        for label, dictionary in dictionaries.items():
            index.acronyms = dictionary
            expanded = sum(bool(index.expansion(hybrid.parse_query(q["text"]))[2]) for q in queries)
            print(f"{label}: {expanded} of {len(queries)} judged queries expanded", flush=True)
            for variant in LONG_FORM_VARIANTS:
                use_long_form(index, variant)
                for mode in ("lexical", "hybrid"):
                    systems[f"{mode} {label} {variant}"] = per_query(
                        queries, mode_runner(engine, mode)
                    )
        embedder.save()
        engine.store.close()
    save_results(cache, f"{name}-acronym-forms", systems)
    base = next(iter(LONG_FORM_VARIANTS))
    for label in dictionaries:
        for mode in ("lexical", "hybrid"):
            print(f"\n{mode}, {label} pairs (paired against {base})")
            print("| variant | dev | dev kw / desc / known | test | test kw / desc / known |")
            print("| --- | --- | --- | --- | --- |")
            for variant in LONG_FORM_VARIANTS:
                s = systems[f"{mode} {label} {variant}"]
                b = systems[f"{mode} {label} {base}"]
                cells = []
                for split in ("dev", "test"):
                    groups = [
                        [
                            i
                            for i, q in enumerate(queries)
                            if split_of(i + 1) == split and kind in (None, q["kind"])
                        ]
                        for kind in (None, *KINDS)
                    ]
                    whole = groups[0]
                    a_, b_ = [s[i] for i in whole], [b[i] for i in whole]
                    diff = mean(a_) - mean(b_)
                    test = (
                        f" ({diff:+.3f}, p {randomization_test(a_, b_):.2f})"
                        if variant != base
                        else ""
                    )
                    cells.append(f"{mean(a_):.3f}{test}")
                    cells.append(" / ".join(f"{mean([s[i] for i in g]):.3f}" for g in groups[1:]))
                print(f"| {variant} | " + " | ".join(cells) + " |")


def acronym_forms_cost(args: argparse.Namespace) -> None:
    """The keyword leg's time with each long-form variant, and without expansion, in one
    process over one store's keyword index (--db; pairs from --acronyms), the variants
    interleaved query by query (a loaded machine's noise falls on all alike): each query's
    median over --rounds runs of the process's CPU time (the search runs on this thread;
    wall time on a shared machine is mostly waiting for a core); per query set p50 / p95
    over all queries and the mean over the expanded ones."""
    import time

    sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
    from keyword_bench import make_queries
    from paperwire.acronyms import AcronymDictionary
    from paperwire.search.lexical import LexicalIndex

    store = open_store(f"sqlite:///{Path(args.db).resolve()}")
    index = LexicalIndex(Path(args.index)) if args.index else LexicalIndex.for_store(store)
    if not index.is_current(store):
        index.sync(store)
    with_pairs = AcronymDictionary.load(Path(args.acronyms))
    labels = ["none", *(args.variants.split(",") if args.variants else LONG_FORM_VARIANTS)]
    judged = [q["text"] for q in load_queries()]
    sets = {"bench 1-6 words": make_queries(), "judged (120)": judged}
    print("| query set | variant | CPU p50 / p95 ms | mean CPU ms, expanded | not expanded |")
    print("| --- | --- | --- | --- | --- |")
    for name, texts in sets.items():
        parsed = [hybrid.parse_query(t) for t in texts]
        flags = [_expanded_with(index, with_pairs, q) for q in parsed]
        medians: dict[str, list[float]] = {label: [] for label in labels}
        for q in parsed:
            runs: dict[str, list[float]] = {label: [] for label in labels}
            for round_ in range(args.rounds + 1):
                for label in labels:
                    index.acronyms = AcronymDictionary() if label == "none" else with_pairs
                    if label != "none":
                        use_long_form(index, label)
                    started = time.process_time()
                    index.search(q, hybrid.LEG_DEPTH)
                    if round_:  # the first round warms up
                        runs[label].append((time.process_time() - started) * 1000)
            for label in labels:
                medians[label].append(float(np.median(runs[label])))
        for label in labels:
            m = medians[label]
            yes = [m[i] for i, f in enumerate(flags) if f]
            no = [m[i] for i, f in enumerate(flags) if not f]
            print(
                f"| {name} ({sum(flags)} expanded) | {label} | "
                f"{np.percentile(m, 50):.2f} / {np.percentile(m, 95):.2f} | "
                f"{np.mean(yes) if yes else float('nan'):.2f} | "
                f"{np.mean(no) if no else float('nan'):.2f} |",
                flush=True,
            )
    store.close()


def acronym_forms_real(args: argparse.Namespace) -> None:
    """What each long-form variant finds for an acronym typed alone, on real abstracts (a
    store of the shipped corpora, --db, its own dictionary): for every acronym the store
    defines, the keyword leg's top 10 with each variant; per variant the mean overlap
    with the phrase's top 10, and the share of hits on the concept: papers holding the
    acronym or one of its long forms as written (its words in a row, stemmed). A hit
    holding a long form's words only scattered is what a conjunction adds over a phrase."""
    from paperwire.querylang import STEMMED, parse_query
    from paperwire.search.lexical import LexicalIndex

    store = open_store(f"sqlite:///{Path(args.db).resolve()}")
    index = LexicalIndex.for_store(store)
    if not index.is_current(store):
        index.sync(store)
    papers = dict(store.changes((0, 0), 0, 10_000_000).papers)
    stems = {pid: STEMMED.analyze(f"{p.title} {p.abstract}") for pid, p in papers.items()}

    def on_concept(pid: int, key: str, forms: list[tuple[str, ...]]) -> bool:
        tokens = stems[pid]
        if set(STEMMED.analyze(key)) & set(tokens):
            return True
        text = " " + " ".join(tokens) + " "
        return any(" " + " ".join(STEMMED.analyze(" ".join(f))) + " " in text for f in forms)

    keys = sorted(k for k in index.acronyms.pairs if index.acronyms.long_forms(k))
    tops: dict[str, list[list[int]]] = {v: [] for v in LONG_FORM_VARIANTS}
    for variant in LONG_FORM_VARIANTS:
        use_long_form(index, variant)
        for key in keys:
            tops[variant].append([pid for pid, _ in index.search(parse_query(key), 10)])
    base = next(iter(LONG_FORM_VARIANTS))
    use_long_form(index, base)  # the concept: the acronym or any long form kept before
    print(f"{len(keys)} acronyms the store defines, each typed alone; keyword leg top 10")
    print("| variant | hits a query | overlap@10 with phrase | hits on the concept |")
    print("| --- | --- | --- | --- |")
    for variant, found in tops.items():
        overlaps, concept, hits = [], [], []
        for key, mine, theirs in zip(keys, found, tops[base], strict=True):
            forms = index.acronyms.long_forms(key)
            hits.append(len(mine))
            if theirs:
                overlaps.append(len(set(mine) & set(theirs)) / len(theirs))
            concept += [on_concept(pid, key, forms) for pid in mine]
        print(
            f"| {variant} | {np.mean(hits):.2f} | {np.mean(overlaps):.3f} | "
            f"{np.mean(concept):.3f} ({sum(concept)} of {len(concept)}) |"
        )
    store.close()


def _expanded_with(index: Any, dictionary: Any, query: Any) -> bool:
    """True when the dictionary expands the query."""
    index.acronyms = dictionary
    return bool(index.expansion(query)[2])


def main() -> None:
    """Subcommands: quant, rm3, acronym-cost."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "command",
        choices=(
            "quant",
            "rm3",
            "acronym-cost",
            "acronym-forms",
            "acronym-forms-cost",
            "acronym-forms-real",
        ),
    )
    parser.add_argument("--db", help="acronym-cost: a SQLite store (its keyword index beside)")
    parser.add_argument("--acronyms", help="acronym-cost: a dictionary (JSON)")
    parser.add_argument("--index", help="acronym-forms-cost: the keyword index folder")
    parser.add_argument("--variants", help="acronym-forms-cost: these variants (a,b,...)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "paperwire-round4"))
    parser.add_argument("--variant", default="minilm-int8", help="rm3: the embedder")
    parser.add_argument("--mpnet", help="(round3's option; unused)")
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.ERROR)
    if args.command == "quant":
        quant(args)
    elif args.command == "acronym-cost":
        acronym_cost(args)
    elif args.command == "acronym-forms":
        acronym_forms(args)
    elif args.command == "acronym-forms-cost":
        acronym_forms_cost(args)
    elif args.command == "acronym-forms-real":
        acronym_forms_real(args)
    else:
        rm3(args)


if __name__ == "__main__":
    main()
