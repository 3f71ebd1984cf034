# Two commands do all set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: demo test test-slow bench lint setup setup-test clean

$(VENV)/.demo-installed: pyproject.toml
	.ci/system-deps.sh demo
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[digits]'
	touch $@

$(VENV)/.test-installed: pyproject.toml
	.ci/system-deps.sh test
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@ $(VENV)/.demo-installed

setup: $(VENV)/.demo-installed
setup-test: $(VENV)/.test-installed

## make demo: train micrograd's moons MLP from the command line and draw it
demo: $(VENV)/.demo-installed
	$(VENV)/bin/autograd-lite train moons --out demo-output

## make test: the whole test suite (full-size training runs are `make test-slow`)
test: $(VENV)/.test-installed
	$(PY) -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

test-slow: $(VENV)/.test-installed
	$(PY) -m pytest -n 2 -m slow $(PYTEST_ARGS)

## make bench: speed against micrograd and PyTorch, as ratios (writes benchmarks/results.json)
bench: $(VENV)/.test-installed
	$(PY) benchmarks/run.py

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check autograd_lite tests benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) demo-output .pytest_cache .hypothesis
