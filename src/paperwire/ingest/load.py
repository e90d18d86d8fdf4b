"""Feeding parsed records into a Store in batches: each batch is one transaction, so an
import killed half-way leaves whole batches behind and running it again finishes the job
(upserts are idempotent)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from paperwire.ingest.common import Deleted, Parsed, RecordError, RecordWarning
from paperwire.models import Paper, validated
from paperwire.store.base import Store, UpsertResult
from paperwire.xmltext import xml_safe_paper

DEFAULT_BATCH = 2000
# Only the first errors are kept word for word; the rest are counted.
KEPT_ERRORS = 100


@dataclass(slots=True)
class ImportReport:
    """What an import did, for the CLI and the API. Its counts add up, always:

    read = new + merged + unchanged + deleted + skipped + errors

    `read` counts every record of the input (papers, deletion notices, broken records);
    `skipped` the records stored as part of another one (a paper repeated within the
    input is folded into its first copy: see store.rows.fold_batch) and the deletion
    notices of papers the store does not hold."""

    papers: UpsertResult = field(default_factory=UpsertResult)
    read: int = 0
    deleted: int = 0
    skipped: int = 0
    error_count: int = 0
    errors: list[RecordError] = field(default_factory=list)
    warning_count: int = 0
    warnings: list[RecordWarning] = field(default_factory=list)

    @property
    def stored(self) -> int:
        """Papers written: new or merged."""
        return self.papers.inserted + self.papers.updated

    @property
    def accounted(self) -> int:
        """The right-hand side of the invariant: equals `read`."""
        counts = self.papers
        return (
            counts.inserted
            + counts.updated
            + counts.unchanged
            + self.deleted
            + self.skipped
            + self.error_count
        )

    def note(self, error: RecordError) -> None:
        """Count a broken record (a record read, and an error) and keep it if there is
        room."""
        self.read += 1
        self.error_count += 1
        if len(self.errors) < KEPT_ERRORS:
            self.errors.append(error)

    def warn(self, warning: RecordWarning) -> None:
        """Count a warning (the record was imported without the bad value) and keep it
        if there is room."""
        self.warning_count += 1
        if len(self.warnings) < KEPT_ERRORS:
            self.warnings.append(warning)

    def failed(self, strict: bool = False) -> bool:
        """True when the import should exit non-zero: errors, or (strict) warnings."""
        return self.error_count > 0 or (strict and self.warning_count > 0)

    def add(self, other: ImportReport) -> None:
        """Accumulate another report."""
        self.papers.add(other.papers)
        self.read += other.read
        self.deleted += other.deleted
        self.skipped += other.skipped
        self.error_count += other.error_count
        self.errors.extend(other.errors[: max(0, KEPT_ERRORS - len(self.errors))])
        self.warning_count += other.warning_count
        self.warnings.extend(other.warnings[: max(0, KEPT_ERRORS - len(self.warnings))])


def cleaned(paper: Paper) -> Paper:
    """A record as every path into the store keeps it: no invalid value (models.validated;
    parse_any has reported them as warnings for files) and no character XML cannot hold."""
    return xml_safe_paper(validated(paper))


class _Writer:
    """Writes the batches of one :func:`load`, in order, and counts what each did.

    Pipelined, a batch is written by a thread of its own while the next one is parsed:
    SQLite runs its statements and the commit without the GIL, so the B-tree and WAL work
    of one batch overlaps the parsing of the next (issue 30: the writes were 40 µs of a
    100k import's ~113 µs a paper, done in line). One batch is in flight at most, so
    memory stays two batches whatever the input's size; a batch's failure is raised at
    the next hand-over or at the end, and the batches after it are never written, as
    in line (the report's `read` then also counts the one batch parsed meanwhile)."""

    def __init__(
        self,
        store: Store,
        report: ImportReport,
        on_batch: Callable[[int], object] | None,
        pipelined: bool,
    ) -> None:
        self.store = store
        self.report = report
        self.on_batch = on_batch
        self._pool = ThreadPoolExecutor(1, "paperwire-load") if pipelined else None
        self._pending: Future[None] | None = None

    def write(self, papers: list[Paper], deletions: list[str]) -> None:
        """Write a batch (the lists are the writer's from now on)."""
        if self._pool is None:
            self._flush(papers, deletions)
            return
        self.wait()
        self._pending = self._pool.submit(self._flush, papers, deletions)

    def wait(self) -> None:
        """Wait for the batch in flight; its error, if it failed, is raised here."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Wait for the last batch and end the thread. When the caller is already raising,
        the batch in flight is still waited for (it may commit: the report counts it) and
        the caller's error is the one that propagates."""
        try:
            if sys.exc_info()[1] is None:
                self.wait()
            elif self._pending is not None:
                self._pending.exception()
                self._pending = None
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)

    def _flush(self, batch: list[Paper], deletions: list[str]) -> None:
        report = self.report
        if batch:
            result = self.store.upsert_papers(batch)
            report.papers.add(result)
            # The records of the batch that went into another one (repeats).
            report.skipped += len(batch) - (result.inserted + result.updated + result.unchanged)
        if deletions:
            removed = self.store.delete_papers(deletions)
            report.deleted += removed
            report.skipped += len(deletions) - removed
        if self.on_batch:
            self.on_batch(len(batch) + len(deletions))


def load(
    store: Store,
    items: Iterable[Parsed],
    batch_size: int = DEFAULT_BATCH,
    on_batch: Callable[[int], object] | None = None,
    report: ImportReport | None = None,
    *,
    pipelined: bool = False,
) -> ImportReport:
    """Upsert parsed papers in batches, apply deletions, collect record errors. The
    records are a trusted source's (the operator's import, a harvest, a sync: they merge
    by models.merge_papers); a reader's go through Store.link_reader_records instead.
    `on_batch(n)` is told how many records each batch held (for progress bars).

    `pipelined` writes each batch in a thread while the next is parsed (see _Writer):
    the same transactions in the same order, so the same store; for large files."""
    report = report or ImportReport()
    writer = _Writer(store, report, on_batch, pipelined)
    batch: list[Paper] = []
    deletions: list[str] = []
    try:
        for item in items:
            if isinstance(item, Paper):
                report.read += 1
                batch.append(cleaned(item))  # every path into the store (see cleaned)
            elif isinstance(item, Deleted):
                report.read += 1
                deletions.append(item.arxiv_id)
            elif isinstance(item, RecordWarning):
                report.warn(item)
            else:
                report.note(item)
            if len(batch) + len(deletions) >= batch_size:
                writer.write(batch, deletions)
                batch, deletions = [], []
        writer.write(batch, deletions)
    finally:
        writer.close()
    return report
