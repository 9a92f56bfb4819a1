# The collection as the Ansible ecosystem checks it (owned by the packaging work, issue 13;
# included by the main Makefile through `-include mk/*.mk`). Uses $(BIN) and $(VENV) from there.
#
#   make sanity    ansible-test sanity (every test that runs offline) on the pinned ansible-core
#   make units     ansible-test units (tests/unit) on the pinned ansible-core
#   make matrix    sanity and units on every ansible-core that meta/runtime.yml claims (2.17 to 2.19,
#                  Python 3.11), each core in its own venv under .venvs/ (created once, idempotently)
#
# scripts/ansible-test.sh provides ansible-test's pip bootstrap offline and runs it from a copy of
# the work tree under .cache/ansible-test/<core>/ansible_collections/byoc/secure_trunk.
# The choice (docs/benchmarks.md, "ansible-test"): `make test` runs sanity and units on 2.19 only;
# `make matrix` adds 2.17 and 2.18 (the first run of each core creates its sanity venvs).
MATRIX_CORES ?= 2.17.14 2.18.19 2.19.14
MATRIX_VENVS := $(CURDIR)/.venvs
CORE_PIN = $(shell sed -n 's/^ansible-core==//p' requirements-dev.txt)

.PHONY: sanity units matrix $(addprefix matrix-,$(MATRIX_CORES))

sanity: setup
	@scripts/apt-ensure.sh shellcheck git
	scripts/ansible-test.sh $(BIN) sanity

units: setup
	scripts/ansible-test.sh $(BIN) units

matrix: $(addprefix matrix-,$(MATRIX_CORES))
	@echo "matrix: sanity and units passed on ansible-core $(MATRIX_CORES) (Python 3.11)"

# One venv per core, holding only ansible-core (ansible-test creates its own test venvs).
$(addprefix matrix-,$(MATRIX_CORES)): matrix-%: setup
	@scripts/apt-ensure.sh shellcheck git
	@v=$(MATRIX_VENVS)/core-$*; \
	if [ "$*" = "$(CORE_PIN)" ]; then v=$(VENV); \
	elif [ "$$($$v/bin/python -c 'import ansible.release as r; print(r.__version__)' 2>/dev/null)" != "$*" ]; then \
	  echo "matrix: creating $$v with ansible-core==$*"; rm -rf $$v && python3 -m venv $$v && \
	  $$v/bin/pip install -q --disable-pip-version-check ansible-core==$*; \
	fi; \
	echo "== matrix: ansible-core $*"; \
	scripts/ansible-test.sh $$v/bin sanity && scripts/ansible-test.sh $$v/bin units
