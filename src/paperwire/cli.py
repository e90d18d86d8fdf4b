"""The command line: ``paperwire import|search|similar|embed|show|export|stats|
harvest|reindex|serve|digest|migrate-store|sources|channels|mcp|worker|backup|users``.
Each command parses its options, calls one method of the deployment
(paperwire.deployment) and prints what it got back.

Exit codes: 0 success; 1 the command ran but some records or inputs failed (they are
listed); 2 bad usage; 3 nothing could be done (store unreachable, every input unreadable)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

import click
from tqdm import tqdm

from paperwire.config import load_settings, redacted_url
from paperwire.deployment import Deployment as _Deployment
from paperwire.deployment import move_store
from paperwire.deployment.digests import DigestRun
from paperwire.deployment.imports import ImportOutcome, InputOutcome, input_for, sample_inputs
from paperwire.errors import ConfigurationError
from paperwire.ingest import FORMATS
from paperwire.ingest.fetch import ArxivQuery, FetchError, OaiHarvest
from paperwire.ingest.load import ImportReport
from paperwire.progress import Advance, Progress
from paperwire.querylang import QueryError
from paperwire.search.embed import MODELS
from paperwire.search.hybrid import MODES, NotEmbeddedError
from paperwire.search.lexical import IndexBusyError
from paperwire.search.results import SearchHit, marked_ansi, plain
from paperwire.seeddays import SAVED_YEAR
from paperwire.store import StoreError

EXIT_PARTIAL = 1
EXIT_FAILED = 3


class Failure(click.ClickException):
    """Nothing could be done (exit code 3)."""

    exit_code = EXIT_FAILED


class _Group(click.Group):
    """Turns the deployment's errors into one-line messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (StoreError, ConfigurationError) as exc:
            raise Failure(str(exc)) from exc
        except QueryError as exc:
            raise click.UsageError(str(exc)) from exc
        except FetchError as exc:
            raise click.ClickException(str(exc)) from exc
        except IndexBusyError as exc:
            raise Failure(str(exc)) from exc


def bars(quiet: bool) -> Progress:
    """tqdm progress bars on stderr (none with --quiet or off a terminal)."""

    @contextmanager
    def bar(desc: str, total: int | None = None, unit: str = " papers") -> Iterator[Advance]:
        with tqdm(
            total=total,
            desc=desc,
            unit=unit,
            unit_scale=unit == "B",
            disable=quiet or None,
            leave=False,
            file=sys.stderr,
        ) as made:
            yield made.update

    return bar


@contextmanager
def table_bars(quiet: bool) -> Iterator[Callable[[str, int], object]]:
    """A tqdm bar per table, made when the table's first rows arrive."""
    made: dict[str, tqdm[Any]] = {}

    def advance(table: str, rows: int) -> None:
        if table not in made:
            made[table] = tqdm(desc=table, unit=" rows", disable=quiet or None, file=sys.stderr)
        made[table].update(rows)

    try:
        yield advance
    finally:
        for bar in made.values():
            bar.close()


pass_deployment = click.make_pass_decorator(_Deployment)
quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress bars.")


