# The two commands of the README, and the checks CI runs.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: setup demo test test-fast lint browser wheel-demo

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

setup: $(BIN)/.installed

demo: setup
	$(BIN)/anomaly demo --out out/demo

# The report test opens the report in a real headless Chromium (Debian's package).
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  echo "installing chromium (apt-get) for the report test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The database tests run against a throwaway PostgreSQL cluster (.ci/postgres installs
# Debian's postgresql if missing, starts it on a loopback port, stops it at the end).
test: setup browser
	bash .ci/postgres run $(BIN)/pytest

# The unit and literal tests, under a minute: everything not marked slow (no
# flow, server, browser, cluster, notebook or whole synthetic world).
test-fast: setup
	$(BIN)/pytest -m "not slow" -q

lint: setup
	$(BIN)/ruff check src pipelines tests benchmarks
	$(BIN)/ruff format --check src pipelines tests benchmarks
	$(BIN)/mypy
	@# modules of roughly 100-300 lines; none over 400 (docs/contributing.md)
	@find src pipelines -name '*.py' | xargs wc -l | \
	  awk '$$2 != "total" && $$1 > 400 {print "over 400 lines:", $$2; bad = 1} END {exit bad}'

# What a user installs: the wheel alone, in a fresh venv, run from outside the
# checkout; its report must carry the rule pages.
WHEEL_DIR := dist/wheel-demo
wheel-demo: setup
	rm -rf build $(WHEEL_DIR) && mkdir -p $(WHEEL_DIR)  # no stale build/lib in the wheel
	$(BIN)/pip wheel --no-deps --quiet -w $(WHEEL_DIR) .
	$(PYTHON) -m venv $(WHEEL_DIR)/venv
	$(WHEEL_DIR)/venv/bin/pip install --quiet --upgrade pip
	$(WHEEL_DIR)/venv/bin/pip install --quiet -c constraints.txt $(WHEEL_DIR)/anomaly-*.whl
	cd "$$(mktemp -d)" && $(CURDIR)/$(WHEEL_DIR)/venv/bin/anomaly demo --out demo --scale tiny \
	  && grep -q 'id="rule-VIS-KIN"' demo/run/report.html \
	  && $(CURDIR)/$(WHEEL_DIR)/venv/bin/python -c "from anomaly.shipped_files import shipped_folder; \
	     assert (shipped_folder('rule_pages') / 'examples' / 'VIS-KIN.yaml').is_file()" \
	  && echo "wheel demo in $$PWD: the report carries the rule pages, the package their examples"
