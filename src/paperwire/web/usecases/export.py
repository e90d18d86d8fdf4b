"""A reader's own data, as one JSON document they can download from the account page:
who they are, what they submitted, upvoted, saved (with notes), dismissed and wrote, their
digest subscriptions and the names of their API tokens (never a secret: tokens are kept
only as hashes, and no session or sign-in token is included)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from paperwire.models import Paper, Subscription, User
from paperwire.store.comments import Comment
from paperwire.web.services import Services

# Everything a reader holds, not a page of it: the store's listing methods default to the
# first hundred for pages.
ALL = 1_000_000


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _paper_of(paper: Paper) -> dict[str, str]:
    return {"key": paper.key, "title": paper.title}


def _collections(services: Services, reader: User) -> list[dict[str, Any]]:
    store = services.store
    return [
        {
            "name": collection.name,
            "description": collection.description,
            "shared": collection.shared,
            "profile": collection.is_profile,
            "created": _when(collection.created),
            "papers": [
                {**_paper_of(item.paper), "note": item.note, "added": _when(item.added)}
                for item in store.collection_items(collection.id)
            ],
        }
        for collection in store.collections_of(reader.id, services.clock())
    ]


def _comment(comment: Comment) -> dict[str, Any]:
    return {
        "paper": comment.paper_key,
        "id": comment.id,
        "in_reply_to": comment.parent_id,
        "markdown": comment.body,
        "status": comment.status,
        "created": _when(comment.created_at),
        "edited": _when(comment.edited_at),
    }


def _subscription(subscription: Subscription) -> dict[str, Any]:
    return {
        "frequency": subscription.frequency,
        "trending": subscription.trending,
        "status": subscription.status,
        "searches": [search.query for search in subscription.searches],
        "created": _when(subscription.created_at),
    }


def reader_data(services: Services, reader: User) -> dict[str, Any]:
    """Everything stored about `reader`, as plain JSON values (papers by key and title)."""
    store = services.store
    feedback = store.feedback_of(reader.id, limit=ALL)
    tokens = store.list_api_tokens(reader.id)
    return {
        "account": {"email": reader.email, "handle": reader.handle},
        "exported_at": _when(services.clock()),
        "submitted": [
            _paper_of(e.paper) for e in store.user_submissions(reader.id, ALL, viewer=reader)
        ],
        "upvoted": [_paper_of(e.paper) for e in store.user_upvoted(reader.id, ALL, viewer=reader)],
        "collections": _collections(services, reader),
        "feedback": [
            {"key": f.paper.key, "signal": f.signal, "reason": f.reason, "at": _when(f.at)}
            for f in feedback
        ],
        "comments": [_comment(c) for c in store.user_comments(reader.id, limit=ALL)],
        "subscriptions": [_subscription(s) for s in store.subscriptions_of(reader.email)],
        "api_tokens": [{"name": name, "created": created} for _, name, created in tokens],
    }
