"""What reading one day of a source gives, whatever the source."""

from __future__ import annotations

from dataclasses import dataclass, field

from paperwire.ingest.load import ImportReport
from paperwire.models import Paper


@dataclass
class DayHarvest:
    """One day of one source, read and stored."""

    records: int = 0  # records upstream listed for the day
    stated: int | None = None  # the count upstream announced, when it announces one
    garbled: str | None = None  # why the response cannot be trusted whole
    papers: list[Paper] = field(default_factory=list)  # the papers read, in upstream order
    submitters: dict[str, str | None] = field(default_factory=dict)  # key -> upstream user
    report: ImportReport = field(default_factory=ImportReport)
