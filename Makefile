PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DATA_DIR ?= ./assay-data
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install install-test serve test bench lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,models,parquet]'
	touch $@

install: $(VENV)/.installed

# The browser tests drive Debian's Chromium (no browser download by Playwright).
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver

install-test: $(VENV)/.installed-test $(CHROMIUM)

# Local development: callbacks and model endpoints may be on this machine (dev-receiver).
serve: install
	$(BIN)/assay serve --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR) --sample \
		--allow-private-urls

test: install-test
	$(BIN)/pytest

bench: install-test
	$(BIN)/python bench/import_export.py
	$(BIN)/python bench/work_loop.py

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
