"""A reader's own channels on /account: their For-you, a saved search or one of their
collections, sent to a chat service or a webhook — with the same target checks as the
operator's (channels.targets: no private addresses unless the operator allows them),
at most `channels_per_reader` each, and only the reader's own collections."""

from __future__ import annotations

from paperwire.channels.manage import ChannelError, ChannelsFullError, Choice
from paperwire.deployment.channels import ChannelStatus
from paperwire.errors import UserError
from paperwire.models import User
from paperwire.store.channels import Channel
from paperwire.web.services import Services
from paperwire.web.usecases import collections

WHATS = ("for-you", "query", "collection")


def reader_channels(services: Services, reader: User) -> list[ChannelStatus]:
    """The reader's channels with their deliveries."""
    return services.deployment.channels(owner_id=reader.id)


def add(
    services: Services,
    reader: User,
    name: str,
    target: str,
    frequency: str,
    what: str,
    query: str = "",
    collection_id: int | None = None,
) -> tuple[Channel, str | None]:
    """Add a channel of the reader's; returns it and a webhook's signing secret (shown
    once). UserError naming the field at fault; 409 past the reader's cap."""
    cap = services.settings.channels_per_reader
    # A first look, before the target is checked; the store counts again as it adds.
    if services.store.count_channels(reader.id) >= cap:
        raise UserError(f"you have {cap} channels already (the most a reader may have)", 409)
    if what == "for-you":
        choice = Choice("for-you", reader_id=reader.id)
    elif what == "query":
        choice = Choice("query", query=query)
    elif what == "collection":
        if collection_id is None:
            raise UserError("choose one of your collections")
        choice = Choice(
            "collection",
            collection_id=collections.owned(services, reader, collection_id).id,
        )
    else:
        raise UserError(f"what the channel gets: one of {', '.join(WHATS)}")
    try:
        return services.deployment.add_channel(name, target, frequency, choice, owner_id=reader.id)
    except ChannelsFullError as exc:
        raise UserError(str(exc), 409) from exc
    except ChannelError as exc:
        raise UserError(str(exc)) from exc


def remove(services: Services, reader: User, name: str) -> None:
    """Remove one of the reader's channels (another reader's name changes nothing)."""
    if not services.deployment.remove_channel(name, reader.id):
        raise UserError(f"you have no channel {name[:60]!r}", 404)
