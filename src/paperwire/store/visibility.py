"""Who may see a paper (issue 25): the one rule every list and lookup of papers applies.

A confirmed paper (a trusted source brought it, or a curator confirmed it) is seen by
everyone. An unconfirmed one (only readers have sent it) is seen by curators and by the
readers who sent or saved it: those with a submission of it, or it in one of their
collections. Nobody else can list it, find it, open its page or learn that it exists."""

from __future__ import annotations

from paperwire.models import User

# The condition for everyone (no reader signed in), on the papers table aliased `p`.
PUBLIC = "p.confirmed = 1"


def visible(viewer: User | None) -> tuple[str, tuple[object, ...]]:
    """The SQL condition (with its parameters) a papers row aliased `p` meets when
    `viewer` may see it (None: anyone, signed in or not)."""
    if viewer is None:
        return PUBLIC, ()
    if viewer.is_curator:
        return "1 = 1", ()
    return (
        f"({PUBLIC} OR EXISTS (SELECT 1 FROM submissions vs "
        "WHERE vs.paper_id = p.id AND vs.user_id = ?) "
        "OR EXISTS (SELECT 1 FROM collection_items vi JOIN collections vc "
        "ON vc.id = vi.collection_id WHERE vi.paper_id = p.id AND vc.user_id = ?))",
        (viewer.id, viewer.id),
    )
