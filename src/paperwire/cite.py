"""How a paper is cited: one BibTeX entry (``@misc`` with arXiv's eprint fields, or
``@article`` when a journal is known), keyed ``surname`` + year + first title word as
Google Scholar and arXiv do, so that a reader's bibliography reads the same whichever
site they copied from.

This is the one rule: the paper page, its ``cite.bib``, a collection's BibTeX export
and ``paperwire export`` all write :func:`bibtex`, so a paper has the same key and the
same escaping wherever a reader takes it from. Titles and abstracts are stored as arXiv
gives them (TeX: ``---`` is an em dash, ``$\\mathcal{O}$`` math), so they are written
as they are, never escaped a second time. The abstract is left out, as arXiv's and
Scholar's entries leave it (the JSON lines export is the lossless one)."""

from __future__ import annotations

import re
import unicodedata

from paperwire import upstream
from paperwire.models import Paper

_SMALL_WORDS = {"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "towards"}


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]", "", folded).lower()


def cite_key(paper: Paper) -> str:
    """``vaswani2017attention``: the first author's surname, the year, the first word of
    the title that is not a small word (each folded to ASCII letters and digits)."""
    surname = _ascii_word(paper.authors[0].name.split()[-1]) if paper.authors else ""
    year = str(paper.published.year) if paper.published else ""
    words = [_ascii_word(w) for w in re.split(r"[\s\-:]+", paper.title)]
    first = next((w for w in words if w and w not in _SMALL_WORDS), "")
    return (surname or "paper") + year + first or _ascii_word(paper.key) or "paper"


def _field_value(text: str) -> str:
    """A value between braces: the text as it is (titles and abstracts are TeX
    already), with braces kept only if they balance and the BibTeX specials that are
    not TeX commands (``&``, ``%``, ``#``) escaped."""
    text = " ".join(text.split())
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            break
    if depth != 0:
        text = text.replace("{", "").replace("}", "")
    return re.sub(r"(?<!\\)([&%#])", r"\\\1", text)


def note(paper: Paper) -> str | None:
    """A BibTeX/CSL ``note``: arXiv's comments, then the code repository and the project
    page as "Code: URL" / "Project page: URL" (neither format has a standard field for
    them; ``note`` is where reference managers show such lines)."""
    parts = [paper.comments] if paper.comments else []
    code = upstream.value(paper.extras, upstream.CODE)
    url = code[0]["url"] if code else (paper.code_urls[0] if paper.code_urls else None)
    if url:
        parts.append(f"Code: {url}")
    page = upstream.value(paper.extras, upstream.PROJECT_PAGE)
    if page:
        parts.append(f"Project page: {page}")
    return ". ".join(parts) or None


def bibtex(paper: Paper, key: str | None = None) -> str:
    """The paper as one BibTeX entry, ending in a newline; `key` replaces
    :func:`cite_key` where one file would hold the same key twice."""
    fields: list[tuple[str, str]] = [("title", "{" + _field_value(paper.title) + "}")]
    if paper.authors:
        fields.append(("author", " and ".join(_field_value(a.name) for a in paper.authors)))
    if paper.published:
        fields.append(("year", str(paper.published.year)))
        fields.append(("month", paper.published.strftime("%b").lower()))
        # biblatex's full date: the day too, so an export reads back to the same paper
        fields.append(("date", paper.published.isoformat()))
    if paper.journal_ref:
        fields.append(("journal", _field_value(paper.journal_ref)))
    if paper.arxiv_id:
        fields.append(("eprint", paper.arxiv_id))
        fields.append(("archivePrefix", "arXiv"))
        if paper.primary_category:
            fields.append(("primaryClass", paper.primary_category))
    if paper.doi:
        fields.append(("doi", _field_value(paper.doi)))
    url = paper.arxiv_url or paper.url
    if url:
        fields.append(("url", url.replace("}", "%7D").replace("{", "%7B")))
    text = note(paper)
    if text:
        fields.append(("note", _field_value(text)))
    keywords = upstream.value(paper.extras, upstream.KEYWORDS)
    if keywords:
        fields.append(("keywords", _field_value(", ".join(keywords))))
    if paper.abstract:  # as Zotero and Better BibTeX export it; paperwire reads it back
        fields.append(("abstract", _field_value(paper.abstract)))
    kind = "article" if paper.journal_ref else "misc"
    body = ",\n".join(
        f"  {name} = {value}"
        if name in ("year", "month") and value.isalnum()
        else f"  {name} = {{{value}}}"
        for name, value in fields
    )
    return f"@{kind}{{{key or cite_key(paper)},\n{body}\n}}\n"
