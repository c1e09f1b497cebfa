# moengage-pipelines — every target bootstraps its own environment from a clean clone.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
VENV := .venv
# Use a uv already on PATH, else install a pinned one into .tools (only Python and make are assumed).
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Installed modules are compiled once at install time: where Python cannot write .pyc files
# (a read-only image, PYTHONDONTWRITEBYTECODE), every command would compile them again.
export UV_COMPILE_BYTECODE := 1
export DAGSTER_HOME := $(CURDIR)/.dagster_home
# The demo and the emulator share these; real deployments set their own.
export MOENGAGE_WORKSPACE_ID ?= DEMO_WORKSPACE
export MOENGAGE_DATA_API_KEY ?= demo-data-key
export MOENGAGE_CAMPAIGN_API_KEY ?= demo-campaign-key
export MOENGAGE_DC ?= 01
EMULATOR_PORT ?= 8765

.PHONY: install test ui-test lint check demo dev dev-postgres emulator bench sample-db clean

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

install: $(VENV)/.installed ## Create .venv with the locked dependencies

# The local Dagster instance: pools, run limits, telemetry off.
$(DAGSTER_HOME)/dagster.yaml: dagster_project/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp $< $@

lint: install ## ruff and the import contracts (pyproject.toml [tool.importlinter])
	$(BIN)/ruff check .
	$(BIN)/lint-imports

check: install $(DAGSTER_HOME)/dagster.yaml ## dg check defs: load every Dagster definition
	$(BIN)/dg check defs

test: install $(DAGSTER_HOME)/dagster.yaml ## pytest, dg check defs, import contracts and ruff
	$(BIN)/pytest -n 2 --dist loadgroup
	$(BIN)/dg check defs
	$(BIN)/lint-imports
	$(BIN)/ruff check .

ui-test: install ## Browser tests: make dev on a free port, driven in Chromium by Playwright
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@command -v chromium >/dev/null || { echo "error: chromium not found (apt-get install -y chromium)"; exit 1; }
	$(BIN)/pytest tests/ui -m ui -p no:cacheprovider

sample-db: install ## Build sample_data/warehouse.duckdb from the generated sample files
	$(BIN)/python -m sample_data.build

demo: install ## Emulator + whole Dagster graph for a sample day, then a summary
	$(BIN)/python -m dagster_project.demo

dev: install ## Dagster UI (http://127.0.0.1:3000) on the demo warehouse and the emulator
	$(BIN)/python -m dagster_project.dev

dev-postgres: install ## make dev with Dagster's runs and events in PostgreSQL ($$DAGSTER_POSTGRES_URL)
	$(BIN)/python -m dagster_project.dev --postgres

emulator: install ## Run the MoEngage emulator on 127.0.0.1:$(EMULATOR_PORT)
	$(BIN)/moengage-pipelines emulator --host 127.0.0.1 --port $(EMULATOR_PORT)

bench: install ## Benchmarks against a naive baseline measured in the same run
	$(BIN)/python -m bench
	$(BIN)/python -m bench.sources --rows 1000000,10000000

clean:
	rm -rf $(VENV) $(TOOLS) .dagster_home .pytest_cache sample_data/warehouse.duckdb
