"""The papers a filtered search may return, handed from the keyword index (which knows the
filters) to the vector index (which knows only vectors)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class Subset:
    """How many papers pass a query's filters and exclusions, and their ids, fetched only
    when asked (a column read costing ~0.25 us a paper: skipped when none pass, and when
    so many pass that checking the unfiltered candidates is cheaper)."""

    count: int
    ids: Callable[[], npt.NDArray[np.int64]]
    # True when the ids are at hand already (asked for this filter before): cheap to use.
    known: bool = False
