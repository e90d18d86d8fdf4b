"""TeX in titles and abstracts, as readers should see it: math (``$…$``, ``\\(…\\)``,
``$$…$$``, ``\\[…\\]``) as MathML rendered on the server, so that pages, feeds and mail
read well without a script; text-mode LaTeX (``{\\it …}``, ``\\"o``, ``---``) as Unicode.

The MathML that latex2mathml produces is parsed and rebuilt from an allow-list of
presentation elements and attributes (values of a safe alphabet, no links), so nothing
an abstract holds can become markup beyond it; anything that does not convert or pass is
shown as its escaped TeX."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from defusedxml import ElementTree
from markupsafe import Markup, escape

from paperwire.lru import ByteLRU
from paperwire.texrepair import repair

MATHML = "http://www.w3.org/1998/Math/MathML"
ELEMENTS = frozenset(
    [
        "math",
        "mrow",
        "mi",
        "mn",
        "mo",
        "ms",
        "mtext",
        "mspace",
        "msup",
        "msub",
        "msubsup",
        "mfrac",
        "msqrt",
        "mroot",
        "mover",
        "munder",
        "munderover",
        "mtable",
        "mtr",
        "mtd",
        "mlabeledtr",
        "mstyle",
        "mpadded",
        "mphantom",
        "menclose",
        "merror",
        "mmultiscripts",
        "mprescripts",
        "none",
        "semantics",
    ]
)
ATTRIBUTES = frozenset(
    [
        "display",
        "mathvariant",
        "stretchy",
        "fence",
        "separator",
        "accent",
        "accentunder",
        "movablelimits",
        "form",
        "lspace",
        "rspace",
        "width",
        "height",
        "depth",
        "linethickness",
        "columnalign",
        "rowalign",
        "columnspacing",
        "rowspacing",
        "columnlines",
        "rowlines",
        "frame",
        "displaystyle",
        "scriptlevel",
        "notation",
        "largeop",
        "symmetric",
        "minsize",
        "maxsize",
        "align",
        "bevelled",
        "numalign",
        "denomalign",
        "voffset",
        "mathsize",
        "alttext",
    ]
)
# Attribute values: words, numbers, units, spaces (no quotes, colons, parentheses).
SAFE_VALUE = re.compile(r"[\w .%+-]{0,64}")
ALTTEXT_VALUE = re.compile(r"[^\x00-\x1f\x7f]{0,500}")
# Elements that need an exact number of children (a fraction with one part is broken TeX).
ARITY = {
    "mfrac": 2,
    "msup": 2,
    "msub": 2,
    "mroot": 2,
    "mover": 2,
    "munder": 2,
    "msubsup": 3,
    "munderover": 3,
}
MAX_MATH = 500  # characters of TeX in one formula; longer is shown as its source

Kind = Literal["text", "inline", "block", "source"]


@dataclass(frozen=True)
class Segment:
    """A piece of a title or abstract: plain text, a formula (its TeX, delimiters
    removed) shown inline or as a block, or the source past the formula limit."""

    kind: Kind
    tex: str
    source: str  # the piece as written, delimiters included


# What a formula looks like. $$…$$ and \[…\] are blocks; \(…\) inline; $…$ inline by
# pandoc's rule: no space just inside the dollars and no digit just after the closing one
# ("costs $5 and $10" is text). The scanner below finds exactly what this regular
# expression finds (tests/test_render_bounds.py checks one against the other), in one
# pass: the expression itself, on a text with many openers and no closer (``\[`` × 5,000),
# looked for a closer from every opener to the end, O(n²).
#   (?<!\\)\$\$(.+?)(?<!\\)\$\$ | \\\[(.+?)\\\] | \\\((.+?)\\\)
#   | (?<![\\$])\$([^\s$](?:[^$]*?[^\s\\$])?)\$(?![\d$])   (re.DOTALL)
_OPENER = re.compile(r"[$\\]")
# Formulas converted per field (a title, an abstract, a comment); the rest of the field
# is shown as its escaped source. An abstract of 7,000 `$x$y` was 7,000 conversions and
# 850 KB of MathML on every page that listed it (issue 25); real abstracts hold tens.
MAX_FORMULAS = 100
CACHE_BYTES = 32 * 1024 * 1024  # rendered titles and abstracts kept in memory


def _closer(text: str, closer: str, unescaped: bool) -> Callable[[int], int]:
    """The first index >= start where `closer` begins (not after a backslash, when
    `unescaped`), -1 for none; for starts that never decrease, each character of the
    text is searched once in all."""
    found = -2  # the answer for every start in (the last start, found]; -1: none at all

    def first(start: int) -> int:
        nonlocal found
        if found == -1 or found >= start:
            return found
        position = text.find(closer, start)
        while position > 0 and unescaped and text[position - 1] == "\\":
            position = text.find(closer, position + 1)
        found = position
        return position

    return first


def formulas(text: str, limit: int | None = None) -> list[tuple[int, int, Kind, str]]:
    """Every formula of a text, in order, as (start, end, kind, its TeX), at most
    `limit`: linear in the text's length."""
    found: list[tuple[int, int, Kind, str]] = []
    double = _closer(text, "$$", True)
    bracket = _closer(text, "\\]", False)
    paren = _closer(text, "\\)", False)
    size = len(text)
    position = 0
    while limit is None or len(found) < limit:
        opener = _OPENER.search(text, position)
        if opener is None:
            break
        at = opener.start()
        before = text[at - 1] if at else ""
        match: tuple[int, int, Kind, str] | None = None
        if text.startswith("$$", at):
            if before != "\\" and (end := double(at + 3)) != -1:
                match = (at, end + 2, "block", text[at + 2 : end])
        elif text[at] == "$":
            match = _dollar(text, at, before, size)
        elif text.startswith("\\[", at) and (end := bracket(at + 3)) != -1:
            match = (at, end + 2, "block", text[at + 2 : end])
        elif text.startswith("\\(", at) and (end := paren(at + 3)) != -1:
            match = (at, end + 2, "inline", text[at + 2 : end])
        if match is None:
            position = at + 1
        else:
            found.append(match)
            position = match[1]
    return found


