"""Reply and mention mail, in batches: at most one message per reader per hour, holding
every reply to them and mention of them since their last one.

A batch is written to the outbox (the digests' table, `deliver_outbox` sends it) in the
transaction that claims the reader's hour and marks its notices mailed
(``Store.record_notice_batch``), so a batch is never lost or composed twice; the outbox's
``UNIQUE (user_id, period)`` (the period is the hour) holds even against a clock that
goes back. Each message carries List-Unsubscribe with RFC 8058 one-click, pointing at a
signed link that turns this mail off (the account page has the same setting)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from paperwire.config import Settings
from paperwire.digest.compose import list_message, outbox_item
from paperwire.discussion.markup import plain
from paperwire.models import OutboxItem
from paperwire.presentation import paper_url
from paperwire.store.base import Store
from paperwire.store.comments import Notice
from paperwire.texmath import plain as tex_plain
from paperwire.tokens import comment_mail_token

BATCH_EVERY = timedelta(hours=1)


@dataclass
class NoticeRun:
    """What one batching run did."""

    readers: int = 0
    queued: int = 0
    notices: int = 0


def unsubscribe_url(settings: Settings, secret: str, user_id: int) -> str:
    """The one-click link that stops reply/mention mail for a reader."""
    base = settings.base_url.rstrip("/")
    return f"{base}/comments/mail/{comment_mail_token(secret, user_id)}/unsubscribe"


def comment_url(settings: Settings, key: str, comment_id: int) -> str:
    """Where a comment is shown."""
    return f"{settings.base_url.rstrip('/')}{paper_url(key)}#comment-{comment_id}"


def compose(
    settings: Settings,
    secret: str,
    user_id: int,
    recipient: str,
    notices: list[Notice],
    now: datetime,
) -> OutboxItem:
    """One reader's batch as a plain-text message ready for the outbox."""
    period = "comments:" + now.strftime("%Y-%m-%dT%H")
    stop = unsubscribe_url(settings, secret, user_id)
    count = len(notices)
    lines = [
        f"{count} new {'replies or mentions' if count != 1 else 'reply or mention'} on paperwire:",
        "",
    ]
    for notice in notices:
        comment = notice.comment
        who = comment.author or "a former reader"
        what = "replied to you" if notice.kind == "reply" else "mentioned you"
        lines.append(f"{who} {what} on “{tex_plain(comment.paper_title)}”:")
        lines.append(f"  {plain(comment.body)}")
        lines.append(f"  {comment_url(settings, comment.paper_key, comment.id)}")
        lines.append("")
    lines.append(f"Stop these messages (one click): {stop}")
    lines.append(f"Or change it on your account page: {settings.base_url.rstrip('/')}/account")
    subject = f"paperwire: {count} new {'replies' if count != 1 else 'reply'}" + (
        " and mentions" if any(n.kind == "mention" for n in notices) else ""
    )
    message_id = f"comments.{user_id}.{period.replace(':', '.')}"
    message = list_message(
        settings, recipient, subject, now, message_id, ("replies", "comments"), f"<{stop}>"
    )
    message.set_content("\n".join(lines) + "\n")
    return outbox_item(settings, message, None, period, now)


def queue_batches(store: Store, settings: Settings, secret: str, now: datetime) -> NoticeRun:
    """Write a batch to the outbox for every reader who has notices waiting and had no
    batch in the last hour. Safe to run from several workers at once."""
    run = NoticeRun()
    before = now - BATCH_EVERY
    for user_id in store.notice_recipients(before):
        user = store.get_user(user_id)
        notices = store.pending_notices(user_id)
        if user is None or not notices:
            continue
        run.readers += 1
        message = compose(settings, secret, user_id, user.email, notices, now)
        if store.record_notice_batch(user_id, [n.id for n in notices], message, before, now):
            run.queued += 1
            run.notices += len(notices)
    return run
