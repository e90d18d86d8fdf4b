"""Topics (issue 29), offline: a paper's arXiv categories by their human names
("Machine Learning (cs.LG)"), the keywords Hugging Face gives it, and for papers without
those, keyphrases extracted here (paperwire.keyphrases). A topic is known by its slug
("diffusion-models"): the one form `topic:` filters, topic pages and follows compare.

Pure: the store keeps a paper's keyword slugs in one column (``topics``,
``|slug|slug|``); category topics are matched through the categories themselves
(:func:`categories_for`), so papers stored before the column existed have them too."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from paperwire import upstream
from paperwire.models import Paper

MAX_SLUG = 80
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)

# arXiv's category taxonomy (https://arxiv.org/category_taxonomy): the archives and the
# subject classes readers of this service meet most. An unknown category keeps its code.
CATEGORY_NAMES: dict[str, str] = {
    "cs.AI": "Artificial Intelligence",
    "cs.AR": "Hardware Architecture",
    "cs.CC": "Computational Complexity",
    "cs.CE": "Computational Engineering, Finance, and Science",
    "cs.CG": "Computational Geometry",
    "cs.CL": "Computation and Language",
    "cs.CR": "Cryptography and Security",
    "cs.CV": "Computer Vision and Pattern Recognition",
    "cs.CY": "Computers and Society",
    "cs.DB": "Databases",
    "cs.DC": "Distributed, Parallel, and Cluster Computing",
    "cs.DL": "Digital Libraries",
    "cs.DM": "Discrete Mathematics",
    "cs.DS": "Data Structures and Algorithms",
    "cs.ET": "Emerging Technologies",
    "cs.FL": "Formal Languages and Automata Theory",
    "cs.GL": "General Literature",
    "cs.GR": "Graphics",
    "cs.GT": "Computer Science and Game Theory",
    "cs.HC": "Human-Computer Interaction",
    "cs.IR": "Information Retrieval",
    "cs.IT": "Information Theory",
    "cs.LG": "Machine Learning",
    "cs.LO": "Logic in Computer Science",
    "cs.MA": "Multiagent Systems",
    "cs.MM": "Multimedia",
    "cs.MS": "Mathematical Software",
    "cs.NA": "Numerical Analysis",
    "cs.NE": "Neural and Evolutionary Computing",
    "cs.NI": "Networking and Internet Architecture",
    "cs.OH": "Other Computer Science",
    "cs.OS": "Operating Systems",
    "cs.PF": "Performance",
    "cs.PL": "Programming Languages",
    "cs.RO": "Robotics",
    "cs.SC": "Symbolic Computation",
    "cs.SD": "Sound",
    "cs.SE": "Software Engineering",
    "cs.SI": "Social and Information Networks",
    "cs.SY": "Systems and Control",
    "stat.AP": "Applications",
    "stat.CO": "Computation",
    "stat.ME": "Methodology",
    "stat.ML": "Machine Learning",
    "stat.OT": "Other Statistics",
    "stat.TH": "Statistics Theory",
    "eess.AS": "Audio and Speech Processing",
    "eess.IV": "Image and Video Processing",
    "eess.SP": "Signal Processing",
    "eess.SY": "Systems and Control",
    "math.OC": "Optimization and Control",
    "math.PR": "Probability",
    "math.ST": "Statistics Theory",
    "math.NA": "Numerical Analysis",
    "math.CO": "Combinatorics",
    "math.AG": "Algebraic Geometry",
    "math.GT": "Geometric Topology",
    "math-ph": "Mathematical Physics",
    "hep-th": "High Energy Physics - Theory",
    "hep-ph": "High Energy Physics - Phenomenology",
    "hep-ex": "High Energy Physics - Experiment",
    "hep-lat": "High Energy Physics - Lattice",
    "gr-qc": "General Relativity and Quantum Cosmology",
    "quant-ph": "Quantum Physics",
    "nucl-th": "Nuclear Theory",
    "astro-ph.CO": "Cosmology and Nongalactic Astrophysics",
    "astro-ph.GA": "Astrophysics of Galaxies",
    "cond-mat.mes-hall": "Mesoscale and Nanoscale Physics",
    "cond-mat.stat-mech": "Statistical Mechanics",
    "cond-mat.dis-nn": "Disordered Systems and Neural Networks",
    "physics.comp-ph": "Computational Physics",
    "physics.optics": "Optics",
    "q-bio.NC": "Neurons and Cognition",
    "q-bio.QM": "Quantitative Methods",
    "q-fin.ST": "Statistical Finance",
    "econ.EM": "Econometrics",
}


@dataclass(frozen=True, slots=True)
class Topic:
    """One topic of a paper: its slug, the name shown, and where it comes from
    ("category", "keyword" from upstream, "keyphrase" extracted here)."""

    slug: str
    name: str
    kind: str


@lru_cache(maxsize=1 << 14)
def slugify(phrase: str) -> str:
    """A phrase's slug: accents dropped, case-folded, runs of anything but letters and
    digits one hyphen ("Diffusion Models" and "diffusion-models" -> "diffusion-models");
    '' when nothing is left. Plural and singular stay different topics (as HF's
    keywords do)."""
    text = unicodedata.normalize("NFKD", phrase)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return _NON_WORD.sub("-", text).strip("-")[:MAX_SLUG].rstrip("-")


def category_label(category: str) -> str:
    """ "Machine Learning (cs.LG)"; the code alone for a category not in the table."""
    name = CATEGORY_NAMES.get(category)
    return f"{name} ({category})" if name else category


@lru_cache(maxsize=1)
def _categories_by_slug() -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for code, name in CATEGORY_NAMES.items():
        found.setdefault(slugify(name), []).append(code)
    return {slug: tuple(codes) for slug, codes in found.items()}


def categories_for(slug: str) -> tuple[str, ...]:
    """The categories whose human name has this slug ("machine-learning" -> cs.LG,
    stat.ML); a slug that is a category code's own slug ("cs-lg") names it too."""
    found = list(_categories_by_slug().get(slug, ()))
    for code in CATEGORY_NAMES:
        if slugify(code) == slug and code not in found:
            found.append(code)
    return tuple(found)


