"""What a person may type to name a paper, read one way everywhere (the CLI, the pages,
the API): its key (or a former key), an arXiv id with or without version
(``1512.03385v1``, ``arXiv:1512.03385``), an arXiv URL (``/abs/`` or ``/pdf/``, with or
without version), or a DOI, bare or as a link (``10.1109/CVPR.2016.90``,
``https://doi.org/10.1109/...``, ``doi:10.1109/...``). arXiv's own DOIs
(``10.48550/arXiv.1512.03385``) name the arXiv id. The store resolves these forms in
this order (store.papers.find_row)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from paperwire.models import normalise_arxiv_id

_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_DOI_PREFIXES = (
    "https://doi.org/",
    "http://doi.org/",
    "https://dx.doi.org/",
    "http://dx.doi.org/",
    "doi.org/",
    "doi:",
)
_ARXIV_DOI = "10.48550/arxiv."


def normalise_doi(text: str) -> str | None:
    """The DOI a text names, lower-cased (DOIs are case-insensitive), or None."""
    doi = text.strip()
    for prefix in _DOI_PREFIXES:
        if doi.lower().startswith(prefix):
            doi = doi[len(prefix) :].strip()
            break
    return doi.lower() if _DOI.match(doi) else None


@dataclass(frozen=True, slots=True)
class PaperRef:
    """The forms a typed reference may take, each None when it is not one."""

    text: str
    arxiv_id: str | None
    doi: str | None


def paper_ref(text: str) -> PaperRef:
    """Read a typed reference (see the module)."""
    stripped = text.strip()
    doi = normalise_doi(stripped)
    arxiv_id = normalise_arxiv_id(stripped)
    if doi and doi.startswith(_ARXIV_DOI):
        arxiv_id = arxiv_id or normalise_arxiv_id(doi[len(_ARXIV_DOI) :])
    return PaperRef(stripped, arxiv_id, doi)
