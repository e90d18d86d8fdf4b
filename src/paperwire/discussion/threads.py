"""Threads as pages show them: each top-level comment with its replies one level below,
in the order they were written. A reply to a reply is flattened into its thread's list
and shown "in reply to" the comment it answered (deep nesting reads badly on a phone
and hides late replies). A discussion is shown a page at a time, in thread order (the
store's ``paper_comment_page``): a long thread runs on to the next page."""

from __future__ import annotations

from paperwire.store.comments import Comment


def page_threads(comments: list[Comment]) -> tuple[list[Comment], list[Comment]]:
    """One page of comments in thread order as (the replies at its start whose thread
    began on an earlier page, the threads that begin on it, each with `replies` filled:
    every comment of its thread on this page, oldest first). A reply whose top comment
    is missing is shown as a thread of its own."""
    tops: list[Comment] = []
    continued: list[Comment] = []
    by_id: dict[int, Comment] = {}
    for comment in comments:
        comment.replies = []
        root = by_id.get(comment.root_id) if comment.root_id is not None else None
        if root is not None:
            root.replies.append(comment)
        elif comment.root_id is not None and not tops:
            continued.append(comment)
        else:
            by_id[comment.id] = comment
            tops.append(comment)
    return continued, tops
