"""Delivering channel messages from the outbox: claim a batch (with a lease), send each to
its target, record the outcome.

- A plain webhook gets the message's JSON, signed by the Standard Webhooks spec
  (`webhook-id`: the message's id, the same on every retry; `webhook-timestamp`: the
  time of this attempt; `webhook-signature`: v1,HMAC-SHA256 under the channel's whsec_
  secret). 2xx is delivered; 408, 425, 429 and 5xx, a timeout or a refused connection
  are retried; a redirect or any other 4xx is final (the receiver said no).
- An apprise target gets the title and the Markdown body through apprise; apprise says
  only yes or no, and a no is retried. Its apprise client is built once per run and
  channel, and used by one worker at a time (a plugin keeps state, a throttle clock or
  a login, not made for two threads at once). It was built twice a message, for its
  label and its client: bench/channel_send_bench.py measured 4.7-6.6 ms a message to a
  loopback json:// target before, 3.2-4.9 ms after (medians, a loaded machine).
- Every connection is checked as it is made (channels.guard): a host that resolves to a
  private address is refused, and that is final.

A run sends `channel_concurrency` messages at a time, each on a worker thread (the
targets' answers are what a run waits for: a chat service takes 100-500 ms); the run's
own thread claims the batches and records every outcome, one write per message as it
comes back, so the outbox is written by one thread only, and hands a worker its next
message only after recording the last one.

A retried message waits `channel_retry_seconds` × 4^(attempt-1) (at most six hours); after
`channel_attempts` attempts it is dead-lettered: kept in the outbox as failed, with its last
error, shown by `channels list` and on /status. A sender killed mid-batch leaves claimed
rows that the next run takes over when the lease ends: a message is sent again only if the
kill fell between the target's acceptance and the database's record of it (at most the
`channel_concurrency` messages in flight), and then with the same webhook-id."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import urllib3
from standardwebhooks import Webhook

from paperwire.channels.guard import (
    Resolver,
    TargetRefusedError,
    checked_addresses,
    guarded,
    resolve,
)
from paperwire.channels.messages import Message
from paperwire.channels.sealing import Sealer, SealError
from paperwire.channels.targets import MAIL_SCHEMES, apprise_module, label_of, network_host
from paperwire.config import Settings
from paperwire.store.base import Store
from paperwire.store.channels import Channel, ChannelMessage

log = logging.getLogger(__name__)
# apprise logs the URLs it posts to (with their tokens) at DEBUG: keep it to warnings.
logging.getLogger("apprise").setLevel(logging.WARNING)

BATCH = 50
MAX_DELAY = timedelta(hours=6)
RETRY_STATUSES = frozenset({408, 425, 429})
USER_AGENT = "paperwire-channels/0.1"


@dataclass
class Outcome:
    """How one attempt went: delivered, or why not and whether to try again."""

    delivered: bool
    error: str = ""
    retry: bool = False


@dataclass
class ChannelSendReport:
    """What one delivery run did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0


@dataclass
class _Target:
    """A channel's target as a run sends to it: its URL and secret opened, and for an
    apprise URL its client, built on first use (None: apprise no longer reads the URL)."""

    url: str
    secret: str | None
    label: str  # the URL without its secrets (for an apprise URL, itself a build of it)
    built: bool = False
    plugin: Any = None
    notifier: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)  # one sender at a time


