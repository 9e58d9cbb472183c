# Tutorat — the commands the README names.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install run serve setup migrate reference seed test test-sqlite test-postgres lint format bench bench-matching clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

## Set up the database (migrations), load reference data, seed the demo once.
setup: install
	$(FLASK) db upgrade
	$(FLASK) load-reference-data
	$(FLASK) seed-demo

## Install, migrate, load data, seed the demo, then serve on http://127.0.0.1:8000
run: setup
	@echo ""
	@echo "Tutorat est servi sur http://127.0.0.1:8000  (Ctrl+C pour arrêter)"
	$(BIN)/gunicorn --workers 2 --bind 127.0.0.1:8000 --access-logfile - wsgi:app

serve: install
	$(BIN)/gunicorn --workers 2 --bind 127.0.0.1:8000 --access-logfile - wsgi:app

## The whole test suite: SQLite, then PostgreSQL (if reachable; required under CI=true).
test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider
	@if [ "$$CI" = "true" ] || $(BIN)/python -c "import psycopg,sys; psycopg.connect('host=127.0.0.1 port=5432 user=postgres dbname=test', connect_timeout=2)" 2>/dev/null; then \
		echo "=== Tests sur PostgreSQL ==="; \
		TUTORAT_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -q -p no:cacheprovider tests/tutorat -m "not browser"; \
	else echo "PostgreSQL injoignable sur 127.0.0.1:5432 : tests PostgreSQL non lancés."; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy matching

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench-matching: install
	$(BIN)/python -m bench.bench_matching

bench: bench-matching

clean:
	rm -rf $(VENV) instance/*.sqlite3* .pytest_cache
