"""The command line: ``paperwire import|search|similar|embed|show|export|stats|harvest|
reindex|serve|users``.

Exit codes: 0 success; 1 the command ran but some records or inputs failed (they are
listed); 2 bad usage; 3 nothing could be done (store unreachable, every input unreadable)."""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

import click
from tqdm import tqdm

from paperwire.config import Settings, load_settings
from paperwire.ingest import FORMATS, parse_any
from paperwire.ingest.common import ParseError
from paperwire.ingest.load import ImportReport, load
from paperwire.models import Paper
from paperwire.querylang import QueryError
from paperwire.search.embed import MODELS, make_embedder
from paperwire.search.hybrid import MODES, SearchEngine, embed_pending, search, similar
from paperwire.search.lexical import BackgroundIndexer, LexicalIndex, keyword_search
from paperwire.search.native import (
    StoreKeywordIndex,
    keyword_index,
    vector_index,
)
from paperwire.search.results import marked_ansi, plain
from paperwire.store import Store, StoreError, open_store

EXIT_PARTIAL = 1
EXIT_FAILED = 3
SAMPLE = "sample.jsonl"
BACKGROUND_INDEX_BYTES = 32 * 1024 * 1024


class Failure(click.ClickException):
    """Nothing could be done (exit code 3)."""

    exit_code = EXIT_FAILED


class _Context:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None
        self._lexical: LexicalIndex | StoreKeywordIndex | None = None
        self._engine: SearchEngine | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            try:
                self._store = open_store(
                    self.settings.database_url, index_root=Path(self.settings.cache_dir)
                )
            except StoreError as exc:
                raise Failure(str(exc)) from exc
        return self._store

    @property
    def engine(self) -> SearchEngine:
        """The search engine: store, keyword index, and (when the model loads) meaning."""
        if self._engine is None:
            embedder = make_embedder(self.settings.embedding_model, Path(self.settings.cache_dir))
            vectors = vector_index(self.store, embedder.name)
            self._engine = SearchEngine(self.store, self.lexical, vectors, embedder)
        return self._engine

    @property
    def lexical(self) -> LexicalIndex | StoreKeywordIndex:
        if self._lexical is None:
            try:
                self._lexical = keyword_index(self.store, self.settings.keyword_index)
            except ValueError as exc:
                raise Failure(str(exc)) from exc
        return self._lexical

    def sync_indexes(self, quiet: bool) -> None:
        """Bring the indexes beside the store up to date (after imports); embed the new
        papers too when there are few enough to do it now."""
        _update_keyword_index(self.lexical, self.store, quiet)
        limit = self.settings.inline_embed_limit
        pending = self.store.count_to_embed(self.settings.embedding_model) if limit else 0
        if 0 < pending <= limit:
            engine = self.engine
            assert engine.embedder is not None and engine.vectors is not None
            with tqdm(
                total=pending,
                unit=" papers",
                desc="embedding",
                disable=quiet or None,
                leave=False,
                file=sys.stderr,
            ) as bar:
                embed_pending(self.store, engine.embedder, progress=bar.update)
            engine.vectors.sync(self.store)
        elif pending > limit:
            click.echo(
                f"{pending:,} papers to embed for search by meaning: run `paperwire embed`",
                err=True,
            )

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


pass_context = click.make_pass_decorator(_Context)


def _update_keyword_index(
    index: LexicalIndex | StoreKeywordIndex, store: Store, quiet: bool
) -> None:
    """Bring a keyword index up to date with its store, with a progress bar."""
    if not index.is_current(store):
        with tqdm(
            unit=" papers", desc="keyword index", disable=quiet or None, leave=False,
            file=sys.stderr,
        ) as bar:  # fmt: skip
            index.sync(store, progress=bar.update)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--db",
    "database_url",
    metavar="URL",
    help="Database URL (sqlite:///file.db); "
    "default: $PAPERWIRE_DATABASE_URL or a file in the user data directory.",
)
@click.option(
    "--config",
    "config_file",
    metavar="FILE",
    envvar="PAPERWIRE_CONFIG",
    type=click.Path(dir_okay=False),
    help="A TOML file with a [paperwire] table.",
)
@click.version_option(package_name="paperwire")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None, config_file: str | None) -> None:
    """paperwire: research-paper discovery on your own machine."""
    try:
        settings = load_settings(config_file, database_url=database_url)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    state = _Context(settings)
    ctx.obj = state
    ctx.call_on_close(state.close)


