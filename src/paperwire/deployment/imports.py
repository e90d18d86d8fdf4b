"""The import pipelines: what an import reads (the sample, the demo corpus, files, URLs),
under which limits, and importing or harvesting into the store, then catching the indexes
up."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from importlib import resources
from pathlib import Path
from typing import Any

from paperwire.config import Settings
from paperwire.deployment.search import IndexStatus, SearchPipelines
from paperwire.ingest import Limits, parse_any
from paperwire.ingest.common import ParseError
from paperwire.ingest.fetch import ArxivQuery, FetchError, OaiHarvest
from paperwire.ingest.load import ImportReport, load
from paperwire.metrics import IMPORTED
from paperwire.models import Paper
from paperwire.progress import Progress, open_counted, silent
from paperwire.search.lexical import (
    BackgroundIndexer,
    LexicalIndex,
)
from paperwire.store import StoreError

SAMPLE = "sample.jsonl"
# The demo corpus is every file of paperwire.data named so (data/SOURCES.md).
DEMO_PREFIX = "demo-"


@dataclass(frozen=True)
class SampleInput:
    """The seed papers shipped with paperwire (data/sample.jsonl, 245 papers from the
    seed listing pages): the papers `--list-on` lists on a day's feed."""

    name: str = "sample corpus"


@dataclass(frozen=True)
class DemoInput:
    """The demo corpus shipped beside the sample: real arXiv records as others recorded
    them (data/demo-*.gz; data/SOURCES.md), each file read by the importer of its own
    format. Its papers are searchable and have pages, but are never listed on a feed."""

    name: str = "demo corpus"


def demo_files() -> list[str]:
    """The demo corpus's files, in name order: the files of paperwire.data whose name
    starts with DEMO_PREFIX."""
    data = resources.files("paperwire.data")
    return sorted(
        entry.name
        for entry in data.iterdir()
        if entry.name.startswith(DEMO_PREFIX) and entry.is_file()
    )


@dataclass(frozen=True)
class FileInput:
    """A file in any format `paperwire.ingest` reads (detected unless `fmt` is given)."""

    path: Path
    fmt: str | None = None

    @property
    def name(self) -> str:
        """How reports name it."""
        return str(self.path)


@dataclass(frozen=True)
class UrlInput:
    """An arXiv URL: a paper, an API query or an OAI-PMH harvest."""

    url: str

    @property
    def name(self) -> str:
        """How reports name it."""
        return self.url


ImportInput = SampleInput | DemoInput | FileInput | UrlInput


def input_for(text: str, fmt: str | None = None) -> ImportInput:
    """What a command-line argument names: a URL or a file."""
    if text.startswith(("http://", "https://")):
        return UrlInput(text)
    return FileInput(Path(text), fmt)


def sample_inputs(sample: bool, demo: bool = True) -> list[ImportInput]:
    """What `import --sample` reads: the seed papers first (they are the ones listed),
    then, unless `demo` is False, the demo corpus, whose records merge into any seed
    paper they are (by arXiv id or title: the store's merge rule)."""
    if not sample:
        return []
    return [SampleInput(), DemoInput()] if demo else [SampleInput()]


def import_limits(settings: Settings) -> Limits:
    """How much one input of `paperwire import` may unpack to (see ingest.compressed)."""
    return Limits(
        settings.import_max_bytes,
        "import_max_bytes (PAPERWIRE_IMPORT_MAX_BYTES)",
        settings.import_max_ratio,
        "import_max_ratio (PAPERWIRE_IMPORT_MAX_RATIO)",
    )


def upload_limits(settings: Settings) -> Limits:
    """How much one file sent through the web site may unpack to."""
    return Limits(
        settings.upload_max_bytes,
        "upload_max_bytes (PAPERWIRE_UPLOAD_MAX_BYTES)",
        settings.import_max_ratio,
        "import_max_ratio (PAPERWIRE_IMPORT_MAX_RATIO)",
    )


@dataclass
class InputOutcome:
    """What importing one input did: its report, or why it could not be read at all.
    An input refused part-way keeps both: the error, and the report of the batches
    stored before it (each batch is one transaction; see ingest.load)."""

    name: str
    report: ImportReport | None = None
    error: str | None = None


@dataclass
class ImportOutcome:
    """A whole import: each input, the total, what was listed, the indexes."""

    inputs: list[InputOutcome] = field(default_factory=list)
    total: ImportReport = field(default_factory=ImportReport)
    listed: int | None = None
    seed_listed: int = 0  # seed papers listed on their own days (no --list-on)
    seed_inferred: int = 0  # of them, on a day whose page gave no year
    index: IndexStatus = field(default_factory=IndexStatus)

    @property
    def failed_inputs(self) -> int:
        """Inputs that could not be read at all."""
        return sum(1 for item in self.inputs if item.error is not None)


class _KeyTap:
    """Passes parsed items through, noting the keys of the papers among them."""

    def __init__(self, keys: list[str] | None) -> None:
        self.keys = keys

    def __call__(self, items: Iterator[Any]) -> Iterator[Any]:
        if self.keys is None:
            yield from items
            return
        for item in items:
            if isinstance(item, Paper):
                self.keys.append(item.key)
            yield item


