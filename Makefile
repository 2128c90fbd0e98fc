# Two entry points: `make run` (set up, migrate, load demo data, serve) and `make test` (set up, run every test
# on SQLite and on PostgreSQL). Everything they need is installed here, so a fresh clone works.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test


.PHONY: setup run lint test test-sqlite test-postgres test-dates browser-deps faketime-deps postgres clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: setup
	$(BIN)/tracker migrate
	$(BIN)/tracker demo --if-empty
	$(BIN)/tracker serve

# Debian's Chromium drives the browser tests; Playwright never downloads a browser here.
browser-deps:
	@command -v chromium >/dev/null || { (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The machine's PostgreSQL on 127.0.0.1:5432 (trust auth); installed and started if missing or down.
postgres:
	@if ! command -v pg_ctlcluster >/dev/null; then (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start
	@for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done; echo "PostgreSQL did not start" >&2; exit 1

# Each suite keeps Playwright's artifacts (screenshots, traces when asked for) in a folder of its own.
# Every run is bounded by the machine's real clock (coreutils' timeout, outside faketime): a test that hangs fails the
# run with its name printed by pytest's faulthandler, instead of using up CI's time with nothing reported.
# 45 minutes: a suite takes 12 to 28 minutes, depending on the machine (two run side by side on two cores).
LIMIT := timeout --signal=ABRT --kill-after=30 2700

test-sqlite: setup browser-deps
	TRACKER_TEST_DATABASE=sqlite $(LIMIT) $(BIN)/pytest -q --output=test-results/sqlite

test-postgres: setup browser-deps postgres
	TRACKER_TEST_DATABASE=$(PG_URL) $(LIMIT) $(BIN)/pytest -q --output=test-results/postgres

# The suite (browser tests aside) at awkward instants, with the machine's clock moved there too by libfaketime: a
# Friday late evening on a project's calendar (Los Angeles), the last evening of a year, and a leap day. The tests
# pin the app's clock to TRACKER_TEST_NOW; faketime makes anything that asked the machine instead see that moment too.
at-friday := 2027-02-26T23:30:00-08:00
at-newyear := 2026-12-31T22:00:00-08:00
at-leapday := 2028-02-29T12:00:00+00:00

# Tests that read no clock at all (schema fuzzing, the migrations' structure), left out of the date runs.
TIMELESS := --ignore=tests/security/test_api_schema.py --ignore=tests/test_migrations.py

faketime-deps:
	@command -v faketime >/dev/null || { (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null; }

test-at-%: setup faketime-deps
	@echo "== the suite at $(at-$*) ($*)"
	TRACKER_TEST_NOW=$(at-$*) TRACKER_TEST_DATABASE=sqlite $(LIMIT) faketime -f "@$$(date -u -d $(at-$*) '+%Y-%m-%d %H:%M:%S')" \
	  $(BIN)/pytest -q -p no:warnings --ignore=tests/browser $(TIMELESS)

# Two at a time, one core each (about six minutes apiece), each one's output printed whole when it ends.
test-dates: setup faketime-deps
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-at-friday test-at-newyear test-at-leapday

# Both suites at once, one core each: every test still runs on both databases. Each suite's output is printed whole
# when it ends, and the run fails if either fails. Then the suite at the three awkward dates. Installing comes first,
# so two apt-gets never run at once.
# Ruff formats and lints (configured in pyproject.toml); `$(BIN)/ruff format .` fixes the formatting.
lint: setup
	$(BIN)/ruff format --check --quiet .
	$(BIN)/ruff check --quiet .

test: setup lint browser-deps postgres faketime-deps
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres
	@$(MAKE) --no-print-directory test-dates

clean:
	rm -rf $(VENV) node_modules var
