# One command sets up and runs each job on a fresh machine with Python 3.12:
#   make demo   - the ecological dividend of Education Model 3.0, attributed to the channels
#   make test   - lint, check the import layers (pyproject.toml) and run the test suite (browser
#                 tests included when Chromium is there)
#   make dashboard - the stakeholder dashboard on http://127.0.0.1:8765/
# PYTHON may point at any Python >= 3.12 (default: python3.12, which .python-version selects
# under pyenv).
PYTHON ?= python3.12
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

ASSETS := .cache/solara-assets/.complete
PORT   ?= 8765

.PHONY: demo test lint bench docs clean dashboard assets

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	@touch $(STAMP)

# Solara's JavaScript and CSS from the npm registry, so the page works offline.
$(ASSETS): $(STAMP)
	$(BIN)/python -m dashboards.assets
	@touch $(ASSETS)

assets: $(ASSETS)

dashboard: $(STAMP) $(ASSETS)
	$(BIN)/helixsim dashboard --host 127.0.0.1 --port $(PORT)

demo: $(STAMP)
	$(BIN)/helixsim dividend model_3_0 --attribution --seeds 6 --out results/demo

test: $(STAMP) $(ASSETS)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/experiments.py
	$(BIN)/python benchmarks/dashboard.py

docs: $(STAMP)
	$(BIN)/python -c "from simulation.parameters import markdown_table; print(markdown_table(), end='')" > docs/parameters.md

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .cache tests/artifacts
