# byoc.secure_trunk: every entry point sets itself up (scripts/setup.sh is idempotent).
SHELL := /bin/bash
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
REGION ?= euc2
DEMO_DEST ?= $(CURDIR)/demo-out

.PHONY: setup test unit lint build demo trust-plan bench bench-lab clean
.DEFAULT_GOAL := test

setup:
	@scripts/setup.sh

## test: every test and check (CI runs this): lint, tarball, ansible-test sanity, unit tests
## (ansible-test units, also on the older cores claimed) and integration tests, galaxy-importer,
## then the molecule scenarios on real Kamailio in podman
test: setup lint build sanity unit units-older importer molecule

## unit: tests/unit through ansible-test units (mk/collection.mk), then tests/integration with pytest
unit: setup units
	$(BIN)/pytest -n auto tests/integration

lint: setup
	$(BIN)/ruff check plugins tests scripts benchmarks lab molecule
	$(BIN)/mypy -p ansible_collections.byoc.secure_trunk.plugins.module_utils -p ansible_collections.byoc.secure_trunk.plugins.modules
	ANSIBLE_VAULT_PASSWORD_FILE=examples/vault-password.txt $(BIN)/ansible-lint --offline --profile production
	$(BIN)/antsibull-changelog lint

build: setup
	@rm -rf build && mkdir -p build
	$(BIN)/ansible-galaxy collection build --force --output-path build . >/dev/null
	@scripts/check-tarball.sh build/byoc-secure_trunk-*.tar.gz

## demo: secure_trunk.yml on the built-in lab, then the same play refusing a real defect
##   KEEP=1 leaves the lab up (SBC TLS listener on 127.0.0.1:5061); `make lab-down` removes it
demo: setup molecule-setup lab-images lab-pki
	@scripts/demo.sh

## trust-plan: show a region's trust plan and write its pinned roots (no lab needed)
trust-plan: setup
	$(BIN)/ansible-playbook playbooks/trust_plan.yml -e secure_trunk_region=$(REGION) -e secure_trunk_roots_dest=$(DEMO_DEST)/$(REGION)

## bench: every benchmarks/bench_*.py; each prints its figures (recorded in docs/benchmarks.md)
bench: setup
	@set -e; for b in benchmarks/bench_*.py; do [ -e "$$b" ] || continue; echo "== $$b"; $(BIN)/python "$$b"; done
	@$(MAKE) --no-print-directory bench-lab

## bench-lab: the lab figures (molecule timings, then secure_trunk.yml over a fleet of lab SBCs)
bench-lab: molecule-setup lab-images lab-pki
	@$(MAKE) --no-print-directory bench-molecule
	@echo "== benchmarks/bench_fleet.sh" && benchmarks/bench_fleet.sh

clean:
	rm -rf build demo-out tests/output .pytest_cache .ruff_cache .cache/ansible-test

-include mk/*.mk
