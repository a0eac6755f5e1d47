# Quancheng make targets. `make help` lists them.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)
export FLASK_APP := api
# The port the app serves on: core/kernel/settings.py's PORT default unless PORT is set.
PORT ?= 5000
export PORT

.PHONY: help install migrate run test test-sqlite test-postgres lint bench worker bot

help: ## List the targets.
	@grep -E '^[A-Za-z0-9_.-]+:.*## ' $(MAKEFILE_LIST) | sed 's/@PORT@/$(PORT)/g' \
		| awk -F ':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create .venv and install the pinned requirements.

migrate: install ## Apply the database migrations (embedded SQLite unless DATABASE_URL is set).
	$(BIN)/flask db upgrade

run: migrate ## Start web + in-process worker on http://127.0.0.1:@PORT@ (bot too with TELEGRAM_TOKEN).
	$(BIN)/python -m api

worker: install ## Start an rq worker with its scheduler (production, needs REDIS_URL).
	$(BIN)/python -m worker

bot: install ## Poll Telegram (development; production uses the webhook).
	$(BIN)/python -m bot

lint: install ## Lint with ruff; check the pinned packages against PyPI's advisories (vendored list offline).
	$(BIN)/ruff check .
	$(BIN)/python .ci/audit.py

test-sqlite: install ## Run the whole suite on SQLite only.
	$(BIN)/pytest

test-postgres: install ## Run the database tests on PostgreSQL (QC_TEST_DB=postgres).
	QC_TEST_DB=postgres $(BIN)/pytest -m db

test: lint test-sqlite test-postgres ## Install and run the whole suite: SQLite, then the database tests on PostgreSQL.

bench: install ## Run the benchmarks (long; figures go to stdout and bench/out/).
	$(BIN)/python bench/run_all.py
