"""Adding a channel: its name, its period, what it gets and its target, each checked
before anything is stored; the target URL sealed, and a plain webhook given its own
signing secret (returned once, to be printed; `channels show NAME --secret` shows it
again to the operator)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from paperwire.channels.guard import Resolver, resolve
from paperwire.channels.sealing import Sealer, new_webhook_secret
from paperwire.channels.targets import TargetError, check_target
from paperwire.digest.periods import FREQUENCIES
from paperwire.digest.select import saved_query
from paperwire.models import SavedSearch
from paperwire.querylang import QueryError
from paperwire.store.base import Store
from paperwire.store.channels import Channel, ChannelCapError, NewChannel, Selection

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,59}")
MAX_QUERY = 500


class ChannelError(ValueError):
    """A channel that cannot be added; the message names the field and the rule."""


class ChannelsFullError(ChannelError):
    """A reader who has the most channels a reader may have asked for another."""


@dataclass(frozen=True)
class Choice:
    """What a channel gets each period."""

    selection: Selection
    query: str | None = None
    collection_id: int | None = None
    reader_id: int | None = None


def describe(channel: Channel) -> str:
    """What a channel gets, in a few words."""
    if channel.selection == "query":
        return f"search “{channel.query}”"
    if channel.selection == "collection":
        return f"collection {channel.collection_id}"
    if channel.selection == "for-you":
        return f"for-you of reader {channel.reader_id}"
    return "trending"


def check_choice(store: Store, choice: Choice) -> Choice:
    """The choice, checked: a query that parses, a collection that exists, a reader."""
    if choice.selection == "query":
        query = " ".join((choice.query or "").split())
        if not query or len(query) > MAX_QUERY:
            raise ChannelError(f"--query: give a search of 1 to {MAX_QUERY} characters")
        try:
            saved_query(SavedSearch(query))
        except QueryError as exc:
            raise ChannelError(f"--query {query[:80]!r}: {exc}") from exc
        return Choice("query", query=query)
    if choice.selection == "collection":
        if not choice.collection_id or store.collection_name(choice.collection_id) is None:
            raise ChannelError(f"--collection {choice.collection_id}: no such collection")
        return Choice("collection", collection_id=choice.collection_id)
    if choice.selection == "for-you":
        if choice.reader_id is None:
            raise ChannelError("--for-you: name a reader with an account here")
        return Choice("for-you", reader_id=choice.reader_id)
    return Choice("trending")


def add_channel(
    store: Store,
    sealer: Sealer,
    name: str,
    target: str,
    frequency: str,
    choice: Choice,
    now: datetime,
    allow_private: bool,
    owner_id: int | None = None,
    resolver: Resolver = resolve,
    cap: int | None = None,
) -> tuple[Channel, str | None]:
    """Check and store a channel (due at once); returns it with its webhook signing
    secret (None for an apprise target). ChannelError naming what is wrong;
    ChannelsFullError when the owner has `cap` channels already (counted as it is stored)."""
    if not NAME.fullmatch(name):
        raise ChannelError(
            f"channel name {name[:60]!r}: use 1-60 letters, digits, '.', '-' or '_', "
            "starting with a letter or digit"
        )
    if frequency not in FREQUENCIES:
        raise ChannelError(f"frequency {frequency!r}: use daily or weekly")
    checked = check_choice(store, choice)
    try:
        found = check_target(target, allow_private, resolver)
    except TargetError as exc:
        raise ChannelError(f"target {exc}") from exc
    secret = new_webhook_secret() if found.kind == "webhook" else None
    new = NewChannel(
        name=name,
        owner_id=owner_id,
        frequency=frequency,
        selection=checked.selection,
        query=checked.query,
        collection_id=checked.collection_id,
        reader_id=checked.reader_id,
        target_kind=found.kind,
        target_label=found.label,
        target_sealed=sealer.seal(found.url),
        secret_sealed=sealer.seal(secret) if secret else None,
    )
    try:
        return store.add_channel(new, now, cap), secret
    except ChannelCapError as exc:
        raise ChannelsFullError(str(exc)) from exc
    except ValueError as exc:
        raise ChannelError(str(exc)) from exc
