"""TeX in titles and abstracts (issue 18): formulas as MathML made on the server and
rebuilt from an allow-list, text-mode LaTeX as Unicode — on pages, in Atom feeds and in
mail. The allow-list is checked on whatever Hypothesis can make of TeX and HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import feedparser
from hypothesis import given, settings
from hypothesis import strategies as st

from paperwire import texmath
from paperwire.models import Paper

TODAY = "2026-11-23"


class Collect(HTMLParser):
    """Every element and attribute of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append(tag)
        self.attributes.extend(attrs)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)


def markup_of(html: str) -> Collect:
    found = Collect()
    found.feed(html)
    found.close()
    return found


def test_formulas_become_mathml_and_text_mode_latex_unicode():
    html = texmath.html(r"Sorting in $\mathcal{O}(n \log n)$ with {\it care} and Schr\"odinger")
    assert html.startswith("Sorting in <math ") and "<mi>𝒪</mi>" in html
    assert 'alttext="\\mathcal{O}(n \\log n)"' in html
    assert html.endswith("with care and Schrödinger")
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block"' in texmath.html(
        r"$$\sum_i x_i$$"
    )
    assert "<msup>" in texmath.html(r"an \(x^2\) term")
    assert texmath.plain(r"Sorting in $\mathcal{O}(n)$ --- fast") == "Sorting in 𝒪(n) — fast"
    # Dollars as money, a bare percent sign, plain text: left alone.
    assert texmath.html("costs $5 and $10, 5% off") == "costs $5 and $10, 5% off"
    assert texmath.plain(r"up 5% over {\bf the} baseline") == "up 5% over the baseline"
    # Broken TeX is shown as its (escaped) source, never as half a formula.
    assert texmath.html(r"A $\frac{a$ <b>") == r"A $\frac{a$ &lt;b&gt;"


def test_folding_never_cuts_a_formula():
    text = "one two $a + b + c$ three four"
    assert texmath.split_words(text, 3) == ("one two $a + b + c$", "three four")
    assert texmath.split_words("one two", 3) == ("one two", "")


TEX_PIECES = st.sampled_from(
    [
        "$", "$$", r"\(", r"\)", r"\[", r"\]", "{", "}", "^", "_", "&", "%", "~", " ", "\n",
        r"\frac", r"\alpha", r"\mathcal", r"\href", r"\url", r"\style", r"\text", r"\it",
        r"\begin{matrix}", r"\end{matrix}", r"\\", r"\left(", r"\right)", r"\sqrt",
        "<script>", "</math>", "<a href='javascript:x'>", '"', "'", "x", "1", "javascript:",
        r"\color{red}", r"\mathbb{R}", r"\operatorname{foo}", "onload=", "&amp;", "<!--",
    ]
)  # fmt: skip
TEXTS = st.one_of(
    st.lists(TEX_PIECES, max_size=30).map("".join),
    st.text(max_size=80),
)


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_whatever_the_tex_only_allowed_mathml_comes_out(text):
    html = texmath.html(text)
    found = markup_of(str(html))
    assert set(found.elements) <= texmath.ELEMENTS, found.elements
    for name, value in found.attributes:
        assert name in texmath.ATTRIBUTES | {"xmlns"}, name
        if name == "xmlns":
            assert value == texmath.MATHML
        elif name != "alttext":
            assert texmath.SAFE_VALUE.fullmatch(value or ""), (name, value)
    # Outside the formulas nothing is markup: the text with the math removed has no tags.
    outside = re.sub(r"<math .*?</math>", "", str(html), flags=re.DOTALL)
    assert "<" not in outside
    texmath.plain(text)  # never raises


def test_pages_feeds_and_mail_render_the_math(site):
    title = r"Sorting in $\mathcal{O}(n \log n)$ time"
    abstract = r"We show \(x^2 + y^2 = z^2\) for {\it all} cases. " + "More words. " * 40
    site.store.upsert_papers([Paper(title=title, abstract=abstract, arxiv_id="2401.00009")])
    site.store.submit("2401.00009", site.clock.now.date(), None, site.clock.now)
    page = site.client.get("/papers/2401.00009").text
    assert "<h1>Sorting in <math " in page and "<msup>" in page
    assert "<title>Sorting in 𝒪(n" in page  # the window title is plain text
    shown = re.sub(r'<pre id="bibtex".*?</pre>', "", page, flags=re.S)  # BibTeX quotes TeX
    assert "{\\it" not in shown and ">all<" not in shown and " all cases" in shown
    daily = site.client.get(f"/daily/{TODAY}?sort=newest").text
    assert 'class="title"><a href="/papers/2401.00009">Sorting in <math ' in daily
    feed = feedparser.parse(site.client.get("/feeds/daily.atom").content)
    entry = next(e for e in feed.entries if e.link.endswith("/papers/2401.00009"))
    assert entry.title.startswith("Sorting in 𝒪(n")
    raw = site.client.get("/feeds/daily.atom").text
    assert "&lt;math xmlns=" in raw  # the summary is HTML holding MathML


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("ab \n\t$x"), max_size=60), st.integers(0, 8))
def test_folding_keeps_every_word_once_in_order(text, words):
    head, rest = texmath.split_words(text, words)
    assert head.split() + rest.split() == text.split()
    if rest and "$" not in text:
        assert len(head.split()) == words
