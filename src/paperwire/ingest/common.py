"""What every parser shares: error values that name the input and the place, safe
decoding, and bounded line reading so a 100 MB line cannot exhaust memory."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar

import orjson

from paperwire.models import Paper

# One record (a JSON line, an XML record) larger than this is refused, not read.
MAX_RECORD_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RecordError:
    """A broken record: the parser reports it and goes on with the next one."""

    source: str
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.location}: {self.message}"


@dataclass(frozen=True, slots=True)
class RecordWarning:
    """A record imported with something left out or repaired (an undefined BibTeX macro,
    a category that is not arXiv's): the import goes on; ``--strict`` makes it an error."""

    source: str
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.location}: {self.message}"


class ParseError(Exception):
    """The whole input cannot be read (binary, empty, not this format)."""

    def __init__(self, source: str, location: str, message: str) -> None:
        super().__init__(f"{source}: {location}: {message}")
        self.source = source
        self.location = location
        self.message = message


@dataclass(frozen=True, slots=True)
class Deleted:
    """The source says this paper no longer exists (an OAI-PMH deleted record)."""

    arxiv_id: str


Parsed = Paper | RecordError | RecordWarning | Deleted
Input = bytes | BinaryIO


def as_stream(data: Input) -> BinaryIO:
    """A binary stream over bytes or an already open binary file."""
    return io.BytesIO(data) if isinstance(data, bytes | bytearray) else data


def check_not_binary(head: bytes, source: str) -> None:
    """Refuse input that is plainly not text: NUL bytes in its first block."""
    if not head.strip():
        raise ParseError(source, "byte 0", "empty input")
    if b"\x00" in head[:8192] and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        offset = head.index(b"\x00")
        raise ParseError(source, f"byte {offset}", "binary data (NUL byte), not a text format")


def decode_text(data: bytes, source: str) -> str:
    """Decode a whole text input: UTF-8 (with or without BOM) or UTF-16 with a BOM.
    Invalid UTF-8 raises ParseError naming the line and column of the first bad byte."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ParseError(source, f"byte {exc.start}", "invalid UTF-16") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ParseError(
            source,
            f"line {line}, column {column}",
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x})",
        ) from exc


def decode_lines(data: bytes, source: str) -> Iterator[tuple[int, str | RecordError]]:
    """Split text into numbered lines; a line that is not valid UTF-8 comes back as a
    RecordError so the lines around it can still be read."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = decode_text(data, source)
        for number, line in enumerate(text.splitlines(), start=1):
            yield number, line
        return
    data = data.removeprefix(b"\xef\xbb\xbf")
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            yield number, raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as exc:
            yield (
                number,
                RecordError(
                    source,
                    f"line {number}, column {exc.start + 1}",
                    f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                ),
            )


def bounded_lines(
    stream: BinaryIO, source: str, limit: int = MAX_RECORD_BYTES
) -> Iterator[tuple[int, bytes | RecordError]]:
    """Read numbered lines in constant memory. A line longer than `limit` is skipped
    (read through in chunks, never held whole) and reported as a RecordError."""
    number = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            skipped = len(line)
            while True:
                chunk = stream.readline(1024 * 1024)
                skipped += len(chunk)
                if not chunk or chunk.endswith(b"\n"):
                    break
            yield (
                number,
                RecordError(
                    source,
                    f"line {number}",
                    f"line of {skipped:,} bytes exceeds the {limit:,}-byte limit",
                ),
            )
            continue
        yield number, line


def clean_ws(text: str) -> str:
    """Collapse runs of white space (XML abstracts are wrapped at ~80 columns)."""
    return " ".join(text.split())


def parse_json_lines(
    data: Input, source: str, convert: Callable[[Any], Parsed]
) -> Iterator[Parsed]:
    """Shared JSON-lines loop: every line decoded on its own so one bad line is one
    error; blank lines are skipped."""
    head, stream = peek_head(data, 8192)
    check_not_binary(head, source)
    for number, line in bounded_lines(stream, source):
        if isinstance(line, RecordError):
            yield line
            continue
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield RecordError(
                source, f"line {number}, column {exc.colno}", f"invalid JSON: {exc.msg}"
            )
            continue
        try:
            yield convert(record)
        except ValueError as exc:
            yield RecordError(source, f"line {number}", str(exc))