@click.group(
    cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
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
    ctx.obj = _Deployment(settings)
    ctx.call_on_close(ctx.obj.close)


def _day_or_today(value: str | None) -> date | None:
    if value is None:
        return None
    if value == "today":
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: expected YYYY-MM-DD or 'today'") from exc


def _print_report(name: str, report: ImportReport) -> None:
    counts = report.papers
    click.echo(
        f"{name}: {report.read} records read, {counts.inserted} new, {counts.updated} merged, "
        f"{counts.unchanged} unchanged, {report.deleted} deleted, {report.skipped} skipped, "
        f"{report.error_count} errors, {report.warning_count} warnings"
    )
    for error in report.errors:
        click.echo(f"  error: {error}", err=True)
    if report.error_count > len(report.errors):
        click.echo(f"  … and {report.error_count - len(report.errors)} more errors", err=True)
    for warning in report.warnings:
        click.echo(f"  warning: {warning}", err=True)
    if report.warning_count > len(report.warnings):
        click.echo(f"  … and {report.warning_count - len(report.warnings)} more warnings", err=True)


def _print_input(item: InputOutcome) -> None:
    if item.report is not None:
        _print_report(item.name, item.report)
    if item.error is not None:
        click.echo(f"error: {item.error}", err=True)


def _not_yet_by_meaning(count: int, changing_from: str | None = None) -> str:
    if changing_from:  # a change of model: search by meaning has them, by the earlier one
        return (
            f"{count:,} papers left to embed with the configured model; search by meaning "
            f"reads {changing_from} until then (a running `paperwire serve` embeds them "
            "in the background, or run `paperwire embed`)"
        )
    return (
        f"{count:,} papers not yet searchable by meaning (keyword search has them): "
        "a running `paperwire serve` embeds them in the background, or run `paperwire embed`"
    )


def _finish_import(outcome: ImportOutcome, list_on: date | None, strict: bool = False) -> None:
    """Print the totals and what is left to do, and exit with the import's code."""
    if len(outcome.inputs) > 1:
        _print_report("total", outcome.total)
    if list_on is not None and outcome.listed is not None:
        click.echo(f"listed {outcome.listed} papers in the feed of {list_on.isoformat()}")
    if outcome.seed_listed:
        click.echo(
            f"listed {outcome.seed_listed} seed papers on the days their pages listed them; "
            f"{outcome.seed_inferred} of those days had no year on the page: "
            f"{SAVED_YEAR} is inferred (the year the pages were saved in)"
        )
    if outcome.index.to_embed:
        click.echo(
            _not_yet_by_meaning(outcome.index.to_embed, outcome.index.changing_from), err=True
        )
    if outcome.index.error:
        click.echo(f"error: {outcome.index.error}", err=True)
    if outcome.inputs and outcome.failed_inputs == len(outcome.inputs):
        sys.exit(EXIT_FAILED)
    if outcome.failed_inputs or outcome.total.failed(strict) or outcome.index.error:
        sys.exit(EXIT_PARTIAL)


@cli.command("import")
@click.argument("sources", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(FORMATS)),
    help="Skip detection; read as this format.",
)
@click.option(
    "--sample",
    is_flag=True,
    help="Import the corpus shipped with paperwire: the 245 seed papers and the demo corpus "
    "(5,000 real arXiv records with authors and categories; never listed on a feed).",
)
@click.option(
    "--demo/--no-demo",
    default=True,
    show_default=True,
    help="With --sample: also import the demo corpus (--no-demo: the seed papers alone).",
)
@click.option(
    "--list-on",
    "list_on",
    metavar="DAY",
    callback=lambda _c, _p, v: _day_or_today(v),
    help="Also list the imported papers in the daily feed of DAY (YYYY-MM-DD or 'today'; "
    "papers listed already stay where they are).",
)
@quiet_option
@click.option(
    "--strict", is_flag=True, help="Treat warnings (values left out of a record) as errors."
)
@pass_deployment
def import_command(
    deployment: _Deployment,
    sources: tuple[str, ...],
    fmt: str | None,
    sample: bool,
    demo: bool,
    list_on: date | None,
    quiet: bool,
    strict: bool,
) -> None:
    """Import papers from files (listing pages, arXiv Atom, OAI-PMH, the arXiv snapshot,
    BibTeX/BibLaTeX, CSL JSON, Hugging Face daily papers, paperwire JSON lines; detected
    from the content, also inside .gz/.bz2/.xz/.zip) or arXiv URLs.

    A broken record is reported and skipped; everything else imports. Running an import
    again is harmless: the same paper is merged, never doubled."""
    if not sources and not sample:
        raise click.UsageError("name at least one PATH or URL, or --sample")
    inputs = [input_for(s, fmt) for s in sources] + sample_inputs(sample, demo)
    outcome = deployment.import_sources(
        inputs, list_on=list_on, on_input=_print_input, progress=bars(quiet)
    )
    _finish_import(outcome, list_on, strict)


def _hit_json(hit: SearchHit) -> dict[str, Any]:
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
@pass_deployment
def search_command(
    deployment: _Deployment, query: str, limit: int, offset: int, as_json: bool, mode: str
) -> None:
    """Search papers by keywords, by meaning, or both (hybrid, the default).

    QUERY supports "phrases", prefix*, -excluded, author:NAME, year:2023 (or 2020-2023,
    >=2021) and category:cs.LG; the filters apply in every mode. Until papers are
    embedded (`paperwire embed`) every mode answers with keywords."""
    hits = deployment.search(query, mode, limit, offset)  # type: ignore[arg-type]
    _print_hits(hits, as_json, offset)


