# pyisp: everything runs from .venv, made on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CASE ?= facts/teacher-counselling-disclosure.yaml

.PHONY: install run test bench golden clean

# Set-up: a virtual environment with pyisp installed (not editable: tests see the installed package).
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q hatchling
	touch $(STAMP)

install: $(STAMP)
	$(BIN)/pip install -q --no-build-isolation --force-reinstall --no-deps .
	$(BIN)/pip install -q ".[dev,crosscheck]"

# The main job: answer an example case.
run: install
	$(BIN)/pyisp query $(CASE)

# The whole test suite, against the installed package.
test: install
	cd tests && ../$(BIN)/pytest

# Speed: the scenario corpus (pyisp test); medians and p95 of pyisp.query on facts/, and a batch of generated cases.
bench: install
	$(BIN)/python bench/corpus.py
	$(BIN)/python bench/bench.py

# Re-answer tests/golden/corpus.jsonl with the reference engine: only after a change of the rules or case format.
golden: install
	cd tests && ../$(BIN)/python record_golden.py

clean:
	rm -rf $(VENV) build dist *.egg-info
