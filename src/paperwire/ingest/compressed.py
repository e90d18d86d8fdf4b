"""Compressed inputs (``.gz``, ``.bz2``, ``.xz``, ``.zip``) read as streams: the
compression is recognised by its magic bytes, not the file name, and the stream is
decompressed as it is read (constant memory, whatever the size), so every format's
parser and format detection see the plain text inside.

A ``.zip`` must hold exactly one data file (the Kaggle arXiv download holds one
``.json``); directories and macOS ``__MACOSX`` side files are ignored."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO, cast

from paperwire.ingest.common import ParseError, peek_head

GZIP_MAGIC = b"\x1f\x8b"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"
ZIP_MAGIC = b"PK\x03\x04"


def compression_of(head: bytes) -> str | None:
    """'gzip', 'bzip2', 'xz' or 'zip' from an input's first bytes; None for plain data."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(BZIP2_MAGIC) and head[3:4].isdigit():
        return "bzip2"
    if head.startswith(XZ_MAGIC):
        return "xz"
    if head.startswith(ZIP_MAGIC):
        return "zip"
    return None


def _zip_member(archive: zipfile.ZipFile, source: str) -> zipfile.ZipInfo:
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir() and not info.filename.startswith("__MACOSX/")
    ]
    if len(members) != 1:
        names = ", ".join(info.filename for info in members[:5]) or "nothing"
        raise ParseError(
            source, "zip archive", f"holds {len(members)} files ({names}); expected exactly one"
        )
    return members[0]


@contextmanager
def decompressed(stream: BinaryIO, source: str) -> Iterator[tuple[BinaryIO, str]]:
    """The plain data of a possibly compressed stream, and its name for messages
    ('refs.bib.gz' stays 'refs.bib.gz'; a zip member is named 'file.zip:member.json').
    Plain streams are handed back unchanged (rewound, or re-joined for pipes)."""
    head, stream = peek_head(stream, 8)
    kind = compression_of(head)
    if kind is None:
        yield stream, source
        return
    try:
        if kind == "gzip":
            with gzip.GzipFile(fileobj=stream, mode="rb") as plain:
                yield cast(BinaryIO, plain), source
        elif kind == "bzip2":
            with bz2.BZ2File(stream, mode="rb") as plain_bz:
                yield cast(BinaryIO, plain_bz), source
        elif kind == "xz":
            with lzma.LZMAFile(stream, mode="rb") as plain_xz:
                yield cast(BinaryIO, plain_xz), source
        else:
            if not stream.seekable():
                raise ParseError(source, "zip archive", "a zip file must be a file, not a pipe")
            with zipfile.ZipFile(stream) as archive:
                member = _zip_member(archive, source)
                with archive.open(member) as plain_zip:
                    yield cast(BinaryIO, plain_zip), f"{source}:{member.filename}"
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile) as exc:
        # A truncated or corrupt archive: the records before the break were already read.
        raise ParseError(source, f"{kind} data", f"corrupt or truncated: {exc}") from exc


@contextmanager
def open_input(path: str, raw: BinaryIO | None = None) -> Iterator[tuple[BinaryIO, str]]:
    """Open a file to import: the decompressed stream (see :func:`decompressed`) and the
    name to use in messages. `raw` is an already open binary stream of `path` (e.g. one
    that advances a progress bar); otherwise the file is opened here."""
    if raw is not None:
        with decompressed(raw, path) as opened:
            yield opened
        return
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise ParseError(path, "path", exc.strerror or str(exc)) from exc
    with handle, decompressed(cast(BinaryIO, handle), path) as opened:
        yield opened
