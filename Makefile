# Tutorat — the commands the README names.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install run serve setup test test-sqlite test-postgres lint format bench bench-matching bench-web bench-reminders bench-search bench-import bench-letters clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

## Set up the database (migrations), load reference data, seed the demo once, then run the
## reminders' cron once (what came due since the demo was made: reminders, expiries).
setup: install
	$(FLASK) db upgrade
	$(FLASK) load-reference-data
	$(FLASK) seed-demo
	$(FLASK) run-reminders

## Install, migrate, load data, seed the demo, run the reminders, then serve on http://127.0.0.1:8000
run: setup
	@echo ""
	@echo "Tutorat est servi sur http://127.0.0.1:8000  (Ctrl+C pour arrêter)"
	$(BIN)/gunicorn --workers 2 --bind 127.0.0.1:8000 wsgi:app

serve: install
	$(BIN)/gunicorn --workers 2 --bind 127.0.0.1:8000 wsgi:app

## The whole test suite: SQLite (with the browser tests), and PostgreSQL at the same time
## (if reachable; required under CI=true). Each run writes its log, shown at the end.
test: install
	@mkdir -p test-artifacts
	@pg=0; if [ "$$CI" = "true" ] || $(BIN)/python -c "import psycopg; psycopg.connect('host=127.0.0.1 port=5432 user=postgres dbname=test', connect_timeout=2)" 2>/dev/null; then \
		pg=1; TUTORAT_TEST_DATABASE_URL=$(PG_TEST_URL) REDIS_TEST_URL=redis://127.0.0.1:6379/13 $(BIN)/python -m pytest -q -p no:cacheprovider tests/tutorat -m "not browser" > test-artifacts/postgres.log 2>&1 & pgpid=$$!; \
	fi; \
	$(BIN)/python -m pytest -q -p no:cacheprovider; sqlite=$$?; \
	if [ $$pg = 1 ]; then wait $$pgpid; postgres=$$?; echo ""; echo "=== Les mêmes tests sur PostgreSQL (hors navigateur) ==="; tail -n 40 test-artifacts/postgres.log; \
	else postgres=0; echo "PostgreSQL injoignable sur 127.0.0.1:5432 : tests PostgreSQL non lancés."; fi; \
	test $$sqlite = 0 -a $$postgres = 0

test-sqlite: install
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-postgres: install
	TUTORAT_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -q -p no:cacheprovider tests/tutorat -m "not browser"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy tutorat matching

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench-matching: install
	$(BIN)/python -m bench.bench_matching

## The forgiving search (communes, job titles): build time, memory, p99 per query, top-1/top-3 on 294 typed queries.
bench-search: install
	$(BIN)/python -m bench.bench_search

## Pages under gunicorn (2 workers) and wrk, on a Gers-sized database (PostgreSQL, SQLite), beside reference pages.
bench-web: install
	$(BIN)/python -m bench.bench_web

## run-reminders on a Gers-sized database (PostgreSQL via BENCH_PG_URL, then SQLite), beside the old per-pair loop.
bench-letters: install
	$(BIN)/python -m bench.bench_letters

bench-reminders: install
	$(BIN)/python -m bench.bench_reminders

## 10,000 beneficiaries imported from a CSV file, on SQLite and PostgreSQL (BENCH_IMPORT_PG_URL); target < 30 s
bench-import: install
	$(BIN)/python -m bench.bench_import

bench: bench-matching bench-web bench-search

clean:
	rm -rf $(VENV) instance/*.sqlite3* .pytest_cache
