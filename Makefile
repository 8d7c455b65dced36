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

# nginx (Debian's) is the buffering reverse proxy make run serves through (docker/nginx/).
# fonts-noto-core and librsvg2-bin: the map's label glyphs and icon sprite (gisapp fonts/sprite build)
# mosquitto: the MQTT broker sensors publish to; postgresql-15-partman: observation partitions;
# pgbouncer: the transaction-mode pooler web nodes and workers can connect through;
# libnginx-mod-http-cache-purge: PURGE of the tiles an import changed from nginx's cache.
SYSTEM_PACKAGES := postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting gdal-bin nginx \
                   fonts-noto-core librsvg2-bin mosquitto mosquitto-clients postgresql-15-partman \
                   pgbouncer libnginx-mod-http-cache-purge
# gettext-base: envsubst, which renders the nginx template as the nginx image does (tests/docker)
TEST_PACKAGES   := chromium fonts-noto-core poppler-utils gettext-base

# make run answers on LISTEN (nginx); gunicorn listens on APP_BIND behind it.
LISTEN    ?= 127.0.0.1:8000
APP_BIND  ?= 127.0.0.1:8001
RUN_DIR   := var/run
# The worker purges each import's tiles from nginx's cache (README: Public tiles on a CDN).
SERVE_ENV := export DATABASE_URL=$(RUN_URL) GISAPP_PROXY_HOPS=1 GISAPP_PUBLIC_URL=http://$(LISTEN); \
	export DATABASE_READ_URLS="$${DATABASE_READ_URLS-$$($(GISAPP) replica url --if-running)}"; \
	export GISAPP_TILE_PURGE_URL="$${GISAPP_TILE_PURGE_URL-http://$(LISTEN)/_purge}"
# PgBouncer (transaction mode) on POOLER_LISTEN, in front of RUN_URL's database, for more web
# nodes, scripts and benchmarks; POOLED=1 sends gunicorn's web and tile connections through
# it too (DATABASE_POOLER=transaction). The worker and imports always connect directly.
POOLER_LISTEN ?= 127.0.0.1:6432
POOLED    ?= 0
START_POOLER := pooled=$$($(GISAPP) pgbouncer start --listen $(POOLER_LISTEN)) || exit 1; \
	if [ "$(POOLED)" = 1 ]; then export $$pooled; fi

.PHONY: run test test-fast test-cluster system system-test venv assets db replica test-db demo test-demo map-assets \
	test-map-assets serve start stop serve-start bench bench-city bench-sensors bench-live-map clean-venv

run: system venv assets db replica demo map-assets serve

# The suite runs in TEST_WORKERS pytest-xdist processes (0: in this one), a file per worker
# at a time; each worker clones the test database (tests/databases.py). Three on this 2-core
# machine: two left the cores idle 15% of the time (tests waiting on servers, browsers and
# clusters), and the fast lane took 266-283 s against 238 s with three and 272 s with four.
TEST_WORKERS ?= 3
PYTEST := TEST_DATABASE_URL=$(TEST_URL) GISAPP_TEST_DATA_DIR=$(TEST_DATA) $(VENV)/bin/pytest \
	$(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadfile)

test: system system-test venv assets test-db test-demo test-map-assets
	$(PYTEST) $(PYTEST_ARGS)

# Everything but the browser tests and those that start a PostgreSQL cluster of their own.
test-fast: system venv assets test-db test-demo test-map-assets
	$(PYTEST) -m "not browser and not cluster" $(PYTEST_ARGS)

# Only the tests that start PostgreSQL clusters of their own (replicas, restores, restarts).
test-cluster: system venv assets test-db test-demo test-map-assets
	$(PYTEST) -m cluster $(PYTEST_ARGS)

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

# A streaming replica of the local cluster beside it (reads: DATABASE_READ_URLS); when it
# cannot be made (a primary elsewhere, or one to restart first) reads stay on the primary.
replica: db
	@DATABASE_URL=$(RUN_URL) $(GISAPP) replica start >/dev/null || \
	  echo "replica not started: reads stay on the primary (see README, Read replicas)"

test-db: venv
	DATABASE_URL=$(TEST_URL) $(GISAPP) db provision
	DATABASE_URL=$(TEST_URL) $(GISAPP) db upgrade

demo: db
	DATABASE_URL=$(RUN_URL) $(GISAPP) demo load

test-demo: test-db
	GISAPP_DATA_DIR=$(TEST_DATA) DATABASE_URL=$(TEST_URL) $(GISAPP) demo load

