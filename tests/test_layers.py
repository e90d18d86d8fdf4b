"""Who may import whom: the layer table of the README's "Layout", as a test.

Data flows one way (ingest -> store -> search -> web/digest/cli). Every top-level module or
package of `src/paperwire` has a layer; a module may import its own layer and the layers below,
never one above. An import under `if TYPE_CHECKING:` counts too: a type that has to come from
above is a sign the code sits in the wrong place. A new module must be given a layer here, so the
table cannot fall behind the tree.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "paperwire"

#: Lower layers first. A unit is a top-level module (``models``) or package (``store``).
LAYERS: list[set[str]] = [
    # plain records, settings and helpers that know nothing of the rest
    # (upstream: the fields upstream gives a paper, each with its source and time)
    {
        "__init__",
        "models",
        "errors",
        "xmltext",
        "progress",
        "config",
        "logs",
        "logredact",
        "lru",
        "upstream",
    },
    # pure rules over records: the query language, trending, how TeX and a paper are shown
    # (topics and people as pure rules: querylang's topic: obeys topics.topic_matches)
    {
        "querylang",
        "ranking",
        "texmath",
        "presentation",
        "cite",
        "extras",
        "paperref",
        "texrepair",
        "topics",
        "people",
        "acronyms",
    },
    # the store: the only place that writes SQL
    {"store", "data"},
    # what stands directly on the store: parsers and loads, tokens, metrics, jobs, arXiv's pace
    {"ingest", "seeddays", "tokens", "metrics", "jobs", "pacing"},
    # indexes over the store, and sources on a schedule
    {"search", "sources", "keyphrases"},
    # recommendations (over the indexes' vectors)
    {"recommend"},
    # who gets what, through the one outbox
    {"digest", "channels"},
    # discussion (its notices go through the digests' outbox)
    {"discussion"},
    # the pipelines every front door shares
    {"deployment"},
    # front doors
    {"web", "cli", "mcp"},
    # the web workers' entry point
    {"asgi"},
]


def layer_of(unit: str) -> int:
    for rank, units in enumerate(LAYERS):
        if unit in units:
            return rank
    raise KeyError(unit)


def unit_of(path: Path, root: Path) -> str:
    return path.relative_to(root).with_suffix("").parts[0]


def imported_units(path: Path, root: Path) -> set[str]:
    """The top-level paperwire units a module imports (absolute or relative)."""
    module = ["paperwire", *path.relative_to(root).with_suffix("").parts]
    package = module[:-1]  # for __init__.py too: a package's relative imports start at itself
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            targets = [target]
            if target == "paperwire":
                targets = [f"paperwire.{alias.name}" for alias in node.names]
        for target in targets:
            parts = target.split(".")
            if parts[0] == "paperwire" and len(parts) > 1:
                found.add(parts[1])
    return found


def upward_imports(root: Path) -> list[str]:
    """Every import of a higher layer under `root`, as 'a.py (layer) imports b (layer)'."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        unit = unit_of(path, root)
        for other in imported_units(path, root) - {unit}:
            if layer_of(other) > layer_of(unit):
                problems.append(
                    f"{path.relative_to(root)} (layer {layer_of(unit)}) imports "
                    f"{other} (layer {layer_of(other)})"
                )
    return problems


def test_every_unit_has_a_layer() -> None:
    units = {unit_of(path, SRC) for path in SRC.rglob("*.py")}
    placed = set().union(*LAYERS)
    assert units <= placed, f"give these a layer in tests/test_layers.py: {units - placed}"


def test_no_module_imports_a_layer_above_its_own() -> None:
    assert upward_imports(SRC) == []


def test_a_deliberate_upward_import_is_caught(tmp_path: Path) -> None:
    """The check itself: a store module that imports the web layer fails it."""
    root = tmp_path / "paperwire"
    (root / "store").mkdir(parents=True)
    (root / "web").mkdir()
    (root / "store" / "__init__.py").write_text("")
    (root / "web" / "__init__.py").write_text("")
    (root / "web" / "app.py").write_text("from paperwire.store import papers\n")
    (root / "store" / "papers.py").write_text("from ..web import app\n")
    assert upward_imports(root) == ["store/papers.py (layer 2) imports web (layer 9)"]
    (root / "store" / "papers.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import paperwire.web.app\n"
    )
    assert upward_imports(root) == ["store/papers.py (layer 2) imports web (layer 9)"]


@pytest.mark.parametrize("unit", ["ingest", "store", "search", "digest", "deployment"])
def test_lower_layers_never_reach_the_front_doors(unit: str) -> None:
    assert layer_of(unit) < layer_of("web") and layer_of(unit) < layer_of("cli")
