"""Compressed inputs (``.gz``, ``.bz2``, ``.xz``, ``.zip``) read as streams: the
compression is recognised by its magic bytes, not the file name, and the stream is
decompressed as it is read (constant memory, whatever the size), so every format's
parser and format detection see the plain text inside.

Every input is read through a meter (:class:`Limits`) that refuses it, with a ParseError
naming the input, the limit and the setting that raises it, as soon as it holds more
plain bytes than the deployment allows (``upload_max_bytes`` for the web, small;
``import_max_bytes`` for the CLI, the whole arXiv snapshot) or when any RATIO_FLOOR
plain bytes of it unpacked from less than 1/``import_max_ratio`` as many compressed
bytes: real text compresses 3-10:1 (the Kaggle snapshot zip is ~3.5:1; gzip cannot pass
~1,030:1), while a 765-byte bzip2 bomb unpacks 1 GB (1,400,000:1). A bomb is so
refused within 2 x RATIO_FLOOR plain bytes, in a fraction of a second, whatever the byte
limit, and padding it with incompressible bytes does not dilute the ratio.

A ``.zip`` must hold exactly one data file (the Kaggle arXiv download holds one
``.json``); directories and macOS ``__MACOSX`` side files are ignored. Its central
directory is counted before it is read: more than MAX_ZIP_MEMBERS entries is refused
(each entry costs memory when the directory is read)."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

from paperwire.ingest.common import ParseError, peek_head

GZIP_MAGIC = b"\x1f\x8b"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"
ZIP_MAGIC = b"PK\x03\x04"

# Defaults of the settings of the same names (config.Settings).
UPLOAD_MAX_BYTES = 32 * 1024 * 1024
IMPORT_MAX_BYTES = 16 * 1024 * 1024 * 1024  # the arXiv snapshot is ~4.5 GB and growing
IMPORT_MAX_RATIO = 1000
# The ratio is judged only past this many plain bytes: a small file of repeated text
# (a test fixture, a tiny BibTeX file) may compress well beyond any real library.
RATIO_FLOOR = 16 * 1024 * 1024
MAX_ZIP_MEMBERS = 100
_EOCD = b"PK\x05\x06"


@dataclass(frozen=True, slots=True)
class Limits:
    """How much one input may unpack to, and the setting that says so (for messages)."""

    max_bytes: int = IMPORT_MAX_BYTES
    setting: str = "import_max_bytes (PAPERWIRE_IMPORT_MAX_BYTES)"
    max_ratio: int = IMPORT_MAX_RATIO
    ratio_setting: str = "import_max_ratio (PAPERWIRE_IMPORT_MAX_RATIO)"


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


class _Counting(io.RawIOBase):
    """A compressed stream that counts the bytes the decompressor took from it."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._raw.read(len(buffer))
        buffer[: len(chunk)] = chunk
        self.count += len(chunk)
        return len(chunk)


class _Metered(io.RawIOBase):
    """The plain bytes of an input, refused (ParseError) past the limits."""

    def __init__(
        self,
        plain: BinaryIO,
        source: str,
        limits: Limits,
        kind: str | None,
        consumed: _Counting | int | None,
    ) -> None:
        self._plain = plain
        self._source = source
        self._limits = limits
        self._kind = kind
        self._consumed = consumed
        self.count = 0
        self._mark_out = self._mark_in = 0

    def readable(self) -> bool:
        return True

    def _check_ratio(self) -> None:
        """The ratio over the last RATIO_FLOOR plain bytes (over the whole member for a
        zip, whose compressed size is known): padding a bomb with incompressible bytes
        does not dilute it."""
        if isinstance(self._consumed, _Counting):
            packed = self._consumed.count - self._mark_in
            plain = self.count - self._mark_out
            self._mark_in, self._mark_out = self._consumed.count, self.count
        else:
            packed, plain = self._consumed or 0, self.count
        limits = self._limits
        if plain > max(1, packed) * limits.max_ratio:
            raise ParseError(
                self._source,
                f"{self._kind} data, plain byte {self.count:,}",
                f"{packed:,} compressed bytes unpack to {plain:,} (over "
                f"{limits.max_ratio:,}:1, the limit set by {limits.ratio_setting}): "
                "a compression bomb; refused",
            )

    def readinto(self, buffer: Any) -> int:
        chunk = self._plain.read(len(buffer))
        buffer[: len(chunk)] = chunk
        self.count += len(chunk)
        limits = self._limits
        if self.count > limits.max_bytes:
            what = f"{self._kind} data unpacks to" if self._kind else "input holds"
            raise ParseError(
                self._source,
                "size",
                f"{what} more than {limits.max_bytes:,} bytes, the limit set by "
                f"{limits.setting}; refused",
            )
        if self._kind and self.count - self._mark_out >= RATIO_FLOOR:
            self._check_ratio()
        return len(chunk)


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


