"""BibTeX: ``@article{key, title = {...}, author = "A and B", year = 2023, ...}``.

A small recursive-descent reader (braced and quoted values, ``#`` concatenation,
``@string`` macros, ``@comment``/``@preamble`` skipped) so that a broken entry is reported
by its line and the reader resynchronises at the next ``@`` that starts a line. arXiv's own
export style (``eprint``/``archivePrefix``/``primaryClass``) and BibLaTeX's
(``eprinttype``/``eprintclass``, ``date``, ``journaltitle``) give the arXiv id, category
and date.

What BibTeX itself does is the rule where files disagree: ``@comment`` takes no argument
(the rest of its line is ignored, braced or not); a citation key is any run of characters
up to the comma (``IJCAI01*425``); an undefined ``@string`` macro is a warning and an
empty string. Text fields are converted as a reader sees them (pylatexenc)."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from paperwire.ingest.common import (
    MAX_RECORD_BYTES,
    Input,
    Parsed,
    ParseError,
    RecordError,
    RecordWarning,
    as_stream,
    check_not_binary,
    clean_ws,
    decode_text,
)
from paperwire.ingest.crossref import resolved
from paperwire.ingest.latex import tex_to_text
from paperwire.models import Author, Paper, extract_code_urls, normalise_arxiv_id

FORMAT = "bibtex"
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}
_IDENT = re.compile(r"[A-Za-z0-9_:\-./+']+")
# BibTeX ends a citation key at white space or a comma; braces and quotes cannot occur.
_KEY = re.compile(r"[^\s,{}()\"#%=\\]+")
_DATE = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_ARXIV_MENTION = re.compile(
    r"arxiv(?:\.org)?[.:/\s]*(?:abs/|pdf/)?(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})", re.I
)
_ENTRY_START = re.compile(r"^[ \t]*@", re.MULTILINE)
# Deeper nesting than this is not a bibliography, it is an attack on the parser.
_MAX_DEPTH = 64


def looks_like_bibtex(head: str) -> bool:
    """True when text has a BibTeX entry near its start."""
    return bool(re.search(r"^\s*@\s*[A-Za-z]+\s*[{(]", head, re.MULTILINE))


class _BrokenEntryError(Exception):
    def __init__(self, position: int, message: str) -> None:
        super().__init__(message)
        self.position = position


@dataclass(slots=True)
class Entry:
    """One parsed entry: its type, citation key and lower-cased fields."""

    kind: str
    key: str
    fields: dict[str, str]
    line: int
    warnings: list[str]


class _Reader:
    def __init__(self, text: str, macros: dict[str, str]) -> None:
        self.text = text
        self.pos = 0
        self.macros = macros
        self.warnings: list[str] = []

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def expect(self, chars: str) -> str:
        self.skip_ws()
        if self.pos >= len(self.text) or self.text[self.pos] not in chars:
            found = self.text[self.pos] if self.pos < len(self.text) else "end of input"
            raise _BrokenEntryError(
                self.pos, f"expected {' or '.join(repr(c) for c in chars)}, found {found!r}"
            )
        self.pos += 1
        return self.text[self.pos - 1]

    def ident(self) -> str:
        self.skip_ws()
        match = _IDENT.match(self.text, self.pos)
        if not match:
            raise _BrokenEntryError(self.pos, "expected a name")
        self.pos = match.end()
        return match.group(0)

    def braced(self, close: str) -> str:
        """Text up to the matching `close`, nested braces kept; `pos` is after the opener."""
        start = self.pos
        depth = 0
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\":
                self.pos += 2
                continue
            if ch == "{":
                depth += 1
                if depth > _MAX_DEPTH:
                    raise _BrokenEntryError(self.pos, f"braces nested deeper than {_MAX_DEPTH}")
            elif ch == "}" and depth > 0:
                depth -= 1
            elif ch == close and depth == 0:
                self.pos += 1
                return self.text[start : self.pos - 1]
            elif ch == "@" and close == "}" and depth == 0 and self.text[self.pos - 1] == "\n":
                break  # the next entry began: this value was never closed
            self.pos += 1
        raise _BrokenEntryError(start, "value is never closed")

    def value(self) -> str:
        parts = []
        while True:
            self.skip_ws()
            ch = self.text[self.pos] if self.pos < len(self.text) else ""
            if ch == "{":
                self.pos += 1
                parts.append(self.braced("}"))
            elif ch == '"':
                self.pos += 1
                parts.append(self.braced('"'))
            elif ch.isdecimal():
                parts.append(self.ident())
            elif ch:
                name = self.ident().lower()
                if name in self.macros:
                    parts.append(self.macros[name])
                elif name in _MONTH_NAMES:
                    parts.append(_MONTH_NAMES[name])
                else:  # BibTeX: "warning: undefined string", and an empty string
                    self.warnings.append(f"undefined @string macro {name!r}; used as empty")
            else:
                raise _BrokenEntryError(self.pos, "value missing at end of input")
            self.skip_ws()
            if self.pos < len(self.text) and self.text[self.pos] == "#":
                self.pos += 1
                continue
            return "".join(parts)

    def entry_body(self, close: str) -> tuple[str, dict[str, str]]:
        key = ""
        self.skip_ws()
        if self.pos < len(self.text) and self.text[self.pos] not in ",=" + close:
            match = _KEY.match(self.text, self.pos)
            if not match:
                raise _BrokenEntryError(self.pos, "expected a citation key")
            self.pos = match.end()
            key = match.group(0)
        fields: dict[str, str] = {}
        while True:
            sep = self.expect("," + close)
            if sep == close:
                return key, fields
            self.skip_ws()
            if self.pos < len(self.text) and self.text[self.pos] == close:
                self.pos += 1
                return key, fields
            name = self.ident().lower()
            self.expect("=")
            fields[name] = self.value()


_MONTH_NAMES = {m: str(i) for m, i in _MONTHS.items()}


def read_entries(
    text: str, source: str, macros: dict[str, str] | None = None, first_line: int = 1
) -> Iterator[Entry | RecordError]:
    """Every entry of a BibTeX text (a whole file, or a piece of one starting at line
    `first_line` with the `@string` macros defined before it), with a RecordError for each
    broken one."""
    macros = {} if macros is None else macros
    counted, line = 0, first_line
    for match in _ENTRY_START.finditer(text):
        reader = _Reader(text, macros)
        reader.pos = match.end()
        line += text.count("\n", counted, match.start())
        counted = match.start()
        try:
            kind = reader.ident().lower()
            if kind == "comment":
                # BibTeX ignores the word; what follows is text between entries. A braced
                # body (JabRef's metadata) is skipped whole, as readers expect.
                reader.skip_ws()
                if reader.pos < len(text) and text[reader.pos] in "{(":
                    close = "}" if text[reader.pos] == "{" else ")"
                    reader.pos += 1
                    reader.braced(close)
                continue
            close = "}" if reader.expect("{(") == "{" else ")"
            if kind == "preamble":
                reader.braced(close)
                continue
            if kind == "string":
                reader.skip_ws()
                name = reader.ident().lower()
                reader.expect("=")
                macros[name] = reader.value()
                reader.expect(close)
                continue
            key, fields = reader.entry_body(close)
            yield Entry(kind, key, fields, line, reader.warnings)
        except _BrokenEntryError as exc:
            where = line + text.count("\n", counted, exc.position)
            yield RecordError(source, f"line {where} (entry at line {line})", str(exc))


def _bib_name(name: str) -> str:
    """'Vaswani, Ashish' -> 'Ashish Vaswani'; TeX converted, braces dropped."""
    name = clean_ws(tex_to_text(name).replace("{", "").replace("}", ""))
    if "," in name:
        parts = [p.strip() for p in name.split(",")]
        if len(parts) == 2:
            return f"{parts[1]} {parts[0]}".strip()
        if len(parts) == 3:  # von Last, Jr, First
            return f"{parts[2]} {parts[0]} {parts[1]}".strip()
    return name


def _plain(value: str) -> str:
    return tex_to_text(value)


def _published(fields: dict[str, str], problems: list[str]) -> date | None:
    """The date of an entry: BibLaTeX's ``date`` (ISO 8601 / EDTF: "2014-07-25",
    "2016-02", "1993-00-00", "2011-05-25/2012-06-26"), else ``year`` (+ ``month``)."""
    raw_date = fields.get("date", "").strip()
    if raw_date:
        match = _DATE.match(raw_date)
        if match:
            year = int(match.group(1))
            month = int(match.group(2) or 1) or 1  # "1993-00-00": month unknown
            day = int(match.group(3) or 1) or 1
            try:
                return date(year, month, day)
            except ValueError:
                try:
                    return date(year, month if 1 <= month <= 12 else 1, 1)
                except ValueError:
                    pass
        problems.append(f"date {raw_date[:40]!r} does not parse; ignored")
    year_text = fields.get("year", "").strip()
    if not year_text:
        return None
    match = _YEAR.search(year_text)
    if not match:
        problems.append(f"year {year_text[:40]!r} does not parse; ignored")
        return None
    month_text = fields.get("month", "1").strip().lower()[:3]
    month = int(month_text) if month_text.isdecimal() else _MONTHS.get(month_text, 1)
    return date(int(match.group(1)), month if 1 <= month <= 12 else 1, 1)


def entry_to_paper(entry: Entry, source: str, problems: list[str] | None = None) -> Paper:
    """One entry as a Paper; ValueError when it has no title. What had to be left out
    (a date that does not parse) is appended to `problems`."""
    problems = [] if problems is None else problems
    fields = entry.fields
    title = _plain(fields.get("title", ""))
    if not title:
        raise ValueError(f"entry {entry.key or entry.kind!r} has no title")
    arxiv_id = None
    eprint = fields.get("eprint", "")
    prefix = fields.get("archiveprefix") or fields.get("eprinttype") or "arxiv"
    if eprint and prefix.strip().lower() == "arxiv":
        arxiv_id = normalise_arxiv_id(eprint)
    if arxiv_id is None:
        for name in ("url", "journal", "note", "doi"):
            match = _ARXIV_MENTION.search(fields.get(name, ""))
            if match:
                arxiv_id = normalise_arxiv_id(match.group(1))
                break
    names = [n for n in re.split(r"\s+and\s+", fields.get("author", ""), flags=re.I) if n.strip()]
    published = _published(fields, problems)
    primary = (fields.get("primaryclass") or fields.get("eprintclass") or "").strip()
    categories = [primary] if primary else []
    abstract = _plain(fields.get("abstract", ""))
    url = fields.get("url", "").strip() or None
    return Paper(
        title=title,
        abstract=abstract,
        arxiv_id=arxiv_id,
        authors=[Author(_bib_name(n)) for n in names if n.strip().lower() != "others"],
        published=published,
        categories=categories,
        doi=fields.get("doi", "").strip() or None,
        url=url,
        journal_ref=_plain(
            fields.get("journal") or fields.get("journaltitle") or fields.get("booktitle", "")
        )
        or None,
        code_urls=extract_code_urls(f"{abstract} {url or ''} {fields.get('note', '')}"),
        sources=[FORMAT],
    )


# Entries never span two pieces: a piece ends just before a line that starts an entry.
_PIECE_END = re.compile(r"\n[ \t]*@")
PIECE_CHARS = 1 << 20
# One entry (with the text before the next) longer than this is skipped, not read: a
# bibliography entry is a few KB; an 800-byte bzip2 file can hold a 1 GB field.
MAX_ENTRY_CHARS = MAX_RECORD_BYTES
# UTF-16 files are decoded whole: no larger than this.
MAX_UTF16_BYTES = 64 * 1024 * 1024


def _pieces(stream: BinaryIO, source: str) -> Iterator[tuple[str, int] | RecordError]:
    """The decoded text in pieces of about PIECE_CHARS that end just before an entry, each
    with its first line number: a library of any size is read in constant memory. An
    entry longer than MAX_ENTRY_CHARS is read through (never held) and reported as a
    RecordError. Decoded leniently so one badly encoded entry does not cost the rest of
    the file (the entry holding a replacement character is reported instead of imported)."""
    head = stream.read(8192)
    check_not_binary(head, source)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16: rare and small; decoded whole
        rest = stream.read(MAX_UTF16_BYTES + 1 - len(head))
        if len(head) + len(rest) > MAX_UTF16_BYTES:
            raise ParseError(
                source, "size", f"UTF-16 text over {MAX_UTF16_BYTES:,} bytes; save it as UTF-8"
            )
        yield decode_text(head + rest, source), 1
        return
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    buffer, line, chunk = "", 1, head
    last = 0  # where the last entry that starts in the buffer starts
    while chunk:
        searched = max(0, len(buffer) - 64)
        buffer += decoder.decode(chunk)
        for found in _PIECE_END.finditer(buffer, searched):
            last = found.start() + 1
        if len(buffer) >= PIECE_CHARS and last > 0:
            piece, buffer = buffer[:last], buffer[last:]
            yield piece, line
            line += piece.count("\n")
            last = 0
        if len(buffer) - last > MAX_ENTRY_CHARS:
            if last > 0:
                piece, buffer = buffer[:last], buffer[last:]
                yield piece, line
                line += piece.count("\n")
            skipped, buffer, lines = _skip_entry(buffer, stream, decoder)
            yield RecordError(
                source,
                f"line {line}",
                f"entry of more than {skipped:,} characters exceeds the "
                f"{MAX_ENTRY_CHARS:,}-character limit of one entry; skipped",
            )
            line += lines
            last = 0
        chunk = stream.read(PIECE_CHARS)
    buffer += decoder.decode(b"", final=True)
    if buffer:
        yield buffer, line


def _skip_entry(
    buffer: str, stream: BinaryIO, decoder: codecs.IncrementalDecoder
) -> tuple[int, str, int]:
    """Read through an oversized entry to the next line that starts an entry, holding one
    chunk at a time: (characters skipped, the text from that next entry on, lines skipped)."""
    skipped = lines = 0
    tail = buffer
    while True:
        found = _PIECE_END.search(tail, 1)
        if found is not None:
            cut = found.start() + 1
            return skipped + cut, tail[cut:], lines + tail.count("\n", 0, cut)
        keep = tail[-64:]  # an entry start may straddle two chunks
        skipped += len(tail) - len(keep)
        lines += tail.count("\n", 0, len(tail) - len(keep))
        chunk = stream.read(PIECE_CHARS)
        if not chunk:
            rest = keep + decoder.decode(b"", final=True)
            return skipped + len(rest), "", lines + rest.count("\n")
        tail = keep + decoder.decode(chunk)


def _entries(stream: BinaryIO, source: str) -> Iterator[Entry | RecordError]:
    macros: dict[str, str] = {}
    for piece in _pieces(stream, source):
        if isinstance(piece, RecordError):
            yield piece
        else:
            yield from read_entries(piece[0], source, macros, piece[1])


def parse(data: Input, source: str = "<bibtex>") -> Iterator[Parsed]:
    """Papers of a BibTeX file, read piece by piece, each entry with the fields its
    ``crossref`` gives it (see paperwire.ingest.crossref)."""
    for resolved_item in resolved(_entries(as_stream(data), source)):
        if isinstance(resolved_item, RecordError):
            yield resolved_item
            continue
        item, crossref_problem = resolved_item
        if any("\ufffd" in value for value in item.fields.values()):
            yield RecordError(source, f"line {item.line}", "entry is not valid UTF-8; skipped")
            continue
        where = f"line {item.line} ({item.key or item.kind})"
        problems = list(item.warnings)
        if crossref_problem:
            problems.append(crossref_problem)
        try:
            paper = entry_to_paper(item, source, problems)
        except ValueError as exc:
            yield RecordError(source, f"line {item.line}", str(exc))
            continue
        for problem in dict.fromkeys(problems):
            yield RecordWarning(source, where, problem)
        yield paper
