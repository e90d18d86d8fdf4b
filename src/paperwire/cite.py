"""How a paper is cited: one BibTeX entry (``@misc`` with arXiv's eprint fields, or
``@article`` when a journal is known), keyed ``surname`` + year + first title word as
Google Scholar and arXiv do, so that a reader's bibliography reads the same whichever
site they copied from."""

from __future__ import annotations

import re
import unicodedata

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


def bibtex(paper: Paper) -> str:
    """The paper as one BibTeX entry, ending in a newline."""
    fields: list[tuple[str, str]] = [("title", "{" + _field_value(paper.title) + "}")]
    if paper.authors:
        fields.append(("author", " and ".join(_field_value(a.name) for a in paper.authors)))
    if paper.published:
        fields.append(("year", str(paper.published.year)))
        fields.append(("month", paper.published.strftime("%b").lower()))
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
    kind = "article" if paper.journal_ref else "misc"
    body = ",\n".join(
        f"  {name} = {value}"
        if name in ("year", "month") and value.isalnum()
        else f"  {name} = {{{value}}}"
        for name, value in fields
    )
    return f"@{kind}{{{cite_key(paper)},\n{body}\n}}\n"
