# Two entry points for a fresh clone (Debian/Ubuntu): `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The cloud SDKs (Pulumi with the AWS, Azure and GCP providers, ~1 GB) only for tests.
CLOUD_STAMP := $(VENV)/.installed-cloudtest

.PHONY: setup setup-test run test test-slow mutants lint clean

# System tools first: a fresh Debian needs python3-venv before the venv can exist.
setup:
	@bash scripts/install-system-tools.sh run
	@$(MAKE) --no-print-directory $(STAMP)

setup-test:
	@bash scripts/install-system-tools.sh test
	@$(MAKE) --no-print-directory $(CLOUD_STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,ssh,prices]'
	@touch $(STAMP)

$(CLOUD_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[dev,ssh,cloudtest]'
	@touch $(CLOUD_STAMP)

run: setup
	$(BIN)/bakeoff run scenarios/quickstart.yaml

test: setup-test lint
	$(BIN)/pytest -q -ra -m "not slow"

test-slow: setup-test
	$(BIN)/pytest -q -ra -m slow

# Mutation score of the rule modules ([tool.mutmut] in pyproject.toml, docs/testing.md):
# long and CPU heavy, never part of `make test`. Bounded; the score is printed at the end.
MUTANTS_TIMEOUT ?= 3600
mutants: $(STAMP)
	rm -rf mutants
	timeout $(MUTANTS_TIMEOUT) $(BIN)/mutmut run --max-children 2 || true
	$(BIN)/python scripts/mutation_score.py

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
