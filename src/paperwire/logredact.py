"""Secrets never reach a log line: sign-in and confirmation links carry their token in the
query string (``?token=…``), manage and unsubscribe links carry a signed token in the path
(``/subscriptions/<id>.<mac>``), API tokens start with ``pw_``, share and feed links with
``sh_`` and ``fd_``, and channels hold webhook signing secrets (``whsec_…``) and chat
services' URLs with their tokens. Whoever reads a log that held one could sign in as its owner, run
their subscription or read their collection, so every record is redacted when it is made
— uvicorn's access log included — by a log-record factory installed once per process
(the web app installs it; so can any entry point).

The rule is by class, not by a list of links: any value of a query field named like
``*token``, any query value shaped like a token (20+ URL-safe characters, letters and
digits), any word with a token prefix, and every path segment that a route of the app
takes as a parameter named like ``token`` (``protect_routes``: the web app hands over its
routes, so a new route's tokens are redacted without anyone remembering to list it)."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

REDACTED = "[redacted]"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # any query or form field whose name ends in "token": token=, csrf_token=, …
    (re.compile(r"(?i)(\b[a-z_]*token=)[^&\s\"'#]+"), rf"\1{REDACTED}"),
    # the signed manage/unsubscribe token in a subscription path
    (re.compile(r"(/subscriptions/)\d+\.[0-9a-fA-F.]{8,}"), rf"\1{REDACTED}"),
    # personal API tokens, share and private-feed links, wherever they appear
    (re.compile(r"\b(pw_|sh_|fd_)[A-Za-z0-9_-]{16,}"), rf"\1{REDACTED}"),
    # any query value shaped like a token (secrets.token_urlsafe, a signed token)
    (
        re.compile(
            r"([?&][A-Za-z0-9_.\-]+=)(?=[A-Za-z0-9_.\-]*\d)(?=[A-Za-z0-9_.\-]*[A-Za-z])"
            r"[A-Za-z0-9_.\-]{20,}(?=[&#\s\"']|$)"
        ),
        rf"\1{REDACTED}",
    ),
    # channels: Standard Webhooks signing secrets, and the tokens chat services carry in
    # their URLs (Slack and Discord webhook paths, Telegram bot tokens) and apprise URLs
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]{16,}"), f"whsec_{REDACTED}"),
    (
        re.compile(
            r"(?i)(hooks\.slack\.com/services/|/api/webhooks/|api\.telegram\.org/bot)[^\s\"']+"
        ),
        rf"\1{REDACTED}",
    ),
    (
        re.compile(
            r"(?i)\b(slack|discord|tgram|matrixs?|mailtos?|ntfys?|jsons?|gotifys?|mmosts?)://[^\s\"']+"
        ),
        rf"\1://{REDACTED}",
    ),
)
# A route parameter holding a secret: named like "token" ({token}, {share_token}, ...).
_TOKEN_PARAMETER = re.compile(r"\{([^}:]*token[^}:]*)(?::[^}]*)?\}", re.IGNORECASE)
_PARAMETER = re.compile(r"\{[^}]*\}")
_SEGMENT = r"[^/?#\s\"']+?"
# The app's routes with token parameters, as patterns; its fixed paths (never redacted:
# /subscriptions/confirm is not a token though /subscriptions/{token} would take it).
_routes: tuple[re.Pattern[str], ...] = ()
_fixed: frozenset[str] = frozenset()
_installed = False
_lock = threading.Lock()


def route_pattern(template: str) -> re.Pattern[str] | None:
    """A pattern finding paths of a route template (``/shared/{token}``) in text, each
    token parameter a group; None when the route takes no token."""
    if not _TOKEN_PARAMETER.search(template):
        return None
    parts: list[str] = []
    position = 0
    for match in _PARAMETER.finditer(template):
        parts.append(re.escape(template[position : match.start()]))
        if _TOKEN_PARAMETER.fullmatch(match.group(0)):
            parts.append(f"({_SEGMENT})")
        elif match.group(0).endswith(":path}"):
            parts.append(r"[^?#\s\"']+?")
        else:
            parts.append(_SEGMENT)
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts) + r"(?=[?#\s\"']|$)")


def protect_routes(templates: Iterable[str]) -> None:
    """Redact from now on the token segments of these route templates (the app's routes:
    those without a token parameter are remembered as fixed paths, left as they are)."""
    global _routes, _fixed
    with _lock:
        patterns = list(_routes)
        fixed = set(_fixed)
        for template in templates:
            pattern = route_pattern(template)
            if pattern is None:
                if "{" not in template:
                    fixed.add(template)
            elif pattern.pattern not in {p.pattern for p in patterns}:
                patterns.append(pattern)
        _routes, _fixed = tuple(patterns), frozenset(fixed)


def _redact_route(match: re.Match[str]) -> str:
    if match.group(0) in _fixed:
        return match.group(0)
    text, start = [], match.start()
    for index in range(1, (match.lastindex or 0) + 1):
        text.append(match.string[start : match.start(index)])
        text.append(REDACTED)
        start = match.end(index)
    text.append(match.string[start : match.end()])
    return "".join(text)


def redact(text: str) -> str:
    """`text` with every secret this service hands out replaced by '[redacted]'."""
    for route in _routes:
        text = route.sub(_redact_route, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record's message and its arguments in place (arguments keep their
    positions and types, since uvicorn's access formatter unpacks them)."""
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_redact_value(arg) for arg in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: _redact_value(value) for key, value in record.args.items()}
    return record


class RedactSecrets(logging.Filter):
    """A filter for handlers configured elsewhere: redacts, never drops."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record; always keep it."""
        redact_record(record)
        return True


def install_log_redaction() -> None:
    """Make every log record of this process redacted when it is created (idempotent):
    the record factory sees records of every logger, before any handler or formatter."""
    global _installed
    with _lock:
        if _installed:
            return
        previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return redact_record(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _installed = True