def _print_hits(hits: list[SearchHit], as_json: bool, offset: int = 0) -> None:
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
@pass_deployment
def similar_command(deployment: _Deployment, key: str, limit: int, as_json: bool) -> None:
    """Papers nearest in meaning to KEY (itself and other versions of it left out).

    KEY is a paper's key, an arXiv id (with or without version), an arXiv URL or a DOI,
    as for `show`. Papers need vectors first: `paperwire embed`."""
    try:
        hits = deployment.similar(key, limit)
    except KeyError:
        click.echo(f"error: no paper with key {key!r}", err=True)
        sys.exit(EXIT_PARTIAL)
    except NotEmbeddedError as exc:
        click.echo(f"error: {exc}", err=True)
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
@quiet_option
@click.pass_context
def embed_command(
    ctx: click.Context, model: str | None, scheduler: str | None, quiet: bool
) -> None:
    """Embed every paper that has no vector from the model yet.

    Incremental and resumable: run it again after an interruption and it goes on where it
    stopped. Keyword search keeps working while it runs. After a change of the configured
    model, search keeps the old model's vectors until the new model's cover the store;
    then the old ones are removed (--model with another model keeps them)."""
    deployment: _Deployment = ctx.obj
    # Another model than the configured one fills in beside it: search keeps the
    # configured model, so nothing is retired (see SearchPipelines.retire).
    retire = model is None or model == deployment.settings.embedding_model
    if model:
        settings = deployment.settings.model_copy(update={"embedding_model": model})
        deployment = _Deployment(settings, store=deployment.store)
    try:
        done = deployment.embed(scheduler, bars(quiet), retire=retire)
    except OSError as exc:
        raise Failure(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    click.echo(f"embedded {done.embedded:,} papers; {done.in_index:,} in the vector index")


@cli.command("keyphrases")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many papers.")
@pass_deployment
def keyphrases_command(deployment: _Deployment, limit: int | None) -> None:
    """Extract topics for papers upstream gives no keywords.

    KeyBERT's method on the embedding model paperwire ships: phrases of the title and
    abstract ranked against the paper's own vector. Resumable; run after `embed`."""
    done = deployment.extract_keyphrases(limit)
    click.echo(f"extracted keyphrases for {done:,} papers")


@cli.command()
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Print the paper as JSON.")
@pass_deployment
def show(deployment: _Deployment, key: str, as_json: bool) -> None:
    """Show one paper by its key, arXiv id (with or without version), arXiv URL or DOI."""
    from paperwire.ingest.jsonl import to_record

    paper = deployment.paper(key)
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
        ("status", None if paper.confirmed else "unconfirmed (paperwire papers confirm KEY)"),
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
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "bibtex", "csl-json"]),
    default="jsonl",
    show_default=True,
    help="jsonl is lossless; bibtex and csl-json carry what those formats can.",
)
@pass_deployment
def export(deployment: _Deployment, output: str | None, fmt: str) -> None:
    """Write every paper as paperwire JSON lines, BibTeX or CSL JSON (all of which
    `import` reads back)."""
    from paperwire.ingest.export import write

    with click.open_file(output or "-", "w", encoding="utf-8") as target:
        count = write(deployment.papers(), target, fmt)
    if output:
        click.echo(f"exported {count} papers to {output}", err=True)