class _CountingReader(io.RawIOBase):
    """A file whose reads advance a progress bar by bytes."""

    def __init__(self, raw: BinaryIO, bar: tqdm[Any]) -> None:
        self._raw = raw
        self._bar = bar

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._bar.update(len(data))
        return len(data)


@contextmanager
def _open_with_progress(path: Path, quiet: bool) -> Iterator[BinaryIO]:
    with (
        path.open("rb") as raw,
        tqdm(
            total=path.stat().st_size,
            unit="B",
            unit_scale=True,
            desc=path.name,
            disable=quiet or None,
            leave=False,
            file=sys.stderr,
        ) as bar,
    ):
        yield io.BufferedReader(_CountingReader(raw, bar), buffer_size=1 << 20)


def _print_report(name: str, report: ImportReport) -> None:
    counts = report.papers
    click.echo(
        f"{name}: {report.read} records read, {counts.inserted} new, {counts.updated} merged, "
        f"{counts.unchanged} unchanged, {report.deleted} deleted, {report.error_count} errors"
    )
    for error in report.errors:
        click.echo(f"  error: {error}", err=True)
    if report.error_count > len(report.errors):
        click.echo(f"  … and {report.error_count - len(report.errors)} more errors", err=True)


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


def _day_or_today(value: str | None) -> date | None:
    if value is None:
        return None
    if value == "today":
        from datetime import UTC, datetime

        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: expected YYYY-MM-DD or 'today'") from exc


def _import_file(
    state: _Context, path: Path, fmt: str | None, quiet: bool, tap: _KeyTap
) -> ImportReport:
    with _open_with_progress(path, quiet) as stream:
        items = tap(parse_any(stream, str(path), fmt))
        return load(state.store, items, batch_size=state.settings.import_batch_size)


def _http_client() -> Any:
    import httpx

    from paperwire.ingest.fetch import PoliteClient

    return PoliteClient(httpx.Client(timeout=60.0))


