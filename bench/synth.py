"""Deterministic synthetic corpora in the arXiv snapshot format.

Papers are built from the sample corpus: its vocabulary with its word frequencies (a
bigram chain, so phrases look like the field's), its title and abstract lengths, and its
spread of dates; categories follow arXiv's long tail; authors come from a fixed pool.
The same N and seed always give the same bytes.

    python bench/synth.py 1000000 -o bench/out/synth-1m.jsonl
    python bench/synth.py 2700000 --profile arxiv -o /tmp/big/synth-2.7m.jsonl

Two profiles. `sample` (the default, what §1-§20 of bench/RESULTS.md used) takes its
lengths from the 245-paper sample and 1-8 authors from a pool of 18 x 18 names. `arxiv`
matches the sizes of the real arXiv snapshot (Kaggle's arxiv-metadata-oai-snapshot.json),
figures published by others who read the whole file (cited at `ARXIV`): title and abstract
lengths in characters, authors a paper (mean 5.0, a long tail), categories a paper (mean
1.72, half the papers cross-listed) drawn from the real top 50 categories with their real
counts, and update years weighted by the real papers a year.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import numpy as np
from tqdm import tqdm

CATEGORIES = [
    "cs.LG",
    "cs.CV",
    "cs.CL",
    "cs.AI",
    "stat.ML",
    "cs.RO",
    "cs.CR",
    "math.OC",
    "cs.IR",
    "cs.NE",
    "eess.IV",
    "cs.DC",
    "cs.SE",
    "quant-ph",
    "cs.HC",
    "eess.SP",
    "cs.SD",
    "physics.comp-ph",
    "q-bio.BM",
    "cs.GT",
    "math.ST",
    "cs.DS",
    "cs.DB",
    "cs.NI",
    "econ.EM",
]
# The real snapshot's figures, as published by analyses that read the whole file:
# - 2,384,622 papers (snapshot of 2025): mean 5.0 authors a paper (max 3,435), abstract 1,020
#   characters, title 76 characters, 50.2 % with more than one category, papers by update
#   year. github.com/aleksandralyu/arxiv-case-study, "02 preprocess: extract metadata
#   features.ipynb" and results/data_overview.json.
# - 2,840,638 papers (a later snapshot): 4,888,313 category mentions (1.72 a paper), 176
#   categories; the top 50 with their counts. github.com/xinhuangcs/PaperTrail,
#   src/preprocess_data/0_0_data_analysis.ipynb.
ARXIV = {
    "title_chars": 76.0,
    "abstract_chars": 1020.0,
    "authors_mean": 5.0,
    "authors_max": 3435,
    "categories_mean": 1.72,
    "multi_category_share": 0.502,
}
ARXIV_TOP50 = {
    "cs.LG": 233795, "hep-ph": 190464, "hep-th": 176596, "cs.CV": 168136,
    "quant-ph": 167643, "cs.AI": 143078, "gr-qc": 116408, "astro-ph": 105380,
    "cond-mat.mtrl-sci": 102787, "cond-mat.mes-hall": 97516, "cs.CL": 93000,
    "math.MP": 85943, "math-ph": 85942, "cond-mat.str-el": 79533,
    "cond-mat.stat-mech": 78402, "math.CO": 73599, "astro-ph.CO": 73479, "stat.ML": 73076,
    "astro-ph.GA": 72539, "math.AP": 69435, "astro-ph.SR": 66024, "astro-ph.HE": 64805,
    "math.PR": 62047, "nucl-th": 60603, "hep-ex": 57821, "math.AG": 56783, "math.OC": 56497,
    "physics.optics": 52538, "cs.IT": 51385, "math.IT": 51385, "math.NT": 46199,
    "cond-mat.supr-con": 45774, "math.DG": 45583, "cs.RO": 45126, "math.NA": 44115,
    "cond-mat.soft": 43238, "cs.CR": 42449, "math.DS": 40456, "cs.SY": 40356,
    "eess.SP": 35820, "math.FA": 34131, "astro-ph.IM": 33166, "astro-ph.EP": 32785,
    "stat.ME": 32174, "eess.SY": 32125, "physics.flu-dyn": 31717, "cs.NA": 30324,
    "hep-lat": 29500, "eess.IV": 29070, "math.RT": 28618,
}  # fmt: skip
# Papers by update year (2007-2024; 2025 was a part year in that snapshot).
ARXIV_YEARS = {
    2007: 12409, 2008: 33572, 2009: 61309, 2010: 43691, 2011: 50622, 2012: 54097,
    2013: 69786, 2014: 79864, 2015: 199331, 2016: 115365, 2017: 118359, 2018: 134123,
    2019: 150532, 2020: 172730, 2021: 184106, 2022: 187108, 2023: 213968, 2024: 259655,
}  # fmt: skip
# Categories a paper: 49.8 % one (50.2 % cross-listed), mean 1.72.
ARXIV_CATEGORY_COUNTS = {1: 0.498, 2: 0.34, 3: 0.115, 4: 0.037, 5: 0.01}
_TOKEN = re.compile(r"[A-Za-z][A-Za-z\-]+|\d+")


class SampleModel:
    """Word and length statistics of the sample corpus."""

    def __init__(self) -> None:
        lines = resources.files("paperwire.data").joinpath("sample.jsonl").read_text("utf-8")
        papers = [json.loads(line) for line in lines.splitlines()]
        vocabulary: dict[str, int] = {}
        sequences = []
        for paper in papers:
            words = _TOKEN.findall(paper["title"] + " . " + paper["abstract"])
            sequences.append([vocabulary.setdefault(w, len(vocabulary)) for w in words])
        self.words = np.array(list(vocabulary), dtype=object)
        size = len(self.words)
        counts = np.zeros(size)
        # Successor lists give a bigram chain: each next word is drawn from what followed
        # the current one in the sample.
        following: list[list[int]] = [[] for _ in range(size)]
        for seq in sequences:
            for a, b in zip(seq, seq[1:], strict=False):
                following[a].append(b)
            for w in seq:
                counts[w] += 1
        self.cdf = np.cumsum(counts / counts.sum())
        self.cdf[-1] = 1.0
        self.following = [f or [0] for f in following]
        self.word_list = list(vocabulary)
        self.title_lengths = np.array([len(p["title"].split()) for p in papers])
        self.abstract_lengths = np.array([len(p["abstract"].split()) for p in papers])
        days = sorted(date.fromisoformat(p["published"]) for p in papers if p["published"])
        self.first_day, self.last_day = days[0], days[-1]
        self.day_offsets = np.array([(d - days[0]).days for d in days])

    def sentence(self, rng: np.random.Generator, length: int) -> str:
        """A bigram walk of `length` words, restarted from the unigram 15% of the time."""
        fresh = np.searchsorted(self.cdf, rng.random(length)).tolist()
        jumps = (rng.random(length) < 0.15).tolist()
        picks = rng.random(length).tolist()
        chain = [fresh[0]]
        following = self.following
        for i in range(1, length):
            if jumps[i]:
                chain.append(fresh[i])
            else:
                options = following[chain[-1]]
                chain.append(options[int(picks[i] * len(options))])
        words = self.word_list
        return " ".join([words[w] for w in chain])


_SYLLABLES = [
    "ba", "ko", "ri", "man", "sen", "li", "ta", "vo", "nek", "dor", "shi", "ra", "mu", "zel",
    "an", "ev", "ol", "gar", "ti", "pe", "wu", "chen", "sa", "lo", "ber", "kin", "da", "mi",
]  # fmt: skip
_SURNAMES = [
    "Smith", "Wang", "Zhang", "Li", "Kumar", "Garcia", "Müller", "Rossi", "Kim", "Sato",
    "Nguyen", "Cohen", "Silva", "Novak", "Ivanova", "Okafor", "Larsen", "Dubois",
]  # fmt: skip
_GIVEN = [
    "Ana", "Wei", "Jun", "Priya", "Lucas", "Sofia", "Hiro", "Omar", "Lena", "Ravi", "Chen",
    "Marta", "Tomás", "Ada", "Yuki", "Ines", "Kofi", "Eva",
]  # fmt: skip


def _cdf(weights: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weights / weights.sum())
    cdf[-1] = 1.0
    return cdf


class ArxivShape:
    """Draws of the real snapshot's sizes (`ARXIV`), calibrated against the bigram chain.

    Lengths: the sample's length distribution in words, scaled so that the mean in
    characters of the generated titles and abstracts is the snapshot's. Authors: a lognormal
    of median 3 and mean 5 (rounded, 1 to 3,435), names from 20,000 surnames x 400 given names
    (Zipf-like, so a few names are prolific as on arXiv). Categories: 1-5 a paper by
    `ARXIV_CATEGORY_COUNTS`, each drawn from the real top 50 by its share of mentions.
    """

    def __init__(self, model: SampleModel, seed: int) -> None:
        rng = np.random.default_rng(seed + 1)
        probe_t = [model.sentence(rng, int(n)) for n in rng.choice(model.title_lengths, 400)]
        probe_a = [model.sentence(rng, int(n)) for n in rng.choice(model.abstract_lengths, 400)]

        def scale(texts: list[str], target: float) -> float:
            chars = sum(len(t) for t in texts) / len(texts)
            return target / chars

        self.title_scale = scale(probe_t, ARXIV["title_chars"])
        self.abstract_scale = scale(probe_a, ARXIV["abstract_chars"])
        cats = np.array(list(ARXIV_TOP50))
        weights = np.array(list(ARXIV_TOP50.values()), dtype=float)
        self.categories = cats
        self.category_p = weights / weights.sum()
        self.category_cdf = _cdf(self.category_p)
        self.n_categories = list(ARXIV_CATEGORY_COUNTS)
        self.n_categories_cdf = _cdf(np.array(list(ARXIV_CATEGORY_COUNTS.values())))
        # Median 3 and mean 5: mu = ln 3, sigma^2 = 2 ln(5/3).
        self.author_mu = float(np.log(3.0))
        self.author_sigma = float(np.sqrt(2 * np.log(ARXIV["authors_mean"] / 3.0)))
        syl = _SYLLABLES
        surnames = [
            (syl[i % 28] + syl[(i // 28) % 28] + syl[(i // 784) % 28]).capitalize()
            for i in range(0, 20_000 * 7, 7)
        ]
        self.surnames = _SURNAMES + surnames[: 20_000 - len(_SURNAMES)]
        self.given = _GIVEN + [
            (syl[i % 28] + syl[(i // 28) % 28]).capitalize() for i in range(3, 382 * 2 + 3, 2)
        ]
        ranks = np.arange(1, len(self.surnames) + 1)
        zipf = 1.0 / ranks**0.8
        self.surname_cdf = np.cumsum(zipf / zipf.sum())
        years = np.array(list(ARXIV_YEARS))
        per_year = np.array(list(ARXIV_YEARS.values()), dtype=float)
        self.years = years.tolist()
        self.year_cdf = _cdf(per_year)

    def lengths(self, rng: np.random.Generator, model: SampleModel) -> tuple[int, int]:
        """Words in the title and the abstract."""
        picks = rng.integers(0, len(model.title_lengths), 2).tolist()
        t = int(model.title_lengths[picks[0]]) * self.title_scale
        a = (
            int(model.abstract_lengths[picks[1] % len(model.abstract_lengths)])
            * self.abstract_scale
        )
        return max(1, round(t)), max(3, round(a))

    def authors(self, rng: np.random.Generator) -> list[tuple[str, str]]:
        """(surname, given) pairs, one a co-author."""
        n = round(float(rng.lognormal(self.author_mu, self.author_sigma)))
        n = min(max(n, 1), int(ARXIV["authors_max"]))
        last = np.searchsorted(self.surname_cdf, rng.random(n)).tolist()
        first = rng.integers(0, len(self.given), n).tolist()
        return [(self.surnames[i], self.given[j]) for i, j in zip(last, first, strict=True)]

    def categories_of(self, rng: np.random.Generator) -> list[str]:
        """Distinct categories, the first the primary."""
        k = self.n_categories[int(np.searchsorted(self.n_categories_cdf, rng.random()))]
        picked: list[str] = []
        while len(picked) < k:
            for i in np.searchsorted(self.category_cdf, rng.random(k)).tolist():
                c = str(self.categories[i])
                if c not in picked and len(picked) < k:
                    picked.append(c)
        return picked

    def day(self, rng: np.random.Generator) -> date:
        """A day in a year drawn by the snapshot's papers a year."""
        year = self.years[int(np.searchsorted(self.year_cdf, rng.random()))]
        return date(year, 1, 1) + timedelta(days=int(rng.integers(0, 365)))


