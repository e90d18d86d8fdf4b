"""Which of a reader's follows a paper falls under (issue 29): one rule for the
Following page, For-you and the digests. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from paperwire import upstream
from paperwire.models import Paper
from paperwire.people.names import name_key
from paperwire.topics import topic_matches

MAX_FOLLOWED_ITEMS = 20
FollowKind = Literal["author", "organization", "topic"]


@dataclass(frozen=True, slots=True)
class Follow:
    """What a reader follows: an author (name key), organization (name) or topic (slug)."""

    kind: FollowKind
    target: str
    label: str
    created_at: datetime


def follows_match(follows: list[Follow], paper: Paper) -> list[Follow]:
    """The follows a paper falls under: an author whose name key is among its authors',
    the organization upstream files it under, a topic it has (topics.topic_matches)."""
    found = []
    keys = {name_key(a.name) for a in paper.authors}
    org = upstream.value(paper.extras, upstream.ORGANIZATION)
    for f in follows:
        if (
            (f.kind == "author" and f.target in keys)
            or (f.kind == "organization" and org is not None and org["name"] == f.target)
            or (f.kind == "topic" and topic_matches(paper, f.target))
        ):
            found.append(f)
    return found


def why(matched: list[Follow]) -> str:
    """The reason line: "you follow Marco Garosi, in-context learning"."""
    return "you follow " + ", ".join(f.label for f in matched)