@cli.command("import")
@click.argument("sources", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(FORMATS)),
    help="Skip detection; read as this format.",
)
@click.option("--sample", is_flag=True, help="Import the demo corpus shipped with paperwire.")
@click.option(
    "--list-on",
    "list_on",
    metavar="DAY",
    callback=lambda _c, _p, v: _day_or_today(v),
    help="Also list the imported papers in the daily feed of DAY (YYYY-MM-DD or 'today'; "
    "papers listed already stay where they are).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@pass_context
def import_command(
    state: _Context,
    sources: tuple[str, ...],
    fmt: str | None,
    sample: bool,
    list_on: date | None,
    quiet: bool,
) -> None:
    """Import papers from files (listing pages, arXiv Atom, OAI-PMH, the arXiv snapshot,
    BibTeX, paperwire JSON lines; detected from the content) or arXiv URLs.

    A broken record is reported and skipped; everything else imports. Running an import
    again is harmless: the same paper is merged, never doubled."""
    if not sources and not sample:
        raise click.UsageError("name at least one PATH or URL, or --sample")
    total = ImportReport()
    failed_inputs = 0
    inputs = list(sources)
    # Large files: index in a second process while this one parses and stores.
    big = sum(Path(s).stat().st_size for s in inputs if Path(s).is_file()) > BACKGROUND_INDEX_BYTES
    lexical = state.lexical
    follower = None
    if big and isinstance(lexical, LexicalIndex):  # an index beside the store to fill
        follower = BackgroundIndexer(state.settings.database_url, lexical.path)
    listed: list[str] = []
    tap = _KeyTap(listed if list_on else None)
    for source in inputs + ([SAMPLE] if sample else []):
        try:
            if source == SAMPLE and sample:
                data = resources.files("paperwire.data").joinpath(SAMPLE).read_bytes()
                report = load(state.store, tap(parse_any(data, "sample corpus", "paperwire")))
            elif source.startswith(("http://", "https://")):
                from paperwire.ingest.fetch import import_url

                bar = tqdm(unit=" papers", desc=source[:40], disable=quiet or None, file=sys.stderr)
                with bar:
                    report = import_url(_http_client(), state.store, source, on_batch=bar.update)
            else:
                path = Path(source)
                if not path.is_file():
                    raise ParseError(source, "path", "no such file")
                report = _import_file(state, path, fmt, quiet, tap)
        except (ParseError, StoreError) as exc:
            click.echo(f"error: {exc}", err=True)
            failed_inputs += 1
            continue
        except Exception as exc:
            from paperwire.ingest.fetch import FetchError

            if not isinstance(exc, FetchError):
                raise
            click.echo(f"error: {exc}", err=True)
            failed_inputs += 1
            continue
        _print_report(source if source != SAMPLE else "sample corpus", report)
        total.add(report)
    if len(inputs) + sample > 1:
        _print_report("total", total)
    if follower is not None:
        follower.finish()
    if list_on is not None and listed:
        from datetime import UTC, datetime

        added = state.store.submit_many(listed, list_on, datetime.now(UTC))
        click.echo(f"listed {added} papers in the feed of {list_on.isoformat()}")
    state.sync_indexes(quiet)
    if failed_inputs and failed_inputs == len(inputs) + sample:
        sys.exit(EXIT_FAILED)
    if failed_inputs or total.error_count:
        sys.exit(EXIT_PARTIAL)


def _hit_json(hit: Any) -> dict[str, Any]:
    from paperwire.ingest.jsonl import to_record

    record = to_record(hit.paper)
    record.pop("format")
    return {
        "key": hit.paper.key,
        "title": hit.paper.title,
        "score": round(hit.score, 6),
        "snippet": plain(hit.snippet),
        **{k: v for k, v in record.items() if k not in {"key", "title"}},
    }


def limit_option(most: int) -> Callable[[Any], Any]:
    """`-n/--limit`: how many results, 1 to `most`."""
    return click.option(
        "-n",
        "--limit",
        default=10,
        show_default=True,
        type=click.IntRange(1, most),
        help="How many results.",
    )


json_list_option = click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON list of {key, title, score, ...}."
)


@cli.command("search")
@click.argument("query")
@limit_option(1000)
@click.option(
    "--offset", default=0, type=click.IntRange(0, 100_000), help="Skip this many results (paging)."
)
@json_list_option
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default="hybrid",
    show_default=True,
    help="keywords (lexical), meaning (semantic), or both fused (hybrid).",
)
@pass_context
def search_command(
    state: _Context, query: str, limit: int, offset: int, as_json: bool, mode: str
) -> None:
    """Search papers by keywords, by meaning, or both (hybrid, the default).

    QUERY supports "phrases", prefix*, -excluded, author:NAME, year:2023 (or 2020-2023,
    >=2021) and category:cs.LG; the filters apply in every mode. Until papers are
    embedded (`paperwire embed`) every mode answers with keywords."""
    try:
        if mode == "lexical":
            hits = keyword_search(state.store, state.lexical, query, limit=limit, offset=offset)
        else:
            hits = search(state.engine, query, mode=mode, limit=limit, offset=offset)  # type: ignore[arg-type]
    except QueryError as exc:
        raise click.UsageError(str(exc)) from exc
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    _print_hits(hits, as_json, offset)


