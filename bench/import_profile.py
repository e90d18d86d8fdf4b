"""Where an import's CPU goes, phase by phase (issue 30), in one process.

    python bench/import_profile.py /tmp/synth-100k.jsonl

The importing process's phases as `paperwire import` runs them: parse (`parse_any`),
`load.cleaned`, `paper_to_row` alone and `upsert_papers` (which includes it), in batches of
2,000 into a fresh SQLite file. Then the keyword indexer's two parts, on that store: reading
the change feed (`Store.text_changes`) with the tantivy documents built, and tantivy's own
indexing (add, commit, merges; the documents built again). The tantivy part is measured twice: with the shipped analyzers
and, as a diagnostic only, without the English stemmer. CPU seconds from getrusage (tantivy's
threads included). The papers are held in memory between phases, so parsing reads a little
slower here than in a streaming import."""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
from pathlib import Path

import tantivy

from paperwire.ingest import parse_any
from paperwire.ingest.load import cleaned
from paperwire.querylang import NAMES, STEMMED
from paperwire.search import lexical
from paperwire.store import open_store
from paperwire.store.rows import paper_to_row


def cpu() -> float:
    """CPU seconds of this process so far (every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    """Run the phases and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'profile.db'}")
        times: dict[str, float] = {}
        start = cpu()
        with args.corpus.open("rb") as stream:
            parsed = list(parse_any(stream, str(args.corpus), "arxiv-snapshot"))
        times["parse (parse_any)"] = cpu() - start
        start = cpu()
        papers = [cleaned(p) for p in parsed if not isinstance(p, Exception)]
        times["load.cleaned"] = cpu() - start
        start = cpu()
        for paper in papers:
            paper_to_row(paper)
        times["paper_to_row alone"] = cpu() - start
        start = cpu()
        for first in range(0, len(papers), 2000):
            store.upsert_papers(papers[first : first + 2000])
        times["upsert_papers (batches of 2,000)"] = cpu() - start
        start = cpu()
        position, texts = (0, 0), []
        while True:
            changes = store.text_changes(position, 0, lexical.SYNC_BATCH)
            if not changes.papers:
                break
            texts += changes.papers
            position = changes.position
        documents = [lexical._document(text) for text in texts]
        times["indexer: read the feed, build documents"] = cpu() - start
        for label, stemmed in [("shipped analyzers", STEMMED), ("no stemmer, diagnostic", NAMES)]:
            folder = Path(tmp) / "index"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            index = tantivy.Index(lexical._schema(), path=str(folder))
            index.register_tokenizer("pw_stem", stemmed)
            index.register_tokenizer("pw_name", NAMES)
            writer = index.writer(heap_size=lexical.WRITER_HEAP, num_threads=2)
            start = cpu()
            for text in texts:
                writer.add_document(lexical._document(text))
            writer.commit()
            writer.wait_merging_threads()
            times[f"indexer: tantivy ({label})"] = cpu() - start
        store.close()
    del documents
    print(f"{len(papers):,} papers")
    for name, seconds in times.items():
        print(f"{name}: {seconds:.2f} s CPU, {seconds / len(papers) * 1e6:.0f} µs a paper")


if __name__ == "__main__":
    main()