BLOCK = 100_000


def generate(
    n: int, out: Path, seed: int = 7, profile: str = "sample", blocks: range | None = None
) -> None:
    """Write `n` snapshot records to `out`; `profile` is "sample" or "arxiv" (see above).

    The arxiv profile draws each block of 100,000 papers from its own generator (seeded by
    the seed and the block's number), so `blocks` (a range of block numbers: what one of
    several processes writes) gives the same lines wherever it runs."""
    model = SampleModel()
    rng = np.random.default_rng(seed)
    # A Zipf-like category popularity, as on arXiv.
    weights = 1.0 / np.arange(1, len(CATEGORIES) + 1) ** 1.1
    weights /= weights.sum()
    shape = ArxivShape(model, seed) if profile == "arxiv" else None
    todo: range | list[int] = range(n)
    if shape is not None and blocks is not None:
        todo = [i for b in blocks for i in range(b * BLOCK, min(n, (b + 1) * BLOCK))]
    with out.open("w", encoding="utf-8") as sink:
        for i in tqdm(
            todo, desc="synth", unit=" papers", unit_scale=True, file=sys.stderr, mininterval=10
        ):
            if shape is not None and i % BLOCK == 0:
                rng = np.random.default_rng([seed, i // BLOCK])
            if shape is None:
                title_len = int(rng.choice(model.title_lengths))
                abstract_len = int(rng.choice(model.abstract_lengths))
            else:
                title_len, abstract_len = shape.lengths(rng, model)
            title = model.sentence(rng, title_len).replace(" . ", " ").capitalize()
            abstract = model.sentence(rng, abstract_len).replace(" . ", ". ")
            if shape is None:
                day = model.first_day + timedelta(days=int(rng.choice(model.day_offsets)))
                cats = list(
                    dict.fromkeys(rng.choice(CATEGORIES, size=int(rng.integers(1, 4)), p=weights))
                )
                n_authors = int(rng.integers(1, 9))
                people = [
                    (str(rng.choice(_SURNAMES)), str(rng.choice(_GIVEN))) for _ in range(n_authors)
                ]
            else:
                day = shape.day(rng)
                cats = shape.categories_of(rng)
                people = shape.authors(rng)
            # Unique new-style ids: 100,000 a "month" from 1501 on (unrelated to the date).
            month = i // BLOCK
            record = {
                "id": f"{15 + month // 12:02d}{month % 12 + 1:02d}.{i % BLOCK:05d}",
                "submitter": f"{people[0][1]} {people[0][0]}",
                "authors": ", ".join(f"{g} {s}" for s, g in people),
                "title": title,
                "comments": None,
                "journal-ref": None,
                "doi": None,
                "categories": " ".join(cats),
                "abstract": abstract,
                "versions": [
                    {"version": "v1", "created": day.strftime("%a, %d %b %Y 10:00:00 GMT")}
                ],
                "update_date": day.isoformat(),
                "authors_parsed": [[s, g, ""] for s, g in people],
            }
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")


def main() -> None:
    """Command line: N and an output path."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("n", type=int, help="how many papers")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--profile",
        choices=["sample", "arxiv"],
        default="sample",
        help="sizes from the sample corpus (default, as §1-§20) or the real arXiv snapshot's",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="arxiv profile: processes writing blocks of 100,000 at once (same bytes for any)",
    )
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if args.profile != "arxiv" or args.jobs <= 1:
        generate(args.n, args.output, args.seed, args.profile)
        return
    total = -(-args.n // BLOCK)
    per = -(-total // args.jobs)
    parts = [args.output.with_name(f"{args.output.name}.part{j}") for j in range(args.jobs)]
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [
            pool.submit(
                generate,
                args.n,
                part,
                args.seed,
                "arxiv",
                range(j * per, min(total, (j + 1) * per)),
            )
            for j, part in enumerate(parts)
        ]
        for future in futures:
            future.result()
    with args.output.open("wb") as sink:
        for part in parts:
            with part.open("rb") as source:
                shutil.copyfileobj(source, sink, 1 << 20)
            part.unlink()


if __name__ == "__main__":
    main()