class ImportPipelines(SearchPipelines):
    """Importing and harvesting into the store."""

    def import_sources(
        self,
        inputs: Sequence[ImportInput],
        *,
        list_on: date | None = None,
        on_input: Callable[[InputOutcome], object] | None = None,
        progress: Progress = silent,
    ) -> ImportOutcome:
        """Import every input into the store; an input that cannot be read is reported
        and the others go on. Papers read may be listed on a day's feed (papers listed
        already stay where they are). Then the indexes catch up (:meth:`catch_up`).

        Files larger than `background_index_bytes` in all are indexed by a second process
        while this one parses and stores: parsing and indexing then use two cores."""
        outcome = ImportOutcome()
        listed: list[str] = []
        tap = _KeyTap(listed if list_on else None)
        follower = self._background_indexer(inputs)
        try:
            for item in inputs:
                result = InputOutcome(item.name)
                report = ImportReport()
                try:
                    result.report = self._import_one(item, tap, progress, report)
                    outcome.total.add(result.report)
                except (ParseError, StoreError, FetchError) as exc:
                    result.error = str(exc)
                    if report.stored:
                        result.report = report
                        outcome.total.add(report)
                        result.error += (
                            f" ({report.stored:,} papers stored before the refusal were kept; "
                            "running the import again after fixing the input finishes it)"
                        )
                outcome.inputs.append(result)
                if on_input is not None:
                    on_input(result)
        finally:
            if follower is not None:
                follower.finish()
        IMPORTED.labels("import").inc(outcome.total.read)
        if list_on is not None and listed:
            outcome.listed = self.store.submit_many(listed, list_on, self.clock())
        elif list_on is None and any(isinstance(item, SampleInput) for item in inputs):
            self._list_seed_days(outcome)
        outcome.index = self.catch_up(progress)
        return outcome

    def _list_seed_days(self, outcome: ImportOutcome) -> None:
        """List each seed paper on the day its page listed it (paperwire.seeddays), as
        submitted at noon UTC that day; papers listed already stay where they are."""
        from paperwire.seeddays import seed_days

        by_day: dict[date, list[str]] = {}
        inferred: set[str] = set()
        for item in seed_days().values():
            by_day.setdefault(item.day, []).append(item.key)
            if item.year_inferred:
                inferred.add(item.key)
        for day, keys in sorted(by_day.items()):
            noon = datetime.combine(day, time(12), tzinfo=UTC)
            outcome.seed_listed += self.store.submit_many(keys, day, noon)
        outcome.seed_inferred = len(inferred)

    def _import_one(
        self, item: ImportInput, tap: _KeyTap, progress: Progress, report: ImportReport
    ) -> ImportReport:
        if isinstance(item, SampleInput):
            data = resources.files("paperwire.data").joinpath(SAMPLE).read_bytes()
            return load(self.store, tap(parse_any(data, item.name, "paperwire")))
        if isinstance(item, DemoInput):
            return self._import_demo()
        if isinstance(item, UrlInput):
            from paperwire.ingest.fetch import import_url

            with progress(item.url[:40]) as advance:
                return import_url(self.arxiv, self.store, item.url, on_batch=advance)
        if not item.path.is_file():
            raise ParseError(item.name, "path", "no such file")
        with open_counted(item.path, progress) as stream:
            items = tap(parse_any(stream, item.name, item.fmt, import_limits(self.settings)))
            return load(
                self.store,
                items,
                batch_size=self.settings.import_batch_size,
                report=report,
                pipelined=True,
            )

    def _import_demo(self) -> ImportReport:
        """Every demo file through :func:`parse_any` (format detected from the content,
        gzip decompressed), one report for them all. The listing tap is not applied: demo
        papers are never listed on a day's feed, so the feed days stay the seed papers'."""
        report = ImportReport()
        data = resources.files("paperwire.data")
        for name in demo_files():
            load(
                self.store,
                parse_any(data.joinpath(name).read_bytes(), name),
                batch_size=self.settings.import_batch_size,
                report=report,
            )
        return report

    def _background_indexer(self, inputs: Iterable[ImportInput]) -> BackgroundIndexer | None:
        size = sum(
            item.path.stat().st_size
            for item in inputs
            if isinstance(item, FileInput) and item.path.is_file()
        )
        index = self.keyword
        if size > self.settings.background_index_bytes and isinstance(index, LexicalIndex):
            return BackgroundIndexer(self.settings.database_url, index.path)
        return None

    def harvest_oai(self, harvest: OaiHarvest, progress: Progress = silent) -> ImportOutcome:
        """Harvest arXiv's OAI-PMH (resumable: the cursor is saved after every page),
        then catch the indexes up. FetchError when arXiv cannot be reached."""
        from paperwire.ingest.fetch import harvest_oai

        with progress("harvest") as advance:
            report = harvest_oai(self.arxiv, self.store, harvest, on_batch=advance)
        return self._harvested(report, progress)

    def harvest_api(
        self, query: ArxivQuery, max_results: int | None = None, progress: Progress = silent
    ) -> ImportOutcome:
        """Fetch the papers of an arXiv API query (resumable), then catch the indexes up."""
        from paperwire.ingest.fetch import fetch_arxiv_api

        with progress("harvest") as advance:
            report = fetch_arxiv_api(
                self.arxiv, self.store, query, max_results=max_results, on_batch=advance
            )
        return self._harvested(report, progress)

    def _harvested(self, report: ImportReport, progress: Progress) -> ImportOutcome:
        IMPORTED.labels("harvest").inc(report.read)
        outcome = ImportOutcome([InputOutcome("harvest", report)], report)
        outcome.index = self.catch_up(progress)
        return outcome
