"""Composing a period's channel messages into the outbox (`Deployment.run_channels` then
delivers them; `paperwire channels run` and the schedule inside `serve` and `worker`
call it). Each message is written in the transaction that marks the channel's period
done (a page of channels at a time), so running it twice for one period, or two runs at
once, queues nothing twice; a run interrupted between pages resumes where it stopped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from paperwire.channels.messages import PaperParts, compose, message_id
from paperwire.channels.select import ChannelSelector
from paperwire.config import Settings
from paperwire.digest.periods import Frequency, period_key
from paperwire.search.embed import Embedder
from paperwire.store.base import Store

PAGE = 200


@dataclass
class ChannelComposeReport:
    """What composing one period did."""

    period: str
    due: int = 0
    queued: int = 0
    empty: int = 0
    elsewhere: int = 0  # due, but composed by a run going on at the same time


def compose_channels(
    store: Store,
    settings: Settings,
    embedder: Embedder | None,
    frequency: Frequency,
    now: datetime,
    progress: Callable[[int], object] | None = None,
) -> ChannelComposeReport:
    """Queue the message of every channel due for this period (nothing for a channel
    whose period has no papers: its period is recorded all the same)."""
    period = period_key(frequency, now)
    report = ChannelComposeReport(period)
    selector: ChannelSelector | None = None
    parts = PaperParts(settings.base_url)
    after = 0
    while True:
        due = store.due_channels(frequency, period, after, PAGE)
        if not due:
            return report
        if selector is None:  # ranked once per run, and only when some channel is due
            selector = ChannelSelector(store, embedder, now, settings.base_url)
        selector.prepare(due)
        composed: list[tuple[int, tuple[str, bytes] | None]] = []
        for channel in due:
            content = selector.content(channel)
            queued = None
            if not content.empty:
                message = compose(
                    channel.name,
                    channel.selection,
                    period,
                    content,
                    settings.base_url,
                    settings.channel_max_papers,
                    parts,
                )
                queued = (message_id(channel.id, period), message.to_bytes())
            composed.append((channel.id, queued))
        for (_, queued), recorded in zip(
            composed, store.record_channel_periods(period, now, composed, now), strict=True
        ):
            report.due += 1
            if not recorded:
                report.elsewhere += 1
            elif queued is None:
                report.empty += 1
            else:
                report.queued += 1
        if progress:
            progress(len(due))
        after = due[-1].id
