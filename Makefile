# PresGen: `make run` starts everything locally, `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test bench lint format typecheck chaos clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "PresGen needs Python 3.11, found " + sys.version'
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependency list changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e . --group dev
	touch $(STAMP)

install: $(STAMP)

# Local use: DEBUG on unless the caller says otherwise (no secrets needed).
run: export DEBUG ?= 1
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py run_local

# The browser tests drive Debian's Chromium: install it first when it is missing.
test: $(STAMP)
	bash .ci/ensure-chromium
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --group bench
	$(BIN)/python bench/run.py

# Reliability under faults (issue 9), each printing its table of figures: real
# workers killed and frozen mid-render, 30% provider faults over 200 jobs, and
# 50 concurrent API assessments plus 1,000 queued jobs on 2 workers (~25 min).
chaos: $(STAMP)
	$(BIN)/python bench/chaos.py
	$(BIN)/python bench/faults.py
	$(BIN)/python bench/load.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