@cli.command()
@quiet_option
@pass_deployment
def reindex(deployment: _Deployment, quiet: bool) -> None:
    """Rebuild the keyword index beside the database from the stored papers.

    Never needed in normal use (imports keep it in step); useful after deleting or
    losing the index folder, which costs nothing but this rebuild."""
    count = deployment.reindex(bars(quiet))
    if count is None:
        click.echo("nothing to rebuild: this database indexes the papers itself")
        return
    click.echo(f"indexed {count:,} papers in {deployment.keyword.path}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@pass_deployment
def stats(deployment: _Deployment, as_json: bool) -> None:
    """Counts: papers, sources, categories, date range, database size."""
    figures = deployment.stats()
    database = redacted_url(deployment.settings.database_url)
    to_embed, lag = deployment.to_embed(), deployment.keyword_lag()
    changing_from = deployment.changing_from() if to_embed else None
    if as_json:
        extra: dict[str, object] = {"to_embed": to_embed, "keyword_index_lag": lag}
        if changing_from:
            extra["searched_model"] = changing_from
        click.echo(json.dumps({"database": database, **asdict(figures), **extra}, indent=2))
        return
    click.echo(f"database:      {database}")
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
    if to_embed:
        click.echo(_not_yet_by_meaning(to_embed, changing_from))
    if lag:
        click.echo(f"keyword index: {lag:,} changes behind the store (`paperwire reindex`)")


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


def _finish_harvest(outcome: ImportOutcome) -> None:
    _print_report("harvest", outcome.total)
    _finish_import(outcome, None)


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
@quiet_option
@pass_deployment
def harvest_oai_command(
    deployment: _Deployment,
    set_: str | None,
    from_: date | None,
    until: date | None,
    prefix: str,
    quiet: bool,
) -> None:
    """Harvest arXiv's OAI-PMH ListRecords (run again to resume an interrupted harvest)."""
    harvest = OaiHarvest(set_, from_, until, prefix)
    _finish_harvest(deployment.harvest_oai(harvest, bars(quiet)))


@harvest.command("api")
@click.option("--query", help="arXiv search words (or arXiv syntax such as ti:transformer).")
@click.option("--category", help="arXiv category, e.g. cs.LG.")
@click.option("--from", "from_", callback=_parse_day, metavar="DATE", help="Submitted on or after.")
@click.option("--until", callback=_parse_day, metavar="DATE", help="Submitted on or before.")
@click.option(
    "--max", "max_results", type=click.IntRange(1, 100_000), help="Stop after this many papers."
)
@quiet_option
@pass_deployment
def harvest_api_command(
    deployment: _Deployment,
    query: str | None,
    category: str | None,
    from_: date | None,
    until: date | None,
    max_results: int | None,
    quiet: bool,
) -> None:
    """Fetch papers matching an arXiv API query (resumable)."""
    if not (query or category or from_ or until):
        raise click.UsageError("give at least one of --query, --category, --from, --until")
    wanted = ArxivQuery(query, category, from_, until)
    _finish_harvest(deployment.harvest_api(wanted, max_results, bars(quiet)))


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
@pass_deployment
def serve(deployment: _Deployment, host: str, port: int, workers: int, log_level: str) -> None:
    """Run the web site, the JSON API (/api/v1, /openapi.json) and the Atom feeds.

    The indexes are brought up to date first; every worker then runs with exactly these
    settings (the configuration file, the environment and --db, resolved once here)."""
    import uvicorn

    status = deployment.prepare_to_serve(bars(quiet=False))
    if status.error:
        click.echo(f"warning: {status.error}", err=True)
    os.environ.update(deployment.settings.to_environment())
    deployment.close()
    click.echo(f"paperwire on http://{host}:{port}/  (API docs: /api/docs)", err=True)
    from paperwire.logs import log_config

    uvicorn.run(
        "paperwire.asgi:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        log_config=log_config(deployment.settings.json_logs, log_level),
        server_header=False,
        # Forwarded headers only from the configured proxies (uvicorn trusts 127.0.0.1).
        proxy_headers=bool(deployment.settings.trusted_proxies),
        forwarded_allow_ips=deployment.settings.trusted_proxies or None,
    )


@cli.group()
def digest() -> None:
    """Email digests: compose what is due and deliver the outbox (for cron or a timer)."""


def _print_digests(run: DigestRun, dry_run: bool, quiet: bool) -> None:
    for report in run.composed:
        click.echo(
            f"{report.period}: {report.due} due, {report.queued} composed "
            f"({report.papers} papers), {report.empty} empty (not sent)"
            + (f", {report.elsewhere} taken by another run" if report.elsewhere else "")
            + (" — dry run, nothing written" if dry_run else "")
        )
        if dry_run and report.samples and not quiet:
            click.echo(report.samples[0].decode("utf-8", "replace")[:3000])
    if run.sent is not None:
        sent = run.sent
        click.echo(
            f"sent {sent.sent}, to retry {sent.retried}, failed {sent.failed}, "
            f"subscriptions paused {sent.paused}; outbox: "
            + (", ".join(f"{k} {v}" for k, v in sorted(run.outbox.items())) or "empty")
        )


@digest.command("send")
@click.option(
    "--period",
    type=click.Choice(["daily", "weekly", "all"]),
    default="all",
    show_default=True,
    help="Which digests to compose (weekly ones go out in the first run of an ISO week).",
)
@click.option("--dry-run", is_flag=True, help="Compose and count, write and send nothing.")
@quiet_option
@pass_deployment
def digest_send(deployment: _Deployment, period: str, dry_run: bool, quiet: bool) -> None:
    """Compose the digests due now into the outbox, then send the outbox. Safe to run
    again at any time: nobody gets a period's digest twice."""
    frequencies = ("daily", "weekly") if period == "all" else (period,)
    run = deployment.run_digests(frequencies, dry_run=dry_run, progress=bars(quiet))  # type: ignore[arg-type]
    _print_digests(run, dry_run, quiet)
    if run.sent is not None and (run.sent.failed or run.sent.retried):
        sys.exit(EXIT_PARTIAL)


@cli.command("migrate-store")
@click.option("--from", "source_url", required=True, metavar="URL", help="The store to copy.")
@click.option("--to", "target_url", required=True, metavar="URL", help="The store to fill.")
@click.option("--batch-size", default=2000, show_default=True, type=click.IntRange(1, 100_000))
@quiet_option
@pass_deployment
def migrate_store(
    deployment: _Deployment, source_url: str, target_url: str, batch_size: int, quiet: bool
) -> None:
    """Copy a whole deployment (papers, vectors, accounts, votes, submissions,
    subscriptions, outbox) to another store, e.g. SQLite to PostgreSQL. Resumable: run it
    again after an interruption. Verifies row counts and checksums at the end, then builds
    this host's keyword index for the new store (so that a server started on it next
    does not spend its first minutes indexing)."""
    with table_bars(quiet) as advance_table:
        report = move_store(
            deployment.settings, source_url, target_url, batch_size, advance_table, bars(quiet)
        )
    for table in report.tables:
        verdict = "ok" if table.ok else "MISMATCH"
        click.echo(
            f"{table.table:18} {table.source_rows:>10,} → {table.target_rows:>10,}  "
            f"sha256 {table.source_checksum[:12]} / {table.target_checksum[:12]}  {verdict}"
        )
    if not report.ok:
        click.echo("error: the stores differ after the copy (see MISMATCH above)", err=True)
        sys.exit(EXIT_PARTIAL)


@cli.group()
def sources() -> None:
    """Sources that fill the feed on a schedule: Hugging Face daily papers, arXiv
    categories (run by `serve` and `worker`, or now by `sources run`)."""


@sources.command("add")
@click.argument("kind", type=click.Choice(["huggingface", "arxiv"]))
@click.option("--name", help="What to call it (default: the kind).")
@click.option(
    "--category",
    "categories",
    multiple=True,
    metavar="CAT",
    help="arXiv category to harvest (repeat: --category cs.LG --category cs.CL).",
)
@click.option(
    "--rule",
    type=click.Choice(["all", "search", "similar"]),
    default="all",
    show_default=True,
    help="What reaches the daily feed: every new paper, those matching --query, or the "
    "--top N closest in meaning to what readers here upvoted.",
)
@click.option("--query", help="The saved keyword search of --rule search.")
@click.option(
    "--top",
    "top_n",
    default=10,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="How many papers a day --rule similar lists.",
)
@click.option(
    "--start",
    callback=_parse_day,
    metavar="YYYY-MM-DD",
    help="First day to harvest (default: --backfill-days before today).",
)
@click.option("--backfill-days", default=7, show_default=True, type=click.IntRange(0, 366))
@click.option(
    "--interval",
    default=3600,
    show_default=True,
    type=click.IntRange(60, 604800),
    help="Seconds between runs.",
)
@pass_deployment
def sources_add(
    deployment: _Deployment,
    kind: str,
    name: str | None,
    categories: tuple[str, ...],
    rule: str,
    query: str | None,
    top_n: int,
    start: date | None,
    backfill_days: int,
    interval: int,
) -> None:
    """Add a source of KIND (huggingface or arxiv)."""
    from paperwire.sources.config import make_config

    try:
        config = make_config(
            kind, list(categories), rule, query, start, backfill_days, "sources add", top_n
        )
        record = deployment.add_source(name or kind, config, interval)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    click.echo(f"added source {record.name} ({record.kind}), due now")


@sources.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source.")
@pass_deployment
def sources_list(deployment: _Deployment, as_json: bool) -> None:
    """Each source: its cursor, lag, last runs, errors."""
    for status in deployment.sources():
        record = status.record
        last = status.runs[0] if status.runs else None
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "name": record.name,
                        "kind": record.kind,
                        "categories": list(status.config.categories),
                        "rule": status.config.rule,
                        "cursor": record.cursor.isoformat() if record.cursor else None,
                        "lag_days": status.lag_days,
                        "failures": record.failures,
                        "failing": status.failing,
                        "last_success_at": record.last_success_at.isoformat()
                        if record.last_success_at
                        else None,
                        "last_error": record.last_error,
                        "last_run": asdict(last) if last else None,
                    },
                    default=str,
                )
            )
            continue
        state = "FAILING" if status.failing else ("error" if record.last_error else "ok")
        cursor = record.cursor.isoformat() if record.cursor else "-"
        cats = " ".join(status.config.categories)
        click.echo(
            f"{record.name:16} {record.kind:12} {state:8} cursor {cursor}"
            + (f"  lag {status.lag_days} d" if status.lag_days is not None else "")
            + (f"  [{cats}]" if cats else "")
        )
        if last:
            click.echo(
                f"  last run {last.started_at:%Y-%m-%d %H:%M} {last.status}: "
                f"{last.records} records, {last.listed} listed, "
                f"{last.days} days"
            )
        if record.last_error:
            click.echo(f"  error: {record.last_error[:300]}")


