# The two commands of the README:  make run  |  make test
# Only python3 (3.11+) and make are assumed; everything else goes into .venv from the lock file.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: running needs the package and its dependencies only; tests add the test extras.
STAMP := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.installed-test-stamp
SCENARIO ?= dawn-dusk-cluster

CESIUM_VERSION ?= 1.145.0
CESIUM_JS := $(VENV)/share/cesium/node_modules/cesium/Build/Cesium/Cesium.js

.PHONY: install run test lint bench lock clean cesium

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e .
	touch $(STAMP)

## The test extras (pytest, hypothesis, ruff, reference libraries) on top of the run install.
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test]'
	touch $(TEST_STAMP)

install: $(STAMP)

## Install, then run the shipped flagship scenario and print its summary and run folder.
run: $(STAMP)
	$(BIN)/orbitgrid run $(SCENARIO) $(if $(OUT),--out $(OUT))

## Install with the test extras, then lint and run the whole test suite.
test: $(TEST_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q

## CesiumJS (npm package cesium, pinned) for the scene test in a real Cesium (tests/report/test_cesium.py).
$(CESIUM_JS):
	npm install --silent --no-audit --no-fund --prefix $(VENV)/share/cesium cesium@$(CESIUM_VERSION)

cesium: $(CESIUM_JS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

## Benchmarks (not part of the tests): see benchmarks/README.md.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_core.py

## Re-pin every dependency from a clean environment into requirements.lock.
lock:
	rm -rf /tmp/orbitgrid-lock && $(PYTHON) -m venv /tmp/orbitgrid-lock
	/tmp/orbitgrid-lock/bin/python -m pip install --quiet --upgrade pip
	/tmp/orbitgrid-lock/bin/python -m pip install --quiet -e '.[test]'
	/tmp/orbitgrid-lock/bin/python -m pip freeze --exclude-editable | sort > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
