"""Safe, streaming XML reading shared by the Atom and OAI-PMH parsers.

defusedxml refuses DTDs, entity declarations and external references (billion laughs,
XXE); records are handed out as they close and then cleared, so a large harvest page is
read in constant memory, and a page cut off half-way still yields the records before
the break followed by an error naming the line and column where it broke.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XmlSyntaxError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from paperwire.ingest.common import Input, ParseError, RecordError, check_not_binary, peek_head

T = TypeVar("T")


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
    ordinal = 0
    try:
        for _event, element in iterparse(
            stream, events=("end",), forbid_dtd=True, forbid_entities=True, forbid_external=True
        ):
            if element.tag != tag:
                continue
            ordinal += 1
            try:
                yield handle(element, ordinal)
            except ValueError as exc:
                yield RecordError(source, f"record {ordinal}", str(exc))
            element.clear()
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