@sources.command("remove")
@click.argument("name")
@pass_deployment
def sources_remove(deployment: _Deployment, name: str) -> None:
    """Forget source NAME (the papers it brought stay)."""
    if not deployment.remove_source(name):
        raise click.BadParameter(f"no source named {name!r}", param_hint="NAME")
    click.echo(f"removed source {name}")


@sources.command("run")
@click.argument("names", nargs=-1)
@click.option("--embed", is_flag=True, help="Also embed the new papers now.")
@pass_deployment
def sources_run(deployment: _Deployment, names: tuple[str, ...], embed: bool) -> None:
    """Run the named sources now (default: those due), then catch the indexes up.
    Exit 1 when a source failed or a day looked short."""
    try:
        run = deployment.run_sources(list(names) or None, embed=embed)
    except KeyError as exc:
        raise click.BadParameter(f"no source named {exc.args[0]!r}", param_hint="NAMES") from exc
    if run is None:
        click.echo("another runner holds the sources lease; nothing done", err=True)
        return
    for outcome in run.outcomes:
        click.echo(
            f"{outcome.name}: {outcome.status}, {outcome.records} records over "
            f"{outcome.days} days, {outcome.listed} listed; cursor "
            f"{outcome.cursor.isoformat() if outcome.cursor else '-'}"
        )
        for problem in outcome.problems[:10]:
            click.echo(f"  {problem}", err=True)
    if not run.outcomes:
        click.echo("no source is due")
    if run.index.error:
        click.echo(f"warning: {run.index.error}", err=True)
    if any(o.status != "ok" for o in run.outcomes):
        sys.exit(EXIT_PARTIAL)