def peek_head(data: Input, size: int) -> tuple[bytes, BinaryIO]:
    """The first `size` bytes of an input, and a stream that still starts at the
    beginning (seekable files are rewound; pipes are re-joined in memory-light fashion)."""
    stream = as_stream(data)
    if stream.seekable():
        position = stream.tell()
        head = stream.read(size)
        stream.seek(position)
        return head, stream
    head = stream.read(size)
    return head, io.BufferedReader(_Joined(head, stream))


class _Joined(io.RawIOBase):
    """A read-only stream of `head` followed by the rest of `tail`."""

    def __init__(self, head: bytes, tail: BinaryIO) -> None:
        self._head = memoryview(head)
        self._tail = tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        chunk = self._tail.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


_JSON_TOKENS = re.compile(rb'["\\{}\[\]\n]')


def iter_json_array(
    data: Input, source: str, limit: int = MAX_RECORD_BYTES
) -> Iterator[tuple[int, int, Any] | RecordError]:
    """The object elements of a top-level JSON array, read in constant memory: each
    element's bytes are found by tracking strings and nesting, then decoded on their own,
    so one broken element is one RecordError and a 4 GB array never sits in memory.
    Yields (ordinal, line where the element starts, decoded value). An element larger
    than `limit` is skipped and reported. Text that is not an array raises ParseError."""
    head, stream = peek_head(data, 8192)
    check_not_binary(head, source)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] != b"[":
        raise ParseError(source, "line 1", "expected a JSON array ('[')")
    depth = -1  # -1 before the array opens; 0 inside it, between elements
    in_string = carry_escape = oversized = False
    line = item_line = 1
    ordinal = 0
    item = bytearray()
    while True:
        chunk = stream.read(1 << 16)
        if not chunk:
            break
        position = 0  # where the part of the current element in this chunk starts
        skip = 0 if carry_escape else -1
        carry_escape = False
        for match in _JSON_TOKENS.finditer(chunk):
            index = match.start()
            token = chunk[index : index + 1]
            if token == b"\n":
                line += 1
                continue
            if index == skip:
                continue
            if in_string:
                if token == b"\\":
                    if index + 1 < len(chunk):
                        skip = index + 1
                    else:
                        carry_escape = True
                elif token == b'"':
                    in_string = False
                continue
            if token == b'"':
                in_string = True
            elif token in (b"{", b"["):
                depth += 1
                if depth == 1:
                    item = bytearray()
                    item_line = line
                    oversized = False
                    position = index
            elif depth <= 0:  # the array's closing bracket
                return
            else:
                depth -= 1
                if depth == 0:
                    ordinal += 1
                    where = f"record {ordinal} (line {item_line})"
                    if not oversized:
                        item += chunk[position : index + 1]
                    if oversized or len(item) > limit:
                        yield RecordError(
                            source, where, f"record exceeds the {limit:,}-byte limit; skipped"
                        )
                    else:
                        try:
                            yield ordinal, item_line, orjson.loads(bytes(item))
                        except orjson.JSONDecodeError as exc:
                            yield RecordError(source, where, f"invalid JSON: {exc}")
                    item = bytearray()
        if depth >= 1 and not oversized:
            item += chunk[position:]
            if len(item) > limit:
                oversized = True
                item = bytearray()
    yield RecordError(source, f"line {line}", "the JSON array ends before it is closed")


Converted = TypeVar("Converted")


def json_array_records(
    data: Input, source: str, convert: Callable[[Any, list[str]], Converted]
) -> Iterator[Converted | RecordError | RecordWarning]:
    """Each element of a JSON array converted on its own (`convert` appends what it had to
    drop to the list it is given, and raises ValueError for an element it cannot use): a
    bad element is a RecordError, each dropped value a RecordWarning, both naming the
    record and its line."""
    for element in iter_json_array(data, source):
        if isinstance(element, RecordError):
            yield element
            continue
        ordinal, line, item = element
        where = f"record {ordinal} (line {line})"
        problems: list[str] = []
        try:
            converted = convert(item, problems)
        except ValueError as exc:
            yield RecordError(source, where, str(exc))
            continue
        for problem in problems:
            yield RecordWarning(source, where, problem)
        yield converted