def _dollar(text: str, at: int, before: str, size: int) -> tuple[int, int, Kind, str] | None:
    """The inline formula `$…$` opening at `at`, by pandoc's rule, or None."""
    if before in ("\\", "$") or at + 1 >= size or text[at + 1].isspace() or text[at + 1] == "$":
        return None
    end = text.find("$", at + 2)  # a formula holds no dollar: the next one closes it
    if end == -1:
        return None
    if end > at + 2 and (text[end - 1].isspace() or text[end - 1] == "\\"):
        return None
    after = text[end + 1 : end + 2]
    if after == "$" or after.isdecimal():
        return None
    return (at, end + 1, "inline", text[at + 1 : end])


def segments(text: str, limit: int | None = MAX_FORMULAS) -> list[Segment]:
    """The text cut into plain pieces and formulas, in order; past `limit` formulas the
    rest is one piece of kind "source" (shown as written)."""
    out: list[Segment] = []
    position = 0
    found = formulas(text, None if limit is None else limit + 1)
    for start, end, kind, tex in found[:limit]:
        if start > position:
            out.append(Segment("text", text[position:start], text[position:start]))
        out.append(Segment(kind, tex, text[start:end]))
        position = end
    if position < len(text):
        rest: Kind = "source" if limit is not None and len(found) > limit else "text"
        out.append(Segment(rest, text[position:], text[position:]))
    return out


def has_tex(text: str) -> bool:
    """Whether a text holds anything TeX would change (a formula, a command, braces)."""
    return bool(text) and ("$" in text or "\\" in text or "{" in text or "--" in text)


