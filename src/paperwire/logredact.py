"""Secrets never reach a log line: sign-in and confirmation links carry their token in the
query string (``?token=…``), manage and unsubscribe links carry a signed token in the path
(``/subscriptions/<id>.<mac>``), API tokens start with ``pw_``, and channels hold
webhook signing secrets (``whsec_…``) and chat services' URLs with their tokens. Whoever
reads a log that held one could sign in as its owner or run their subscription, so every record is
redacted when it is made — uvicorn's access log included — by a log-record factory
installed once per process (the web app installs it; so can any entry point)."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

REDACTED = "[redacted]"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # any query or form field whose name ends in "token": token=, csrf_token=, …
    (re.compile(r"(?i)(\b[a-z_]*token=)[^&\s\"'#]+"), rf"\1{REDACTED}"),
    # the signed manage/unsubscribe token in a subscription path
    (re.compile(r"(/subscriptions/)\d+\.[0-9a-fA-F.]{8,}"), rf"\1{REDACTED}"),
    # personal API tokens, wherever they appear (an Authorization header echoed, …)
    (re.compile(r"\bpw_[A-Za-z0-9_-]{16,}"), f"pw_{REDACTED}"),
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
_installed = False
_lock = threading.Lock()


def redact(text: str) -> str:
    """`text` with every secret this service hands out replaced by '[redacted]'."""
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
