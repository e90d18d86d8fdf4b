"""How a paper is shown, the same on pages, in feeds and in email: its link, its author
line, its folded abstract."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from paperwire.models import Paper, Submission
from paperwire.texmath import split_words

AUTHORS_SHOWN = 6


def paper_url(key: str) -> str:
    """The path of a paper's page (old-style arXiv keys keep their slash)."""
    return "/papers/" + quote(key, safe="/")


def anchor(key: str) -> str:
    """The id of a paper's card on a page, so that a form can send the reader back to it
    (``#paper-2401-12345``): the key with anything but letters, digits, ``-`` and ``_``
    made ``-``."""
    return "paper-" + re.sub(r"[^A-Za-z0-9_-]", "-", key)


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
    """The first `words` words of a text (never cutting a formula), and whether anything
    was cut."""
    head, rest = split_words(text, words)
    return (head + " …", True) if rest else (text, False)


def web_link(url: str) -> str | None:
    """`url` if it is an http(s) link to a host, else None. Decided by parsing, not by
    pattern: a check for a leading "http" let "http\tjavascript:…" through, and no
    control or space character (which browsers strip or mail clients break on) is kept."""
    if not url or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return url


def code_link(paper: Paper) -> str | None:
    """The first of a paper's code URLs that is a web link (see web_link), if any."""
    for url in paper.code_urls:
        if web_link(url):
            return url
    return None


UPSTREAM_NAMES = {"huggingface": "Hugging Face", "arxiv": "arXiv"}


def upstream_name(source: str | None) -> str:
    """How a source that listed a paper is named on pages ("Hugging Face")."""
    return UPSTREAM_NAMES.get(source or "", source or "a source")


def upvote_source(paper: Paper, submission: Submission | None = None) -> str:
    """Where a paper's reported upvotes were counted, as a reader knows it: the site the
    listing pages and the daily-papers sync read ("Hugging Face"), else the source
    that listed it, else "its source"."""
    if submission is not None and submission.upstream_source:
        return upstream_name(submission.upstream_source)
    if any(s.startswith(("listing:", "huggingface", "hf")) for s in paper.sources):
        return "Hugging Face"
    return "its source"
