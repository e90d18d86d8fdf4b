"""Composing a period's digests into the outbox (`Deployment.run_digests` then delivers
the outbox; `paperwire digest send` and the schedule inside `paperwire serve` call it).
Running it twice for one period sends nothing twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from paperwire.config import Settings
from paperwire.digest.compose import compose
from paperwire.digest.periods import Frequency, period_key, window_start
from paperwire.digest.select import Selector
from paperwire.search.embed import Embedder
from paperwire.store.base import Store

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
    *,
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
            elif not store.record_digest(
                subscription.id,
                period,
                now,
                message,
                seen=(subscription.user_id, content.recommended_ids)
                if message is not None and subscription.user_id is not None
                else None,
            ):
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
