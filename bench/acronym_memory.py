"""The acronym dictionary's memory as a corpus grows (issue 30).

    python bench/acronym_memory.py 100000 400000 1000000 2700000

Feeds `AcronymDictionary.add_text` texts that define (acronym, long form) pairs at the rate
measured on the demo corpus's 5,000 real arXiv records: 0.43 definitions a paper, most of
them a pair no other paper defines (6 in 7 here), the rest one of 300 common acronyms.
Prints, at each paper count asked, the pairs held and the Python memory they take
(tracemalloc: held now, and the peak so far). Run it with PYTHONPATH at two checkouts to
compare them. The synthetic corpora of bench/synth.py define no pairs, so the import
benchmarks cannot show this."""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc

from paperwire.acronyms import AcronymDictionary

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DEFINITIONS_A_PAPER = 0.43
OWN_PAIR_SHARE = 6 / 7
COMMON = 300


def _code(number: int, letters: int) -> str:
    """An acronym of `letters` capitals spelling `number` in base 26."""
    code = ""
    for _ in range(letters):
        code += LETTERS[number % 26]
        number //= 26
    return code


def _text(code: str) -> str:
    """A sentence defining `code` (Schwartz & Hearst's match finds its long form)."""
    return "We study " + " ".join(c.lower() + "ormal" for c in code) + f" ({code}) here."


def main() -> None:
    """Feed the texts and print a line at each paper count."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("papers", type=int, nargs="+", help="paper counts to report at")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    marks = set(args.papers)
    tracemalloc.start()
    dictionary = AcronymDictionary()
    own = 0
    started = time.process_time()
    for paper in range(1, max(marks) + 1):
        if rng.random() < DEFINITIONS_A_PAPER:
            if rng.random() < OWN_PAIR_SHARE:
                own += 1
                dictionary.add_text(_text(_code(own + 1000, 5)))
            else:
                dictionary.add_text(_text(_code(rng.randrange(COMMON), 3)))
        if paper in marks:
            held, peak = tracemalloc.get_traced_memory()
            pairs = sum(len(forms) for forms in dictionary.pairs.values())
            print(
                f"{paper:>9,} papers: {pairs:>8,} pairs, held {held / 2**20:6.1f} MiB, "
                f"peak {peak / 2**20:6.1f} MiB, CPU {time.process_time() - started:.1f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
