"""The channels' pipelines: adding and listing chat and webhook targets, composing each
period's message into the outbox, and delivering it (channels/; issue 28)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from paperwire.channels.manage import ChannelError, Choice, add_channel
from paperwire.channels.run import ChannelComposeReport, compose_channels
from paperwire.channels.send import ChannelSendReport, Outcome, Sender, deliver_channels
from paperwire.deployment.digests import DigestPipelines
from paperwire.digest.periods import FREQUENCIES, Frequency
from paperwire.progress import Progress, silent
from paperwire.store.channels import Channel, ChannelDeliveries


@dataclass
class ChannelRun:
    """A channels run: each period composed, then what was delivered."""

    composed: list[ChannelComposeReport]
    sent: ChannelSendReport
    outbox: dict[str, int]


@dataclass
class ChannelStatus:
    """A channel and how its deliveries went."""

    channel: Channel
    deliveries: ChannelDeliveries


class ChannelPipelines(DigestPipelines):
    """Channels, through the digests' outbox."""

    def add_channel(
        self,
        name: str,
        target: str,
        frequency: str,
        choice: Choice,
        *,
        owner_id: int | None = None,
        for_you: str | None = None,
    ) -> tuple[Channel, str | None]:
        """Add a channel (due at once); returns it and, for a plain webhook, its signing
        secret (shown this once). `for_you`: the address of the reader whose
        recommendations it gets. ChannelError naming what is wrong; ChannelsFullError
        when a reader (`owner_id`) has settings.channels_per_reader channels already."""
        if for_you is not None:
            reader = self.store.reader_by_email(for_you)
            if reader is None:
                raise ChannelError(
                    f"--for-you {for_you[:80]!r}: no account has this address "
                    "(the reader signs in once first)"
                )
            choice = Choice("for-you", reader_id=reader.id)
        return add_channel(
            self.store,
            self.sealer,
            name,
            target,
            frequency,
            choice,
            self.clock(),
            self.settings.allow_private_targets,
            owner_id,
            self.resolver,
            cap=None if owner_id is None else self.settings.channels_per_reader,
        )

    def remove_channel(self, name: str, owner_id: int | None = None) -> bool:
        """Forget a channel and its queued messages."""
        return self.store.remove_channel(name, owner_id)

    def retry_channel(self, name: str | None, owner_id: int | None = None) -> int:
        """Put a channel's dead-lettered messages back in the outbox, due now, with all
        their attempts (`name` None: every channel's, readers' too); returns how many.
        KeyError for an unknown name."""
        channel_id = None
        if name is not None:
            channel = self.store.get_channel(name, owner_id)
            if channel is None:
                raise KeyError(name)
            channel_id = channel.id
        return self.store.requeue_dead_channel_messages(channel_id, self.clock())

    def channels(self, owner_id: int | None = None, everyone: bool = False) -> list[ChannelStatus]:
        """The operator's channels (or a reader's; `everyone`: all) with their deliveries."""
        deliveries = self.store.channel_deliveries()
        return [
            ChannelStatus(c, deliveries.get(c.id, ChannelDeliveries()))
            for c in self.store.list_channels(owner_id, everyone)
        ]

    def channel_secrets(self, name: str) -> tuple[str, str | None]:
        """An operator's channel's target URL and webhook signing secret, decrypted
        (KeyError for an unknown name; SealError when the instance key changed)."""
        channel = self.store.get_channel(name)
        if channel is None:
            raise KeyError(name)
        sealer = self.sealer
        secret = sealer.open(channel.secret_sealed) if channel.secret_sealed else None
        return sealer.open(channel.target_sealed), secret

    def test_channel(self, name: str, owner_id: int | None = None) -> Outcome:
        """Send one message to a channel now — what its period holds so far, else a
        hello — outside the outbox (nothing is recorded); returns how it went."""
        from paperwire.channels.messages import compose, message_id, test_message
        from paperwire.channels.select import ChannelSelector
        from paperwire.digest.periods import period_key

        channel = self.store.get_channel(name, owner_id)
        if channel is None:
            raise KeyError(name)
        now = self.clock()
        period = period_key("weekly" if channel.frequency == "weekly" else "daily", now)
        content = ChannelSelector(self.store, self.engine.embedder, now, self.settings.base_url)
        found = content.content(channel)
        message = (
            test_message(channel.name, self.settings.base_url)
            if found.empty
            else compose(
                channel.name,
                channel.selection,
                period,
                found,
                self.settings.base_url,
                self.settings.channel_max_papers,
            )
        )
        sender = Sender(self.settings, self.sealer, self.resolver)
        try:
            return sender.send(channel, message_id(channel.id, f"test:{now.isoformat()}"), message)
        finally:
            sender.close()

    def run_channels(
        self, frequencies: Sequence[Frequency] = FREQUENCIES, progress: Progress = silent
    ) -> ChannelRun:
        """Queue the messages due now (one per channel and period, whatever runs at the
        same time), then deliver every channel message that is due (retries included)."""
        composed = []
        embedder = self.engine.embedder
        for frequency in frequencies:
            with progress(f"{frequency} channels", None, " channels") as advance:
                composed.append(
                    compose_channels(
                        self.store, self.settings, embedder, frequency, self.clock(), advance
                    )
                )
        sent = self.deliver_channels(progress)
        return ChannelRun(composed, sent, self.store.channel_outbox_counts())

    def deliver_channels(self, progress: Progress = silent) -> ChannelSendReport:
        """Send every channel message that is due now."""
        lease = timedelta(seconds=self.settings.outbox_lease_seconds)
        sender = Sender(self.settings, self.sealer, self.resolver)
        with progress("posting", None, " messages") as advance:
            return deliver_channels(self.store, sender, self.clock, lease, progress=advance)

    def channels_step(self) -> bool:
        """One step of the schedule inside `serve` and `worker`: compose the due periods
        (from the digest hour on, once the sources have run), then deliver what is due."""
        if self.clock().hour >= self.settings.digest_hour and self.sources_settled():
            self.run_channels()
        else:
            self.deliver_channels()
        return False
