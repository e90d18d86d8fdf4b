"""How a paper is shown, the same on pages, in feeds and in email: its link, its author
line, its folded abstract."""

from __future__ import annotations

from urllib.parse import quote

from paperwire.models import Paper

AUTHORS_SHOWN = 6


def paper_url(key: str) -> str:
    """The path of a paper's page (old-style arXiv keys keep their slash)."""
    return "/papers/" + quote(key, safe="/")


def author_line(paper: Paper) -> str:
    """ "A, B, C and 3 more" or "12 authors"."""
    if paper.authors:
        names = [author.name for author in paper.authors[:AUTHORS_SHOWN]]
        more = len(paper.authors) - AUTHORS_SHOWN
        return ", ".join(names) + (f" and {more} more" if more > 0 else "")
    if paper.author_count:
        return f"{paper.author_count} author{'s' if paper.author_count != 1 else ''}"
    return ""


def fold(text: str, words: int = 45) -> tuple[str, bool]:
    """The first `words` words of a text, and whether anything was cut."""
    parts = text.split()
    if len(parts) <= words:
        return text, False
    return " ".join(parts[:words]) + " …", True


UPSTREAM_NAMES = {"huggingface": "Hugging Face", "arxiv": "arXiv"}


def upstream_name(source: str | None) -> str:
    """How a source that listed a paper is named on pages ("Hugging Face")."""
    return UPSTREAM_NAMES.get(source or "", source or "a source")
