"""A digest run: compose what is due for a period into the outbox, then deliver the
outbox. Used by `paperwire digest send` (cron, systemd timers) and by the scheduler
inside `paperwire serve`; running it twice for one period sends nothing twice."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from paperwire.config import Settings
from paperwire.digest.compose import compose
from paperwire.digest.periods import Frequency, period_key, window_start
from paperwire.digest.select import Selector
from paperwire.search.embed import Embedder
from paperwire.store.base import Store

log = logging.getLogger(__name__)
PAGE = 200


@dataclass
class ComposeReport:
    """What composing one period did."""

    period: str
    due: int = 0
    queued: int = 0
    empty: int = 0
    elsewhere: int = 0  # due, but composed by a run going on at the same time
    papers: int = 0
    samples: list[bytes] = field(default_factory=list)  # dry runs keep a few messages


def compose_due(
    store: Store,
    settings: Settings,
    secret: str,
    embedder: Embedder | None,
    frequency: Frequency,
    now: datetime,
    dry_run: bool = False,
    progress: Callable[[int], object] | None = None,
) -> ComposeReport:
    """Compose the digests of every subscription due for this period. Each is written to
    the outbox in the transaction that marks its period done, so an interrupted run
    resumes where it stopped. A dry run writes nothing."""
    period = period_key(frequency, now)
    report = ComposeReport(period)
    selector = Selector(
        store, embedder, embedder.name if embedder else None, now, settings.digest_trending_count
    )
    after = 0
    while True:
        due = store.due_subscriptions(frequency, period, after, PAGE)
        if not due:
            return report
        selector.prepare(due)
        for subscription in due:
            start = window_start(frequency, subscription.covered_until, now)
            content = selector.content(subscription, start)
            report.due += 1
            message = None
            if not content.empty:
                message = compose(settings, secret, subscription, content, period, now)
            if dry_run:
                if message is not None and len(report.samples) < 3:
                    report.samples.append(message.message)
            elif not store.record_digest(subscription.id, period, now, message):
                report.elsewhere += 1  # another run composed this one first
                continue
            if message is None:
                report.empty += 1
            else:
                report.queued += 1
                report.papers += content.size
            if progress:
                progress(1)
        after = due[-1].id


class Scheduler:
    """Runs digests from inside the web server: each minute, deliver what is due (retries
    included), and from settings.digest_hour on, compose the day's periods first. Several
    workers may each run one: the outbox's constraints keep it exact."""

    def __init__(self, run: Callable[[bool], object], settings: Settings,
                 clock: Callable[[], datetime], interval: float = 60.0) -> None:  # fmt: skip
        self.run = run
        self.settings = settings
        self.clock = clock
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="paperwire-digests", daemon=True)

    def start(self) -> None:
        """Begin in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Finish the current step and end."""
        self._stop.set()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run(self.clock().hour >= self.settings.digest_hour)
            except Exception:  # the schedule must outlive one bad run; the log has it
                log.exception("digest run failed; trying again in %s s", self.interval)
            self._stop.wait(self.interval)
