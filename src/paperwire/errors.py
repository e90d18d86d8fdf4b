"""Errors every front door knows how to show."""

from __future__ import annotations


class UserError(Exception):
    """A request that cannot be done as asked; the message is shown to the user as it is.
    `status` is the HTTP status the web answers with (the CLI exits non-zero)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class ConfigurationError(Exception):
    """The settings ask for something this deployment cannot have (e.g. keyword search
    inside a database that has no full-text index); the message says what to change."""
