"""The digests' pipelines: composing the due digests into the outbox, queueing reply and
mention mail, and delivering the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from paperwire.deployment.sources import SourcePipelines
from paperwire.digest.periods import FREQUENCIES, Frequency
from paperwire.digest.run import ComposeReport, compose_due
from paperwire.digest.send import SendReport, deliver
from paperwire.discussion.notify import NoticeRun, queue_batches
from paperwire.progress import Progress, silent


@dataclass
class DigestRun:
    """A digest run: each period composed, then what the outbox sent."""

    composed: list[ComposeReport]
    sent: SendReport | None
    outbox: dict[str, int]


class DigestPipelines(SourcePipelines):
    """Digests and deliveries, through the one outbox."""

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
                    self.store,
                    self.settings,
                    self.secret,
                    embedder=embedder,
                    frequency=frequency,
                    now=self.clock(),
                    dry_run=dry_run,
                    progress=advance,
                )
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
