# Clopos Admin. `make run` and `make test` are all a new machine needs; `make help` lists the rest.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
SANDBOX_PORT ?= 8100
STAMP := $(VENV)/.installed

.PHONY: help install run test lint check migrate sandbox serve bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 13), f"Python 3.13 required, found {sys.version}"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP) ## Create the virtualenv (Python 3.13) and install the pinned requirements

# The embedded default: SQLite, the database cache shared by all workers, the bundled sandbox.
run: export CLOPOS_DEMO = 1
run: export CLOPOS_BASE_URL = http://127.0.0.1:$(SANDBOX_PORT)/open-api
run: install ## Set up, seed demo users, start the sandbox and the app on 127.0.0.1:8000
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo_users
	@echo "Sandbox on 127.0.0.1:$(SANDBOX_PORT), app on http://127.0.0.1:$(PORT)/ (Ctrl-C stops both)"
	@$(PY) -m sandbox --host 127.0.0.1 --port $(SANDBOX_PORT) & sandbox_pid=$$!; \
	  trap 'kill $$sandbox_pid 2>/dev/null' EXIT INT TERM; \
	  $(VENV)/bin/gunicorn clopos_admin.wsgi:application -c gunicorn.conf.py --bind 127.0.0.1:$(PORT)

# Production: every variable from the environment (see README). Migrate, collect static files,
# then gunicorn with gunicorn.conf.py (workers from cores, timeouts above the worst case).
serve: install ## Production start: migrate, collectstatic, gunicorn (needs the production env)
	$(PY) manage.py check --deploy --fail-level WARNING
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(VENV)/bin/gunicorn clopos_admin.wsgi:application -c gunicorn.conf.py

sandbox: install ## Run only the Clopos sandbox on 127.0.0.1:8100
	$(PY) -m sandbox --host 127.0.0.1 --port $(SANDBOX_PORT)

lint: install ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check: install ## Django system checks and the missing-migrations check
	CLOPOS_DEMO=1 $(PY) manage.py check --fail-level WARNING
	CLOPOS_DEMO=1 $(PY) manage.py makemigrations --check --dry-run

test: lint check ## Lint, checks, and the whole pytest suite (unit, integration, browser)
	$(PY) -m pytest

bench: install ## Benchmarks: figures and ratios against a baseline measured in the same run
	$(PY) -m tests.bench.bench_pages

clean: ## Remove the virtualenv, the demo database and collected static files
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles
