# One Makefile for people and CI. `make` = lint + test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: all install run test lint format bench eval clean

all: lint test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## venv + paperwire with its development tools

run: install  ## import the sample corpus into the default SQLite store and show it
	$(BIN)/paperwire import --sample --quiet
	$(BIN)/paperwire stats
	$(BIN)/paperwire search --limit 5 "diffusion models"

test: install  ## the whole test suite
	$(BIN)/pytest

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
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache bench/out

eval: install  ## search quality on eval/judgments.json (each mode; alpha chosen on the dev half)
	$(BIN)/python eval/run.py --choose-alpha
