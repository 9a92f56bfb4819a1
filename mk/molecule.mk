# Molecule lab targets (owned by the Kamailio work; included by the main Makefile
# through `-include mk/*.mk`). Uses $(BIN) and the exported ANSIBLE_* from there.
#
#   make lab-images        podman + runc + debootstrap (apt, if missing), base and lab images (cached)
#   make molecule          molecule test, every scenario (default, include, premises)
#   make molecule-default  one scenario; also molecule-include, molecule-premises
#   make lab-up            converge the default lab and leave it running (SBC TLS on 127.0.0.1:5061)
#   make lab-down          remove every lab container and network (molecule destroy)
#   make bench-molecule    figures for docs/benchmarks.md (rebuilds the images; ~10 min)
LAB_ENV := source lab/env.sh &&
MOLECULE_SCENARIOS ?= default include premises
MOLECULE_STAMP := $(VENV)/.requirements-molecule.sha256

.PHONY: molecule-setup lab-images lab-pki molecule lab-up lab-down bench-molecule $(addprefix molecule-,$(MOLECULE_SCENARIOS))

molecule-setup: setup
	@want=$$(sha256sum requirements-molecule.txt | cut -d' ' -f1); \
	if [ "$$(cat $(MOLECULE_STAMP) 2>/dev/null)" != "$$want" ]; then \
	  echo "molecule-setup: installing requirements-molecule.txt into .venv"; \
	  $(BIN)/pip install -q --disable-pip-version-check -r requirements-molecule.txt && echo "$$want" > $(MOLECULE_STAMP); \
	fi

lab-images:
	@lab/images.sh

lab-pki: setup
	@$(BIN)/python lab/pki.py lab/state/pki --region euc2 >/dev/null

molecule: $(addprefix molecule-,$(MOLECULE_SCENARIOS))

$(addprefix molecule-,$(MOLECULE_SCENARIOS)): molecule-%: molecule-setup lab-images lab-pki
	@$(LAB_ENV) $(BIN)/molecule test -s $*

lab-up: molecule-setup lab-images lab-pki
	@$(LAB_ENV) $(BIN)/molecule converge -s default

bench-molecule: molecule-setup lab-pki
	@$(LAB_ENV) lab/bench.sh

lab-down: molecule-setup
	@for s in $(MOLECULE_SCENARIOS); do $(LAB_ENV) $(BIN)/molecule destroy -s $$s >/dev/null || true; done
