"""The bits of TeX that arXiv and BibTeX metadata carry in names and titles: accent
commands (Bal\\'azs -> Balázs), a few special letters, and author lists written as one
string ("A. Smith, B. Jones and C. Wu (MIT)")."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

# Combining marks for TeX's accent commands.
_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "c": "\u0327",
    "v": "\u030c",
    "H": "\u030b",
    "u": "\u0306",
    "k": "\u0328",
    "r": "\u030a",
    "d": "\u0323",
    "b": "\u0331",
}
_LETTERS = {
    "ss": "ß",
    "o": "ø",
    "O": "Ø",
    "aa": "å",
    "AA": "Å",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "l": "ł",
    "L": "Ł",
    "i": "ı",
    "j": "ȷ",
}
# \'{a}  \'a  {\'a}  \c{c}  \v s  ...: symbol accents take the letter directly,
# letter accents (\c, \v, ...) need braces or a space.
_ACCENT_RE = re.compile(
    r"\{?\\(?P<sym>['`^\"~=.])\s*(?:\{\\?(?P<a>[A-Za-z])\}|\\?(?P<b>[A-Za-z]))\}?"
    r"|\{?\\(?P<cmd>[cvHukrdb])(?:\{\\?(?P<c>[A-Za-z])\}|\s+(?P<d>[A-Za-z]))\}?"
)
_LETTER_RE = re.compile(r"\{?\\(ss|aa|AA|ae|AE|oe|OE|o|O|l|L|i|j)(?![A-Za-z])\}?")


def _accent(match: re.Match[str]) -> str:
    mark = _ACCENTS[match.group("sym") or match.group("cmd")]
    base = next(g for g in (match.group(n) for n in "abcd") if g)
    return unicodedata.normalize("NFC", base + mark)


def detex(text: str) -> str:
    """Replace TeX accents and special letters by Unicode; leaves math alone."""
    if "\\" not in text:
        return text
    text = _ACCENT_RE.sub(_accent, text)
    return _LETTER_RE.sub(lambda m: _LETTERS[m.group(1)], text)


def split_authors(text: str) -> list[tuple[str, str | None]]:
    """Split "A. Smith (MIT), B. Jones and C. Wu" into (name, affiliation) pairs.
    Commas and 'and' split only outside parentheses; a trailing block of numbered
    affiliations "((1) MIT, (2) CMU)" is dropped from the names."""
    text = " ".join(detex(text).split())
    text = re.sub(r"\(\(\d.*\)\)\s*$", "", text)
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    tokens = re.split(r"(\(|\)|,|\s+and\s+|;)", text)
    for token in tokens:
        if token == "(":
            depth += 1
        elif token == ")":
            depth = max(0, depth - 1)
        if depth == 0 and (token in {",", ";"} or re.fullmatch(r"\s+and\s+", token or "")):
            parts.append("".join(current))
            current = []
            continue
        current.append(token or "")
    parts.append("".join(current))
    authors: list[tuple[str, str | None]] = []
    for part in parts:
        part = part.strip()
        if part.lower().startswith("and "):
            part = part[4:].strip()
        if not part:
            continue
        match = re.match(r"^(?P<name>[^()]*?)\s*\((?P<aff>.*)\)\s*$", part)
        if match and match.group("name"):
            affiliation = match.group("aff").strip()
            # "(1)" style markers are not affiliations
            authors.append(
                (match.group("name").strip(), None if affiliation.isdecimal() else affiliation)
            )
        else:
            authors.append((part, None))
    return authors


@lru_cache(maxsize=1)
def _contexts() -> tuple[Any, Any]:
    """pylatexenc's parsing and text contexts, plus the macros BibTeX files use that its
    defaults drop (\\mbox keeps its argument) or render oddly (\\textasciicircum)."""
    from pylatexenc import (
        latex2text,
        latexwalker,
        macrospec,
    )

    walker = latexwalker.get_default_latex_context_db()
    text = latex2text.get_default_latex_context_db()
    kept = {"mbox": "%s", "hbox": "%s", "text": "%s", "textrm": "%s", "mathrm": "%s"}
    symbols = {"textasciicircum": "^", "textasciitilde": "~", "textbackslash": "\\"}
    walker.add_context_category(
        "paperwire",
        macros=[macrospec.MacroSpec(name, "{") for name in kept]
        + [macrospec.MacroSpec(name, "") for name in symbols],
        prepend=True,
    )
    text.add_context_category(
        "paperwire",
        macros=[
            latex2text.MacroTextSpec(n, simplify_repl=r) for n, r in {**kept, **symbols}.items()
        ],
        prepend=True,
    )
    return walker, latex2text.LatexNodes2Text(
        latex_context=text, math_mode="text", strict_latex_spaces=True
    )


_TEX_SPECIAL = re.compile(r"[\\{}$~%&^_]")


def tex_to_text(text: str) -> str:
    """LaTeX as a reader sees it (pylatexenc): commands applied or dropped (``{\\sc
    CONNIVER}`` -> "CONNIVER", ``\\emph{x}`` -> "x"), accents and escapes resolved, math
    kept readable as text (``$\\mu$J`` -> "μJ", ``mm$^2$`` -> "mm^2"); white space
    collapsed. Text without TeX's special characters is returned as it is (fast path)."""
    if not _TEX_SPECIAL.search(text):
        return " ".join(text.split())
    from pylatexenc import latexwalker

    walker_context, converter = _contexts()
    walker = latexwalker.LatexWalker(text, latex_context=walker_context, tolerant_parsing=True)
    try:
        nodes, _, _ = walker.get_latex_nodes()
        converted = converter.nodelist_to_text(nodes)
    except (latexwalker.LatexWalkerError, IndexError, ValueError, RecursionError):
        converted = detex(text).replace("{", "").replace("}", "")
    return " ".join(str(converted).split())
