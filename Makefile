# Two entry points: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit clean sample-data bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,outlook,postgres]'
	touch $(STAMP)

demo: $(STAMP)
	@rm -rf out/demo
	@$(BIN)/aiinventory import sample_data --mappings sample_data/mappings --out out/demo; code=$$?; \
	  if [ $$code -ne 0 ] && [ $$code -ne 3 ]; then exit $$code; fi; \
	  echo; echo "Inventory written to $$(pwd)/out/demo/inventory.xlsx (also .csv and .json)"; \
	  echo "Records with provenance: out/demo/records.csv  Rejects: out/demo/rejects.csv  Summary: out/demo/run.json"; \
	  echo "Overview page (open it in a browser, works offline): $$(pwd)/out/demo/overview.html"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks sample_data
	$(BIN)/ruff format --check src tests benchmarks sample_data

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

test: lint typecheck $(STAMP)
	$(BIN)/pytest

sample-data: $(STAMP)
	$(BIN)/python sample_data/build_sample_data.py

bench: $(STAMP)
	$(BIN)/python benchmarks/spreadsheet_import.py

clean:
	rm -rf $(VENV) out build dist
