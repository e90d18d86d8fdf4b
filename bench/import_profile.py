"""Where an import's CPU goes, phase by phase (issue 30), in one process.

    python bench/import_profile.py /tmp/synth-100k.jsonl

The importing process's phases as `paperwire import` runs them: parse (`parse_any`),
`load.cleaned`, `paper_to_row` alone and `upsert_papers` (which includes it), in batches of
2,000 into a fresh SQLite file. Then the keyword indexer's two parts, on that store: reading
the change feed (`Store.text_changes`) with the tantivy documents built, and tantivy's own
indexing (add, commit, merges; the documents built again). CPU seconds from getrusage (tantivy's
threads included). The papers are held in memory between phases, so parsing reads a little
slower here than in a streaming import."""

from __future__ import annotations

import argparse
import resource
import tempfile
from pathlib import Path

from paperwire.ingest import parse_any
from paperwire.ingest.load import cleaned
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
        folder = Path(tmp) / "index"
        folder.mkdir()
        # The shipped analyzers, as LexicalIndex registers them (never changed here).
        index = lexical.LexicalIndex(folder).index
        writer = index.writer(heap_size=lexical.WRITER_HEAP, num_threads=2)
        start = cpu()
        for text in texts:
            writer.add_document(lexical._document(text))
        writer.commit()
        writer.wait_merging_threads()
        times["indexer: tantivy (add, commit, merges)"] = cpu() - start
        store.close()
    del documents
    print(f"{len(papers):,} papers")
    for name, seconds in times.items():
        print(f"{name}: {seconds:.2f} s CPU, {seconds / len(papers) * 1e6:.0f} µs a paper")


if __name__ == "__main__":
    main()