def keyword_topics(paper: Paper) -> list[Topic]:
    """Topics from upstream keywords, else (none given) from extracted keyphrases."""
    keywords = upstream.value(paper.extras, upstream.KEYWORDS)
    kind = "keyword"
    if not keywords:
        keywords = upstream.value(paper.extras, upstream.KEYPHRASES) or []
        kind = "keyphrase"
    found: dict[str, Topic] = {}
    for phrase in keywords:
        slug = slugify(phrase)
        if slug and slug not in found:
            found[slug] = Topic(slug, phrase, kind)
    return list(found.values())


def topics_of(paper: Paper) -> list[Topic]:
    """Every topic of a paper: its categories (by human name), then its keywords."""
    found: dict[str, Topic] = {}
    for category in paper.categories:
        name = CATEGORY_NAMES.get(category)
        slug = slugify(name) if name else slugify(category)
        if slug and slug not in found:
            found[slug] = Topic(slug, category_label(category), "category")
    for topic in keyword_topics(paper):
        found.setdefault(topic.slug, topic)
    return list(found.values())


def topic_slugs(paper: Paper) -> set[str]:
    """The slugs `topic:` matches (see :func:`topics_of`)."""
    return {t.slug for t in topics_of(paper)}


def topics_column(paper: Paper) -> str:
    """The stored form of a paper's keyword slugs: '|a|b|' ('' when it has none)."""
    slugs = [t.slug for t in keyword_topics(paper)]
    return f"|{'|'.join(slugs)}|" if slugs else ""


def topic_matches(paper: Paper, slug: str) -> bool:
    """The rule of ``topic:`` every engine follows: the slug is one of the paper's keyword
    slugs (its stored ``topics`` column), or it names one of its categories (by human
    name or code, :func:`categories_for`; exact category, not its archive)."""
    if any(t.slug == slug for t in keyword_topics(paper)):
        return True
    return any(c in paper.categories for c in categories_for(slug))
