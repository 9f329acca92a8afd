# The two commands of the README: `make run` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000

.PHONY: run test lint e2e bench messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(VENV)/.installed $@

## run: virtualenv, dependencies, database, demo province, server on http://$(HOST)
run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver $(HOST)

## test: the whole suite (unit, integration, real-browser), then lint
test: $(VENV)/.installed-dev
	$(BIN)/pytest
	$(MAKE) --no-print-directory lint

## lint: ruff, formatting, mypy, migrations up to date
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/python manage.py makemigrations --check --dry-run

## e2e: only the real-browser tests
e2e: $(VENV)/.installed-dev
	$(BIN)/pytest tests/e2e

## bench: benchmarks (not timed tests) on SQLite, and on PostgreSQL when it is reachable
bench: $(VENV)/.installed-dev
	$(BIN)/pytest -q -p no:randomly tests/bench/bench_*.py
	@if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then \
	  DATABASE_URL=postgres://postgres@127.0.0.1:5432/cchc_bench $(BIN)/pytest -q tests/bench/bench_*.py; \
	else echo "PostgreSQL is not reachable on 127.0.0.1:5432: SQLite numbers only."; fi

## messages: refresh and compile the Vietnamese catalogue (needs GNU gettext)
messages: $(VENV)/.installed-dev
	$(BIN)/python manage.py makemessages --locale vi --no-obsolete --ignore '.venv/*' --ignore 'tests/*'
	$(BIN)/python manage.py compilemessages --locale vi --ignore '.venv/*'

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache .ruff_cache test-artifacts
