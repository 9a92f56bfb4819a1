# The collection as the Ansible ecosystem checks it (owned by the packaging work, issue 13;
# included by the main Makefile through `-include mk/*.mk`). Uses $(BIN) from there.
#
#   make sanity          ansible-test sanity (every test that runs offline) on the pinned ansible-core
#   make units           ansible-test units (tests/unit) on the pinned ansible-core
#   make units-older     ansible-test units on every other core meta/runtime.yml claims (2.17, 2.18)
#   make matrix          sanity and units on every claimed core (2.17 to 2.19, Python 3.11)
#   make matrix-2.18.19  one core
#
# Each core has its own venv holding only ansible-core (.venvs/core-<version>, created once by
# scripts/core-venv.sh; the pinned core is .venv); ansible-test creates its test venvs itself.
# scripts/ansible-test.sh provides ansible-test's pip bootstrap offline and runs it from a copy of
# the work tree under .cache/ansible-test/<core>/ansible_collections/byoc/secure_trunk.
#
# What `make test` runs (docs/benchmarks.md, "ansible-test and the version matrix"): sanity and
# units on the pinned 2.19, units on 2.17 and 2.18. Sanity on 2.17 and 2.18 is `make matrix`
# (about 4 to 5 min more per core, cold); run it before a release and when ansible-test changes.
MATRIX_CORES ?= 2.17.14 2.18.19 2.19.14
CORE_PIN = $(shell sed -n 's/^ansible-core==//p' requirements-dev.txt)
MATRIX_OLDER = $(filter-out $(CORE_PIN),$(MATRIX_CORES))

.PHONY: sanity units units-older matrix $(addprefix matrix-,$(MATRIX_CORES)) $(addprefix units-,$(MATRIX_CORES))

sanity: setup
	@scripts/apt-ensure.sh shellcheck git
	scripts/ansible-test.sh $(BIN) sanity

units: setup
	scripts/ansible-test.sh $(BIN) units

units-older: $(addprefix units-,$(MATRIX_OLDER))

$(addprefix units-,$(MATRIX_CORES)): units-%: setup
	@echo "== units: ansible-core $*"
	@scripts/ansible-test.sh "$$(scripts/core-venv.sh $*)" units

matrix: $(addprefix matrix-,$(MATRIX_CORES))
	@echo "matrix: sanity and units passed on ansible-core $(MATRIX_CORES) (Python 3.11)"

$(addprefix matrix-,$(MATRIX_CORES)): matrix-%: setup
	@scripts/apt-ensure.sh shellcheck git
	@echo "== matrix: ansible-core $*"
	@bin=$$(scripts/core-venv.sh $*) && scripts/ansible-test.sh "$$bin" sanity && scripts/ansible-test.sh "$$bin" units
