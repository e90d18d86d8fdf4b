"""What a channel gets in a period, chosen by the digests' own rules (digest.select) so a
channel and a digest of the same choice carry the same papers:

- trending: the papers trending now (ranking.py), best first;
- query: the period's new papers matching a saved search, keywords and meaning alike,
  with the digests' relevance floor (at most digest.select.PER_SEARCH);
- for-you: the period's new papers recommended for a reader (recommend/, their first
  collection as the profile, with why), then "New from what you follow": the period's
  new papers by the authors, organizations and topics the reader follows (the digests'
  own section, digest.select.Selector's `followed`), those already recommended left out;
- collection: the papers saved to a collection during the period, newest first.

A period's "new" starts where the channel's last period ended (digest.periods), so a
paper is posted once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from paperwire.digest.periods import Frequency, window_start
from paperwire.digest.select import Selector
from paperwire.models import FeedEntry, SavedSearch, Subscription
from paperwire.search.embed import Embedder
from paperwire.store.base import Store
from paperwire.store.channels import Channel

# Trending papers a run ranks (the message shows the first few, and links to the rest).
TRENDING_POOL = 50


@dataclass
class ChannelContent:
    """A channel's papers for one period, before they are written as a message."""

    heading: str
    more_url: str
    entries: list[FeedEntry] = field(default_factory=list)
    # "New from what you follow" (for-you channels): each paper with why ("you follow …").
    followed: list[tuple[FeedEntry, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when there is nothing to send."""
        return not self.entries and not self.followed


class ChannelSelector:
    """Chooses the content of every channel of one run (trending ranked once, each
    window's new papers loaded once: digest.select.Selector)."""

    def __init__(
        self, store: Store, embedder: Embedder | None, now: datetime, base_url: str
    ) -> None:
        self.store = store
        self.now = now
        self.base = base_url.rstrip("/")
        self.selector = Selector(
            store, embedder, embedder.name if embedder else None, now, TRENDING_POOL
        )

    def prepare(self, channels: list[Channel]) -> None:
        """Embed the queries of these channels in one batch."""
        self.selector.prepare([self._subscription(c) for c in channels if c.query])

    def content(self, channel: Channel) -> ChannelContent:
        """What the channel gets for the period ending now."""
        frequency: Frequency = "weekly" if channel.frequency == "weekly" else "daily"
        start = window_start(frequency, channel.covered_until, self.now)
        if channel.selection == "collection":
            return self._collection(channel, start)
        got = self.selector.content(self._subscription(channel), start)
        if channel.selection == "trending":
            return ChannelContent(
                "Trending papers", f"{self.base}/trending", [i.entry for i in got.trending]
            )
        if channel.selection == "query":
            items = got.searches[0][1] if got.searches else []
            query = channel.query or ""
            return ChannelContent(
                f"New papers matching “{query}”",
                f"{self.base}/search?{urlencode({'q': query})}",
                [i.entry for i in items],
            )
        recommended = [i.entry for i in got.recommended]
        keys = {e.paper.key for e in recommended}
        followed = [(i.entry, i.reason) for i in got.followed if i.entry.paper.key not in keys]
        return ChannelContent("Recommended for you", f"{self.base}/for-you", recommended, followed)

    def _subscription(self, channel: Channel) -> Subscription:
        """The channel as the digests' selector reads a subscriber."""
        return Subscription(
            id=channel.id,
            email="",
            frequency=channel.frequency,
            trending=channel.selection == "trending",
            searches=[SavedSearch(channel.query)]
            if channel.selection == "query" and channel.query
            else [],
            status="active",
            created_at=channel.created_at,
            covered_until=channel.covered_until,
            user_id=channel.reader_id,
            recommended=channel.selection == "for-you",
        )

    def _collection(self, channel: Channel, start: datetime) -> ChannelContent:
        name = self.store.collection_name(channel.collection_id or 0) or "a collection"
        items = [
            item
            for item in self.store.collection_items(channel.collection_id or 0)
            if start <= item.added < self.now
        ]
        items.sort(key=lambda item: item.added, reverse=True)
        entries = self.store.entries([item.paper for item in items])
        return ChannelContent(
            f"Saved to “{name}”", f"{self.base}/collections/{channel.collection_id}", entries
        )
