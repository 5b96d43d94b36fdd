# Two entry points for a fresh clone (Debian/Ubuntu): `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup system-tools run test lint clean

setup: system-tools $(STAMP)

system-tools:
	@bash scripts/install-system-tools.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,ssh]'
	@touch $(STAMP)

run: setup
	$(BIN)/bakeoff run scenarios/quickstart.yaml

test: setup lint
	$(BIN)/pytest -q -ra

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
