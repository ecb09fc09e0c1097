PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DATA_DIR ?= ./assay-data

.PHONY: install install-test serve test bench lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,models]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

serve: install
	$(BIN)/assay serve --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR) --sample

test: install-test
	$(BIN)/pytest

bench: install-test
	$(BIN)/python bench/import_export.py
	$(BIN)/python bench/work_loop.py

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
