# gisapp: `make run` serves the demo city, `make test` runs the whole suite.
# Both install what is missing and are quick the second time.
SHELL := /bin/bash
.DEFAULT_GOAL := run

VENV      := .venv
PY        := $(VENV)/bin/python
GISAPP    := $(VENV)/bin/gisapp
PYTHON    ?= python3
LOCAL_URL := postgresql://gisapp:gisapp@127.0.0.1:$(or $(GISAPP_PGPORT),5433)
TEST_URL  := $(or $(TEST_DATABASE_URL),$(LOCAL_URL)/gisapp_test)
RUN_URL   := $(or $(DATABASE_URL),$(LOCAL_URL)/gisapp)
# The test database gets its own data directory (rasters, demo files), apart from make run's.
TEST_DATA := $(or $(GISAPP_TEST_DATA_DIR),/var/lib/gisapp/test-data)

SYSTEM_PACKAGES := postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting gdal-bin
TEST_PACKAGES   := chromium fonts-noto-core poppler-utils

.PHONY: run test system system-test venv assets db test-db demo test-demo serve bench clean-venv

run: system venv assets db demo serve

test: system system-test venv assets test-db test-demo
	TEST_DATABASE_URL=$(TEST_URL) $(VENV)/bin/pytest $(PYTEST_ARGS)

# --- system packages (Debian) -------------------------------------------------------------
system:
	@dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 || { \
	  echo "installing $(SYSTEM_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES); }

system-test:
	@dpkg -s $(TEST_PACKAGES) >/dev/null 2>&1 || { \
	  echo "installing $(TEST_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TEST_PACKAGES); }

# --- Python environment -----------------------------------------------------------------
venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

# --- front-end packages (npm), installed, never committed --------------------------------
assets:
	@if [ -f static/package-lock.json ]; then \
	  if [ ! -d static/node_modules ] || [ static/package-lock.json -nt static/node_modules/.installed ]; then \
	    (cd static && npm ci --no-audit --no-fund --loglevel=error) && touch static/node_modules/.installed; \
	  fi; fi

# --- database ---------------------------------------------------------------------------
db: venv
	DATABASE_URL=$(RUN_URL) $(GISAPP) db provision
	DATABASE_URL=$(RUN_URL) $(GISAPP) db upgrade

test-db: venv
	DATABASE_URL=$(TEST_URL) $(GISAPP) db provision
	DATABASE_URL=$(TEST_URL) $(GISAPP) db upgrade

demo: db
	DATABASE_URL=$(RUN_URL) $(GISAPP) demo load

test-demo: test-db
	GISAPP_DATA_DIR=$(TEST_DATA) DATABASE_URL=$(TEST_URL) $(GISAPP) demo load

# The ETL worker runs beside gunicorn and stops with it (Ctrl-C or TERM stops both).
serve:
	@export DATABASE_URL=$(RUN_URL); \
	$(GISAPP) worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(GISAPP) serve

# Every benchmark against the run database (make bench BENCHES="tiles parcels" for some);
# bench/load.py needs the stack served (make run) at http://127.0.0.1:8000.
BENCHES ?= etl_load tiles features parcels permits drainage_trace load
bench: venv db demo
	@export DATABASE_URL=$(RUN_URL); for b in $(BENCHES); do \
	  echo "== bench/$$b.py"; $(PY) bench/$$b.py || exit 1; done

clean-venv:
	rm -rf $(VENV)
