# Two commands: `make run` and `make test`. Everything they need is installed from here.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test lint typecheck fmt test-unit test-integration test-pages test-e2e bench clean-data

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamps re-install only when the requirement files change.
$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

run: $(VENV)/.runtime
	$(PY) -m core.cli serve --port $(PORT)

# Two test processes for the tiers without a browser (each has its own data folder and its
# own PostgreSQL and MariaDB databases, tests/conftest.py); the browser tier runs alone, as
# Chromium and the app already fill the two cores.
test: $(VENV)/.dev lint typecheck
	$(PY) -m pytest -q -n 2 --ignore=tests/e2e
	$(PY) -m pytest -q tests/e2e

test-unit test-integration test-pages test-e2e: $(VENV)/.dev
	$(PY) -m pytest -q tests/$(subst test-,,$@)

lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# ARCHITECTURE §2 rule 12: core/ is type-checked (settings in pyproject.toml).
typecheck: $(VENV)/.dev
	$(PY) -m mypy core

fmt: $(VENV)/.dev
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# DATABASE_URL only when given on make's command line: the bench empties the database it is
# pointed at, so an app's DATABASE_URL exported in the shell must never reach it.
bench: $(VENV)/.dev
	$(PY) -m bench --scale $(or $(SCALE),S) --out $(or $(OUT),data/bench.json) $(if $(LOAD),--load) $(if $(IMPORT),--import-whmcs) \
		$(if $(SESSIONS),--sessions $(SESSIONS)) $(if $(SIGNINS),--signins $(SIGNINS)) \
		$(if $(filter command line,$(origin DATABASE_URL)),--database-url $(DATABASE_URL)) \
		$(if $(BASELINE),--baseline $(BASELINE)) $(if $(REBUILD),--rebuild)

clean-data:
	rm -rf data/*.db data/*.db-* data/sandbox-whm.json data/demo-credentials.txt
