# Clopos Admin. `make run` and `make test` are all a new machine needs; `make help` lists the rest.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
SANDBOX_PORT ?= 8100
STAMP := $(VENV)/.installed

.PHONY: wrk help install run test test-fast lint typecheck check migrate sandbox serve bench bench-ablation bench-workers bench-cold bench-starvation bench-export screenshots clean messages translations gettext

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 13), f"Python 3.13 required, found {sys.version}"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP) ## Create the virtualenv (Python 3.13) and install the pinned requirements

# Translations (README, "Languages"): locale/<code>/LC_MESSAGES/django.po are written by people
# (after `make messages`); the .mo files the server reads are generated from them, never committed.
# The gettext tools come from Debian's `gettext` package (on this kind of machine from the start;
# .ci/run installs it where missing).
CATALOGUES := $(wildcard locale/*/LC_MESSAGES/django.po)

gettext:
	@command -v msgfmt >/dev/null && command -v xgettext >/dev/null || \
	  { echo "The gettext tools are missing: apt-get install gettext (Debian's package)"; exit 1; }

locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po | gettext
	msgfmt --check -o $@ $<

translations: $(CATALOGUES:.po=.mo) ## Compile the translation catalogues (.po → .mo) that changed

messages: install gettext ## Extract every marked string into locale/*/django.po; then translate and `make check`
	CLOPOS_DEMO=1 $(PY) manage.py translations extract

# The embedded default: SQLite, the database cache shared by all workers, the bundled sandbox.
run: export CLOPOS_DEMO = 1
run: export CLOPOS_BASE_URL = http://127.0.0.1:$(SANDBOX_PORT)/open-api
run: install translations ## Set up, seed demo users, start the sandbox and the app on 127.0.0.1:8000
	@# migrate creates the shared cache's table (orders/migrations/0002): no createcachetable.
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo_users
	@echo "Sandbox on 127.0.0.1:$(SANDBOX_PORT), app on http://127.0.0.1:$(PORT)/ (Ctrl-C stops both)"
	@$(PY) -m sandbox --host 127.0.0.1 --port $(SANDBOX_PORT) & sandbox_pid=$$!; \
	  trap 'kill $$sandbox_pid 2>/dev/null' EXIT INT TERM; \
	  $(VENV)/bin/gunicorn clopos_admin.wsgi:application -c gunicorn.conf.py --bind 127.0.0.1:$(PORT)

# Production: every variable from the environment (see README). Migrate, collect static files,
# then gunicorn with gunicorn.conf.py (workers from cores, timeouts above the worst case).
serve: install translations ## Production start: migrate, collectstatic, gunicorn (needs the production env)
	$(PY) manage.py check --deploy --fail-level WARNING
	$(PY) manage.py migrate --noinput
	@# The migration creates the database cache table; this covers a deployment that moved from
	@# Redis to the database cache after migrating (quiet: "already exists" is not an error).
	$(PY) manage.py createcachetable --verbosity 0
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(VENV)/bin/gunicorn clopos_admin.wsgi:application -c gunicorn.conf.py

sandbox: install ## Run only the Clopos sandbox on 127.0.0.1:8100
	$(PY) -m sandbox --host 127.0.0.1 --port $(SANDBOX_PORT)

# Django version for djade and django-upgrade: the one requirements.txt pins.
DJANGO_TARGET := 6.1

# Tracked files only (git ls-files): what a fresh clone has, never .venv or generated files.
lint: install ## ruff lint and format check, djade (templates) and django-upgrade, all check-only
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	git ls-files -z 'templates/*.html' | xargs -0 -r $(VENV)/bin/djade --target-version $(DJANGO_TARGET) --check
	git ls-files -z '*.py' | xargs -0 -r $(VENV)/bin/django-upgrade --target-version $(DJANGO_TARGET) --check

# mypy --strict with django-stubs; the configuration and its exclusions are in pyproject.toml.
typecheck: install ## mypy (strict, django-stubs) on the application packages
	CLOPOS_DEMO=1 $(VENV)/bin/mypy

check: install gettext ## Django system checks, the missing-migrations check, complete translations
	CLOPOS_DEMO=1 $(PY) manage.py check --fail-level WARNING
	CLOPOS_DEMO=1 $(PY) manage.py makemigrations --check --dry-run
	CLOPOS_DEMO=1 $(PY) manage.py translations check

test: lint typecheck check translations ## Lint, type check, Django checks, then the whole pytest suite
	$(PY) -m pytest

# Unit tests only: no gunicorn, no sandbox, no browser, no child process. By path (the three
# folders) and by marker (`integration`, `browser`, and `subprocess` for tests that run manage.py).
# On two processes (pytest-xdist) on the embedded profile, where each has its own test database and
# cache table; with REDIS_URL set they would share one Redis database, which cache.clear() flushes.
test-fast: install translations ## Unit tests only (no gunicorn, sandbox, browser or child process); under 40 s
	$(PY) -m pytest -q $(if $(REDIS_URL),,-n 2) --ignore=tests/integration --ignore=tests/browser --ignore=tests/sandbox \
	  -m "not integration and not browser and not subprocess"

# The benchmarks load the app with wrk (Debian's `wrk` package; not needed by `make test`).
wrk:
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk (Debian's package)"; exit 1; }

bench-starvation: install wrk ## Cached-page latency under slowloris, a slow Clopos and a login flood
	$(PY) -m tests.bench.bench_starvation

bench-export: install wrk ## Receipts list cold/warm, 5,000-row export rows/s and peak memory, calls per search
	$(PY) -m tests.bench.bench_export

bench: install wrk ## Benchmarks: figures and ratios against a baseline measured in the same run
	$(PY) -m tests.bench.bench_pages

bench-workers: install wrk ## gunicorn worker models side by side with C: BENCH_WORKER_VARIANTS=";GUNICORN_THREADS=1"
	$(PY) -m tests.bench.bench_workers

bench-cold: install ## Where a cold order page's time goes (fetch, renders, the rest; cache round trips), in-process
	$(PY) -m tests.bench.bench_cold

bench-ablation: install wrk ## What each perf change bought: BENCH_REVS="rev rev ." warm order and cold overhead, one sitting
	$(PY) -m tests.bench.bench_ablation

screenshots: install translations ## The README's screenshots: lists, order page (desktop, phone, dark, az), receipts, customer search
	$(PY) -m tests.browser.screenshots docs/screenshots
	$(PY) -m tests.browser.screenshot_receipts docs/screenshots

clean: ## Remove the virtualenv, the demo database, collected static files and compiled catalogues
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles
	rm -f locale/*/LC_MESSAGES/*.mo