@cli.group()
def channels() -> None:
    """Chat and webhook channels that get the daily (or weekly) papers: an apprise URL
    (slack://, discord://, tgram://, matrix://, mailto://, json://, ntfy://, …) or a
    plain https:// webhook, signed by the Standard Webhooks spec."""


@channels.command("add")
@click.argument("target")
@click.option("--name", required=True, help="What to call it (letters, digits, . - _).")
@click.option("--daily", "frequency", flag_value="daily", default=True, help="Each day (default).")
@click.option("--weekly", "frequency", flag_value="weekly", help="Each ISO week.")
@click.option("--query", metavar="Q", help="The period's new papers matching this search.")
@click.option(
    "--collection",
    type=click.IntRange(1),
    metavar="ID",
    help="The papers saved to this collection during the period.",
)
@click.option("--trending", is_flag=True, help="The papers trending now (the default).")
@click.option(
    "--for-you",
    "for_you",
    metavar="EMAIL",
    help="The period's new papers recommended for this reader, then the new papers by "
    "the authors, organizations and topics they follow (only --for-you carries follows).",
)
@pass_deployment
def channels_add(
    deployment: _Deployment,
    target: str,
    name: str,
    frequency: str,
    query: str | None,
    collection: int | None,
    trending: bool,
    for_you: str | None,
) -> None:
    """Add a channel sending to TARGET (an apprise URL or an https:// webhook URL). Its
    current period is due at once: `channels run` sends it. A webhook's signing secret
    is printed once here (`channels show NAME --secret` shows it again). Only a
    --for-you channel carries the reader's follows ("New from what you follow");
    --trending, --query and --collection send what they name and nothing more."""
    from paperwire.channels.manage import ChannelError, Choice

    chosen = [
        o
        for o, v in (
            ("--query", query),
            ("--collection", collection),
            ("--trending", trending),
            ("--for-you", for_you),
        )
        if v
    ]
    if len(chosen) > 1:
        raise click.UsageError(f"choose one of {', '.join(chosen)}")
    if query is not None:
        choice = Choice("query", query=query)
    elif collection is not None:
        choice = Choice("collection", collection_id=collection)
    else:
        choice = Choice("trending")
    try:
        channel, secret = deployment.add_channel(name, target, frequency, choice, for_you=for_you)
    except ChannelError as exc:
        raise click.BadParameter(str(exc)) from exc
    from paperwire.channels.manage import describe

    click.echo(
        f"added channel {channel.name}: {channel.frequency} {describe(channel)} "
        f"→ {channel.target_label}; due now (`paperwire channels run`)"
    )
    if secret:
        click.echo(f"signing secret (shown once; verify webhook-signature with it): {secret}")


