# costshare — the two commands: `make run` and `make test`. See README.md.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run serve test test-browser lint fmt db-check bench install install-dev browser-deps clean

$(VENV)/.runtime: requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

## make run: set up, migrate, load the demo if the database is empty, serve on http://127.0.0.1:5000
run: $(VENV)/.runtime
	$(FLASK) db upgrade
	$(FLASK) costshare seed-demo
	@echo "Serving costshare on http://$(HOST):$(PORT) (Ctrl-C stops it)"
	$(FLASK) run --host $(HOST) --port $(PORT)

## make test: the whole suite but the browser tests (TEST_DATABASE_URL picks PostgreSQL)
test: $(VENV)/.dev
	$(BIN)/python -m pytest -m "not browser" $(PYTEST_ARGS)

## make test-browser: Playwright tests in the system Chromium against a live server
test-browser: $(VENV)/.dev
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## make db-check: fail if the models and the migrations differ
db-check: $(VENV)/.runtime
	$(FLASK) db upgrade
	$(FLASK) db check

## make bench: every script in benchmarks/; each prints figure and target, fails on a miss
bench: $(VENV)/.dev
	@status=0; for script in benchmarks/*.py; do \
		echo "== $$script"; $(BIN)/python $$script || status=1; \
	done; exit $$status

## browser-deps: Debian's Chromium and the fonts the PDFs need (needs root)
browser-deps:
	apt-get update && apt-get install -y chromium fonts-wqy-microhei fonts-dejavu-core poppler-utils

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
