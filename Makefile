# The two commands of the README, and the checks CI runs.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: setup demo test lint

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

setup: $(BIN)/.installed

demo: setup
	$(BIN)/anomaly synth --scale small --seed 1 --out out/demo/drop --labels out/demo/labels.csv
	$(BIN)/anomaly score out/demo/drop --out out/demo/run
	$(BIN)/anomaly evaluate --labels out/demo/labels.csv --out out/demo/run

test: setup
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check src pipelines tests benchmarks
	$(BIN)/ruff format --check src pipelines tests benchmarks
	$(BIN)/mypy