@channels.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per channel.")
@click.option("--all", "everyone", is_flag=True, help="Readers' own channels too.")
@pass_deployment
def channels_list(deployment: _Deployment, as_json: bool, everyone: bool) -> None:
    """Each channel: what it gets, where (without its secrets), its last period, and
    its messages sent, waiting and dead-lettered (with the latest error)."""
    from paperwire.channels.manage import describe

    for status in deployment.channels(everyone=everyone):
        c, d = status.channel, status.deliveries
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "name": c.name,
                        "owner_id": c.owner_id,
                        "frequency": c.frequency,
                        "selection": c.selection,
                        "query": c.query,
                        "collection": c.collection_id,
                        "reader_id": c.reader_id,
                        "target": c.target_label,
                        "kind": c.target_kind,
                        "last_period": c.last_period,
                        "sent": d.sent,
                        "waiting": d.queued,
                        "dead": d.dead,
                        "last_error": d.last_error,
                        "last_sent_at": d.last_sent_at.isoformat() if d.last_sent_at else None,
                    }
                )
            )
            continue
        state = "DEAD LETTERS" if d.dead else ("retrying" if d.last_error and d.queued else "ok")
        owner = f" (reader {c.owner_id})" if c.owner_id is not None else ""
        click.echo(f"{c.name}{owner}: {c.frequency} {describe(c)} → {c.target_label}  {state}")
        click.echo(
            f"  last period {c.last_period or '-'}; sent {d.sent}, waiting {d.queued}, "
            f"dead {d.dead}"
        )
        if d.last_error:
            click.echo(f"  last error: {d.last_error[:300]}")


@channels.command("show")
@click.argument("name")
@click.option("--secret", is_flag=True, help="Also print the target URL and the signing secret.")
@pass_deployment
def channels_show(deployment: _Deployment, name: str, secret: bool) -> None:
    """Show channel NAME; with --secret, its whole target URL and webhook signing secret
    (they are stored encrypted, and shown only on this request)."""
    from paperwire.channels.manage import describe

    found = [s for s in deployment.channels() if s.channel.name == name]
    if not found:
        raise click.BadParameter(f"no channel named {name!r}", param_hint="NAME")
    c = found[0].channel
    click.echo(f"{c.name}: {c.frequency} {describe(c)} → {c.target_label} ({c.target_kind})")
    if secret:
        url, whsec = deployment.channel_secrets(name)
        click.echo(f"target: {url}")
        if whsec:
            click.echo(f"signing secret: {whsec}")


@channels.command("remove")
@click.argument("name")
@pass_deployment
def channels_remove(deployment: _Deployment, name: str) -> None:
    """Forget channel NAME (its queued messages are not sent)."""
    if not deployment.remove_channel(name):
        raise click.BadParameter(f"no channel named {name!r}", param_hint="NAME")
    click.echo(f"removed channel {name}")


@channels.command("test")
@click.argument("name")
@pass_deployment
def channels_test(deployment: _Deployment, name: str) -> None:
    """Send one message to channel NAME now (its papers so far, else a hello) and say
    how it went; exit 1 when it was not delivered. Nothing is recorded."""
    try:
        outcome = deployment.test_channel(name)
    except KeyError as exc:
        raise click.BadParameter(f"no channel named {name!r}", param_hint="NAME") from exc
    if outcome.delivered:
        click.echo(f"{name}: delivered")
        return
    click.echo(f"{name}: not delivered: {outcome.error}", err=True)
    sys.exit(EXIT_PARTIAL)


@channels.command("retry")
@click.argument("name", required=False)
@click.option(
    "--all", "everyone", is_flag=True, help="Every channel's dead letters (readers' too)."
)
@pass_deployment
def channels_retry(deployment: _Deployment, name: str | None, everyone: bool) -> None:
    """Give channel NAME's dead-lettered messages (`channels list`: dead) another full
    round of attempts: they are queued again, due now, and the next `channels run` (or
    the schedule) sends them. `channels list` and /status show them as waiting."""
    if (name is None) == (not everyone):
        raise click.UsageError("give a channel NAME or --all (not both)")
    try:
        count = deployment.retry_channel(None if everyone else name)
    except KeyError as exc:
        raise click.BadParameter(f"no channel named {name!r}", param_hint="NAME") from exc
    where = "all channels" if everyone else f"channel {name}"
    plural = "" if count == 1 else "s"
    click.echo(
        f"{where}: {count} dead-lettered message{plural} queued again"
        + ("; `paperwire channels run` sends them" if count else "")
    )


@channels.command("run")
@click.option(
    "--period",
    type=click.Choice(["daily", "weekly", "all"]),
    default="all",
    show_default=True,
    help="Which channels to compose.",
)
@quiet_option
@pass_deployment
def channels_run(deployment: _Deployment, period: str, quiet: bool) -> None:
    """Send what is due: each channel's message for the current period (once, however
    often or concurrently this runs), and retries of earlier failures. Exit 1 when a
    message failed."""
    frequencies = ("daily", "weekly") if period == "all" else (period,)
    run = deployment.run_channels(frequencies, progress=bars(quiet))  # type: ignore[arg-type]
    for report in run.composed:
        elsewhere = f", {report.elsewhere} taken by another run" if report.elsewhere else ""
        click.echo(
            f"{report.period}: {report.due} due, {report.queued} queued, "
            f"{report.empty} empty (nothing to send){elsewhere}"
        )
    sent = run.sent
    counts = ", ".join(f"{k} {v}" for k, v in sorted(run.outbox.items())) or "none"
    click.echo(
        f"delivered {sent.sent}, to retry {sent.retried}, dead letters {sent.dead}; "
        f"channel messages: {counts}"
    )
    if sent.retried or sent.dead:
        sys.exit(EXIT_PARTIAL)


