# One command to run the product locally, one to test it. Both install and start what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OPA = $$($(BIN)/python -c 'from devstack.settings import StackSettings; print(StackSettings().opa_binary)')
PKGS := broker audit schemas consumers transport
# An editable install of a flat layout makes setuptools print a banner warning about folders named
# like the packages (they are the packages); it says nothing about this project, so it is not shown.
EDITABLE := PYTHONWARNINGS=ignore::UserWarning:setuptools.command.editable_wheel $(BIN)/pip install -q --disable-pip-version-check -e

.PHONY: demo demo-stop test stack stack-down venv browser check policy-check policy-test pytest test-fast install-check clean bench faults faults-long attacks compose-test

demo: stack
	$(BIN)/python -m demo run

demo-stop: venv
	$(BIN)/python -m demo stop

test: stack browser check policy-check policy-test pytest install-check

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(EDITABLE) '.[dev,attack]'
	@touch $@

stack: venv
	$(BIN)/python -m devstack up

# The UI tests drive Debian's Chromium (a browser download is impossible here), in British English
# (chromium-l10n): a date field then reads day first, as practitioners in England see it.
browser:
	@test -x /usr/bin/chromium -a -f /usr/lib/chromium/locales/en-GB.pak || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-l10n; }

stack-down: venv
	$(BIN)/python -m devstack down

check: venv
	$(BIN)/ruff check $(PKGS) devstack demo tests bench faults
	$(BIN)/ruff format --check $(PKGS) devstack demo tests bench faults deploy
	$(BIN)/mypy --strict $(PKGS) devstack demo bench faults tests
	$(BIN)/lint-imports --no-logo

policy-check: stack
	$(OPA) fmt --fail --list policies deploy/opa
	$(OPA) check --strict policies
	$(OPA) check --strict deploy/opa
	$(OPA) check --strict --schema schemas/json/policy-input.json policies

COVERAGE = $(BIN)/python -c "import json,sys; print('Rego coverage: %.1f%%' % json.load(open(sys.argv[1]))['coverage'])"

policy-test: stack
	$(OPA) test policies
	$(OPA) test --coverage --threshold 100 deploy/opa > /dev/null  # who may use OPA's own API
	$(OPA) test --coverage --threshold 90 policies > $(VENV)/opa-coverage.json || \
	  { $(COVERAGE) $(VENV)/opa-coverage.json; echo "Rego coverage is below 90%"; exit 1; }
	@$(COVERAGE) $(VENV)/opa-coverage.json

# The install test has its own target (below): it builds a venv from the package index.
pytest: stack
	$(BIN)/pytest -m "not install"

# Everything that needs neither the stack nor the package index (about 30 s on an idle machine): between edits.
test-fast: venv
	$(BIN)/pytest -q -m "not stack and not install"

# `pip install .` alone, into a fresh venv, from a copy of the working tree: the gateway, worker and
# consumer import and start with the runtime dependencies and packaged data only (tests/test_install.py).
install-check: venv
	$(BIN)/pytest -q -p no:cacheprovider -m install tests/test_install.py

# Benchmarks (not part of `make test`): the real stack, about 10 minutes; BENCH_ARGS=--quick for a few.
bench: stack
	@$(BIN)/python -c 'import matplotlib' 2>/dev/null || $(EDITABLE) '.[bench]'
	$(BIN)/python -m bench.run --write-summary $(BENCH_ARGS)

# Fault suite. `make faults`: the quick runs (also part of `make test`, ~3 min in all): kill -9 the gateway,
# the relay worker, a consumer and OPA under load; three gateways and two workers on PostgreSQL losing a
# gateway and the lease-holding worker (tests/faults/test_fleet_quick.py); two workers made to race.
# `make faults-long` (~10 min): private Kafka, OPA and PostgreSQL killed in turn with the rest, a
# three-broker cluster losing a broker, and the fleet on that cluster; FAULTS_ARGS=--leg six|cluster|fleet.
faults: stack
	$(BIN)/pytest -q -s tests/faults

faults-long: stack
	$(BIN)/python -m faults --out $(VENV)/faults-long.json $(FAULTS_ARGS)

# Attack suite: injections, hostile bodies, cross-agency access, and schemathesis against the OpenAPI
# with ATTACK_EXAMPLES per operation and mode (1000: 33,002 cases, ~15 min on 2 cores).
ATTACK_EXAMPLES ?= 1000
attacks: stack
	@$(BIN)/python -c 'import schemathesis' 2>/dev/null || $(EDITABLE) '.[attack]'
	SGB_ATTACK_EXAMPLES=$(ATTACK_EXAMPLES) $(BIN)/pytest -q -s -p no:cacheprovider tests/attacks

# docker-compose.yml for real (not in `make test`): podman brings the whole file up on this machine
# (stand-in images built locally, host networking on ports 29092/28181/25432/28443), sends a
# notification through it, verifies the log and always tears it down; see devstack/compose.py.
compose-test: stack
	@test -x $(BIN)/podman-compose || $(BIN)/pip install -q --disable-pip-version-check podman-compose==1.6.0
	$(BIN)/python -m devstack.compose test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