class Sender:
    """Sends messages to channel targets (one HTTP connection pool for a whole run, and
    each channel's target opened and built once: `_target`)."""

    def __init__(self, settings: Settings, sealer: Sealer, resolver: Resolver = resolve) -> None:
        self.settings = settings
        self.sealer = sealer
        self.resolver = resolver
        self.http = urllib3.PoolManager(
            # A kept connection per worker: a run's messages to one host reuse them.
            maxsize=settings.channel_concurrency,
            timeout=urllib3.Timeout(total=settings.channel_timeout_seconds),
            retries=False,
            headers={"User-Agent": USER_AGENT},
        )
        self._targets: dict[tuple[int, str, str | None], _Target] = {}
        self._targets_lock = threading.Lock()

    def _target(self, channel: Channel) -> _Target:
        """The channel's target, opened on its first message of the run (keyed by what
        is sealed too: a channel whose target changed is opened afresh). SealError when
        the instance key cannot open it."""
        key = (channel.id, channel.target_sealed, channel.secret_sealed)
        with self._targets_lock:
            found = self._targets.get(key)
        if found is None:
            url = self.sealer.open(channel.target_sealed)
            secret = self.sealer.open(channel.secret_sealed) if channel.secret_sealed else None
            with self._targets_lock:
                found = self._targets.setdefault(key, _Target(url, secret, label_of(url)))
        return found

    def send(self, channel: Channel, message_id: str, message: Message) -> Outcome:
        """One attempt to deliver `message` to `channel`'s target."""
        try:
            target = self._target(channel)
        except SealError as exc:
            return Outcome(False, str(exc))
        allow = self.settings.allow_private_targets
        with guarded(allow, self.resolver) as policy:
            if channel.target_kind == "webhook":
                outcome = self._webhook(target.url, target.secret, message_id, message)
            else:
                outcome = self._apprise(target, message)
        if policy.refused:
            return Outcome(False, f"{target.label}: {policy.refused}")
        return outcome

    def _webhook(self, url: str, secret: str | None, message_id: str, message: Message) -> Outcome:
        body = message.webhook_body()
        headers = {"Content-Type": "application/json", "webhook-id": message_id}
        stamp = datetime.fromtimestamp(int(time.time()), UTC)  # receivers check it: real time
        headers["webhook-timestamp"] = str(int(stamp.timestamp()))
        if secret:
            headers["webhook-signature"] = Webhook(secret).sign(message_id, stamp, body)
        label = label_of(url)
        try:
            response = self.http.request(
                "POST", url, body=body, headers=headers, redirect=False, preload_content=True
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            # The error text can hold the URL's path (its token): name the kind only.
            return Outcome(False, f"{label}: {_reason(exc)}", retry=True)
        status = response.status
        if 200 <= status < 300:
            return Outcome(True)
        if status in RETRY_STATUSES or status >= 500:
            return Outcome(False, f"{label}: HTTP {status}", retry=True)
        if 300 <= status < 400:
            return Outcome(
                False, f"{label}: HTTP {status} redirect (not followed: give the final URL)"
            )
        return Outcome(False, f"{label}: HTTP {status} (refused by the receiver)")

    def _apprise(self, target: _Target, message: Message) -> Outcome:
        apprise = apprise_module()
        url, label = target.url, target.label
        with target.lock:
            if not target.built:
                target.plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
                if target.plugin is not None:
                    target.notifier = apprise.Apprise()
                    target.notifier.add(target.plugin)
                target.built = True
            if target.plugin is None:
                return Outcome(False, f"{label}: apprise no longer reads this URL")
            if url.split(":", 1)[0].lower() in MAIL_SCHEMES:  # SMTP: not through urllib3
                where = network_host(target.plugin, url)
                if where is not None:
                    try:
                        checked_addresses(
                            where[0], where[1], self.settings.allow_private_targets, self.resolver
                        )
                    except TargetRefusedError as exc:
                        return Outcome(False, f"{label}: {exc}")
            delivered = target.notifier.notify(
                body=message.markdown,
                title=message.title,
                body_format=apprise.NotifyFormat.MARKDOWN,
            )
        if delivered:
            return Outcome(True)
        return Outcome(False, f"{label}: the service did not accept the message", retry=True)

    def close(self) -> None:
        """Close the connection pool."""
        self.http.clear()


def _reason(exc: Exception) -> str:
    while isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return "timed out"
    if isinstance(exc, urllib3.exceptions.NewConnectionError | ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return "the connection broke"
    return type(exc).__name__


def retry_delay(settings: Settings, attempts: int) -> timedelta:
    """How long a message waits after its `attempts`-th failed attempt."""
    seconds = settings.channel_retry_seconds * 4 ** max(attempts - 1, 0)
    return min(timedelta(seconds=seconds), MAX_DELAY)


def deliver_channels(
    store: Store,
    sender: Sender,
    clock: Callable[[], datetime],
    lease: timedelta,
    batch: int = BATCH,
    progress: Callable[[int], object] | None = None,
) -> ChannelSendReport:
    """Send every channel message that is due now, `channel_concurrency` at a time;
    returns the counts."""
    report = ChannelSendReport()
    workers = sender.settings.channel_concurrency
    try:
        with ThreadPoolExecutor(workers, thread_name_prefix="channel-send") as pool:
            while True:
                now = clock()
                claimed = store.claim_channel_messages(now, now + lease, max(batch, workers))
                if not claimed:
                    return report
                channels = store.channels_by_id(sorted({m.channel_id for m in claimed}))
                waiting = iter(
                    (item, channel)
                    for item in claimed
                    if (channel := channels.get(item.channel_id)) is not None
                )  # a channel removed meanwhile took its rows with it
                sending: dict[Future[Outcome], tuple[ChannelMessage, Channel]] = {}
                while True:
                    # A message is handed to a worker only once the outcome before it is
                    # recorded: at any moment at most `workers` messages are sent and not
                    # yet recorded (what a kill can make a later run send again).
                    for item, channel in itertools.islice(waiting, workers - len(sending)):
                        message = Message.from_bytes(item.message)
                        job = pool.submit(sender.send, channel, item.message_id, message)
                        sending[job] = (item, channel)
                    if not sending:
                        break
                    finished, _ = wait(sending, return_when=FIRST_COMPLETED)
                    for job in finished:
                        item, channel = sending.pop(job)
                        _record(store, sender.settings, clock, report, item, channel, job.result())
                        if progress:
                            progress(1)
    finally:
        sender.close()


def _record(
    store: Store,
    settings: Settings,
    clock: Callable[[], datetime],
    report: ChannelSendReport,
    item: ChannelMessage,
    channel: Channel,
    outcome: Outcome,
) -> None:
    """Write one attempt's outcome to the outbox (sent, retry later, or dead letter)."""
    if outcome.delivered:
        store.mark_channel_sent(item.id, clock())
        report.sent += 1
    elif outcome.retry and item.attempts < settings.channel_attempts:
        wait = retry_delay(settings, item.attempts)
        store.mark_channel_retry(item.id, clock() + wait, outcome.error)
        report.retried += 1
        log.info(
            "channel %s: attempt %d failed, retry in %s: %s",
            channel.name,
            item.attempts,
            wait,
            outcome.error,
        )
    else:
        store.mark_channel_dead(item.id, outcome.error)
        report.dead += 1
        log.warning(
            "channel %s: dead letter after %d attempts: %s",
            channel.name,
            item.attempts,
            outcome.error,
        )
