"""`paperwire sources add|list|remove|run` and `paperwire worker`: the CLI glue over the
deployment's source methods, on a real SQLite file (no upstream is reached: the runs
themselves are tested through an injected client in test_sources.py)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from paperwire.cli import cli


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERWIRE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PAPERWIRE_EMBED_IN_BACKGROUND", "false")
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'cli.db'}"

    def invoke(*args: str):
        return runner.invoke(cli, ["--db", db, *args], catch_exceptions=False)

    return invoke


def test_add_list_remove(run):
    added = run("sources", "add", "huggingface")
    assert added.exit_code == 0, added.output
    assert "added source huggingface" in added.output
    arxiv = run(
        "sources", "add", "arxiv", "--name", "ml", "--category", "cs.LG",
        "--category", "stat.ML", "--rule", "search", "--query", "diffusion",
        "--start", "2026-11-01", "--interval", "7200",
    )  # fmt: skip
    assert arxiv.exit_code == 0, arxiv.output

    listed = run("sources", "list")
    assert "huggingface" in listed.output and "ml" in listed.output
    assert "[cs.LG stat.ML]" in listed.output
    rows = [json.loads(line) for line in run("sources", "list", "--json").output.splitlines()]
    ml = next(r for r in rows if r["name"] == "ml")
    assert ml["categories"] == ["cs.LG", "stat.ML"] and ml["rule"] == "search"
    assert ml["cursor"] is None and ml["failing"] is False

    assert run("sources", "remove", "ml").exit_code == 0
    assert "ml" not in run("sources", "list").output
    gone = run("sources", "remove", "ml")
    assert gone.exit_code == 2 and "no source named 'ml'" in gone.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("arxiv",), "needs at least one category"),
        (("arxiv", "--category", "cs LG"), "category 'cs LG'"),
        (("huggingface", "--rule", "search"), "needs a query"),
        (("huggingface", "--start", "yesterday"), "'yesterday' is not a date"),
        (("huggingface", "--name", "a b"), "source name 'a b'"),
    ],
)
def test_bad_sources_are_refused_with_the_reason(run, args, message):
    result = run("sources", "add", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_a_name_is_taken_once(run):
    run("sources", "add", "huggingface")
    again = run("sources", "add", "huggingface")
    assert again.exit_code == 2 and "exists already" in again.output


def test_run_names_an_unknown_source(run):
    result = run("sources", "run", "nope")
    assert result.exit_code == 2 and "no source named 'nope'" in result.output


def test_run_with_nothing_configured_says_so(run):
    result = run("sources", "run")
    assert result.exit_code == 0 and "no source is due" in result.output


def test_worker_once_runs_each_job_step(run):
    result = run("worker", "--once")
    assert result.exit_code == 0, result.output


def test_json_logs_are_one_object_per_line():
    import logging

    from paperwire.logs import JsonFormatter

    try:
        raise ValueError("upstream said no")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "paperwire.sources.runner", logging.WARNING, __file__, 1, "source %s failed",
            ("hf",), sys.exc_info(),
        )  # fmt: skip
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "warning" and entry["message"] == "source hf failed"
    assert entry["logger"] == "paperwire.sources.runner"
    assert "ValueError: upstream said no" in entry["exception"]


def test_a_bad_source_in_the_settings_file_stops_the_worker_by_name(tmp_path, monkeypatch):
    config = tmp_path / "site.toml"
    config.write_text(
        "[paperwire]\n"
        f'database_url = "sqlite:///{tmp_path / "site.db"}"\n'
        f'cache_dir = "{tmp_path / "cache"}"\n'
        "embed_in_background = false\n"
        "[[paperwire.sources]]\n"
        'kind = "arxiv"\n'
        'categories = ["cs LG"]\n',
        "utf-8",
    )
    result = CliRunner().invoke(cli, ["--config", str(config), "worker", "--once"])
    assert result.exit_code == 3
    assert "settings sources[1]: category 'cs LG'" in result.output
