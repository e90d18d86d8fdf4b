"""A comment's Markdown as safe HTML, rendered on the server.

The subset: paragraphs, emphasis, inline code and code blocks, lists, quotes, links, and
math — ``$…$`` inline and ``$$…$$`` on its own — as MathML. Three steps, each its own
guard:

1. markdown-it-py (CommonMark) with raw HTML off and the rules outside the subset off
   (headings, rules, tables, images), nesting cut off at MAX_NESTING;
2. nh3 (ammonia) over its output with an explicit allow-list of elements and attributes:
   links keep only http(s)/mailto targets and get ``rel="nofollow ugc noopener"``;
   ``@handle`` becomes a link to ``/users/<handle>`` (the one relative link made here);
3. each formula is converted by texmath (latex2mathml rebuilt from its allow-list; a
   formula that does not convert or pass is its escaped TeX) and put in place only after
   the sanitiser ran, through a placeholder of private-use characters that cannot come
   from the input (they are removed from it first).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Container, Sequence
from functools import lru_cache
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup, escape
from mdit_py_plugins.dollarmath import dollarmath_plugin

from paperwire import texmath
from paperwire.lru import ByteLRU

# Bumped whenever what render() makes changes: HTML stored by an older version is not
# used (the page renders the Markdown again).
VERSION = 2  # 2: a code block is focusable (tabindex="0", issue 27)
MAX_CHARS = 10_000  # a comment longer than this is refused (discussion/rules.py)
# A comment whose HTML is larger than this is refused too (discussion/rules.py): 3,331
# `$x$` (10,000 characters) made 180 KB of MathML, and a page of such comments 10.8 MB
# (issue 25). Prose renders to about its own size, a code block of `<` to 4x; past
# texmath.MAX_FORMULAS formulas the rest is shown as source, 37 bytes a `$x$`.
MAX_HTML_BYTES = 64 * 1024
RENDERED_CACHE_BYTES = 32 * 1024 * 1024  # render_cached's memory
MAX_NESTING = 20  # lists and quotes deeper than this are cut off there

TAGS = frozenset(
    {"p", "br", "em", "strong", "code", "pre", "ul", "ol", "li", "blockquote", "a", "span"}
)
ATTRIBUTES: dict[str, set[str]] = {"a": {"href", "class"}, "ol": {"start"}, "span": {"class"}}
SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"
# The classes the renderer itself sets (a mention, a formula that did not convert).
CLASSES = {"a": {"mention"}, "span": {"math-source"}}

HANDLE = re.compile(r"(?<![\w@/.:-])@([A-Za-z0-9][A-Za-z0-9_-]{0,39})")
_OPEN, _CLOSE = "\ue000", "\ue001"
_SLOT = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
_PRIVATE = re.compile(f"[{_OPEN}{_CLOSE}]")
_ABSOLUTE = re.compile(r"(?i)^(https?://[^\s/?#]+[^\s]*|mailto:[^\s]+)$")


def mentions(text: str) -> list[str]:
    """The handles a text mentions (``@handle``, outside code), first time each, in order."""
    found: list[str] = []
    for token in _parser().parse(_PRIVATE.sub("", text)):
        for child in token.children or []:
            if child.type == "text":
                for handle in HANDLE.findall(child.content):
                    if handle not in found:
                        found.append(handle)
    return found


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt(
        "commonmark",
        {"html": False, "linkify": False, "typographer": False, "maxNesting": MAX_NESTING},
    )
    md.disable(["heading", "lheading", "hr", "html_block", "html_inline", "image", "table"], True)
    md.use(
        dollarmath_plugin,
        allow_labels=False,
        allow_space=False,
        allow_digits=False,
        double_inline=True,
    )
    return md


class _Renderer(RendererHTML):
    """markdown-it's HTML renderer with the formulas set aside (numbered slots), links
    checked, and mentions linked."""

    def __init__(self, parser: Any = None) -> None:
        super().__init__(parser)
        self.formulas: list[tuple[str, bool]] = []
        self.handles: Container[str] | None = None
        self.link_depth = 0

    def _slot(self, tex: str, block: bool) -> str:
        self.formulas.append((tex, block))
        return f"{_OPEN}{len(self.formulas) - 1}{_CLOSE}"

    def math_inline(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return self._slot(tokens[idx].content, False)

    def math_inline_double(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return self._slot(tokens[idx].content, True)

    def math_block(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return f"<p>{self._slot(tokens[idx].content, True)}</p>\n"

    def link_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        href = str(tokens[idx].attrGet("href") or "")
        self.link_depth += 1
        if not _ABSOLUTE.match(href):  # relative, javascript:, data:, …: the text only
            tokens[idx].attrs.pop("href", None)
        return self.renderToken(tokens, idx, options, env)

    def link_close(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        self.link_depth -= 1
        return self.renderToken(tokens, idx, options, env)

    def text(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        content = tokens[idx].content
        if self.link_depth or "@" not in content:
            return str(escape(content))
        out: list[str] = []
        position = 0
        for match in HANDLE.finditer(content):
            handle = match.group(1)
            if self.handles is not None and handle not in self.handles:
                continue
            out.append(str(escape(content[position : match.start()])))
            out.append(f'<a class="mention" href="/users/{handle}">@{handle}</a>')
            position = match.end()
        out.append(str(escape(content[position:])))
        return "".join(out)


def _formula(tex: str, block: bool) -> str:
    converted = texmath.mathml(tex, block)
    return str(converted) if converted is not None else _source(tex, block)


def _source(tex: str, block: bool) -> str:
    source = f"$${tex}$$" if block else f"${tex}$"
    return f'<span class="math-source">{escape(source)}</span>'


def _attribute_filter(element: str, attribute: str, value: str) -> str | None:
    if attribute == "class":
        return value if value in CLASSES.get(element, set()) else None
    if element == "a" and attribute == "href":
        return (
            value if _ABSOLUTE.match(value) or re.fullmatch(r"/users/[\w-]{1,40}", value) else None
        )
    if element == "ol" and attribute == "start":
        return value if value.isdecimal() and len(value) <= 6 else None
    return value


def render(text: str, handles: Container[str] | None = None) -> Markup:
    """A comment's Markdown as sanitised HTML. `handles`: the handles that exist (a
    mention of any other is left as text); None links every handle-shaped mention."""
    md = _parser()
    renderer = _Renderer(md)
    renderer.handles = handles
    tokens = md.parse(_PRIVATE.sub("", text))
    raw = renderer.render(tokens, md.options, {})
    clean = nh3.clean(
        raw,
        tags=set(TAGS),
        attributes=ATTRIBUTES,
        url_schemes=set(SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
        attribute_filter=_attribute_filter,
    )
    formulas = renderer.formulas

    def formula(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if number >= len(formulas):
            return ""
        tex, block = formulas[number]
        if number >= texmath.MAX_FORMULAS:  # past the bound: the source, not converted
            return _source(tex, block)
        return _formula(tex, block)

    # A code block scrolls sideways on a phone: focusable, so a keyboard can scroll it
    # (axe's scrollable-region-focusable). After nh3 every "<pre>" is an element: text
    # that reads "<pre>" is escaped by then.
    html = _SLOT.sub(formula, clean).replace("<pre>", '<pre tabindex="0">')
    return Markup(html)  # noqa: S704 -- sanitised by nh3; formulas rebuilt by texmath


_rendered: ByteLRU[bytes, Markup] = ByteLRU(RENDERED_CACHE_BYTES)


def render_cached(text: str) -> Markup:
    """render() with every handle-shaped mention linked, memoised per text's hash in a
    byte-bounded LRU (a page of many comments renders each text once per process)."""
    key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    found = _rendered.get(key)
    if found is None:
        found = render(text)
        _rendered.put(key, found, len(found))
    return found


def clear_rendered() -> None:
    """Forget every memoised rendering (render_cached): a benchmark's cold path."""
    _rendered.clear()


def stored(text: str, handles: Container[str] | None = None) -> tuple[str, int]:
    """What the store keeps beside a comment's Markdown: its HTML (mentions linked for
    `handles`, the readers that exist) and VERSION. A page
    of 500 comments rendered from Markdown each time took 869 ms p95 (latex2mathml and
    markdown-it); from the stored HTML, 56 ms (bench/RESULTS.md §13)."""
    return str(render(text, handles)), VERSION


def plain(text: str, limit: int = 300) -> str:
    """A comment as one line of plain text (mail, feed titles): the Markdown source with
    runs of space collapsed, cut at `limit` characters."""
    line = " ".join(_PRIVATE.sub("", text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
