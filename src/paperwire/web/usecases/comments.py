"""The discussion use cases the pages, the API and the feeds share: a paper's threads,
writing, editing and deleting one's own comments, reports, curators hiding and restoring,
the curators' queue, and the reply/mention mail setting. Routes reach the store only
through here (and web.usecases)."""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from paperwire.discussion import markup, rules
from paperwire.discussion.threads import page_threads
from paperwire.errors import UserError
from paperwire.models import User
from paperwire.store.comments import Comment, CommentRefusedError
from paperwire.tokens import read_comment_mail_token
from paperwire.web.services import Services

MAX_REASON = 500
# Comments on one page of a paper's discussion, in thread order (threads may run on to
# the next page). With markup.MAX_HTML_BYTES a page's discussion is bounded: a paper page
# with every comment at the size limit reached 10.8 MB before the pages (issue 25).
PAGE_COMMENTS = 50


@dataclass
class Discussion:
    """One page of a paper's comments as its page shows them."""

    key: str
    threads: list[Comment]
    count: int  # visible comments, on every page
    continued: list[Comment] = field(default_factory=list)  # replies whose thread began before
    page: int = 1
    pages: int = 1


def shown_body(comment: Comment, viewer: User | None) -> Markup | None:
    """A comment's HTML for this viewer: None for a deleted comment, and for a hidden
    one unless the viewer is a curator."""
    if comment.status == "deleted":
        return None
    if comment.status == "hidden" and not (viewer is not None and viewer.is_curator):
        return None
    if comment.rendered_with == markup.VERSION and comment.html:
        # Rendered and sanitised by markup.render when written (markup.stored).
        return Markup(comment.html)  # noqa: S704
    return markup.render_cached(comment.body)


