"""Safe, streaming XML reading shared by the Atom and OAI-PMH parsers.

defusedxml refuses DTDs, entity declarations and external references (billion laughs,
XXE); records are handed out as they close and then cleared, so a large harvest page is
read in constant memory, and a page cut off half-way still yields the records before
the break followed by an error naming the line and column where it broke.

One record may hold at most MAX_RECORD_BYTES of XML: the reader counts the bytes read
since the record opened, and a larger record ends the read with a RecordError naming it
(the records before it are kept), so one 1 GB ``<abstract>`` never sits in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO, TypeVar
from xml.etree.ElementTree import Element, TreeBuilder
from xml.etree.ElementTree import ParseError as XmlSyntaxError
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from paperwire.ingest.common import (
    MAX_RECORD_BYTES,
    Input,
    ParseError,
    RecordError,
    check_not_binary,
    peek_head,
)

T = TypeVar("T")


class _RecordTooLargeError(Exception):
    pass


class _Meter:
    """The bytes handed to an XML parser, and where the open record started."""

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.count = 0
        self.opened: int | None = None

    def read(self, size: int = -1) -> bytes:
        if self.opened is not None and self.count - self.opened > self.limit:
            raise _RecordTooLargeError
        chunk = self.stream.read(size)
        self.count += len(chunk)
        return chunk


def _too_large(source: str, ordinal: int, limit: int) -> RecordError:
    return RecordError(
        source,
        f"record {ordinal + 1}",
        f"record of more than {limit:,} bytes exceeds the {limit:,}-byte limit of one "
        "record; the input is not read past it",
    )


def iter_elements(
    data: Input,
    source: str,
    tag: str,
    handle: Callable[[Element, int], T],
) -> Iterator[T | RecordError]:
    """Call `handle(element, ordinal)` for every closed element named `tag` (Clark
    notation, '{ns}name'). A record whose handler raises ValueError becomes a RecordError;
    a syntax error ends the stream with one RecordError naming the place."""
    head, stream = peek_head(data, 8192)
    check_not_binary(head, source)
    meter = _Meter(stream, MAX_RECORD_BYTES)
    ordinal = 0
    try:
        for event, element in iterparse(
            meter,
            events=("start", "end"),
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        ):
            if element.tag != tag:
                continue
            if event == "start":
                meter.opened = meter.count
                continue
            meter.opened = None
            ordinal += 1
            try:
                yield handle(element, ordinal)
            except ValueError as exc:
                yield RecordError(source, f"record {ordinal}", str(exc))
            element.clear()
    except _RecordTooLargeError:
        yield _too_large(source, ordinal, meter.limit)
    except XmlSyntaxError as exc:
        line, column = getattr(exc, "position", (0, 0))
        where = f"line {line}, column {column}"
        if ordinal == 0:
            raise ParseError(source, where, f"not well-formed XML, no record read ({exc})") from exc
        yield RecordError(source, where, f"XML broken after record {ordinal}: {exc}")
    except DefusedXmlException as exc:
        raise ParseError(source, "document type", f"refused unsafe XML: {exc}") from exc


def text_of(element: Element, path: str, namespaces: dict[str, str]) -> str:
    """The whitespace-collapsed text at `path`, or '' when absent."""
    found = element.find(path, namespaces)
    if found is None:
        return ""
    return " ".join("".join(found.itertext()).split())


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def _refuse(what: str, source: str) -> Callable[..., int]:
    def handler(*_args: object) -> int:
        raise ParseError(source, "document type", f"refused unsafe XML: {what}")

    return handler


def iter_local_elements(
    data: Input,
    source: str,
    tag: str,
    handle: Callable[[Element, int], T],
) -> Iterator[T | RecordError]:
    """Like :func:`iter_elements`, but every element and attribute is named by its local
    name ('record', 'dc', 'title'), with namespace declarations ignored. Harvesters often
    record responses with the namespaces stripped or prefixes left undeclared
    (``<oai_dc:dc>`` with no ``xmlns:oai_dc``): such a page is not namespace-well-formed,
    yet its records are all there. Read with expat without namespace processing, in
    chunks (constant memory); DTDs and entity declarations are refused."""
    head, stream = peek_head(data, 8192)
    check_not_binary(head, source)
    parser = expat.ParserCreate()
    parser.buffer_text = True
    builder = TreeBuilder()
    done: list[Element] = []
    meter = _Meter(stream, MAX_RECORD_BYTES)

    def start(name: str, attributes: dict[str, str]) -> None:
        if _local(name) == tag:
            meter.opened = parser.CurrentByteIndex
        builder.start(
            _local(name),
            {_local(k): v for k, v in attributes.items() if not k.startswith("xmlns")},
        )

    def end(name: str) -> None:
        element = builder.end(_local(name))
        if element.tag == tag:
            meter.opened = None
            done.append(element)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = _refuse("a document type declaration (DTD)", source)
    parser.EntityDeclHandler = _refuse("an entity declaration", source)
    parser.ExternalEntityRefHandler = _refuse("an external entity", source)
    ordinal = 0
    while True:
        try:
            chunk = meter.read(1 << 16)
        except _RecordTooLargeError:
            for element in done:
                ordinal += 1
                yield _handled(element, ordinal, source, handle)
            yield _too_large(source, ordinal, meter.limit)
            return
        try:
            parser.Parse(chunk, not chunk)
        except expat.ExpatError as exc:
            for element in done:
                ordinal += 1
                yield _handled(element, ordinal, source, handle)
            where = f"line {exc.lineno}, column {exc.offset}"
            message = expat.ErrorString(exc.code) if exc.code else str(exc)
            if ordinal == 0:
                raise ParseError(
                    source, where, f"not well-formed XML, no record read ({message})"
                ) from exc
            yield RecordError(source, where, f"XML broken after record {ordinal}: {message}")
            return
        for element in done:
            ordinal += 1
            yield _handled(element, ordinal, source, handle)
            element.clear()
        done.clear()
        if not chunk:
            return


def _handled(
    element: Element, ordinal: int, source: str, handle: Callable[[Element, int], T]
) -> T | RecordError:
    try:
        return handle(element, ordinal)
    except ValueError as exc:
        return RecordError(source, f"record {ordinal}", str(exc))
