# The two commands: `make demo` serves the app with demo data; `make test` runs every test.
# Both install what they need on first use (a virtualenv, and on Debian as root the
# PostgreSQL/PostGIS and Redis packages for the project-local servers in .local/).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench install clean-local chromium messages

# Browser tests drive Debian's Chromium; Playwright must never download a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "python3 -m venv failed; on Debian: apt-get install python3-venv" >&2; \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); \
	  else exit 1; fi; }
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/streetsafe demo --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check .

# The Welsh catalogue: extract the marked messages, merge them into the .po, compile the .mo
# (docs/WELSH.md). The .mo is committed, so `make demo` and `make test` need no compile step.
messages: $(STAMP)
	$(BIN)/python -m streetsafe.i18n.catalog all

# Install Debian's Chromium for the browser tests when missing (root on Debian); otherwise
# say so, and the browser tests skip with that reason.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; } || \
	  echo "could not install chromium; the browser tests will skip" >&2; \
	else \
	  echo "/usr/bin/chromium is missing: install Debian's chromium package (as root:" \
	    "apt-get install chromium); the browser tests will skip" >&2; \
	fi

test: $(STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/pytest

# Every benchmark (import, ingest, limiter, load, hotspots, national reads, perturbation:
# about 45 minutes the first time), then docs/BENCHMARKS.md is
# rewritten with the figures. BENCH="ingest" runs one. Uses DATABASE_URL / REDIS_URL when
# set, otherwise the local servers.
bench: $(STAMP)
	@set -e; if [ -z "$$DATABASE_URL" ] || [ -z "$$REDIS_URL" ]; then \
	  eval "export $$($(BIN)/streetsafe local start | tr '\n' ' ')"; fi; \
	  $(BIN)/python -m benchmarks $(BENCH)

clean-local:
	-$(BIN)/streetsafe local stop
	rm -rf .local