def discussion(services: Services, key: str, page: int = 1) -> Discussion:
    """One page of a paper's threads (PAGE_COMMENTS comments in thread order);
    UserError(404) for an unknown paper or a page past the last."""
    found = services.store.paper_comment_page(key, (page - 1) * PAGE_COMMENTS, PAGE_COMMENTS)
    if found is None:
        raise UserError(f"no paper {key[:200]!r} here", 404)
    comments, total, visible = found
    pages = max(1, -(-total // PAGE_COMMENTS))
    if page > pages:
        raise UserError(f"page: the discussion has {pages} page{'s' if pages != 1 else ''}", 404)
    continued, tops = page_threads(comments)
    return Discussion(key, tops, visible, continued, page, pages)


def page_of(services: Services, comment_id: int) -> int:
    """The page of its paper's discussion a comment is on."""
    rank = services.store.comment_rank(comment_id)
    return 1 if rank is None else rank // PAGE_COMMENTS + 1


def comments_of(
    services: Services, key: str, after: int = 0, limit: int | None = None
) -> list[Comment]:
    """A paper's comments in order (API, feed), after comment id `after`, at most `limit`;
    UserError(404) for an unknown paper."""
    found = services.store.paper_comments(key, after, limit)
    if found is None:
        raise UserError(f"no paper {key[:200]!r} here", 404)
    return found


def recent_visible(services: Services, key: str, limit: int) -> list[Comment]:
    """A paper's newest visible comments, newest first (its discussion feed);
    UserError(404) for an unknown paper."""
    visible = [c for c in comments_of(services, key) if c.status == "visible"]
    return visible[::-1][:limit]


def post(
    services: Services, reader: User, key: str, body: str, parent_id: int | None, address: str
) -> Comment:
    """Store a reader's comment (a reply when `parent_id`), after the rules of
    discussion/rules.py (rate first, then the rendered HTML's size and links);
    mentions of existing readers become notices."""
    text = rules.check_text(body)
    now = services.clock()
    if services.store.entry(key) is None:
        raise UserError(f"no paper {key[:200]!r} here", 404)
    writer = rules.Writer(reader.id, address)
    rules.check_rate(services.store, writer, now)
    mentioned = services.store.handles_to_ids(markup.mentions(text)[:20])
    rendered = markup.stored(text, set(mentioned))
    rules.check_rendered(rendered[0])
    rules.check_writer(services.store, writer, text, rendered[0], now, False)
    checks = rules.post_checks(services.store, writer, now)
    try:
        made = services.store.add_comment(
            key, reader.id, text, now, parent_id, list(mentioned.values()), rendered, checks
        )
    except CommentRefusedError as exc:
        raise rules.refused(exc) from exc
    except KeyError as exc:
        raise UserError(f"no paper {key[:200]!r} here", 404) from exc
    except LookupError as exc:
        raise UserError(f"parent: {exc}", 400) from exc
    services.pages.clear()
    return made


def own(services: Services, reader: User, comment_id: int) -> Comment:
    """The reader's own comment (not deleted); UserError(404) otherwise — another
    reader's comment is answered as if it did not exist."""
    comment = services.store.get_comment(comment_id)
    if comment is None or comment.user_id != reader.id or comment.status == "deleted":
        raise UserError(f"no comment {comment_id} of yours", 404)
    return comment


def edit(services: Services, reader: User, comment_id: int, body: str, address: str) -> Comment:
    """Replace the text of the reader's own comment (the old text is kept); a reader the
    new text mentions is told like a new comment's mention, once per comment."""
    own(services, reader, comment_id)
    text = rules.check_text(body)
    now = services.clock()
    writer = rules.Writer(reader.id, address)
    rules.check_rate(services.store, writer, now)
    mentioned = services.store.handles_to_ids(markup.mentions(text)[:20])
    rendered = markup.stored(text, set(mentioned))
    rules.check_rendered(rendered[0])
    rules.check_writer(services.store, writer, text, rendered[0], now, True)
    changed = services.store.edit_comment(
        comment_id, reader.id, text, now, rendered, list(mentioned.values())
    )
    if changed is None:
        raise UserError(f"comment {comment_id} cannot be edited (hidden by a curator?)", 409)
    services.pages.clear()
    return changed


def delete(services: Services, reader: User, comment_id: int) -> Comment:
    """Delete the reader's own comment (its thread keeps a placeholder)."""
    comment = own(services, reader, comment_id)
    if not services.store.delete_comment(comment_id, reader.id):
        raise UserError(f"no comment {comment_id} of yours", 404)
    services.pages.clear()
    return comment


def report(services: Services, reader: User, comment_id: int, reason: str) -> Comment:
    """A reader reports a comment to the curators (once; again changes nothing)."""
    comment = services.store.get_comment(comment_id)
    if comment is None or comment.status != "visible":
        raise UserError(f"no comment {comment_id} to report", 404)
    if len(reason) > MAX_REASON:
        raise UserError(f"reason: over {MAX_REASON} characters")
    services.store.report_comment(comment_id, reader.id, reason.strip(), services.clock())
    return comment


def moderate(services: Services, curator: User, comment_id: int, hidden: bool) -> Comment:
    """A curator hides a comment or restores it (its reports are then resolved)."""
    if not curator.is_curator:
        raise UserError("only curators can hide or restore comments", 403)
    comment = services.store.get_comment(comment_id)
    if comment is None or not services.store.set_comment_hidden(
        comment_id, curator.id, hidden, services.clock()
    ):
        raise UserError(f"no comment {comment_id} to hide or restore", 404)
    services.pages.clear()
    return comment


def reported(services: Services, curator: User) -> list[tuple[Comment, list[str]]]:
    """The curators' queue: comments with open reports and the reasons given."""
    if not curator.is_curator:
        raise UserError("only curators see reported comments", 403)
    return services.store.reported_comments()


def mail_enabled(services: Services, reader: User) -> bool:
    """Whether replies and mentions are mailed to the reader."""
    return services.store.comment_mail_enabled(reader.id)


def set_mail(services: Services, reader: User, enabled: bool) -> None:
    """The account page's setting for reply/mention mail."""
    services.store.set_comment_mail(reader.id, enabled)


def unsubscribe_mail(services: Services, token: str) -> None:
    """Turn reply/mention mail off by a mailed one-click link (a signed token)."""
    user_id = read_comment_mail_token(services.secret, token)
    if user_id is None or services.store.get_user(user_id) is None:
        raise UserError("this link is not valid; change the setting on your account page", 404)
    services.store.set_comment_mail(user_id, False)
