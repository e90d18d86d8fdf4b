"""Deterministic synthetic corpora in the arXiv snapshot format.

Papers are built from the sample corpus: its vocabulary with its word frequencies (a
bigram chain, so phrases look like the field's), its title and abstract lengths, and its
spread of dates; categories follow arXiv's long tail; authors come from a fixed pool.
The same N and seed always give the same bytes.

    python bench/synth.py 1000000 -o bench/out/synth-1m.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import sys
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


def generate(n: int, out: Path, seed: int = 7) -> None:
    """Write `n` snapshot records to `out`."""
    model = SampleModel()
    rng = np.random.default_rng(seed)
    # A Zipf-like category popularity, as on arXiv.
    weights = 1.0 / np.arange(1, len(CATEGORIES) + 1) ** 1.1
    weights /= weights.sum()
    surnames = [
        "Smith",
        "Wang",
        "Zhang",
        "Li",
        "Kumar",
        "Garcia",
        "Müller",
        "Rossi",
        "Kim",
        "Sato",
        "Nguyen",
        "Cohen",
        "Silva",
        "Novak",
        "Ivanova",
        "Okafor",
        "Larsen",
        "Dubois",
    ]
    given = [
        "Ana",
        "Wei",
        "Jun",
        "Priya",
        "Lucas",
        "Sofia",
        "Hiro",
        "Omar",
        "Lena",
        "Ravi",
        "Chen",
        "Marta",
        "Tomás",
        "Ada",
        "Yuki",
        "Ines",
        "Kofi",
        "Eva",
    ]
    with out.open("w", encoding="utf-8") as sink:
        for i in tqdm(
            range(n), desc="synth", unit=" papers", unit_scale=True, file=sys.stderr, mininterval=10
        ):
            title_len = int(rng.choice(model.title_lengths))
            abstract_len = int(rng.choice(model.abstract_lengths))
            title = model.sentence(rng, title_len).replace(" . ", " ").capitalize()
            abstract = model.sentence(rng, abstract_len).replace(" . ", ". ")
            day = model.first_day + timedelta(days=int(rng.choice(model.day_offsets)))
            cats = list(
                dict.fromkeys(rng.choice(CATEGORIES, size=int(rng.integers(1, 4)), p=weights))
            )
            n_authors = int(rng.integers(1, 9))
            people = [(str(rng.choice(surnames)), str(rng.choice(given))) for _ in range(n_authors)]
            # Unique new-style ids: 100,000 a "month" from 1501 on (unrelated to the date).
            month = i // 100_000
            record = {
                "id": f"{15 + month // 12:02d}{month % 12 + 1:02d}.{i % 100_000:05d}",
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
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    generate(args.n, args.output, args.seed)


if __name__ == "__main__":
    main()
