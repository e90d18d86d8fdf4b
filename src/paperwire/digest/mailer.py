"""Sending email: over SMTP (STARTTLS or SSL, optional login), or, for development,
into a folder of .eml files. Failures say whether a retry may succeed."""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from paperwire.config import Settings

log = logging.getLogger(__name__)


class MailError(Exception):
    """A message was not sent. `temporary` is true when trying again later may work
    (4xx replies, connection trouble), false for permanent refusals (5xx)."""

    def __init__(self, message: str, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


class Mailer(Protocol):
    """Something that delivers an email message."""

    def send(self, message: EmailMessage) -> None:
        """Deliver one message or raise MailError."""
        ...


def stamp(message: EmailMessage, sender: str) -> EmailMessage:
    """Fill in From, Date and Message-ID where the composer left them out."""
    if "From" not in message:
        message["From"] = sender
    if "Date" not in message:
        message["Date"] = format_datetime(datetime.now(UTC))
    if "Message-ID" not in message:
        domain = sender.rsplit("@", 1)[-1].strip("> ") or "paperwire.local"
        message["Message-ID"] = make_msgid(domain=domain)
    return message


class SMTPMailer:
    """Delivers through an SMTP server, one connection per message."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage) -> None:
        """Send over SMTP; MailError(temporary=...) on failure."""
        s = self.settings
        assert s.smtp_host is not None
        stamp(message, s.mail_from)
        context = ssl.create_default_context()
        try:
            smtp: smtplib.SMTP
            if s.smtp_ssl:
                smtp = smtplib.SMTP_SSL(
                    s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
            with smtp:
                if not s.smtp_ssl and s.smtp_starttls:
                    smtp.starttls(context=context)
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password or "")
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            code = exc.smtp_code
            raise MailError(f"SMTP {code}: {exc.smtp_error!r}", temporary=code < 500) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise MailError(
                f"recipients refused: {exc.recipients}", temporary=all(c < 500 for c in codes)
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"{s.smtp_host}:{s.smtp_port}: {exc}", temporary=True) from exc


class FileMailer:
    """Writes each message to a folder as an .eml file (development: read the sign-in
    link there or in the log)."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder = folder
        self.sender = sender

    def send(self, message: EmailMessage) -> None:
        """Write the message to <folder>/<time>-<id>.eml."""
        stamp(message, self.sender)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
            path = self.folder / name
            path.write_bytes(bytes(message))
        except OSError as exc:
            raise MailError(f"{self.folder}: {exc}", temporary=True) from exc
        log.warning("mail to %s written to %s (no SMTP host configured)", message["To"], path)


def make_mailer(settings: Settings) -> Mailer:
    """SMTP when a host is configured, else the folder of .eml files."""
    if settings.smtp_host:
        return SMTPMailer(settings)
    return FileMailer(Path(settings.mail_dir), settings.mail_from)
