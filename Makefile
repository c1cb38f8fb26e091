# Quick start: `make lab` opens JupyterLab on notebooks/, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: lab test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --no-browser --ServerApp.root_dir=notebooks \
		$(if $(filter 0,$(shell id -u)),--allow-root)

lint: $(STAMP)
	$(VENV)/bin/ruff check gsocklab tests benchmarks
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest -W error

bench: $(STAMP)
	$(PY) benchmarks/bench_core.py
	$(PY) benchmarks/bench_messages.py
	$(PY) benchmarks/bench_record.py
	$(PY) benchmarks/bench_no_recorder.py
	$(PY) benchmarks/bench_lab.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
