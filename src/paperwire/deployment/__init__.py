"""One paperwire deployment: built from Settings, it owns the store, the indexes beside
it, the embedding model, the mailer and the arXiv client, and its methods are the
pipelines — import, catch the indexes up, embed, harvest, run the sources and the digests,
move the store. The CLI, the web app and the schedulers call these methods and nothing
else builds the parts, so "what does an import do?" has one answer:
:meth:`~paperwire.deployment.imports.ImportPipelines.import_sources`.

`Deployment` is assembled here from one class per concern: parts.py (the parts, made on
first use: opening a store migrates it; loading the model takes seconds, so a command
that needs only the store never loads the model), search.py (the indexes: catching up,
embedding, searching), imports.py (imports and harvests), sources.py (configured sources
on a schedule) and digests.py (digests and deliveries through the outbox)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from paperwire.config import Settings
from paperwire.deployment.channels import ChannelPipelines
from paperwire.deployment.imports import ImportPipelines
from paperwire.deployment.search import IndexStatus
from paperwire.errors import ConfigurationError
from paperwire.jobs import Periodic
from paperwire.models import Paper, User
from paperwire.progress import Progress, silent
from paperwire.search.lexical import IndexBusyError
from paperwire.store import StoreError
from paperwire.store.base import StoreStats
from paperwire.store.transfer import TransferReport, transfer

log = logging.getLogger(__name__)


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


class Deployment(ImportPipelines, ChannelPipelines):
    """One deployment: its parts (deployment/parts.py) and the pipelines over them —
    imports (imports.py), the indexes and search (search.py), sources (sources.py),
    digests and deliveries (digests.py), channels (channels.py) — plus reading, the
    background jobs, health, operations and accounts, here."""

    # -- reading ----------------------------------------------------------------------

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

    # -- the background jobs ------------------------------------------------------------

    def background_jobs(self) -> list[Periodic]:
        """What a server (or `paperwire worker`) runs beside its requests: embedding new
        papers (when enabled), the digests when scheduled, the sources (one runner
        across workers and hosts: the database lease) and the channels."""
        jobs = []
        if self.settings.embed_in_background:
            jobs.append(Periodic("embedding", lambda: self.embed_step() > 0, 30.0))
        if self.settings.digest_schedule:
            jobs.append(Periodic("digests", self.digest_step, 60.0))
        if self.settings.sources_schedule:
            jobs.append(Periodic("sources", self.sources_step, 60.0))
        if self.settings.channels_schedule:
            jobs.append(Periodic("channels", self.channels_step, 60.0))
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

        store = self.store
        copier = store.online_backup
        if copier is not None:
            size = copier.backup_to(target)
            return f"backed up {copier.path} to {target} ({size:,} bytes, integrity ok)"
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