# Glyphs for map labels (from fonts-noto-core) and the icon sprite (static/icons, drawn by
# librsvg): built into the data directory, quick when already built.
map-assets: venv
	$(GISAPP) fonts build
	$(GISAPP) sprite build

test-map-assets: venv
	GISAPP_DATA_DIR=$(TEST_DATA) $(GISAPP) fonts build
	GISAPP_DATA_DIR=$(TEST_DATA) $(GISAPP) sprite build

# nginx on LISTEN buffers clients in front of gunicorn on APP_BIND; the ETL worker, the
# sensors' broker (mosquitto on MQTT_URL) and its ingest subscriber run beside them. All stop
# together (Ctrl-C or TERM).
serve:
	@$(SERVE_ENV); \
	$(GISAPP) nginx start --listen $(LISTEN) --upstream $(APP_BIND) || exit 1; \
	$(START_POOLER); \
	$(GISAPP) mqtt start || { $(GISAPP) nginx stop; $(GISAPP) pgbouncer stop; exit 1; }; \
	$(GISAPP) worker & worker=$$!; \
	$(GISAPP) mqtt subscribe & subscriber=$$!; \
	trap 'kill $$worker $$subscriber 2>/dev/null; wait $$worker $$subscriber 2>/dev/null; $(GISAPP) mqtt stop; $(GISAPP) nginx stop; $(GISAPP) pgbouncer stop' EXIT INT TERM; \
	$(GISAPP) serve --bind $(APP_BIND)

# The same stack in the background (for benchmarks and scripts): `make start`, then
# `make stop`. Returns once http://$(LISTEN)/readyz answers; logs in var/log/.
start: system venv assets db replica demo map-assets serve-start

serve-start:
	@mkdir -p $(RUN_DIR) var/log; $(SERVE_ENV); \
	$(GISAPP) nginx start --listen $(LISTEN) --upstream $(APP_BIND) || exit 1; \
	$(START_POOLER); \
	$(GISAPP) serve --bind $(APP_BIND) --daemon --pid-file $(RUN_DIR)/gunicorn.pid \
	  --log-file var/log/gunicorn.log || exit 1; \
	$(GISAPP) mqtt start || exit 1; \
	nohup $(GISAPP) worker >var/log/worker.log 2>&1 & echo $$! >$(RUN_DIR)/worker.pid; \
	nohup $(GISAPP) mqtt subscribe >var/log/subscriber.log 2>&1 & echo $$! >$(RUN_DIR)/subscriber.pid; \
	for i in $$(seq 120); do \
	  $(PY) -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
	    http://$(LISTEN)/readyz 2>/dev/null && { echo "serving on http://$(LISTEN)/"; exit 0; }; \
	  sleep 0.5; done; echo "http://$(LISTEN)/readyz did not answer; see var/log/" >&2; exit 1

stop:
	@$(GISAPP) nginx stop; $(GISAPP) pgbouncer stop; for p in gunicorn worker subscriber; do \
	  [ -f $(RUN_DIR)/$$p.pid ] || continue; pid=$$(cat $(RUN_DIR)/$$p.pid); kill $$pid 2>/dev/null; \
	  for i in $$(seq 60); do kill -0 $$pid 2>/dev/null || break; sleep 0.5; done; \
	  rm -f $(RUN_DIR)/$$p.pid; echo "$$p stopped"; done; $(GISAPP) mqtt stop

# Every benchmark against the run database (make bench BENCHES="tiles parcels" for some);
# bench/load.py needs the stack served (make run) at http://127.0.0.1:8000.
BENCHES ?= etl_load tiles features parcels permits drainage_trace load
bench: venv db demo
	@export DATABASE_URL=$(RUN_URL); for b in $(BENCHES); do \
	  echo "== bench/$$b.py"; $(PY) bench/$$b.py || exit 1; done

# Sensor readings in (MQTT, HTTP) and out (latest values, 30-day chart over a year of 5-minute
# data for 300 datastreams), in databases of its own (make bench-sensors SENSORS_ARGS=--small).
bench-sensors: venv db
	$(PY) bench/sensors.py $(SENSORS_ARGS)

# The live map's feeds (state now and replayed, 24-hour and 30-day charts) over 300 gauges
# with 30 days of 5-minute readings, in a database of its own, dropped after.
bench-live-map: venv db
	$(PY) bench/live_map.py

# The whole-city scale bench (1,000,000 against 250,000 parcels, in databases of its own;
# make bench-city CITY_ARGS=--small for a quick run).
bench-city: venv db
	$(PY) bench/city_scale.py $(CITY_ARGS)

clean-venv:
	rm -rf $(VENV)
