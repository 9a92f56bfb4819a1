# Release tool chain: AWX/EE, generated docs, galaxy-importer (owned by the AWX/docs work;
# included by the main Makefile through `-include mk/*.mk`). Uses $(BIN), $(VENV) and the
# exported ANSIBLE_* from there.
#
#   make tools-setup   install requirements-tools.txt (ansible-builder, ansible-runner, antsibull-docs) into .venv
#   make awx-check     syntax-check and lint the AWX loader (awx/load.yml)
#   make ee-context    build the collection, then `ansible-builder create` into build/ee-context (offline)
#   make docs          module/plugin/role reference with antsibull-docs into docs/reference/ (RST)
#   make docs-check    the same into a scratch dir, failing on any documentation error
#   make docs-html     the HTML docsite (antsibull-docs sphinx-init + Sphinx, offline) into build/docs-site/build/html
#   make importer      galaxy-importer (own venv, .cache/importer-venv) on the built tarball, offline
#
# `unit` gains tools-setup as a prerequisite: tests/integration/test_ansible_runner.py and
# tests/integration/test_execution_environment.py need ansible-runner and ansible-builder.
TOOLS_STAMP := $(VENV)/.requirements-tools.sha256
IMPORTER_VENV := $(CURDIR)/.cache/importer-venv
IMPORTER_VERSION := 0.4.44
COLLECTION_VERSION = $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL = build/byoc-secure_trunk-$(COLLECTION_VERSION).tar.gz
DOCS_DEST := $(CURDIR)/docs/reference
ANTSIBULL_DOCS = $(BIN)/antsibull-docs collection --use-current --squash-hierarchy --output-format simplified-rst \
	--no-add-antsibull-docs-version --no-breadcrumbs --cleanup everything

.PHONY: tools-setup awx-check ee-context docs docs-check docs-html importer

unit: tools-setup

tools-setup: setup
	@want=$$(cat requirements-dev.txt requirements-tools.txt | sha256sum | cut -d' ' -f1); \
	if [ "$$(cat $(TOOLS_STAMP) 2>/dev/null)" != "$$want" ]; then \
	  echo "tools-setup: installing requirements-tools.txt into .venv"; \
	  $(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt -r requirements-tools.txt \
	    && echo "$$want" > $(TOOLS_STAMP); \
	fi

awx-check: setup
	$(BIN)/ansible-playbook --syntax-check awx/load.yml
	$(BIN)/ansible-lint --offline --profile production awx/

ee-context: tools-setup
	@mkdir -p build
	$(BIN)/ansible-galaxy collection build --force --output-path build . >/dev/null
	rm -rf build/ee-context
	$(BIN)/ansible-builder create -f execution-environment.yml -c build/ee-context
	@echo "ee-context: build the image online with: ansible-builder build -f execution-environment.yml -t byoc-secure-trunk-ee:$(COLLECTION_VERSION)"

# antsibull-docs wants a destination owned by the user and writable only by them.
docs: tools-setup
	@mkdir -p $(DOCS_DEST) && chmod 755 $(DOCS_DEST)
	$(ANTSIBULL_DOCS) --dest-dir $(DOCS_DEST) byoc.secure_trunk
	@echo "docs: reference in $(DOCS_DEST) ($$(ls $(DOCS_DEST) | wc -l) files)"

docs-check: tools-setup
	@scratch=$$(mktemp -d) && chmod 755 $$scratch && trap 'rm -rf $$scratch' EXIT && \
	$(ANTSIBULL_DOCS) --fail-on-error --dest-dir $$scratch byoc.secure_trunk && \
	$(BIN)/antsibull-docs lint-collection-docs --plugin-docs . && \
	echo "docs-check: reference builds without errors"

# Offline: no intersphinx inventories, so references into the Ansible docsite stay unresolved.
docs-html: tools-setup
	rm -rf build/docs-site && mkdir -p build/docs-site && chmod 755 build/docs-site
	$(BIN)/antsibull-docs sphinx-init --use-current --dest-dir build/docs-site byoc.secure_trunk >/dev/null
	printf '%s\n' 'intersphinx_mapping = {}  # offline build' \
	  "suppress_warnings = ['ref.ref']  # labels of the Ansible docsite, unreachable offline" >> build/docs-site/conf.py
	build/docs-site/build.sh >/dev/null
	@echo "docs-html: $(CURDIR)/build/docs-site/build/html/index.html"

importer: setup
	@if ! $(IMPORTER_VENV)/bin/python -c 'import galaxy_importer' 2>/dev/null || \
	  [ "$$($(IMPORTER_VENV)/bin/pip show galaxy-importer 2>/dev/null | sed -n 's/^Version: //p')" != "$(IMPORTER_VERSION)" ]; then \
	  echo "importer: creating $(IMPORTER_VENV) with galaxy-importer==$(IMPORTER_VERSION)"; \
	  python3 -m venv $(IMPORTER_VENV) && \
	  $(IMPORTER_VENV)/bin/pip install -q --disable-pip-version-check galaxy-importer==$(IMPORTER_VERSION); \
	fi
	@mkdir -p build
	$(BIN)/ansible-galaxy collection build --force --output-path build . >/dev/null
	scripts/run-importer.sh $(IMPORTER_VENV) $(TARBALL)