def _print_hits(hits: list[Any], as_json: bool, offset: int = 0) -> None:
    if as_json:
        click.echo(json.dumps([_hit_json(h) for h in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        click.echo("No papers match.")
        return
    color = sys.stdout.isatty()
    for rank, hit in enumerate(hits, start=offset + 1):
        paper = hit.paper
        title = marked_ansi(hit.title) if color else plain(hit.title)
        meta = " · ".join(
            x
            for x in (
                paper.published.isoformat() if paper.published else "",
                f"{paper.n_authors} authors" if paper.n_authors else "",
                f"▲{paper.upvotes}" if paper.upvotes else "",
                paper.key,
            )
            if x
        )
        click.echo(f"{rank:>3}. {title}\n     {meta}  [{hit.score:.2f}]")
        snippet = marked_ansi(hit.snippet) if color else plain(hit.snippet)
        if snippet:
            click.echo(f"     {snippet}")


@cli.command("similar")
@click.argument("key")
@limit_option(100)
@json_list_option
@pass_context
def similar_command(state: _Context, key: str, limit: int, as_json: bool) -> None:
    """Papers nearest in meaning to KEY (itself and other versions of it left out)."""
    try:
        hits = similar(state.engine, key, limit=limit)
    except KeyError:
        click.echo(f"error: no paper with key {key!r}", err=True)
        sys.exit(EXIT_PARTIAL)
    _print_hits(hits, as_json)


@cli.command("embed")
@click.option(
    "--model", type=click.Choice(MODELS), help="Embedding model (default: the configured one)."
)
@click.option(
    "--dask",
    "scheduler",
    metavar="ADDRESS",
    help="Fan the work out on a Dask cluster (tcp://scheduler:8786); workers need paperwire.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@pass_context
def embed_command(state: _Context, model: str | None, scheduler: str | None, quiet: bool) -> None:
    """Embed every paper that has no vector from the model yet.

    Incremental and resumable: run it again after an interruption and it goes on where it
    stopped. Keyword search keeps working while it runs."""
    if model:
        state.settings = state.settings.model_copy(update={"embedding_model": model})
    name = state.settings.embedding_model
    pending = state.store.count_to_embed(name)
    with tqdm(
        total=pending,
        unit=" papers",
        desc=f"embedding ({name})",
        disable=quiet or None,
        file=sys.stderr,
    ) as bar:
        if scheduler:
            from distributed import Client

            from paperwire.search.cluster import embed_on_cluster

            try:
                client = Client(scheduler, timeout=10)  # type: ignore[no-untyped-call]
            except OSError as exc:
                raise Failure(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
            with client:
                done = embed_on_cluster(
                    state.store, client, name, state.settings.cache_dir, progress=bar.update
                )
        else:
            embedder = state.engine.embedder
            assert embedder is not None
            done = embed_pending(state.store, embedder, progress=bar.update)
    engine = state.engine
    assert engine.vectors is not None
    engine.vectors.sync(state.store)
    click.echo(f"embedded {done:,} papers; {len(engine.vectors):,} in the vector index")


@cli.command()
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Print the paper as JSON.")
@pass_context
def show(state: _Context, key: str, as_json: bool) -> None:
    """Show one paper by its key, arXiv id or arXiv URL."""
    from paperwire.ingest.jsonl import to_record

    paper = state.store.get_paper(key)
    if paper is None:
        click.echo(f"error: no paper with key {key!r}", err=True)
        sys.exit(EXIT_PARTIAL)
    if as_json:
        click.echo(json.dumps(to_record(paper), ensure_ascii=False, indent=2))
        return
    authors = ", ".join(a.name for a in paper.authors) or (
        f"{paper.author_count} authors" if paper.author_count else "authors unknown"
    )
    lines = [paper.title, "", authors]
    facts = [
        ("key", paper.key),
        ("published", paper.published.isoformat() if paper.published else None),
        ("categories", " ".join(paper.categories) or None),
        ("upvotes", str(paper.upvotes)),
        ("arXiv", paper.arxiv_url),
        ("PDF", paper.pdf_url),
        ("DOI", paper.doi),
        ("code", " ".join(paper.code_urls) or None),
        ("sources", ", ".join(paper.sources)),
    ]
    lines += [f"{name:>10}: {value}" for name, value in facts if value]
    lines += ["", paper.abstract or "(no abstract)"]
    click.echo("\n".join(lines))


@cli.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="File to write (default: stdout).",
)
@pass_context
def export(state: _Context, output: str | None) -> None:
    """Write every paper as paperwire JSON lines (what `import` reads back)."""
    from paperwire.ingest.jsonl import dumps

    with click.open_file(output or "-", "w", encoding="utf-8") as target:
        count = 0
        for paper in state.store.iter_papers():
            target.write(dumps(paper) + "\n")
            count += 1
    if output:
        click.echo(f"exported {count} papers to {output}", err=True)


@cli.command()
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@pass_context
def reindex(state: _Context, quiet: bool) -> None:
    """Rebuild the keyword index beside the database from the stored papers.

    Never needed in normal use (imports keep it in step); useful after deleting or
    losing the index folder, which costs nothing but this rebuild."""
    if state.lexical.path is None:
        click.echo("nothing to rebuild: this database indexes the papers itself")
        return
    with tqdm(
        total=state.store.count_papers(),
        unit=" papers",
        desc="keyword index",
        disable=quiet or None,
        file=sys.stderr,
    ) as bar:
        count = state.lexical.rebuild(state.store, progress=bar.update)
    click.echo(f"indexed {count:,} papers in {state.lexical.path}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@pass_context
def stats(state: _Context, as_json: bool) -> None:
    """Counts: papers, sources, categories, date range, database size."""
    figures = state.store.stats()
    if as_json:
        from dataclasses import asdict

        click.echo(
            json.dumps(
                {"database": _redacted(state.settings.database_url), **asdict(figures)}, indent=2
            )
        )
        return
    click.echo(f"database:      {_redacted(state.settings.database_url)}")
    click.echo(
        f"papers:        {figures.papers:,} ({figures.with_arxiv_id:,} with arXiv ids, "
        f"{figures.with_abstract:,} with abstracts)"
    )
    click.echo(f"published:     {figures.earliest or '-'} … {figures.latest or '-'}")
    click.echo(
        "sources:       "
        + (", ".join(f"{k} {v:,}" for k, v in sorted(figures.by_source.items())) or "-")
    )
    click.echo(
        "categories:    " + (", ".join(f"{k} {v:,}" for k, v in figures.top_categories) or "-")
    )
    if figures.size_bytes is not None:
        click.echo(f"size:          {figures.size_bytes / 1e6:.1f} MB")


def _redacted(url: str) -> str:
    """A database URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


@cli.group()
def harvest() -> None:
    """Fetch papers from arXiv online (resumable; one request every 3 s)."""


def _parse_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from exc


def _run_harvest(
    state: _Context, quiet: bool, fetch: Callable[[Callable[[int], object]], ImportReport]
) -> None:
    """Run a harvest with a progress bar, report it, index what came, exit 0 or 1."""
    from paperwire.ingest.fetch import FetchError

    with tqdm(unit=" papers", disable=quiet or None, file=sys.stderr) as bar:
        try:
            report = fetch(bar.update)
        except FetchError as exc:
            raise click.ClickException(str(exc)) from exc
    _print_report("harvest", report)
    state.sync_indexes(quiet)
    sys.exit(EXIT_PARTIAL if report.error_count else 0)


@harvest.command("oai")
@click.option("--set", "set_", metavar="SET", help="OAI set, e.g. cs or physics:hep-th.")
@click.option(
    "--from", "from_", callback=_parse_day, metavar="DATE", help="First datestamp (YYYY-MM-DD)."
)
@click.option("--until", callback=_parse_day, metavar="DATE", help="Last datestamp (YYYY-MM-DD).")
@click.option(
    "--prefix",
    type=click.Choice(["arXiv", "arXivRaw"]),
    default="arXiv",
    show_default=True,
    help="Metadata format.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@pass_context
def harvest_oai_command(
    state: _Context,
    set_: str | None,
    from_: date | None,
    until: date | None,
    prefix: str,
    quiet: bool,
) -> None:
    """Harvest arXiv's OAI-PMH ListRecords (run again to resume an interrupted harvest)."""
    from paperwire.ingest.fetch import OaiHarvest, harvest_oai

    _run_harvest(
        state,
        quiet,
        lambda progress: harvest_oai(
            _http_client(), state.store, OaiHarvest(set_, from_, until, prefix), on_batch=progress
        ),
    )


@harvest.command("api")
@click.option("--query", help="arXiv search words (or arXiv syntax such as ti:transformer).")
@click.option("--category", help="arXiv category, e.g. cs.LG.")
@click.option("--from", "from_", callback=_parse_day, metavar="DATE", help="Submitted on or after.")
@click.option("--until", callback=_parse_day, metavar="DATE", help="Submitted on or before.")
@click.option(
    "--max", "max_results", type=click.IntRange(1, 100_000), help="Stop after this many papers."
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@pass_context
def harvest_api_command(
    state: _Context,
    query: str | None,
    category: str | None,
    from_: date | None,
    until: date | None,
    max_results: int | None,
    quiet: bool,
) -> None:
    """Fetch papers matching an arXiv API query (resumable)."""
    from paperwire.ingest.fetch import ArxivQuery, fetch_arxiv_api

    if not (query or category or from_ or until):
        raise click.UsageError("give at least one of --query, --category, --from, --until")
    _run_harvest(
        state,
        quiet,
        lambda progress: fetch_arxiv_api(
            _http_client(),
            state.store,
            ArxivQuery(query, category, from_, until),
            max_results=max_results,
            on_batch=progress,
        ),
    )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (they share the database and the indexes beside it).",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
@pass_context
def serve(state: _Context, host: str, port: int, workers: int, log_level: str) -> None:
    """Run the web site, the JSON API (/api/v1, /openapi.json) and the Atom feeds.

    The indexes are brought up to date first; each worker then builds its settings from
    the same environment and configuration file."""
    import uvicorn

    state.store  # noqa: B018 - open and migrate now: a bad URL fails here, in one line
    state.sync_indexes(quiet=False)
    # The workers are new processes: they read the settings from the environment.
    os.environ["PAPERWIRE_DATABASE_URL"] = state.settings.database_url
    state.close()
    click.echo(f"paperwire on http://{host}:{port}/  (API docs: /api/docs)", err=True)
    uvicorn.run(
        "paperwire.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        server_header=False,
    )


@cli.group()
def digest() -> None:
    """Email digests: compose what is due and deliver the outbox (for cron or a timer)."""


@digest.command("send")
@click.option(
    "--period",
    type=click.Choice(["daily", "weekly", "all"]),
    default="all",
    show_default=True,
    help="Which digests to compose (weekly ones go out in the first run of an ISO week).",
)
@click.option("--dry-run", is_flag=True, help="Compose and count, write and send nothing.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@pass_context
def digest_send(state: _Context, period: str, dry_run: bool, quiet: bool) -> None:
    """Compose the digests due now into the outbox, then send the outbox. Safe to run
    again at any time: nobody gets a period's digest twice."""
    from datetime import UTC, datetime, timedelta

    from paperwire.digest.mailer import make_mailer
    from paperwire.digest.run import compose_due
    from paperwire.digest.send import deliver
    from paperwire.tokens import signing_key

    settings = state.settings
    store = state.store
    frequencies = ("daily", "weekly") if period == "all" else (period,)
    embedder = make_embedder(settings.embedding_model, Path(settings.cache_dir))
    secret = signing_key(settings, store)
    for frequency in frequencies:
        with tqdm(desc=f"{frequency} digests", unit=" subscribers", disable=quiet or None,
                  file=sys.stderr, leave=False) as bar:  # fmt: skip
            report = compose_due(
                store, settings, secret, embedder, frequency,  # type: ignore[arg-type]
                datetime.now(UTC), dry_run=dry_run, progress=bar.update,
            )  # fmt: skip
        click.echo(
            f"{report.period}: {report.due} due, {report.queued} composed "
            f"({report.papers} papers), {report.empty} empty (not sent)"
            + (f", {report.elsewhere} taken by another run" if report.elsewhere else "")
            + (" — dry run, nothing written" if dry_run else "")
        )
        if dry_run and report.samples and not quiet:
            click.echo(report.samples[0].decode("utf-8", "replace")[:3000])
    if dry_run:
        return
    with tqdm(desc="sending", unit=" messages", disable=quiet or None, file=sys.stderr,
              leave=False) as bar:  # fmt: skip
        sent = deliver(store, make_mailer(settings), lambda: datetime.now(UTC),
                       progress=bar.update,
                       lease=timedelta(seconds=settings.outbox_lease_seconds))  # fmt: skip
    counts = store.outbox_counts()
    click.echo(
        f"sent {sent.sent}, to retry {sent.retried}, failed {sent.failed}, "
        f"subscriptions paused {sent.paused}; outbox: "
        + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "empty")
    )
    if sent.failed or sent.retried:
        sys.exit(EXIT_PARTIAL)


@cli.command("migrate-store")
@click.option("--from", "source_url", required=True, metavar="URL", help="The store to copy.")
@click.option("--to", "target_url", required=True, metavar="URL", help="The store to fill.")
@click.option("--batch-size", default=2000, show_default=True, type=click.IntRange(1, 100_000))
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@pass_context
def migrate_store(
    state: _Context, source_url: str, target_url: str, batch_size: int, quiet: bool
) -> None:
    """Copy a whole deployment (papers, vectors, accounts, votes, submissions,
    subscriptions, outbox) to another store, e.g. SQLite to PostgreSQL. Resumable: run it
    again after an interruption. Verifies row counts and checksums at the end, then builds
    this host's keyword index for the new store (so that a server started on it next
    does not spend its first minutes indexing)."""
    from paperwire.store.transfer import transfer

    index_root = Path(state.settings.cache_dir)
    try:
        source = open_store(source_url, index_root=index_root)
        target = open_store(target_url, index_root=index_root)
    except StoreError as exc:
        raise Failure(str(exc)) from exc
    bars: dict[str, Any] = {}

    def progress(table: str, rows: int) -> None:
        if table not in bars:
            bars[table] = tqdm(desc=table, unit=" rows", disable=quiet or None, file=sys.stderr)
        bars[table].update(rows)

    try:
        report = transfer(source, target, batch_size, progress)  # type: ignore[arg-type]
        for table in report.tables:
            verdict = "ok" if table.ok else "MISMATCH"
            click.echo(
                f"{table.table:18} {table.source_rows:>10,} → {table.target_rows:>10,}  "
                f"sha256 {table.source_checksum[:12]} / {table.target_checksum[:12]}  {verdict}"
            )
        if report.ok:
            _build_keyword_index(target, state.settings, quiet)
    except StoreError as exc:
        raise Failure(str(exc)) from exc
    finally:
        for bar in bars.values():
            bar.close()
        source.close()
        target.close()
    if not report.ok:
        click.echo("error: the stores differ after the copy (see MISMATCH above)", err=True)
        sys.exit(EXIT_PARTIAL)


def _build_keyword_index(store: Store, settings: Settings, quiet: bool) -> None:
    """Fill the keyword index kept beside `store` on this host, if it has one."""
    try:
        index = keyword_index(store, settings.keyword_index)
    except ValueError:
        return  # a placement this store cannot have: the server will say so at start
    if isinstance(index, LexicalIndex):
        _update_keyword_index(index, store, quiet)


@cli.group()
def users() -> None:
    """Manage accounts (readers sign themselves up by email)."""


@users.command("curator")
@click.argument("email")
@click.option("--revoke", is_flag=True, help="Take the role back instead.")
@pass_context
def users_curator(state: _Context, email: str, revoke: bool) -> None:
    """Make the account of EMAIL a curator (created if it does not exist yet)."""
    from datetime import UTC, datetime

    from paperwire.web.views import UserError, check_email

    try:
        address = check_email(email)
    except UserError as exc:
        raise click.BadParameter(str(exc)) from exc
    state.store.get_or_create_user(address, datetime.now(UTC))
    user = state.store.set_curator(address, not revoke)
    assert user is not None
    role = "no longer a curator" if revoke else "a curator"
    click.echo(f"{user.email} ({user.handle}) is {role}")


def main() -> None:
    """Entry point of the ``paperwire`` command."""
    # Broken pipes (paperwire search … | head) end quietly.
    try:
        cli.main(prog_name="paperwire")
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)


if __name__ == "__main__":
    main()
