"""TeX in titles and abstracts, as readers should see it: math (``$…$``, ``\\(…\\)``,
``$$…$$``, ``\\[…\\]``) as MathML rendered on the server, so that pages, feeds and mail
read well without a script; text-mode LaTeX (``{\\it …}``, ``\\"o``, ``---``) as Unicode.

The MathML that latex2mathml produces is parsed and rebuilt from an allow-list of
presentation elements and attributes (values of a safe alphabet, no links), so nothing
an abstract holds can become markup beyond it; anything that does not convert or pass is
shown as its escaped TeX."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from defusedxml import ElementTree
from markupsafe import Markup, escape

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
ARITY = {"mfrac": 2, "msup": 2, "msub": 2, "mroot": 2, "mover": 2, "munder": 2,
         "msubsup": 3, "munderover": 3}  # fmt: skip
MAX_MATH = 500  # characters of TeX in one formula; longer is shown as its source

Kind = Literal["text", "inline", "block"]


@dataclass(frozen=True)
class Segment:
    """A piece of a title or abstract: plain text, or a formula (its TeX, delimiters
    removed) shown inline or as a block."""

    kind: Kind
    tex: str
    source: str  # the piece as written, delimiters included


# $$…$$ and \[…\] are blocks; \(…\) inline; $…$ inline by pandoc's rule: no space just
# inside the dollars and no digit just after the closing one ("costs $5 and $10" is text).
_MATH = re.compile(
    r"(?<!\\)\$\$(?P<dd>.+?)(?<!\\)\$\$"
    r"|\\\[(?P<bracket>.+?)\\\]"
    r"|\\\((?P<paren>.+?)\\\)"
    r"|(?<![\\$])\$(?P<d>[^\s$](?:[^$]*?[^\s\\$])?)\$(?![\d$])",
    re.DOTALL,
)


def segments(text: str) -> list[Segment]:
    """The text cut into plain pieces and formulas, in order."""
    out: list[Segment] = []
    position = 0
    for match in _MATH.finditer(text):
        if match.start() > position:
            out.append(
                Segment("text", text[position : match.start()], text[position : match.start()])
            )
        kind: Kind = "block" if match.group("dd") or match.group("bracket") else "inline"
        tex = next(g for g in match.group("dd", "bracket", "paren", "d") if g is not None)
        out.append(Segment(kind, tex, match.group(0)))
        position = match.end()
    if position < len(text):
        out.append(Segment("text", text[position:], text[position:]))
    return out


def has_tex(text: str) -> bool:
    """Whether a text holds anything TeX would change (a formula, a command, braces)."""
    return bool(text) and ("$" in text or "\\" in text or "{" in text or "--" in text)


@lru_cache(maxsize=4096)
def html(text: str) -> Markup:
    """A title or abstract as safe HTML: formulas as sanitised MathML, the rest as
    Unicode text, escaped. Cached: the same abstracts are shown on page after page, and
    a conversion costs milliseconds."""
    if not has_tex(text):
        return escape(text)
    parts: list[Markup] = []
    for segment in segments(text):
        if segment.kind == "text":
            parts.append(escape(text_mode(segment.tex)))
        else:
            parts.append(mathml(segment.tex, segment.kind == "block") or escape(segment.source))
    return Markup("").join(parts)


@lru_cache(maxsize=4096)
def plain(text: str) -> str:
    """A title or abstract as Unicode text (mail text parts, feed titles, page titles):
    TeX commands and formulas converted as far as Unicode goes (``𝒪(n log n)``)."""
    if not has_tex(text):
        return text
    return "".join(
        text_mode(s.tex) if s.kind == "text" else math_text(s.tex) for s in segments(text)
    )


def split_words(text: str, words: int = 45) -> tuple[str, str]:
    """A text cut after `words` words at a space outside any formula: (the head, the
    rest), the rest empty when nothing was cut. A formula counts as one word."""
    inside = [(m.start(), m.end()) for m in _MATH.finditer(text)]
    if not inside:  # no formula: the cut is after the `words`-th run of non-spaces
        head = re.match(rf"\s*(?:\S+\s+){{{max(words - 1, 0)}}}\S+", text)
        if head is None or words < 1:
            return text, ""
        rest = text[head.end() :].strip()
        return (head.group(0), rest) if rest else (text, "")
    count = 0
    in_word = False
    for index, char in enumerate(text):
        if any(start <= index < end for start, end in inside):
            in_word = True
            continue
        if char.isspace():
            if in_word:
                count += 1
                in_word = False
                if count == words:
                    rest = text[index:].strip()
                    return (text[:index], rest) if rest else (text, "")
        else:
            in_word = True
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
