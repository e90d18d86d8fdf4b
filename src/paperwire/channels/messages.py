"""A channel's message, written once when it is queued and read back by the sender: a
title, a Markdown body (apprise turns it into each service's own format: Slack's mrkdwn,
Telegram's HTML, plain text where a service takes only text) and, for plain webhooks,
the JSON body (the bytes that are signed and sent).

Each paper is one short line — its title linking to its page here, and its ▲ count; at
most `max_papers` lines, then "and 14 more: <link>" to the page that lists them all. A
for-you channel's "New from what you follow" follows as its own section (at most
`max_papers` lines more, each with why; the rest counted in "more", listed on
/following), as the digests show it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import orjson

from paperwire.channels.select import ChannelContent
from paperwire.models import FeedEntry
from paperwire.presentation import paper_url

TITLE_CHARS = 150
SUMMARY_CHARS = 200
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#])")


@dataclass(frozen=True)
class Message:
    """What a channel sends for a period."""

    title: str
    markdown: str
    payload: dict[str, Any]

    def to_bytes(self) -> bytes:
        """As kept in the outbox."""
        return orjson.dumps(
            {"title": self.title, "markdown": self.markdown, "payload": self.payload}
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Message:
        """Back from the outbox."""
        got = orjson.loads(data)
        return cls(got["title"], got["markdown"], got["payload"])

    def webhook_body(self) -> bytes:
        """The JSON body of a plain webhook (exactly the bytes signed and sent)."""
        return orjson.dumps(self.payload)


def message_id(channel_id: int, period: str) -> str:
    """The id of a channel's message for a period: the same on every retry (sent as
    webhook-id, so a receiver can drop a message it has seen)."""
    digest = hashlib.sha256(f"{channel_id}:{period}".encode()).hexdigest()[:24]
    return f"msg_{digest}"


def period_label(period: str) -> str:
    """'daily:2026-11-23' -> '2026-11-23'; 'weekly:2026-W48' -> 'week 2026-W48'."""
    kind, _, when = period.partition(":")
    return f"week {when}" if kind == "weekly" else when


def escape_markdown(text: str) -> str:
    """Text that Markdown shows as written (links and emphasis characters escaped)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def summary_line(abstract: str) -> str:
    """The abstract's first sentence, at most SUMMARY_CHARS characters."""
    text = " ".join(abstract.split())
    end = text.find(". ")
    first = text[: end + 1] if 0 < end < SUMMARY_CHARS else text
    return first if len(first) <= SUMMARY_CHARS else first[: SUMMARY_CHARS - 1].rstrip() + "…"


def _short(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1].rstrip() + "…"


def _paper(entry: FeedEntry, base: str) -> dict[str, Any]:
    paper = entry.paper
    return {
        "key": paper.key,
        "arxiv_id": paper.arxiv_id,
        "title": paper.title,
        "authors": [author.name for author in paper.authors],
        "url": base + paper_url(paper.key),
        "upvotes": entry.upvotes,
        "summary": summary_line(paper.abstract or ""),
    }


FOLLOWED_HEADING = "New from what you follow"


def _line(entry: FeedEntry, base: str) -> str:
    return (
        f"- [{escape_markdown(_short(entry.paper.title))}]({base}{paper_url(entry.paper.key)}) "
        f"▲ {entry.upvotes}"
    )


class PaperParts:
    """A paper's JSON object and Markdown line, written once per run: the channels of one
    selection and period list the same papers (10,000 trending channels, ten papers each),
    and writing them per channel was most of a run's composing time (1.7 ms a channel).
    Keyed by paper and count, so a count that changed mid-run is written anew. The
    objects are shared between messages: they are read, never changed."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self._papers: dict[tuple[str, int], dict[str, Any]] = {}
        self._lines: dict[tuple[str, int], str] = {}

    def paper(self, entry: FeedEntry) -> dict[str, Any]:
        """The paper as a webhook lists it."""
        key = (entry.paper.key, entry.upvotes)
        found = self._papers.get(key)
        if found is None:
            found = self._papers[key] = _paper(entry, self.base)
        return found

    def line(self, entry: FeedEntry) -> str:
        """The paper's Markdown line."""
        key = (entry.paper.key, entry.upvotes)
        found = self._lines.get(key)
        if found is None:
            found = self._lines[key] = _line(entry, self.base)
        return found


def compose(
    channel: str,
    selection: str,
    period: str,
    content: ChannelContent,
    base_url: str,
    max_papers: int,
    parts: PaperParts | None = None,
) -> Message:
    """The message of one channel for one period (`parts`: the run's papers written so
    far, shared by its channels)."""
    parts = parts or PaperParts(base_url)
    base = parts.base
    shown = content.entries[:max_papers]
    more = len(content.entries) - len(shown)
    title = f"{content.heading} · {period_label(period)}"
    lines = [parts.line(e) for e in shown]
    if more > 0:
        lines.append(f"and {more} more: {content.more_url}")
    followed = content.followed[:max_papers]
    more_followed = len(content.followed) - len(followed)
    if followed:
        lines += ["", f"**{FOLLOWED_HEADING}**"]
        lines += [f"{parts.line(e)} · {escape_markdown(why)}" for e, why in followed]
        if more_followed > 0:
            lines.append(f"and {more_followed} more: {base}/following")
    payload = {
        "type": "paperwire.papers",
        "channel": channel,
        "selection": selection,
        "period": period,
        "title": title,
        "papers": [parts.paper(e) for e in shown],
        "more": max(more, 0),
        "more_url": content.more_url,
    }
    if content.followed:
        payload["followed"] = [{**parts.paper(e), "why": why} for e, why in followed]
        payload["followed_more"] = more_followed
    return Message(title, "\n".join(lines), payload)


def test_message(channel: str, base_url: str) -> Message:
    """What `channels test` sends when the channel has nothing this period."""
    base = base_url.rstrip("/")
    title = f"paperwire: channel {channel} is connected"
    text = f"Papers will arrive here on this channel's schedule. The feed: {base}/"
    payload = {
        "type": "paperwire.test",
        "channel": channel,
        "title": title,
        "papers": [],
        "more": 0,
        "more_url": f"{base}/",
    }
    return Message(title, text, payload)