def _check_zip_directory(stream: BinaryIO, source: str) -> int:
    """Refuse a zip whose central directory lists more than MAX_ZIP_MEMBERS entries,
    before zipfile reads it (it keeps one object an entry). Returns the file's size."""
    size = stream.seek(0, io.SEEK_END)
    tail_start = max(0, size - (65535 + 22))
    stream.seek(tail_start)
    tail = stream.read()
    stream.seek(0)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) < at + 22:
        raise ParseError(source, "zip archive", "corrupt or truncated: no end of central directory")
    entries, directory_size = struct.unpack("<HI", tail[at + 10 : at + 16])
    # A zip64 archive says 0xFFFF; its directory size still bounds the entries (46+ bytes).
    if entries == 0xFFFF:
        entries = directory_size // 46
    if entries > MAX_ZIP_MEMBERS or directory_size > MAX_ZIP_MEMBERS * (46 + 65535 * 3):
        raise ParseError(
            source,
            "zip archive",
            f"lists {entries:,} entries; at most {MAX_ZIP_MEMBERS} are read (one data file)",
        )
    return size


@contextmanager
def decompressed(
    stream: BinaryIO, source: str, limits: Limits | None = None
) -> Iterator[tuple[BinaryIO, str]]:
    """The plain data of a possibly compressed stream, metered by `limits` (see the
    module), and its name for messages ('refs.bib.gz' stays 'refs.bib.gz'; a zip member
    is named 'file.zip:member.json')."""
    limits = limits or Limits()
    head, stream = peek_head(stream, 8)
    kind = compression_of(head)

    def metered(plain: BinaryIO, consumed: _Counting | int | None, name: str = source) -> BinaryIO:
        meter = _Metered(plain, name, limits, kind, consumed)
        return cast(BinaryIO, io.BufferedReader(meter, 1 << 16))

    if kind is None:
        yield metered(stream, None), source
        return
    counting = _Counting(stream)
    packed = cast(BinaryIO, io.BufferedReader(counting, 8192))
    try:
        if kind == "gzip":
            with gzip.GzipFile(fileobj=packed, mode="rb") as plain:
                yield metered(cast(BinaryIO, plain), counting), source
        elif kind == "bzip2":
            with bz2.BZ2File(packed, mode="rb") as plain_bz:
                yield metered(cast(BinaryIO, plain_bz), counting), source
        elif kind == "xz":
            with lzma.LZMAFile(packed, mode="rb") as plain_xz:
                yield metered(cast(BinaryIO, plain_xz), counting), source
        else:
            if not stream.seekable():
                raise ParseError(source, "zip archive", "a zip file must be a file, not a pipe")
            size = _check_zip_directory(stream, source)
            with zipfile.ZipFile(stream) as archive:
                member = _zip_member(archive, source)
                if member.file_size > limits.max_bytes:
                    raise ParseError(
                        f"{source}:{member.filename}",
                        "size",
                        f"zip member unpacks to {member.file_size:,} bytes, more than "
                        f"{limits.max_bytes:,}, the limit set by {limits.setting}; refused",
                    )
                with archive.open(member) as plain_zip:
                    # What the member may take from the file: no more than the file.
                    taken = min(max(member.compress_size, 1), size)
                    name = f"{source}:{member.filename}"
                    yield metered(cast(BinaryIO, plain_zip), taken, name), name
    except (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile) as exc:
        # A truncated or corrupt archive: the records before the break were already read.
        raise ParseError(source, f"{kind} data", f"corrupt or truncated: {exc}") from exc


@contextmanager
def open_input(
    path: str, raw: BinaryIO | None = None, limits: Limits | None = None
) -> Iterator[tuple[BinaryIO, str]]:
    """Open a file to import: the decompressed stream (see :func:`decompressed`) and the
    name to use in messages. `raw` is an already open binary stream of `path` (e.g. one
    that advances a progress bar); otherwise the file is opened here."""
    if raw is not None:
        with decompressed(raw, path, limits) as opened:
            yield opened
        return
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise ParseError(path, "path", exc.strerror or str(exc)) from exc
    with handle, decompressed(cast(BinaryIO, handle), path, limits) as opened:
        yield opened
