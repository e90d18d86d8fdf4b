# One Makefile for people and CI. `make` = lint + test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: all install system-deps browser-deps run serve test test-quick lint format bench eval clean

all: lint test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## venv + paperwire with its development tools

system-deps:  ## Debian's chromium for the browser tests (installed when root and missing)
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	else echo "note: no chromium (sudo apt-get install chromium): browser tests will skip"; fi

browser-deps:  ## axe-core for the browser tests' accessibility checks (tests/package-lock.json)
	@if command -v npm >/dev/null; then npm ci --prefix tests --no-audit --no-fund --silent; \
	else echo "note: no npm (apt-get install npm): the accessibility checks will skip"; fi

run: install  ## import the sample corpus, list it on today's feed, serve on :8000
	$(BIN)/paperwire import --sample --list-on today --quiet
	$(BIN)/paperwire stats
	$(BIN)/paperwire serve --host 127.0.0.1 --port 8000

test: install system-deps browser-deps  ## the whole test suite
	$(BIN)/pytest

test-quick: install  ## the quick loop: everything but the PostgreSQL and browser tests
	$(BIN)/pytest -m "not postgres and not browser"

lint: install  ## ruff + mypy
	$(BIN)/ruff check src tests bench eval
	$(BIN)/ruff format --check src tests bench eval
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: install  ## the benchmarks of bench/ (long: see bench/RESULTS.md)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache bench/out test-artifacts tests/node_modules

eval: install  ## search quality on eval/judgments.json: every mode per kind and split, bm25s beside, paired tests, dev grids
	$(BIN)/python eval/run.py --tune
