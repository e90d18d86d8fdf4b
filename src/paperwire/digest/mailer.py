"""Sending email: over SMTP (STARTTLS or SSL, optional login), or, for development,
into a folder of .eml files. Failures say whether a retry may succeed."""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
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
    """Something that delivers email."""

    def send(self, message: EmailMessage) -> None:
        """Deliver one message now (its own connection) or raise MailError."""
        ...

    def deliver(self, recipient: str, data: bytes) -> None:
        """Deliver a composed message (the outbox's bytes), reusing a connection across
        calls; MailError on failure."""
        ...

    def close(self) -> None:
        """Close a connection kept open by deliver()."""
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
    """Delivers through an SMTP server: send() on a connection of its own, deliver() on
    one kept open across messages (a digest run sends thousands)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._kept: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        assert s.smtp_host is not None
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.smtp_ssl:
            smtp = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
        try:
            if not s.smtp_ssl and s.smtp_starttls:
                smtp.starttls(context=context)
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Send over SMTP; MailError(temporary=...) on failure."""
        stamp(message, self.settings.mail_from)
        with _smtp_errors(self.settings), self._connect() as smtp:
            smtp.send_message(message)

    def deliver(self, recipient: str, data: bytes) -> None:
        """Send composed bytes on the kept connection (reopened after any failure)."""
        with self._lock, _smtp_errors(self.settings):
            try:
                if self._kept is None:
                    self._kept = self._connect()
                self._kept.sendmail(_address(self.settings.mail_from), [recipient], data)
            except smtplib.SMTPRecipientsRefused:
                self._reset()  # the connection is fine, the transaction is over
                raise
            except BaseException:
                self._drop()
                raise

    def _reset(self) -> None:
        try:
            if self._kept is not None:
                self._kept.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self._kept is not None:
            try:
                self._kept.close()
            finally:
                self._kept = None

    def close(self) -> None:
        """Say QUIT on the kept connection."""
        with self._lock:
            if self._kept is not None:
                with suppress(smtplib.SMTPException, OSError):
                    self._kept.quit()
                self._drop()


def _address(header: str) -> str:
    """The bare address of a From header ("paperwire <a@b>" -> "a@b")."""
    return parseaddr(header)[1] or header


@contextmanager
def _smtp_errors(settings: Settings) -> Iterator[None]:
    """SMTP failures as MailError: 4xx and connection trouble temporary, 5xx permanent."""
    try:
        yield
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise MailError(
            f"recipients refused: {exc.recipients}", temporary=all(c < 500 for c in codes)
        ) from exc
    except smtplib.SMTPResponseException as exc:
        code = exc.smtp_code
        raise MailError(f"SMTP {code}: {exc.smtp_error!r}", temporary=code < 500) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(
            f"{settings.smtp_host}:{settings.smtp_port}: {exc}", temporary=True
        ) from exc


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

    def deliver(self, recipient: str, data: bytes) -> None:
        """Write composed bytes to the folder."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
            (self.folder / name).write_bytes(data)
        except OSError as exc:
            raise MailError(f"{self.folder}: {exc}", temporary=True) from exc

    def close(self) -> None:
        """Nothing to close."""


def make_mailer(settings: Settings) -> Mailer:
    """SMTP when a host is configured, else the folder of .eml files."""
    if settings.smtp_host:
        return SMTPMailer(settings)
    return FileMailer(Path(settings.mail_dir), settings.mail_from)
