"""One paperwire deployment: built from Settings, it owns the store, the indexes beside
it, the embedding model, the mailer and the arXiv client, and its methods are the
pipelines — import, catch the indexes up, embed, harvest, run the digests, move the
store. The CLI, the web app and the schedulers call these methods and nothing else
builds the parts, so "what does an import do?" has one answer: :meth:`import_sources`.

The parts are made on first use (opening a store migrates it; loading the model takes
seconds), so a command that needs only the store never loads the model."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from paperwire.config import Settings
from paperwire.digest.mailer import Mailer, make_mailer
from paperwire.digest.periods import FREQUENCIES, Frequency
from paperwire.digest.run import ComposeReport, compose_due
from paperwire.digest.send import SendReport, deliver
from paperwire.discussion.notify import NoticeRun, queue_batches
from paperwire.errors import ConfigurationError
from paperwire.extras import require
from paperwire.ingest import Limits, parse_any
from paperwire.ingest.common import ParseError
from paperwire.ingest.fetch import (
    ArxivQuery,
    FetchError,
    OaiHarvest,
    PoliteClient,
    upstreams_of,
)
from paperwire.ingest.load import ImportReport, load
from paperwire.jobs import Periodic, host_lock
from paperwire.metrics import IMPORTED, SEARCH_SECONDS
from paperwire.models import Paper, User
from paperwire.progress import Progress, open_counted, silent
from paperwire.search.embed import Embedder, make_embedder
from paperwire.search.hybrid import Mode, SearchEngine, embed_pending, search, similar
from paperwire.search.lexical import (
    BackgroundIndexer,
    IndexBusyError,
    LexicalIndex,
    keyword_search,
)
from paperwire.search.native import (
    KeywordIndex,
    VectorIndexLike,
    check_placement,
    keyword_index,
    vector_index,
)
from paperwire.search.results import SearchHit
from paperwire.sources.config import SourceConfig, make_config, read_config
from paperwire.sources.runner import FAILING_AFTER, LEASE, SourceOutcome, run_due
from paperwire.store import Store, StoreError, open_store
from paperwire.store.base import StoreStats
from paperwire.store.sources import SourceRecord, SourceRun
from paperwire.store.transfer import TransferReport, transfer
from paperwire.tokens import signing_key

log = logging.getLogger(__name__)
_T = TypeVar("_T")

SAMPLE = "sample.jsonl"
# The demo corpus is every file of paperwire.data named so (data/SOURCES.md).
DEMO_PREFIX = "demo-"
# Rule "similar" compares new papers with the vectors of this many most upvoted papers.
UPVOTED_SAMPLE = 500


def utc_now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


# -- what an import reads ---------------------------------------------------------------


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
class IndexStatus:
    """Where the indexes beside the store stand after catching up."""

    to_embed: int = 0  # papers not yet searchable by meaning
    error: str | None = None  # why the keyword index could not be brought up to date


@dataclass
class ImportOutcome:
    """A whole import: each input, the total, what was listed, the indexes."""

    inputs: list[InputOutcome] = field(default_factory=list)
    total: ImportReport = field(default_factory=ImportReport)
    listed: int | None = None
    index: IndexStatus = field(default_factory=IndexStatus)

    @property
    def failed_inputs(self) -> int:
        """Inputs that could not be read at all."""
        return sum(1 for item in self.inputs if item.error is not None)


@dataclass
class EmbedOutcome:
    """What `embed` did."""

    embedded: int
    in_index: int


@dataclass
class SourceStatus:
    """A source as `sources list` and the status page show it."""

    record: SourceRecord
    config: SourceConfig
    runs: list[SourceRun]
    lag_days: int | None  # days between the cursor and today (None: nothing harvested yet)

    @property
    def failing(self) -> bool:
        """True after FAILING_AFTER failed runs in a row."""
        return self.record.failures >= FAILING_AFTER


@dataclass
class Readiness:
    """What /readyz reports."""

    database: bool = False
    missing_migrations: list[int] = field(default_factory=list)
    index_lag: int | None = None
    to_embed: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """True when nothing is wrong."""
        return self.database and not self.problems


@dataclass
class SourcesRun:
    """One pass of the sources: each source run, then the indexes."""

    outcomes: list[SourceOutcome]
    index: IndexStatus
    embedded: int = 0


@dataclass
class DigestRun:
    """A digest run: each period composed, then what the outbox sent."""

    composed: list[ComposeReport]
    sent: SendReport | None
    outbox: dict[str, int]


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


# -- the deployment ---------------------------------------------------------------------


class Deployment:
    """The parts of one deployment and the pipelines over them. Tests and embedders of
    paperwire pass their own store, mailer, arXiv client or engine factory; everything
    else is made from the settings on first use."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        mailer: Mailer | None = None,
        arxiv: PoliteClient | None = None,
        clock: Callable[[], datetime] = utc_now,
        embed_threads: int | None = None,
        engine_factory: Callable[[], SearchEngine] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.engine_factory = engine_factory
        self._store = store
        self._mailer = mailer
        self._arxiv = arxiv
        self._embed_threads = embed_threads
        self._keyword: KeywordIndex | None = None
        self._embedder: Embedder | None = None
        self._engine: SearchEngine | None = None
        self._secret: str | None = None
        self._lock = threading.RLock()

    # -- parts, made on first use ---------------------------------------------------

    def _once(self, name: str, make: Callable[[], _T]) -> _T:
        """The part kept in attribute `name`, made by `make` the first time (once,
        even when several request threads ask at the same moment)."""
        value: _T | None = getattr(self, name)
        if value is None:
            with self._lock:
                value = getattr(self, name)
                if value is None:
                    value = make()
                    setattr(self, name, value)
        return value

    @property
    def store(self) -> Store:
        """The store (opened and migrated on first use; StoreError when it cannot be)."""
        return self._once(
            "_store",
            lambda: open_store(
                self.settings.database_url, index_root=Path(self.settings.cache_dir)
            ),
        )

    @property
    def keyword(self) -> KeywordIndex:
        """The keyword index: tantivy beside the store, or the database's own."""
        return self._once("_keyword", self._make_keyword_index)

    def _make_keyword_index(self) -> KeywordIndex:
        self.check()
        return keyword_index(self.store, self.settings.keyword_index)

    def check(self) -> None:
        """Open the store and refuse a keyword placement it cannot have, now rather than
        at the first search (ConfigurationError, StoreError)."""
        try:
            check_placement(self.store, self.settings.keyword_index)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from exc

    @property
    def embedder(self) -> Embedder:
        """The configured embedding model (its weights load on the first embedding)."""
        settings = self.settings
        model, folder = settings.embedding_model, Path(settings.cache_dir)
        return self._once(
            "_embedder", lambda: make_embedder(model, folder, threads=self._embed_threads)
        )

    @property
    def engine(self) -> SearchEngine:
        """The search engine: store, keyword index, vectors and model."""
        return self._once("_engine", self.engine_factory or self._default_engine)

    def _default_engine(self) -> SearchEngine:
        embedder = self.embedder
        vectors: VectorIndexLike = vector_index(self.store, embedder.name)
        return SearchEngine(self.store, self.keyword, vectors, embedder)

    @property
    def mailer(self) -> Mailer:
        """SMTP when a host is configured, else .eml files in the mail folder."""
        return self._once("_mailer", lambda: make_mailer(self.settings))

    @mailer.setter
    def mailer(self, mailer: Mailer) -> None:
        self._mailer = mailer

    @property
    def arxiv(self) -> PoliteClient:
        """The only client that fetches from outside: arXiv's hosts, politely paced."""
        return self._once("_arxiv", self._new_arxiv)

    @arxiv.setter
    def arxiv(self, client: PoliteClient) -> None:
        self._arxiv = client

    def _new_arxiv(self) -> PoliteClient:
        """The client harvests fetch with, paced per host with every other process."""
        import httpx

        from paperwire.ingest.fetch import CONNECT_TIMEOUT_S, MIN_INTERVAL_S
        from paperwire.pacing import StorePacer

        timeout = httpx.Timeout(60.0, connect=CONNECT_TIMEOUT_S)
        return PoliteClient(
            httpx.Client(timeout=timeout),
            pace=StorePacer(self.store, MIN_INTERVAL_S),
            upstreams=upstreams_of(self.settings),
        )

    @property
    def secret(self) -> str:
        """The key that signs CSRF tokens and email links."""
        return self._once("_secret", lambda: signing_key(self.settings, self.store))

    def close(self) -> None:
        """Close the store (the other parts hold nothing that needs closing)."""
        if self._store is not None:
            self._store.close()

    def __enter__(self) -> Deployment:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- importing --------------------------------------------------------------------

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
        outcome.index = self.catch_up(progress)
        return outcome

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
                self.store, items, batch_size=self.settings.import_batch_size, report=report
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

    # -- the indexes ------------------------------------------------------------------

    def catch_up(self, progress: Progress = silent) -> IndexStatus:
        """Bring the keyword index up to date with the store (keyword search and the
        pages then have every paper) and count the papers not yet embedded. Embedding
        is never done inline: measured, it made an import of 1,000 records take 90 s
        instead of seconds; a running server embeds them in the background
        (:meth:`embed_step`), or `paperwire embed` does."""
        status = IndexStatus()
        try:
            self.update_keyword_index(progress)
        except IndexBusyError as exc:
            status.error = str(exc)
        status.to_embed = self.to_embed()
        return status

    def extract_keyphrases(self, limit: int | None = None) -> int:
        """Keyphrases for the papers upstream gives no keywords (paperwire.keyphrases);
        their topics reach the keyword index on its next sync. Returns how many."""
        from paperwire.keyphrases import extract_pending

        return extract_pending(self.store, self.embedder, self.clock(), limit)

    def embed_step(self, limit: int = 256) -> int:
        """Embed up to `limit` papers that have no vector yet and bring the vector index up
        to date; returns how many were embedded. One process per host does it at a time
        (an OS lock in the cache folder, freed if its holder dies); the others return 0.
        Two hosts embedding the same paper write the same vector, so nothing is wrong."""
        lock = Path(self.settings.cache_dir) / "embed.lock"
        with host_lock(lock) as held:
            if not held:
                return 0
            engine = self.engine
            if engine.embedder is None or engine.vectors is None:
                return 0
            done = embed_pending(self.store, engine.embedder, limit=limit)
            if done:
                engine.vectors.sync(self.store)
            return done

    def update_keyword_index(self, progress: Progress = silent) -> None:
        """Bring the keyword index up to date with the store (IndexBusyError when another
        live process is writing it: the papers are stored, the index lags until then)."""
        index = self.keyword
        if not index.is_current(self.store):
            with progress("keyword index") as advance:
                index.update(self.store, progress=advance)

    def keyword_lag(self) -> int:
        """Changes of the store the keyword index has not applied yet (0: all searchable)."""
        return self.keyword.lag(self.store)

    def reindex(self, progress: Progress = silent) -> int | None:
        """Rebuild the keyword index beside the store from scratch; None when the
        database indexes the papers itself (nothing to rebuild)."""
        index = self.keyword
        if index.path is None:
            return None
        with progress("keyword index", self.store.count_papers()) as advance:
            return index.rebuild(self.store, progress=advance)

    def embed(self, scheduler: str | None = None, progress: Progress = silent) -> EmbedOutcome:
        """Embed every paper without a vector from the configured model (resumable), here
        or fanned out on a Dask cluster, then bring the vector index up to date. OSError
        when the cluster cannot be reached."""
        name = self.settings.embedding_model
        with progress(f"embedding ({name})", self.store.count_to_embed(name)) as advance:
            if scheduler:
                require("distributed")
                from distributed import Client

                from paperwire.search.cluster import embed_on_cluster

                with Client(scheduler, timeout=10) as client:  # type: ignore[no-untyped-call]
                    done = embed_on_cluster(
                        self.store, client, name, self.settings.cache_dir, progress=advance
                    )
            else:
                done = embed_pending(self.store, self.embedder, progress=advance)
        vectors = self.engine.vectors
        assert vectors is not None
        vectors.sync(self.store)
        return EmbedOutcome(done, len(vectors))

    # -- reading ----------------------------------------------------------------------

    def search(
        self, text: str, mode: Mode = "hybrid", limit: int = 10, offset: int = 0
    ) -> list[SearchHit]:
        """Papers for a query in the query language, best first (QueryError for a query
        with nothing to search). Keyword search never loads the model."""
        if mode == "lexical":
            with SEARCH_SECONDS.labels("total").time(), SEARCH_SECONDS.labels("keyword").time():
                return keyword_search(self.store, self.keyword, text, limit=limit, offset=offset)
        return search(self.engine, text, mode=mode, limit=limit, offset=offset)

    def similar(self, key: str, limit: int = 10) -> list[SearchHit]:
        """The papers nearest in meaning to one paper, named in any form the store's
        lookup reads (KeyError when unknown; NotEmbeddedError before it has a vector)."""
        return similar(self.engine, key, limit=limit)

    def paper(self, key: str) -> Paper | None:
        """One paper by key, arXiv id or URL, or DOI (store.papers.find_row)."""
        return self.store.get_paper(key)

    def papers(self) -> Iterator[Paper]:
        """Every paper, for export."""
        return self.store.iter_papers()

    def confirm_paper(self, key: str) -> Paper | None:
        """A curator's confirmation of a paper only readers have sent (issue 25): it joins
        the public lists, search and feeds; the indexes catch up. None when unknown."""
        paper = self.store.confirm_paper(key)
        if paper is not None:
            self.catch_up()
        return paper

    def unconfirmed_papers(self, limit: int) -> list[Paper]:
        """The papers awaiting a curator's confirmation, newest first."""
        return self.store.unconfirmed_papers(limit)

    def stats(self) -> StoreStats:
        """Counts for `paperwire stats`."""
        return self.store.stats()

    def to_embed(self) -> int:
        """Papers not yet searchable by meaning (no vector from the configured model)."""
        return self.store.count_to_embed(self.settings.embedding_model)

    # -- digests ----------------------------------------------------------------------

    def run_digests(
        self,
        frequencies: Sequence[Frequency] = FREQUENCIES,
        *,
        dry_run: bool = False,
        progress: Progress = silent,
    ) -> DigestRun:
        """Compose the digests due now into the outbox, then send the outbox. Safe to
        run again at any time: nobody gets a period's digest twice. A dry run composes
        and counts, and writes and sends nothing. Saved searches match by meaning with the
        engine's model (by keywords alone when it has none)."""
        composed = []
        embedder = self.engine.embedder
        for frequency in frequencies:
            with progress(f"{frequency} digests", None, " subscribers") as advance:
                report = compose_due(
                    self.store, self.settings, self.secret, embedder, frequency, self.clock(),
                    dry_run=dry_run, progress=advance,
                )  # fmt: skip
            composed.append(report)
        if not dry_run:
            self.queue_comment_mail()
        sent = None if dry_run else self.deliver_outbox(progress)
        return DigestRun(composed, sent, self.store.outbox_counts())

    def queue_comment_mail(self) -> NoticeRun:
        """Write the due batches of reply/mention mail to the outbox (at most one per
        reader per hour; discussion/notify.py); `deliver_outbox` sends them."""
        return queue_batches(self.store, self.settings, self.secret, self.clock())

    def deliver_outbox(self, progress: Progress = silent) -> SendReport:
        """Send every message of the outbox that is due (retries included)."""
        lease = timedelta(seconds=self.settings.outbox_lease_seconds)
        with progress("sending", None, " messages") as advance:
            return deliver(self.store, self.mailer, self.clock, progress=advance, lease=lease)

    def digest_step(self) -> bool:
        """One step of the schedule inside `paperwire serve`: compose the due periods
        (from the configured hour on), then deliver whatever the outbox has due. Several
        workers may each run it: the outbox's constraints keep it exact."""
        if self.clock().hour >= self.settings.digest_hour and self.sources_settled():
            self.run_digests()
        else:
            self.queue_comment_mail()
            self.deliver_outbox()
        return False

    def background_jobs(self) -> list[Periodic]:
        """What a server (or `paperwire worker`) runs beside its requests: embedding new
        papers (when enabled), the digests when scheduled, and the sources (one runner
        across workers and hosts: the database lease)."""
        jobs = []
        if self.settings.embed_in_background:
            jobs.append(Periodic("embedding", lambda: self.embed_step() > 0, 30.0))
        if self.settings.digest_schedule:
            jobs.append(Periodic("digests", self.digest_step, 60.0))
        if self.settings.sources_schedule:
            jobs.append(Periodic("sources", self.sources_step, 60.0))
        return jobs

    @contextmanager
    def running_jobs(self) -> Iterator[list[Periodic]]:
        """The background jobs started for the block and stopped after it (the web app's
        lifespan and `paperwire worker`)."""
        jobs = self.background_jobs()
        for job in jobs:
            job.start()
        try:
            yield jobs
        finally:
            for job in jobs:
                job.stop()

    # -- sources ----------------------------------------------------------------------

    def add_source(
        self, name: str, config: SourceConfig, interval_seconds: int = 3600
    ) -> SourceRecord:
        """Configure a source (due at once). ValueError for a bad name or a taken one."""
        if not name or len(name) > 60 or not name.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"source name {name!r}: use 1-60 letters, digits, - or _")
        if not 60 <= interval_seconds <= 7 * 86400:
            raise ValueError(f"source {name}: interval {interval_seconds} s is not 60 s-7 days")
        return self.store.add_source(
            name, config.kind, config.to_json(), interval_seconds, self.clock()
        )

    def remove_source(self, name: str) -> bool:
        """Forget a source (the papers it brought stay)."""
        return self.store.remove_source(name)

    def configure_sources(self) -> list[str]:
        """Add the sources the settings list and the store lacks; returns their names.
        ValueError names the bad entry."""
        added = []
        known = {record.name for record in self.store.list_sources()}
        for n, entry in enumerate(self.settings.sources, 1):
            where = f"settings sources[{n}]"
            name = str(entry.get("name") or entry.get("kind") or "")
            if name in known:
                continue
            config = make_config(
                kind=str(entry.get("kind")),
                categories=list(entry.get("categories") or []),
                rule=str(entry.get("rule") or "all"),
                query=entry.get("query"),
                start=entry.get("start"),
                backfill_days=int(entry.get("backfill_days", 7)),
                where=where,
                top_n=int(entry.get("top_n", 10)),
            )
            self.add_source(name, config, int(entry.get("interval_seconds", 3600)))
            added.append(name)
        return added

    def sources(self, runs: int = 5) -> list[SourceStatus]:
        """Every source with its last runs and how far behind today its cursor is."""
        today = self.clock().date()
        found = []
        for record in self.store.list_sources():
            lag = (today - record.cursor).days if record.cursor else None
            config = read_config(record.config, f"source {record.name}")
            found.append(
                SourceStatus(record, config, self.store.source_runs(record.name, runs), lag)
            )
        return found

    @property
    def runner_id(self) -> str:
        """Who this deployment is when it holds a lease: host, process, object."""
        return f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"

    def run_sources(self, names: list[str] | None = None, embed: bool = False) -> SourcesRun | None:
        """Run the due sources (or the named ones, due or not) under the database lease,
        then bring the keyword index up to date and, with `embed`, embed the new papers:
        a digest composed after this sees the day's papers by words and by meaning.
        None when another runner holds the lease. KeyError for an unknown name."""
        if names:
            known = {record.name for record in self.store.list_sources()}
            for name in names:
                if name not in known:
                    raise KeyError(name)
        outcomes = run_due(
            self.store, self.arxiv, self.clock, self.runner_id,
            self.settings.sources_lease_seconds, names, self.rank_by_upvoted,
        )  # fmt: skip
        if outcomes is None:
            return None
        IMPORTED.labels("source").inc(sum(o.records for o in outcomes))
        result = SourcesRun(outcomes, IndexStatus())
        if any(o.records for o in outcomes):
            result.index = self.catch_up()
            while embed:
                done = self.embed_step()
                result.embedded += done
                if done == 0:
                    break
        return result

    def rank_by_upvoted(self, papers: list[Paper], top_n: int) -> list[Paper]:
        """The `top_n` papers closest in meaning to what the community upvoted, best
        first: cosine to the mean of the stored vectors of the UPVOTED_SAMPLE most
        upvoted papers (votes cast here). With no upvoted paper embedded yet there is
        nothing to be close to, and the papers keep upstream's order (for Hugging Face:
        its own community's). RuntimeError without an embedding model."""
        import numpy as np

        from paperwire.search.embed import paper_text
        from paperwire.search.vectors import from_bytes

        if not papers:
            return []
        embedder = self.engine.embedder
        if embedder is None:
            raise RuntimeError("rule 'similar' needs an embedding model")
        liked = self.store.most_upvoted_ids(UPVOTED_SAMPLE)
        stored = self.store.get_vectors(embedder.name, liked)
        if not stored:
            return papers[:top_n]
        centre = from_bytes(list(stored.values())).mean(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        scores = embedder.embed([paper_text(p) for p in papers]) @ centre
        order = np.argsort(-scores, kind="stable")[:top_n]
        return [papers[int(i)] for i in order]

    def sources_step(self) -> bool:
        """One step of the sources' schedule inside `serve` or `worker`."""
        self.run_sources(embed=self.settings.embed_in_background)
        return False

    def sources_settled(self) -> bool:
        """True when digests may be composed: no harvest is running, and every source
        that is not failing has run since today's digest hour (a digest never goes out
        before the day's papers are in)."""
        now = self.clock()
        if self.store.lease_holder(LEASE, now) is not None:
            return False
        since = now.replace(hour=self.settings.digest_hour, minute=0, second=0, microsecond=0)
        for record in self.store.list_sources():
            if record.failures >= FAILING_AFTER:
                continue
            if record.last_success_at is None or record.last_success_at < since:
                return False
        return True

    # -- health -----------------------------------------------------------------------

    def readiness(self) -> Readiness:
        """Whether this deployment can answer as it should: the database answers, every
        migration this code knows is applied, and the keyword index holds every paper
        (at most `ready_max_index_lag` behind). Papers not yet embedded are reported but
        do not make it unready (embedding follows in the background)."""
        from paperwire.store import migrations

        ready = Readiness()
        try:
            store = self.store
            applied = store.applied_migrations()
            known = {m.version for m in migrations.load(store.dialect.name)}
            ready.missing_migrations = sorted(known - applied)
            ready.database = True
        except (StoreError, OSError) as exc:
            ready.problems.append(f"database: {exc}")
            return ready
        except Exception as exc:  # a driver's own error: unreachable all the same
            ready.problems.append(f"database: {type(exc).__name__}: {exc}")
            return ready
        if ready.missing_migrations:
            ready.problems.append(f"migrations not applied: {ready.missing_migrations}")
        try:
            ready.index_lag = self.keyword_lag()
        except (IndexBusyError, ConfigurationError, OSError, ValueError) as exc:
            ready.problems.append(f"keyword index: {exc}")
        else:
            if ready.index_lag > self.settings.ready_max_index_lag:
                ready.problems.append(f"keyword index {ready.index_lag} papers behind")
        ready.to_embed = self.to_embed()
        return ready

    # -- operations -------------------------------------------------------------------

    def backup(self, target: Path) -> str:
        """Back up the store: a SQLite store is copied to `target` while it runs (online
        backup API: consistent even while votes are written); for PostgreSQL, the
        pg_dump command that does it is returned (pg_dump gives the same guarantee)."""
        from paperwire.config import redacted_url
        from paperwire.store.sqlite import SQLiteStore

        store = self.store
        if isinstance(store, SQLiteStore):
            size = store.backup_to(target)
            return f"backed up {store.path} to {target} ({size:,} bytes, integrity ok)"
        url = redacted_url(store.url)
        return (
            f"PostgreSQL: run  pg_dump --format=custom --file={target} '{url}'  "
            "(password from PGPASSWORD or ~/.pgpass); restore with pg_restore --dbname=URL"
        )

    # -- accounts ---------------------------------------------------------------------

    def set_curator(self, email: str, curator: bool) -> User:
        """Make the account of an address a curator (created if new), or take it back.
        ValueError for an address that is not one."""
        from paperwire.digest.addresses import normalise_email

        address = normalise_email(email)
        self.store.get_or_create_user(address, self.clock())
        user = self.store.set_curator(address, curator)
        assert user is not None
        return user

    def new_api_token(self, email: str, name: str = "cli") -> str:
        """A new personal API token for the account of an address (created if new); only
        its hash is stored. ValueError for an address that is not one."""
        from paperwire.digest.addresses import normalise_email
        from paperwire.tokens import issue_api_token

        user = self.store.get_or_create_user(normalise_email(email), self.clock())
        return issue_api_token(self.store, user.id, name, self.clock())

    # -- serving ----------------------------------------------------------------------

    def prepare_to_serve(self, progress: Progress = silent) -> IndexStatus:
        """Open and migrate the store (a bad URL fails here, in one line), refuse a
        keyword placement it cannot have, add the sources the settings list (a bad entry
        fails here, named: ConfigurationError), and bring the indexes up to date."""
        self.check()
        try:
            self.configure_sources()
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from exc
        return self.catch_up(progress)


def move_store(
    settings: Settings,
    source_url: str,
    target_url: str,
    batch_size: int = 2000,
    progress: Callable[[str, int], object] | None = None,
    index_progress: Progress = silent,
) -> TransferReport:
    """Copy a whole deployment to another store (resumable; verified by counts and
    checksums), then build this host's keyword index for the new store, so that a server
    started on it does not spend its first minutes indexing."""
    source = Deployment(settings.model_copy(update={"database_url": source_url}))
    target = Deployment(settings.model_copy(update={"database_url": target_url}))
    with source, target:
        report = transfer(source.store, target.store, batch_size, progress)
        # A placement the new store cannot have is left for the server to refuse at start.
        if report.ok:
            with suppress(ConfigurationError):
                target.update_keyword_index(index_progress)
    return report
