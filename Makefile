# One command to run the product locally, one to test it. Both install and start what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OPA = $$($(BIN)/python -c 'from broker.stack.settings import StackSettings; print(StackSettings().opa_binary)')
PKGS := broker audit schemas consumers

.PHONY: demo demo-stop test stack stack-down venv browser check policy-check policy-test pytest clean bench

demo: stack
	$(BIN)/python -m broker.demo run

demo-stop: venv
	$(BIN)/python -m broker.demo stop

test: stack browser check policy-check policy-test pytest

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

stack: venv
	$(BIN)/python -m broker.stack up

# The UI tests drive Debian's Chromium (a browser download is impossible here).
browser:
	@test -x /usr/bin/chromium || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

stack-down: venv
	$(BIN)/python -m broker.stack down

check: venv
	$(BIN)/ruff check $(PKGS) tests
	$(BIN)/mypy --strict $(PKGS)

policy-check: stack
	$(OPA) fmt --fail --list policies
	$(OPA) check --strict policies
	$(OPA) check --strict --schema schemas/json/policy-input.json policies

COVERAGE = $(BIN)/python -c "import json,sys; print('Rego coverage: %.1f%%' % json.load(open(sys.argv[1]))['coverage'])"

policy-test: stack
	$(OPA) test policies
	$(OPA) test --coverage --threshold 90 policies > $(VENV)/opa-coverage.json || \
	  { $(COVERAGE) $(VENV)/opa-coverage.json; echo "Rego coverage is below 90%"; exit 1; }
	@$(COVERAGE) $(VENV)/opa-coverage.json

pytest: stack
	$(BIN)/pytest

# Benchmarks (not part of `make test`): the real stack, ~10 minutes; BENCH_ARGS=--quick for ~2.
bench: stack
	@$(BIN)/python -c 'import matplotlib' 2>/dev/null || $(BIN)/pip install -q --disable-pip-version-check -e '.[bench]'
	$(BIN)/python -m bench.run --write-summary $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
