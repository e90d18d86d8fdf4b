"""The front door: every command has help; import/search/show/export/stats work and
exit with meaningful codes; the installed `paperwire` command runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from paperwire.cli import cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
    return found


@pytest.fixture
def run(tmp_path, monkeypatch):
    # Keyword-only here (imports never embed); test_semantic.py covers embedding.
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'cli.db'}"

    def invoke(*args: str):
        return runner.invoke(cli, ["--db", db, *args], catch_exceptions=False)

    return invoke


@pytest.mark.parametrize("path", [(), *_commands(cli)])
def test_every_command_has_help(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    command = cli
    for name in path:
        command = command.commands[name]
    assert command.help and len(command.help.strip()) > 20
    assert "Usage:" in result.output


def test_import_search_show_export_round_trip(run, fixtures, tmp_path):
    # The seed papers alone (--no-demo): the demo corpus holds 0704.0001 too.
    result = run("import", "-q", "--sample", "--no-demo", str(fixtures / "snapshot_sample.jsonl"))
    assert result.exit_code == 0, result.output
    # "Target-based Surrogates…" is on a listing page and in the snapshot: one paper.
    assert "total: 248 records read, 247 new, 1 merged" in result.output
    result = run("search", "--mode", "lexical", "--json", "--limit", "3", "diffusion")
    hits = json.loads(result.stdout)
    assert len(hits) == 3 and {"key", "title", "score"} <= set(hits[0])
    assert hits[0]["score"] >= hits[1]["score"]
    result = run("show", "https://arxiv.org/abs/0704.0001v2")
    assert "C. Balázs" in result.output and "hep-ph" in result.output
    out = tmp_path / "export.jsonl"
    assert run("export", "-o", str(out)).exit_code == 0
    assert len(out.read_text().splitlines()) == 247
    # the export imports into an empty store as the same papers
    fresh = CliRunner().invoke(
        cli, ["--db", f"sqlite:///{tmp_path / 'copy.db'}", "import", "-q", str(out)]
    )
    assert "247 new" in fresh.output
    stats = json.loads(run("stats", "--json").stdout)
    assert stats["papers"] == 247 and stats["by_source"]["listing"] == 245
    merged = json.loads(run("show", "--json", "2302.02607").stdout)
    assert merged["upvotes"] == 0 and merged["author_count"] == 5
    assert {s.split(":")[0] for s in merged["sources"]} == {"listing", "arxiv-snapshot"}


def test_exit_codes(run, tmp_path, fixtures):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format":"paperwire","title":"ok"}\n{broken\n')
    result = run("import", "-q", str(bad))
    assert result.exit_code == 1 and "line 2" in result.output
    assert run("import", "-q", str(tmp_path / "missing.txt")).exit_code == 3
    assert run("import").exit_code == 2
    assert run("search", "--mode", "lexical", "").exit_code == 2
    assert run("show", "no-such-paper").exit_code == 1
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00\x01\x02")
    result = run("import", "-q", str(garbage), str(fixtures / "sample.bib"))
    assert result.exit_code == 1 and "binary" in result.output and "3 new" in result.output


def test_search_text_output_and_no_results(run):
    run("import", "-q", "--sample")
    result = run("search", "--mode", "lexical", "-n", "2", '"alternating minimization"')
    assert result.exit_code == 0 and "1. " in result.output
    assert "No papers match." in run("search", "--mode", "lexical", "zzzqqqxxx").output


def test_installed_command_uses_environment_database(tmp_path):
    env = {
        **os.environ,
        "PAPERWIRE_DATABASE_URL": f"sqlite:///{tmp_path / 'env.db'}",
    }
    bin_dir = os.path.dirname(sys.executable)
    subprocess.run(
        [os.path.join(bin_dir, "paperwire"), "import", "-q", "--sample"],
        env=env,
        check=True,
        capture_output=True,
    )
    result = subprocess.run(
        [os.path.join(bin_dir, "paperwire"), "stats"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert "245" in result.stdout and "env.db" in result.stdout


def test_config_file_and_bad_database_url(tmp_path):
    config = tmp_path / "paperwire.toml"
    config.write_text(f'[paperwire]\ndatabase_url = "sqlite:///{tmp_path / "from-file.db"}"\n')
    result = CliRunner().invoke(cli, ["--config", str(config), "stats"])
    assert "from-file.db" in result.output
    result = CliRunner().invoke(cli, ["--db", "oracle://x", "stats"])
    assert result.exit_code == 3 and "unknown database URL" in result.output
    assert "Traceback" not in result.output


def test_hybrid_without_vectors_answers_with_keywords(run):
    run("import", "-q", "--sample")  # imports never embed
    result = run("search", "--json", "-n", "3", "alternating minimization")
    hits = json.loads(result.stdout)
    assert result.exit_code == 0 and hits and "Alternating Minimization" in hits[0]["title"]
