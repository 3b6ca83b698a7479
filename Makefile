# arrisk — run `make help` for the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export ARRISK_HOME ?= $(CURDIR)/var

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-18s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "arrisk needs Python 3.11, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

setup: $(BIN)/.installed ## create .venv and install the locked dependencies

demo: setup ## generate a book, import it, train, score, dunning dry run, serve on 127.0.0.1:8000
	$(BIN)/arrisk demo

test: setup ## run the whole test suite (PostgreSQL tests skip if none answers)
	$(BIN)/pytest -q -n 2 --dist loadfile

lint: setup ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy arrisk features training models serving

format: setup ## apply ruff's formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock: ## re-resolve requirements.lock from pyproject.toml (needs uv)
	uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

bench-generate: setup ## generator at 1M customers x 12 months -> benchmarks/results/generate.json
	$(BIN)/python benchmarks/generate.py

bench-features: setup ## as-of snapshot at 100k and 1M customers vs DuckDB -> benchmarks/results/features.json
	$(BIN)/python benchmarks/feature_snapshot.py

clean: ## remove ARRISK_HOME state (not the venv)
	rm -rf var

.PHONY: help setup demo test lint format lock bench-generate bench-features clean
