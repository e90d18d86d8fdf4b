"""Export writers: paperwire JSON lines (lossless), BibTeX (BibLaTeX-compatible fields
too) and CSL JSON, each written as a stream (one paper at a time) and read back by the
importers of this package to the same papers (round-trip tested).

What each format cannot carry: BibTeX keeps only the primary category (``primaryclass``)
and no upvotes or code links; CSL JSON keeps no categories, upvotes or code links.
Importing an export into a store that has the papers loses nothing, since merges only
add (see :func:`paperwire.models.merge_papers`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import IO, Any

from paperwire import upstream
from paperwire.ingest import jsonl
from paperwire.models import Paper

EXPORT_FORMATS = ("jsonl", "bibtex", "csl-json")

# TeX's special characters, escaped so that a TeX reader (and pylatexenc) gives the text
# back; "--", "``" and "''" are broken up so they do not become dashes and quotes.
_TEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_TEX_SPECIAL = re.compile(r"[\\{}$&%#_~^]")
_LIGATURES = re.compile(r"(?<=-)(?=-)|(?<=`)(?=`)|(?<=')(?=')|(?<=[?!])(?=`)")
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_:\-./+]")


def tex_escape(text: str) -> str:
    """Text as BibTeX field content that reads back as the same text."""
    escaped = _TEX_SPECIAL.sub(lambda m: _TEX_ESCAPES[m.group(0)], text)
    return _LIGATURES.sub("{}", escaped)


def citation_key(paper: Paper) -> str:
    """The arXiv id when there is one (``2303.12345``, ``hep-th/9901001``), else the
    paper's title key cut to 60 characters."""
    return _KEY_UNSAFE.sub("-", paper.arxiv_id or paper.key[:60])


def export_note(paper: Paper) -> str | None:
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


def bibtex_entry(paper: Paper) -> str:
    """One paper as a BibTeX entry: ``@article`` when it has a journal reference, else
    ``@misc``; arXiv's own fields (eprint, archiveprefix, primaryclass) and BibLaTeX's
    ``date`` beside ``year``/``month`` so both tool chains read the full date."""
    fields: list[tuple[str, str]] = [("title", tex_escape(paper.title))]
    if paper.authors:
        names = [tex_escape(a.name) for a in paper.authors]
        fields.append(
            ("author", " and ".join(f"{{{n}}}" if " and " in n.lower() else n for n in names))
        )
    if paper.published:
        fields += [
            ("date", paper.published.isoformat()),
            ("year", str(paper.published.year)),
            ("month", str(paper.published.month)),
        ]
    if paper.arxiv_id:
        fields += [("eprint", paper.arxiv_id), ("archiveprefix", "arXiv")]
        if paper.categories:
            fields.append(("primaryclass", paper.categories[0]))
    if paper.journal_ref:
        fields.append(("journal", tex_escape(paper.journal_ref)))
    if paper.doi:
        fields.append(("doi", paper.doi.replace("{", "").replace("}", "")))
    if paper.url:
        fields.append(("url", paper.url.replace("{", "%7B").replace("}", "%7D")))
    if paper.abstract:
        fields.append(("abstract", tex_escape(paper.abstract)))
    note = export_note(paper)
    if note:
        fields.append(("note", tex_escape(note)))
    keywords = upstream.value(paper.extras, upstream.KEYWORDS)
    if keywords:
        fields.append(("keywords", tex_escape(", ".join(keywords))))
    kind = "article" if paper.journal_ref else "misc"
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{kind}{{{citation_key(paper)},\n{body}\n}}\n"


def csl_item(paper: Paper) -> dict[str, Any]:
    """One paper as a CSL JSON item: "Given Family" split at the last space (a single
    word is a literal name); arXiv papers typed ``article`` with ``number`` "arXiv:ID"
    and ``publisher`` "arXiv", as Zotero exports preprints."""
    item: dict[str, Any] = {
        "id": citation_key(paper),
        "type": "article-journal" if paper.journal_ref else "article",
        "title": paper.title,
    }
    authors: list[dict[str, str]] = []
    for author in paper.authors:
        given, _, family = author.name.rpartition(" ")
        authors.append({"given": given, "family": family} if given else {"literal": family})
    if authors:
        item["author"] = authors
    if paper.published:
        day = paper.published
        item["issued"] = {"date-parts": [[day.year, day.month, day.day]]}
    if paper.arxiv_id:
        item["number"] = f"arXiv:{paper.arxiv_id}"
        item["publisher"] = "arXiv"
    if paper.journal_ref:
        item["container-title"] = paper.journal_ref
    if paper.doi:
        item["DOI"] = paper.doi
    if paper.url:
        item["URL"] = paper.url
    if paper.abstract:
        item["abstract"] = paper.abstract
    note = export_note(paper)
    if note:
        item["note"] = note
    keywords = upstream.value(paper.extras, upstream.KEYWORDS)
    if keywords:
        item["keyword"] = ", ".join(keywords)
    return item


def write(papers: Iterable[Paper], target: IO[str], format: str) -> int:
    """Write every paper in `format` (one of EXPORT_FORMATS) as it comes; the count."""
    if format not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {format!r}; one of {', '.join(EXPORT_FORMATS)}")
    count = 0
    if format == "csl-json":
        target.write("[")
    for paper in papers:
        if format == "jsonl":
            target.write(jsonl.dumps(paper) + "\n")
        elif format == "bibtex":
            target.write(("\n" if count else "") + bibtex_entry(paper))
        else:
            target.write(("," if count else "") + "\n  ")
            target.write(json.dumps(csl_item(paper), ensure_ascii=False))
        count += 1
    if format == "csl-json":
        target.write("\n]\n")
    return count
