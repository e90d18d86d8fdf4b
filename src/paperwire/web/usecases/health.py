"""The use cases behind the health routes: readiness, the metrics exposition, and the
curators' status page."""

from __future__ import annotations

from dataclasses import dataclass

from paperwire.deployment import Readiness
from paperwire.deployment.channels import ChannelStatus
from paperwire.deployment.sources import SourceStatus
from paperwire.errors import UserError
from paperwire.metrics import CONTENT_TYPE, exposition
from paperwire.models import User
from paperwire.web.services import Services


def readiness(services: Services) -> Readiness:
    """The deployment's readiness."""
    return services.deployment.readiness()


def metrics(services: Services) -> tuple[bytes, str]:
    """The Prometheus exposition and its media type."""
    return exposition(services.store), CONTENT_TYPE


@dataclass
class StatusPage:
    """What the status page shows."""

    sources: list[SourceStatus]
    readiness: Readiness
    outbox: dict[str, int]
    channels: list[ChannelStatus]
    channel_outbox: dict[str, int]  # 'failed': dead letters


def status(services: Services, user: User) -> StatusPage:
    """The status page for a curator (403 for anyone else)."""
    if not user.is_curator:
        raise UserError("only curators can see the status page", 403)
    deployment = services.deployment
    return StatusPage(
        sources=deployment.sources(runs=10),
        readiness=deployment.readiness(),
        outbox=services.store.outbox_counts(),
        channels=deployment.channels(everyone=True),
        channel_outbox=services.store.channel_outbox_counts(),
    )