_rendered: ByteLRU[tuple[str, int, bytes], object] = ByteLRU(CACHE_BYTES)


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def html(text: str) -> Markup:
    """A title or abstract as safe HTML: formulas as sanitised MathML, the rest as
    Unicode text, escaped. Kept in a bounded cache by the text's hash: the same
    abstracts are shown on page after page, and a conversion costs milliseconds.
    Command names that lost their backslash are repaired first (paperwire.texrepair)."""
    text = repair(text)
    if not has_tex(text):
        return escape(text)
    key = ("html", 0, _digest(text))
    found = _rendered.get(key)
    if isinstance(found, Markup):
        return found
    made = _html(text)
    _rendered.put(key, made, len(made) + len(text) // 4)
    return made


def _html(text: str) -> Markup:
    parts: list[Markup] = []
    for segment in segments(text):
        if segment.kind == "text":
            parts.append(escape(text_mode(segment.tex)))
        elif segment.kind == "source":
            parts.append(escape(segment.source))
        else:
            parts.append(mathml(segment.tex, segment.kind == "block") or escape(segment.source))
    return Markup("").join(parts)


def folded(text: str, words: int = 45) -> tuple[Markup, Markup]:
    """A card's abstract as HTML: the first `words` words (never cutting a formula) and
    the rest, the rest empty when nothing was cut; rendered once per text (cached by its
    hash), so a list page does no TeX work for an abstract it has shown before."""
    key = ("folded", words, _digest(text))
    found = _rendered.get(key)
    if isinstance(found, tuple):
        return found
    head, rest = split_words(text, words)
    made = (html(head), html(rest)) if rest else (html(text), Markup(""))
    _rendered.put(key, made, len(made[0]) + len(made[1]))
    return made


def plain(text: str) -> str:
    """A title or abstract as Unicode text (mail text parts, feed titles, page titles):
    TeX commands and formulas converted as far as Unicode goes (``𝒪(n log n)``)."""
    text = repair(text)
    if not has_tex(text):
        return text
    key = ("plain", 0, _digest(text))
    found = _rendered.get(key)
    if isinstance(found, str):
        return found
    made = "".join(
        text_mode(s.tex)
        if s.kind == "text"
        else s.source
        if s.kind == "source"
        else math_text(s.tex)
        for s in segments(text)
    )
    _rendered.put(key, made, len(made))
    return made


_SPACE = re.compile(r"\s+")


def split_words(text: str, words: int = 45) -> tuple[str, str]:
    """A text cut after `words` words at a space outside any formula: (the head, the
    rest), the rest empty when nothing was cut. A formula counts as one word. One pass
    over the text (it was O(characters × formulas): 6.8 s for 8,000 formulas)."""
    if words < 1:
        return text, ""
    count = 0
    in_word = False
    position = 0
    for start, end, _, _ in [*formulas(text), (len(text), len(text), "text", "")]:
        for space in _SPACE.finditer(text, position, start):
            if in_word or space.start() > position:  # a word ends here
                count += 1
                if count == words:
                    rest = text[space.start() :].strip()
                    return (text[: space.start()], rest) if rest else (text, "")
            in_word = False
            position = space.end()
        in_word = in_word or position < start or end > start
        position = end
    return text, ""


@lru_cache(maxsize=1)
def _converter() -> object:
    from pylatexenc.latex2text import LatexNodes2Text

    logging.getLogger("pylatexenc").setLevel(logging.ERROR)  # broken TeX falls back quietly
    return LatexNodes2Text(math_mode="text", strict_latex_spaces=False)


_BARE_PERCENT = re.compile(r"(?<!\\)%")


def text_mode(tex: str) -> str:
    """Text-mode LaTeX as Unicode (``{\\it x}`` → x, ``\\"o`` → ö, ``---`` → —). A text
    with no command or brace is returned as it is (a bare ``%`` is a percent sign here,
    not a TeX comment)."""
    if "\\" not in tex and "{" not in tex:
        return tex.replace("---", "\u2014").replace("--", "\u2013")
    return _to_text(_BARE_PERCENT.sub(r"\\%", tex))


def math_text(tex: str) -> str:
    """A formula as the closest Unicode text (for plain-text mail and feed titles); its
    TeX when it does not convert."""
    converted = _to_text(_BARE_PERCENT.sub(r"\\%", tex))
    return tex if "%s" in converted and "%s" not in tex else converted


def _to_text(tex: str) -> str:
    try:
        converted: str = _converter().latex_to_text(tex)  # type: ignore[attr-defined]
    except Exception:  # pylatexenc raises a zoo of errors on broken input: keep the source
        return tex
    # pylatexenc keeps TeX's spacing rules; keep the author's outer spaces.
    lead = tex[: len(tex) - len(tex.lstrip())]
    trail = tex[len(tex.rstrip()) :]
    return lead + converted.strip() + trail


@lru_cache(maxsize=4096)
def mathml(tex: str, block: bool = False) -> Markup | None:
    """A formula as sanitised MathML, or None when it does not convert or does not pass
    the allow-list."""
    if not tex.strip() or len(tex) > MAX_MATH:
        return None
    from latex2mathml.converter import convert

    try:
        raw = convert(tex, display="block" if block else "inline")
    except Exception:  # latex2mathml raises its own and plain errors on bad TeX
        return None
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError:
        return None
    root.set("alttext", " ".join(tex.split()))
    return sanitise(root)


def sanitise(element: object) -> Markup | None:
    """An ElementTree of MathML rebuilt from the allow-list, or None if anything in it
    is not allowed (an element, an attribute, a value)."""
    out: list[str] = []
    if not _emit(element, out):
        return None
    return Markup("".join(out))  # noqa: S704 -- every name, value and text escaped in _emit


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def _emit(element: object, out: list[str]) -> bool:
    tag = getattr(element, "tag", None)
    if not isinstance(tag, str):
        return False
    namespace, name = _local(tag)
    if namespace not in ("", MATHML) or name not in ELEMENTS:
        return False
    attributes = []
    for key, value in getattr(element, "attrib", {}).items():
        if key not in ATTRIBUTES:
            return False
        pattern = ALTTEXT_VALUE if key == "alttext" else SAFE_VALUE
        if not pattern.fullmatch(value):
            return False
        attributes.append(f' {key}="{escape(value)}"')
    if name in ARITY and len(list(element)) != ARITY[name]:  # type: ignore[call-overload]
        return False
    if name == "math":
        attributes.insert(0, f' xmlns="{MATHML}"')
    out.append(f"<{name}{''.join(attributes)}>")
    out.append(str(escape(getattr(element, "text", None) or "")))
    for child in element:  # type: ignore[attr-defined]
        if not _emit(child, out):
            return False
        out.append(str(escape(child.tail or "")))
    out.append(f"</{name}>")
    return True
