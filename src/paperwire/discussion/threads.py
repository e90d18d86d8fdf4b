"""Threads as pages show them: each top-level comment with its replies one level below,
in the order they were written. A reply to a reply is flattened into its thread's list
and shown "in reply to" the comment it answered (deep nesting reads badly on a phone
and hides late replies)."""

from __future__ import annotations

from paperwire.store.comments import Comment


def threads(comments: list[Comment]) -> list[Comment]:
    """The top-level comments (oldest first), each with `replies` filled: every comment
    of its thread, oldest first. A reply whose thread's top comment is missing is shown
    as a thread of its own."""
    by_id = {comment.id: comment for comment in comments}
    tops: list[Comment] = []
    for comment in sorted(comments, key=lambda c: c.id):
        comment.replies = []
        root = by_id.get(comment.root_id) if comment.root_id is not None else None
        if root is None:
            tops.append(comment)
        else:
            root.replies.append(comment)
    return tops
