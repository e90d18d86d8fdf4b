"""The optional parts of paperwire and the one check that each is installed.

The default install is what the default path needs (SQLite, tantivy, the ONNX int8
embedder, the web server). Three parts are extras, each installed by name
(``pip install 'paperwire[postgres]'``) and each imported only where it is used, after
``require`` has checked it: a missing extra is a setting this install cannot have, said in
one line that names the extra, not an ImportError from deep inside a command."""

from __future__ import annotations

import importlib
from typing import NamedTuple

from paperwire.errors import ConfigurationError


class Extra(NamedTuple):
    """What an extra is for (the start of the message) and the modules it brings."""

    needed_by: str
    modules: tuple[str, ...]


EXTRAS: dict[str, Extra] = {
    "postgres": Extra("PostgreSQL", ("psycopg",)),
    "torch": Extra("The 'minilm' embedding model (PyTorch)", ("torch", "sentence_transformers")),
    "distributed": Extra("Embedding on a Dask cluster", ("distributed",)),
}


class MissingExtraError(ConfigurationError):
    """An extra a command needs is not installed; the message names it and the install
    command."""


def require(extra: str) -> None:
    """Import the modules of `extra` (each import is cached, so the caller's own import
    that follows costs nothing), or raise MissingExtraError naming the extra. A module that is
    there but cannot load (e.g. psycopg without a libpq) counts as missing: its error is
    given in brackets."""
    needed_by, modules = EXTRAS[extra]
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise MissingExtraError(
                f"{needed_by} needs the {extra} extra: pip install 'paperwire[{extra}]'"
                f" ({module}: {exc})"
            ) from exc
