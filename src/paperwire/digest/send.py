"""Delivering the outbox: claim a batch (with a lease), send each message, record the
outcome. Temporary failures (4xx, connection trouble) are retried with growing delays;
permanent ones (5xx) are recorded, and a subscription is paused after several in a row.
A sender killed at any point leaves claimed rows that the next run takes over once the
lease has run out; nothing is lost, and a message is resent only if the kill fell
between the server's acceptance and the database's record of it (the same Message-ID
then lets the receiving side recognise it)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from paperwire.digest.mailer import Mailer, MailError
from paperwire.store.base import Store

log = logging.getLogger(__name__)

RETRY_DELAYS = [timedelta(minutes=m) for m in (1, 5, 30, 120, 720)]
LEASE = timedelta(minutes=10)
BATCH = 50


@dataclass
class SendReport:
    """What one delivery run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    paused: int = 0


def deliver(
    store: Store,
    mailer: Mailer,
    clock: Callable[[], datetime],
    batch: int = BATCH,
    progress: Callable[[int], object] | None = None,
    lease: timedelta = LEASE,
) -> SendReport:
    """Send every message that is due now; returns the counts."""
    report = SendReport()
    try:
        while True:
            now = clock()
            items = store.claim_outbox(now, now + lease, batch)
            if not items:
                return report
            for item in items:
                try:
                    mailer.deliver(item.recipient, item.message)
                except MailError as exc:
                    _failed(store, item.id, item.attempts, exc, clock(), report)
                else:
                    store.mark_sent(item.id, clock())
                    report.sent += 1
                if progress:
                    progress(1)
    finally:
        mailer.close()


def _failed(
    store: Store, outbox_id: int, attempts: int, error: MailError, now: datetime, report: SendReport
) -> None:
    if error.temporary and attempts <= len(RETRY_DELAYS):
        store.mark_retry(outbox_id, now + RETRY_DELAYS[attempts - 1], str(error))
        report.retried += 1
        log.info("outbox %d: temporary failure, retry %d: %s", outbox_id, attempts, error)
        return
    if store.mark_failed(outbox_id, str(error), permanent=not error.temporary):
        report.paused += 1
    report.failed += 1
    log.warning("outbox %d: given up after %d attempts: %s", outbox_id, attempts, error)
