"""Comment rendering (discussion/markup.py): the Markdown subset, math as MathML, and
hostile input — every element and attribute of the rendered HTML is checked against the
allow-list, for hand-written attacks and for Hypothesis-built ones."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from paperwire import texmath
from paperwire.discussion.markup import LINK_REL, mentions, plain, render

HTML_ALLOWED = {
    "p": set(),
    "br": set(),
    "em": set(),
    "strong": set(),
    "code": set(),
    "pre": {"tabindex"},  # "0", set by the renderer (checked below)
    "ul": set(),
    "ol": {"start"},
    "li": set(),
    "blockquote": set(),
    "a": {"href", "rel", "class"},
    "span": {"class"},
}


class Checker(HTMLParser):
    """Every start tag and attribute of a rendering, checked as it is parsed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_math = 0
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "math" or self.in_math:
            if tag not in texmath.ELEMENTS:
                self.problems.append(f"<{tag}> inside math")
            for name, value in attrs:
                if name == "xmlns" and tag == "math" and value == texmath.MATHML:
                    continue
                if name not in texmath.ATTRIBUTES:
                    self.problems.append(f"{tag}[{name}] inside math")
            self.in_math += 1
            return
        if tag not in HTML_ALLOWED:
            self.problems.append(f"<{tag}>")
            return
        for name, value in attrs:
            if name not in HTML_ALLOWED[tag]:
                self.problems.append(f"{tag}[{name}={value!r}]")
        if tag == "a":
            self.links.append(names)
            href = names.get("href")
            if href is not None and not (
                href.startswith(("http://", "https://", "mailto:")) or href.startswith("/users/")
            ):
                self.problems.append(f"href {href!r}")
            if names.get("rel") != LINK_REL:
                self.problems.append(f"rel {names.get('rel')!r}")
        if tag == "pre" and names.get("tabindex") != "0":
            self.problems.append(f"pre tabindex {names.get('tabindex')!r}")
        if names.get("class") not in (None, "mention", "math-source"):
            self.problems.append(f"class {names.get('class')!r}")

    def handle_endtag(self, tag: str) -> None:
        if self.in_math:
            self.in_math -= 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)


def check(html: str) -> Checker:
    checker = Checker()
    checker.feed(html)
    checker.close()
    assert not checker.problems, (checker.problems, html[:500])
    return checker


ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "[x](vbscript:msgbox)",
    "<a href='javascript:alert(1)'>x</a>",
    '<svg onload=alert(1)><use href="#x"/></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "$\\href{javascript:alert(1)}{x}$",
    "$$\\style{color:red}{x}$$",
    "$<script>alert(1)</script>$",
    '$x" onmouseover="alert(1)$',
    "<iframe src=//evil>",
    '[a](https://ok.example/" onclick="alert(1))',
    "![img](https://evil.example/x.png)",
    "<https://ok.example/>",
    "<javascript:alert(1)>",
    "`<script>` and ``<b>``",
    "    <script>indented code</script>",
    "```html\n<script>alert(1)</script>\n```",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "\ue0000\ue001 placeholder smuggling \ue000",
    "&lt;script&gt; &#x3C;script&#x3E; &#60;img src=x onerror=alert(1)&#62;",
    "<!-- comment --><style>body{}</style>",
    "@evil<script>",
    "[@x](javascript:alert(1))",
]


def test_hand_written_attacks_render_only_allowed_markup():
    for attack in ATTACKS:
        check(str(render(attack)))


def test_the_markdown_subset_and_math():
    html = str(
        render(
            "Hi *there* **you**, `code`.\n\n> quoted\n\n1. one\n2. two\n\n- a\n- b\n\n"
            "See [arXiv](https://arxiv.org/abs/1706.03762) and mail <mailto:a@b.org>.\n\n"
            "Inline $x^2$ and display:\n\n$$\\frac{a}{b}$$\n\n# not a heading tag"
        )
    )
    checker = check(html)
    for tag in ("<em>", "<strong>", "<code>", "<blockquote>", "<ol>", "<ul>", "<li>"):
        assert tag in html
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline"' in html
    assert 'display="block"' in html and "<mfrac>" in html
    assert "<h1" not in html
    assert {"href": "https://arxiv.org/abs/1706.03762", "rel": LINK_REL} in checker.links


def test_links_other_than_http_and_mailto_lose_their_target():
    html = str(render("[a](/relative) [b](ftp://x.org/f) [c](https://ok.org)"))
    assert html.count("href=") == 1 and 'href="https://ok.org"' in html


def test_math_in_code_stays_code_and_bad_tex_stays_text():
    html = str(render("`$x$` and $\\frac{1}$ and $x^2$"))
    assert "<code>$x$</code>" in html
    assert '<span class="math-source">$\\frac{1}$</span>' in html
    assert html.count("<math") == 1


def test_mentions_link_to_reader_pages_outside_code_and_links():
    html = str(render("@alice and `@bob` and [@carol](https://x.org) mail me@host.org"))
    assert '<a class="mention" href="/users/alice" rel="nofollow ugc noopener">@alice</a>' in html
    assert "/users/bob" not in html and "/users/carol" not in html and "/users/host" not in html
    assert mentions("@alice @bob `@carl` @alice x@y.org") == ["alice", "bob"]
    assert "/users/dave" not in str(render("@dave", handles={"alice"}))


def test_nesting_a_thousand_deep_is_cut_not_crashed():
    for text in ("- " * 1000 + "x", "> " * 1000 + "x", "1. " * 1000 + "x", "*" * 5000, "[" * 5000):
        check(str(render(text)))


def test_plain_is_one_line():
    assert plain("a\n\n  b  c") == "a b c"
    assert len(plain("x" * 1000, 50)) == 50


_PIECES = st.sampled_from(
    [
        "<", ">", '"', "'", "`", "$", "$$", "\\", "[", "]", "(", ")", "*", "_", "-", "1.",
        "> ", "\n", "\n\n", "    ", "@", "&", "#", "!", ":", "/", "=",
        "script", "javascript:", "JAVASCRIPT:", "data:", "onerror=", "onload=", "style=",
        "<svg>", "<math>", "</math>", "<mtext>", "<mglyph>", "<style>", "<img src=x ",
        "<a href=", "<iframe>", "href", "xlink:href", "\\href{", "\\style{", "\\class{",
        "https://e.org", "mailto:x@y.z", "\\frac{a}{b}", "x^2", "\ue000", "\ue001", "0",
        "&#106;avascript:", "&lt;", "<!--", "-->", "<![CDATA[", "]]>", "\x00", "\u202e",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_fuzzed_hostile_markdown_renders_only_allowed_markup(text):
    check(str(render(text)))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_renders_only_allowed_markup(text):
    check(str(render(text)))
