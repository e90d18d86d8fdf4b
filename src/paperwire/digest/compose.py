"""Rendering a digest: multipart plain text + HTML from escaped templates, with the
headers mail clients and providers expect — List-Unsubscribe with RFC 8058 one-click,
a stable Message-ID per subscriber and period, Date — and a DKIM signature when a key
is configured. The result is the exact bytes the outbox keeps and the sender sends."""

from __future__ import annotations

import email.policy
import re
from datetime import datetime
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import Policy
from email.utils import format_datetime, parseaddr
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from paperwire.config import Settings
from paperwire.digest.select import DigestContent, DigestItem
from paperwire.models import OutboxItem, Subscription
from paperwire.presentation import author_line, code_link, fold, paper_url
from paperwire.texmath import html, plain
from paperwire.tokens import subscription_token

_environment = Environment(
    loader=PackageLoader("paperwire.digest", "templates"),
    # HTML escaped everywhere; the plain-text part is not HTML and must not be.
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def text_item(item: DigestItem, index: int, base: str, with_reason: bool) -> str:
    """One paper of the plain-text part: numbered title, a facts line, the folded
    abstract, then each link alone on its own line and a blank line after the item, so
    that no mail client runs a URL into the next item."""
    paper = item.entry.paper
    upvotes = item.entry.upvotes
    facts = [author_line(paper)]
    facts.append(paper.published.isoformat() if paper.published else "")
    facts.append(f"{upvotes} upvote{'s' if upvotes != 1 else ''}" if upvotes else "")
    comments = item.entry.comments
    facts.append(f"{comments} comment{'s' if comments != 1 else ''}" if comments else "")
    facts.append(item.reason if with_reason else "")
    lines = [f"{index}. {plain(paper.title)}", "   " + " · ".join(f for f in facts if f)]
    if paper.abstract:
        lines.append("   " + plain(fold(paper.abstract, 40)[0]))
    lines.append("")
    lines.append(f"   {base}{paper_url(paper.key)}")
    if paper.arxiv_url:
        lines.append(f"   arXiv: {paper.arxiv_url}")
    code = code_link(paper)
    if code:
        lines.append(f"   Code: {code}")
    return "\n".join(lines) + "\n"


_environment.globals.update(
    author_line=author_line,
    code_link=code_link,
    fold=fold,
    paper_url=paper_url,
    text_item=text_item,
    tex=html,
)
DKIM_HEADERS = [
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
]


def links(settings: Settings, secret: str, subscription_id: int) -> tuple[str, str]:
    """The manage and one-click unsubscribe URLs of a subscription."""
    base = settings.base_url.rstrip("/")
    token = subscription_token(secret, subscription_id)
    return f"{base}/subscriptions/{token}", f"{base}/subscriptions/{token}/unsubscribe"


def _domain(settings: Settings) -> str:
    address = parseaddr(settings.mail_from)[1]
    return address.rsplit("@", 1)[-1] if "@" in address else "paperwire.local"


_URI = re.compile(r"<[^<>\s]+>")
_UNSUBSCRIBE_LINE = 78


class _UriListHeader(UnstructuredHeader, BaseHeader):
    """List-Unsubscribe as RFC 2369 writes it: URIs in angle brackets, printable ASCII,
    folded only between the URIs. The email package folds a long header by turning it into
    RFC 2047 encoded-words (`=?utf-8?q?=3Chttps...`), which hides the links from the
    clients that offer RFC 8058 one-click: a digest's link (~100 characters) was sent so
    (issue 25). One URI per line when they do not fit on one; a line stays far under the
    998 characters RFC 5322 allows."""

    @classmethod
    def parse(cls, value: str, kwds: dict[str, object]) -> None:
        uris = _URI.findall(value)
        if not uris or ", ".join(uris) != value.strip() or not value.isascii():
            raise ValueError(f"List-Unsubscribe: expected <uri>, <uri> in ASCII, got {value!r}")
        super().parse(value, kwds)

    def fold(self, *, policy: Policy) -> str:
        uris = _URI.findall(str(self))
        one_line = f"{self.name}: {', '.join(uris)}"
        if len(one_line) <= _UNSUBSCRIBE_LINE:
            return one_line + policy.linesep
        return f"{self.name}: " + f",{policy.linesep} ".join(uris) + policy.linesep


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("list-unsubscribe", _UriListHeader)
# The policy list messages are built with: the default, but List-Unsubscribe never encoded.
LIST_POLICY = email.policy.default.clone(header_factory=_HEADERS)


def list_message(
    settings: Settings,
    recipient: str,
    subject: str,
    now: datetime,
    message_id: str,
    list_id: tuple[str, str],
    unsubscribe: str,
) -> EmailMessage:
    """The headers of a message from one of the site's lists (digests, reply mail): From,
    To, Subject, Date, a Message-ID `<message_id@domain>` stable per recipient and period
    (a resend after a crash is recognisably the same), one-click List-Unsubscribe
    (RFC 8058; `unsubscribe` is the header's value, "<uri>, <uri>" in ASCII, sent as
    written: never as encoded-words, see _UriListHeader) and List-Id (`list_id`: the list's
    name and its tag, "paperwire NAME <TAG.domain>")."""
    domain = _domain(settings)
    message = EmailMessage(policy=LIST_POLICY)
    message["From"] = settings.mail_from
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{message_id}@{domain}>"
    message["List-Unsubscribe"] = unsubscribe
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    name, tag = list_id
    message["List-Id"] = f"paperwire {name} <{tag}.{domain}>"
    return message


def outbox_item(
    settings: Settings,
    message: EmailMessage,
    subscription_id: int | None,
    period: str,
    now: datetime,
) -> OutboxItem:
    """A composed message, DKIM-signed when configured, as the outbox row that sends it
    once."""
    return OutboxItem(
        id=0,
        subscription_id=subscription_id,
        period=period,
        recipient=message["To"],
        message_id=message["Message-ID"],
        message=dkim_sign(settings, message.as_bytes(policy=email.policy.SMTP)),
        created_at=now,
    )


def heading(frequency: str, now: datetime) -> str:
    """The digest's date heading: "Daily digest · Sunday 6 December 2026" (the day it
    is sent, as the reader's calendar reads it; weekly: "Weekly digest · week of ...")."""
    day = f"{now:%A} {now.day} {now:%B %Y}"
    if frequency == "weekly":
        return f"Weekly digest · week of {day}"
    return f"{frequency.capitalize()} digest · {day}"


def compose(
    settings: Settings,
    secret: str,
    subscription: Subscription,
    content: DigestContent,
    period: str,
    now: datetime,
) -> OutboxItem:
    """The digest of one subscriber for one period, ready for the outbox."""
    manage_url, unsubscribe_url = links(settings, secret, subscription.id)
    count = content.size
    subject = f"paperwire {subscription.frequency} digest: {count} paper{'s' if count != 1 else ''}"
    context = {
        "content": content,
        "base": settings.base_url.rstrip("/"),
        "frequency": subscription.frequency,
        "email": subscription.email,
        "manage_url": manage_url,
        "unsubscribe_url": unsubscribe_url,
        "subject": subject,
        "heading": heading(subscription.frequency, now),
    }
    unsubscribe = f"<{unsubscribe_url}>"
    if settings.mail_unsubscribe_mailto:
        target = settings.mail_unsubscribe_mailto
        unsubscribe += f", <mailto:{target}?subject=unsubscribe%20{subscription.id}>"
    message_id = f"digest.{subscription.id}.{period.replace(':', '.')}"
    message = list_message(
        settings, subscription.email, subject, now, message_id, ("digest", "digest"), unsubscribe
    )
    message.set_content(_environment.get_template("digest.txt").render(**context))
    message.add_alternative(
        _environment.get_template("digest.html").render(**context), subtype="html"
    )
    return outbox_item(settings, message, subscription.id, period, now)


def dkim_sign(settings: Settings, data: bytes) -> bytes:
    """The message with a DKIM-Signature header when a key is configured."""
    if not settings.dkim_key_file:
        return data
    import dkim

    key = Path(settings.dkim_key_file).read_bytes()
    domain = (settings.dkim_domain or _domain(settings)).encode()
    signature = dkim.sign(
        data, settings.dkim_selector.encode(), domain, key, include_headers=DKIM_HEADERS
    )
    return bytes(signature) + data


def confirmation_text(subscription: Subscription, confirm_url: str, hours: int) -> str:
    """The body of the double opt-in message."""
    return _environment.get_template("confirm.txt").render(
        frequency=subscription.frequency,
        email=subscription.email,
        trending=subscription.trending,
        searches=subscription.searches,
        confirm_url=confirm_url,
        hours=hours,
    )
