# Recommender Systems from Scratch: every target installs what it needs into
# .venv on first use (from the exact pins of requirements-lock.txt) and is
# idempotent.  `make lab` and `make test` are all the set-up a machine needs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The pip that installs the lock (exists on PyPI, supports Python >= 3.9).
PIP_VERSION := 26.3
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
SOLUTIONS := $(sort $(wildcard notebooks/solutions/*.ipynb))

.PHONY: help install lab run notebooks test test-real test-browser lint format unit nbval bench lock clean

help:  ## List the targets.
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(STAMP): requirements-lock.txt pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "pip==$(PIP_VERSION)"
	$(BIN)/python -m pip install --quiet -r requirements-lock.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	bash tools/install_java.sh || echo "warning: no Java 17: lesson 09 (Spark) will say how to install it"
	touch $(STAMP)

install: $(STAMP)  ## Create .venv with the course's exact pins.

lab: $(STAMP)  ## Open the course in JupyterLab (127.0.0.1 unless LAB_IP; LAB_PORT).
	$(BIN)/python tools/lab.py notebooks/00_getting_started.ipynb

run: $(STAMP)  ## Execute every lesson headless into build/ and print its final metrics.
	$(BIN)/python tools/notebook_runner.py --output-dir build $(NOTEBOOKS)

notebooks: $(STAMP)  ## Re-execute lessons and solutions in place (stored outputs = a fresh run).
	$(BIN)/python tools/notebook_runner.py --in-place $(NOTEBOOKS) $(SOLUTIONS)

lint: $(STAMP)  ## ruff check and format check (code and notebooks).
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)  ## Apply ruff's fixes and formatting.
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

unit: $(STAMP)  ## Unit tests of recsys_helpers.
	$(BIN)/python -m pytest tests

nbval: $(STAMP)  ## Execute every notebook and compare it with its stored outputs.
	$(BIN)/python -m pytest --nbval --nbval-current-env notebooks

test: lint unit nbval  ## ruff + unit tests + nbval over every notebook.

REAL := movielens-latest-small

test-real: $(STAMP)  ## Every lesson on MovieLens (RECSYS_DATA_DIR): no errors, < 1.5 GB, models beat Popularity.
	RECSYS_DATASET=$(REAL) $(BIN)/python benchmarks/lesson_budget.py --dataset $(REAL) --check $(NOTEBOOKS)
	$(BIN)/python benchmarks/leaderboard.py --dataset $(REAL) --gate

test-browser: $(STAMP)  ## Every lesson run in JupyterLab in headless Chromium (installs Debian's chromium if missing).
	bash tools/install_chromium.sh
	RECSYS_BROWSER_TESTS=1 $(BIN)/python -m pytest tests/browser -v -s

BENCH_VENV := .venv-bench

$(BENCH_VENV)/.installed: requirements-lock.txt pyproject.toml
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet "pip==$(PIP_VERSION)"
	$(BENCH_VENV)/bin/python -m pip install --quiet -r requirements-lock.txt "implicit==0.7.3"
	$(BENCH_VENV)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

bench: $(BENCH_VENV)/.installed  ## Benchmark report (lessons, leaderboards, ALS vs implicit) -> build/bench/REPORT.md
	$(BENCH_VENV)/bin/python benchmarks/report.py --output build/bench/REPORT.md

lock: $(STAMP)  ## Re-solve requirements-lock.txt (all platforms) and environment.yml.
	$(BIN)/python -m pip install --quiet "uv>=0.5"
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
		--all-extras --quiet -o requirements-lock.txt
	$(BIN)/python tools/lock.py

clean:  ## Remove build outputs (keeps .venv).
	rm -rf build .pytest_cache .ruff_cache
