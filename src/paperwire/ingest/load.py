"""Feeding parsed records into a Store in batches: each batch is one transaction, so an
import killed half-way leaves whole batches behind and running it again finishes the job
(upserts are idempotent)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
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


def load(
    store: Store,
    items: Iterable[Parsed],
    batch_size: int = DEFAULT_BATCH,
    on_batch: Callable[[int], object] | None = None,
    report: ImportReport | None = None,
) -> ImportReport:
    """Upsert parsed papers in batches, apply deletions, collect record errors. The
    records are a trusted source's (the operator's import, a harvest, a sync: they merge
    by models.merge_papers); a reader's go through Store.link_reader_records instead.
    `on_batch(n)` is told how many records each batch held (for progress bars)."""
    report = report or ImportReport()
    batch: list[Paper] = []
    deletions: list[str] = []

    def flush() -> None:
        if batch:
            result = store.upsert_papers(batch)
            report.papers.add(result)
            # The records of the batch that went into another one (repeats).
            report.skipped += len(batch) - (result.inserted + result.updated + result.unchanged)
        if deletions:
            removed = store.delete_papers(deletions)
            report.deleted += removed
            report.skipped += len(deletions) - removed
        if on_batch:
            on_batch(len(batch) + len(deletions))
        batch.clear()
        deletions.clear()

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
            flush()
    flush()
    return report
