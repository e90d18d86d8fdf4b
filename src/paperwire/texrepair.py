"""TeX that lost its backslashes, made readable again.

The seed listing pages were saved as text from a rendered page, which dropped every
backslash: "complexity mathcal{O}(d^2)", "R^{mtimes n}", "UV^top". A command name cannot
be told from a word in general, so the repair is narrow: only inside a math-like run (a
run of non-space characters holding ``^``, ``_`` or a brace, and no backslash left), and
only the common command names below, longest first (so "varepsilon" is not "var" +
"epsilon"), each replaced by the Unicode character TeX would print. Anything else is
left as written. Text holding a backslash anywhere is taken as intact TeX and not
touched."""

from __future__ import annotations

import re

# Command names the seed pages lost, and the characters they print.
SYMBOLS = {
    "varepsilon": "ε",
    "epsilon": "ε",
    "widetilde": "",
    "mathcal{O}": "𝒪",
    "mathcal{C": "𝒞",
    "mathbb{R}": "ℝ",
    "mathbb{E}": "𝔼",
    "propto": "∝",
    "ldots": "…",
    "cdots": "⋯",
    "infty": "∞",
    "times": "×",
    "Theta": "Θ",
    "theta": "θ",
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "kappa": "κ",
    "lambda": "λ",
    "sigma": "σ",
    "Omega": "Ω",
    "Phi": "Φ",
    "Psi": "Ψ",
    "right": "",
    "left": "",
    "cdot": "·",
    "chi": "χ",
    "rho": "ρ",
    "tau": "τ",
    "top": "⊤",
    "mu": "μ",
}
_NAMES = re.compile("|".join(re.escape(n) for n in sorted(SYMBOLS, key=len, reverse=True)))
_RUN = re.compile(r"\S*[\^_{}]\S*")


def lost_macros(text: str) -> bool:
    """Whether `text` holds a math-like run with a command name that lost its backslash."""
    return "\\" not in text and any(_NAMES.search(m.group(0)) for m in _RUN.finditer(text))


def repair(text: str) -> str:
    """`text` with the lost command names of its math-like runs printed as TeX would."""
    if "\\" in text or "$" in text:
        return text
    return _RUN.sub(lambda m: _NAMES.sub(lambda n: SYMBOLS[n.group(0)], m.group(0)), text)
