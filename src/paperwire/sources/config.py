"""What a source is: its kind, its categories, the rule for what reaches the daily feed,
where it starts and how often it runs; a source's name and interval; a source as the
settings list it. Stored as JSON in the sources table; every bad value is refused with a
message naming the field."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

KINDS = ("huggingface", "arxiv")
Kind = Literal["huggingface", "arxiv"]
# What reaches the feed from a harvest: every new paper (of the chosen categories), only
# those matching a saved keyword search, or the top N by closeness in meaning to what the
# community upvoted.
RULES = ("all", "search", "similar")
Rule = Literal["all", "search", "similar"]
# arXiv categories: cs.LG, stat.ML, math.AG, hep-th, physics.optics, q-bio.NC ...
_CATEGORY = re.compile(r"^[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?$")
DEFAULT_INTERVAL_S = 3600
DEFAULT_BACKFILL_DAYS = 7


@dataclass(frozen=True)
class SourceConfig:
    """One source's settings."""

    kind: Kind
    categories: tuple[str, ...] = ()
    rule: Rule = "all"
    query: str | None = None  # for rule "search"
    top_n: int = 10  # for rule "similar"
    start: date | None = None  # first day to harvest (default: backfill_days ago)
    backfill_days: int = DEFAULT_BACKFILL_DAYS
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """As stored."""
        values = asdict(self)
        values["categories"] = list(self.categories)
        values["start"] = self.start.isoformat() if self.start else None
        values.pop("extra")
        return json.dumps(values, sort_keys=True)


def make_config(
    kind: str,
    categories: list[str] | tuple[str, ...] = (),
    rule: str = "all",
    query: str | None = None,
    start: date | str | None = None,
    backfill_days: int = DEFAULT_BACKFILL_DAYS,
    where: str = "source",
    top_n: int = 10,
) -> SourceConfig:
    """A checked SourceConfig; ValueError names the bad field and `where` it was given."""
    if kind not in KINDS:
        raise ValueError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    if rule not in RULES:
        raise ValueError(f"{where}: rule {rule!r} is not one of {', '.join(RULES)}")
    cats = tuple(categories)
    for category in cats:
        if not _CATEGORY.match(category):
            raise ValueError(f"{where}: category {category!r} is not an arXiv category")
    if kind == "arxiv" and not cats:
        raise ValueError(f"{where}: an arxiv source needs at least one category (e.g. cs.LG)")
    if rule == "search" and not (query and query.strip()):
        raise ValueError(f"{where}: rule 'search' needs a query")
    if not 1 <= top_n <= 1000:
        raise ValueError(f"{where}: top_n {top_n} is not between 1 and 1000")
    if not 0 <= backfill_days <= 366:
        raise ValueError(f"{where}: backfill_days {backfill_days} is not between 0 and 366")
    if isinstance(start, str):
        try:
            start = date.fromisoformat(start)
        except ValueError as exc:
            raise ValueError(f"{where}: start {start!r} is not a date (YYYY-MM-DD)") from exc
    return SourceConfig(
        kind=kind,  # type: ignore[arg-type]
        categories=cats,
        rule=rule,  # type: ignore[arg-type]
        query=query.strip() if query else None,
        top_n=top_n,
        start=start,
        backfill_days=backfill_days,
    )


def read_config(text: str, where: str = "source") -> SourceConfig:
    """A stored config back."""
    try:
        values = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: stored configuration is not JSON: {exc}") from exc
    if not isinstance(values, dict):
        raise ValueError(f"{where}: stored configuration is not an object")
    return make_config(
        kind=str(values.get("kind")),
        categories=list(values.get("categories") or []),
        rule=str(values.get("rule") or "all"),
        query=values.get("query"),
        start=values.get("start"),
        backfill_days=int(values.get("backfill_days", DEFAULT_BACKFILL_DAYS)),
        where=where,
        top_n=int(values.get("top_n") or 10),
    )


def check_source(name: str, interval_seconds: int) -> None:
    """ValueError for a source name that is not 1-60 letters, digits, - or _, or an
    interval outside 60 s-7 days."""
    if not name or len(name) > 60 or not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"source name {name!r}: use 1-60 letters, digits, - or _")
    if not 60 <= interval_seconds <= 7 * 86400:
        raise ValueError(f"source {name}: interval {interval_seconds} s is not 60 s-7 days")


def settings_name(entry: Mapping[str, Any]) -> str:
    """The name of a source the settings list (its kind when it has none)."""
    return str(entry.get("name") or entry.get("kind") or "")


def settings_source(entry: Mapping[str, Any], where: str) -> tuple[SourceConfig, int]:
    """A source the settings list ([[paperwire.sources]]): its config and interval in
    seconds. ValueError naming `where` and the field."""
    config = make_config(
        kind=str(entry.get("kind")),
        categories=list(entry.get("categories") or []),
        rule=str(entry.get("rule") or "all"),
        query=entry.get("query"),
        start=entry.get("start"),
        backfill_days=int(entry.get("backfill_days", 7)),
        where=where,
        top_n=int(entry.get("top_n", 10)),
    )
    return config, int(entry.get("interval_seconds", 3600))
