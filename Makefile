# egov-metrics — every target bootstraps its own .venv from PyPI (Python 3.11+).
# Run `make help` for the list.

SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
DB ?= data/egov.duckdb
DOSSIERS ?= 2000000
SEED ?= 58
JOBS ?= 2

.DEFAULT_GOAL := help
.PHONY: help demo test test-fast browser lint lab bench clean check-python

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'
	@echo "  Variables: DB=$(DB) DOSSIERS=$(DOSSIERS) SEED=$(SEED) JOBS=$(JOBS) (test-fast processes; 0 = one)"

check-python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is required (set PYTHON=/path/to/python3.11)"; exit 1; }

$(BIN)/.stamp-base: pyproject.toml | check-python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(BIN)/.stamp-test: $(BIN)/.stamp-base
	$(BIN)/python -m pip install --quiet -e '.[test,scale]'
	@touch $@

$(BIN)/.stamp-lab: $(BIN)/.stamp-test
	$(BIN)/python -m pip install --quiet -e '.[test,scale,lab]'
	@touch $@

DEMO_STAMP := data/.demo-$(DOSSIERS)-$(SEED)-$(shell date +%Y-%m)

$(DEMO_STAMP): $(BIN)/.stamp-base
	$(BIN)/egov-metrics demo --db $(DB) --dossiers $(DOSSIERS) --seed $(SEED)
	@# new data: the reports of the previous demo no longer describe it
	find reports -mindepth 1 ! -name .gitkeep ! -name README.md -delete
	rm -f data/.demo-*
	@touch $@

# the package's modules compiled to bytecode once, as pip does for an installed package: every process then
# loads them compiled, also where PYTHONDONTWRITEBYTECODE is set (0.07 s of each command's start, measured)
COMPILE := $(BIN)/python -m compileall -q egov_metrics >/dev/null

demo: $(DEMO_STAMP) ## Build the demo database (DOSSIERS=…), render the latest month's reports, print where they are
	@$(COMPILE)
	$(BIN)/egov-metrics info --db $(DB)
	$(BIN)/egov-metrics schedule run --db $(DB) --jobs egov_metrics/schedule_data/demo.yaml \
		--since $$($(BIN)/python -c "from egov_metrics.demo import last_full_month; print(f'{last_full_month():%Y-%m}')")
	@echo
	@echo "Reports: $(abspath reports/index.html)"

test: $(BIN)/.stamp-test browser ## Lint, type-check, run the test suite (reports in a real browser too) and every notebook (nbval)
	$(BIN)/ruff check egov_metrics tests bench conftest.py
	$(BIN)/ruff format --check egov_metrics tests bench conftest.py
	$(BIN)/mypy
	$(BIN)/egov-metrics catalog check
	$(BIN)/egov-metrics roadmap check
	$(BIN)/egov-metrics schedule check
	$(BIN)/python -m pytest -q
	$(BIN)/python -m pytest -q --nbval-lax notebooks

browser: ## Install Debian's chromium (no recommends) for the browser tests if it is missing; needs root
	@if command -v chromium >/dev/null 2>&1 || [ -x "$${EGOV_CHROMIUM:-}" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "Installing chromium for the browser tests (apt-get, --no-install-recommends)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	elif sudo -n true 2>/dev/null; then \
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	else \
		echo "*** chromium is missing and this user cannot install it: tests/test_browser.py will fail."; \
		echo "*** Install it as root: apt-get install --no-install-recommends chromium"; \
		echo "*** (or point EGOV_CHROMIUM at a Chromium/Chrome binary)"; \
	fi

test-fast: $(BIN)/.stamp-test ## Unit and golden tests only (not those marked slow), on JOBS=2 processes: the quick loop
	$(BIN)/python -m pytest -q -m "not slow" -n $(JOBS)

lint: $(BIN)/.stamp-test ## ruff check + format check + mypy (configured in pyproject.toml)
	$(BIN)/ruff check egov_metrics tests bench conftest.py
	$(BIN)/ruff format --check egov_metrics tests bench conftest.py
	$(BIN)/mypy

lab: $(BIN)/.stamp-lab ## Open JupyterLab on the project (notebooks/)
	EGOV_DB=$(abspath $(DB)) $(BIN)/jupyter lab --notebook-dir=.

bench: $(BIN)/.stamp-test ## Run the benchmarks (not part of make test); see bench/README.md
	@$(COMPILE)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/incremental.py
	$(BIN)/python bench/publish.py
	$(BIN)/python bench/clickhouse.py --sizes 1000000

clean: ## Remove generated databases and reports (keeps .venv)
	rm -f data/*.duckdb data/*.duckdb.wal data/.demo-*
	rm -rf data/.*.duckdb.cache
	find reports -mindepth 1 ! -name .gitkeep ! -name README.md -delete