@cli.command("mcp")
@click.option(
    "--token",
    envvar="PAPERWIRE_TOKEN",
    metavar="pw_…",
    help="A personal API token (default: $PAPERWIRE_TOKEN) for the personal tools: "
    "recommendations, collections, save, dismiss, saved_searches.",
)
@pass_deployment
def mcp_command(deployment: _Deployment, token: str | None) -> None:
    """Serve MCP over stdio for an agent (Claude Desktop, VS Code, Cursor, …): tools to
    search, read the daily feed and trending, fetch a paper (record, BibTeX, links) and
    similar ones, and with a token your recommendations and collections. `paperwire
    serve` serves the same tools over HTTP at /mcp."""
    from paperwire.mcp.server import serve_stdio

    serve_stdio(deployment, token)


@cli.command()
@click.option("--once", is_flag=True, help="Run each job's step once, then exit.")
@pass_deployment
def worker(deployment: _Deployment, once: bool) -> None:
    """Run the background jobs without the web site: the sources on their schedule,
    embedding, and the digests when scheduled. Stops on SIGTERM or Ctrl-C."""
    import logging.config
    import signal
    import threading

    from paperwire.logs import log_config

    logging.config.dictConfig(log_config(deployment.settings.json_logs))
    deployment.prepare_to_serve()  # the store, the configured sources, the indexes
    if once:
        for job in deployment.background_jobs():
            job.step()
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with deployment.running_jobs() as running:
        names = ", ".join(job.name for job in running) or "no jobs"
        click.echo(f"paperwire worker: {names}", err=True)
        with suppress(KeyboardInterrupt):
            stop.wait()


@cli.command()
@click.argument("output", type=click.Path(dir_okay=False))
@pass_deployment
def backup(deployment: _Deployment, output: str) -> None:
    """Write a consistent copy of the store to OUTPUT while it runs (SQLite's online
    backup). For PostgreSQL, print the pg_dump command that does it."""
    from pathlib import Path

    result = deployment.backup(Path(output))
    click.echo(result)


@cli.group()
def users() -> None:
    """Manage accounts (readers sign themselves up by email)."""


@users.command("curator")
@click.argument("email")
@click.option("--revoke", is_flag=True, help="Take the role back instead.")
@pass_deployment
def users_curator(deployment: _Deployment, email: str, revoke: bool) -> None:
    """Make the account of EMAIL a curator (created if it does not exist yet)."""
    try:
        user = deployment.set_curator(email, not revoke)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    role = "no longer a curator" if revoke else "a curator"
    click.echo(f"{user.email} ({user.handle}) is {role}")


@users.command("token")
@click.argument("email")
@click.option("--name", default="cli", show_default=True, help="A name to know it by.")
@pass_deployment
def users_token(deployment: _Deployment, email: str, name: str) -> None:
    """Print a new personal API token for the account of EMAIL (created if new): send it
    as 'Authorization: Bearer <token>'. Only its hash is stored; it is shown this once."""
    try:
        token = deployment.new_api_token(email, name)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    click.echo(token)


@cli.group()
def papers() -> None:
    """Papers awaiting confirmation: what readers send (a submission typed in or uploaded,
    a library import) stays out of the public feed, search and feeds until a trusted
    source brings the same paper or a curator confirms it."""


@papers.command("unconfirmed")
@click.option(
    "-n",
    "--limit",
    default=100,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="How many papers.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines (key, title, sources).")
@pass_deployment
def papers_unconfirmed(deployment: _Deployment, limit: int, as_json: bool) -> None:
    """List the papers awaiting confirmation, newest first."""
    for paper in deployment.unconfirmed_papers(limit):
        if as_json:
            record = {"key": paper.key, "title": paper.title, "sources": paper.sources}
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            click.echo(f"{paper.key}\t{paper.title}")


@papers.command("confirm")
@click.argument("key")
@pass_deployment
def papers_confirm(deployment: _Deployment, key: str) -> None:
    """Confirm the paper KEY (key, arXiv id or arXiv URL) as a curator would: it joins the
    public feed, search, feeds and the API as it stands."""
    paper = deployment.confirm_paper(key)
    if paper is None:
        click.echo(f"error: no paper with key {key!r}", err=True)
        sys.exit(EXIT_PARTIAL)
    click.echo(f"confirmed {paper.key}: {paper.title}")


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
