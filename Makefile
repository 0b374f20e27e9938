# pyisp: everything runs from .venv, made on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CASE ?= facts/teacher-counselling-disclosure.yaml

.PHONY: install lint run test bench bench-serve golden screenshot clean

# Set-up: a virtual environment with pyisp installed (not editable: tests see the installed package).
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q hatchling
	touch $(STAMP)

install: $(STAMP)
	$(BIN)/pip install -q --no-build-isolation --force-reinstall --no-deps .
	$(BIN)/pip install -q ".[dev,crosscheck,serve]"

# Lint (settings in pyproject.toml): ruff over pyisp/ and tests/, mypy --strict on the public API.
# Runs before the tests; a few seconds. The linters come with the dev extras (make install).
lint: $(BIN)/mypy
	$(BIN)/ruff check pyisp tests
	$(BIN)/mypy

$(BIN)/mypy: $(STAMP)
	$(MAKE) install
	touch $@

# The main job: answer an example case.
run: install
	$(BIN)/pyisp query $(CASE)

# Headless Chromium renders the HTML explanation in tests/test_explain_browser.py (Debian's package; installed once).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get install -y chromium || (apt-get update && apt-get install -y chromium)

# The whole test suite, against the installed package, after the linters.
test: install lint $(CHROMIUM)
	cd tests && ../$(BIN)/pytest

# docs/explain.png: the HTML explanation of an example case as a reviewer sees it (refresh after a change of the output).
SHOT_CASE ?= facts/failure-to-thrive-parents-refuse.yaml
GUIDE_NAME := london-cpp-chapter-3-information-sharing.txt
GUIDANCE ?= $(firstword $(wildcard $(PYISP_GUIDANCE) ../shared/guidance/$(GUIDE_NAME) /work/shared/guidance/$(GUIDE_NAME)))
screenshot: install $(CHROMIUM)
	$(BIN)/pyisp explain $(SHOT_CASE) --format html $(if $(GUIDANCE),--source $(GUIDANCE)) > build-explain.html
	$(CHROMIUM) --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
	  --disable-sync --no-first-run --hide-scrollbars --user-data-dir=$$(mktemp -d) --window-size=1280,1400 \
	  --screenshot=docs/explain.png file://$(CURDIR)/build-explain.html
	rm -f build-explain.html

# Speed: the scenario corpus (pyisp test); medians and p95 of pyisp.query on facts/, and a batch of generated cases.
bench: install
	$(BIN)/python bench/corpus.py
	$(BIN)/python bench/bench.py
	$(MAKE) bench-serve

# Load test of `pyisp serve` on 127.0.0.1 (bounded, stops by itself): requests/s, p50 and p99 at 1, 8 and 32 clients.
bench-serve: install
	$(BIN)/python bench/serve_load.py

# Re-answer tests/golden/corpus.jsonl with the reference engine: only after a change of the rules or case format.
golden: install
	cd tests && ../$(BIN)/python record_golden.py

clean:
	rm -rf $(VENV) build dist *.egg-info
