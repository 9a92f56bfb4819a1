# Molecule lab targets (owned by the Kamailio work; included by the main Makefile
# through `-include mk/*.mk`). Uses $(BIN) and the exported ANSIBLE_* from there.
#
#   make lab-images                podman + runc + debootstrap (apt, if missing), base and lab images (cached),
#                                  one per platform (bookworm = Debian 12, trixie = Debian 13)
#   make molecule                  molecule test, every scenario (default, include, premises, dryrun, acme); default and
#                                  premises once per platform (their SBC on Debian 12, then on Debian 13);
#                                  dryrun (check mode and the change plan on a fresh SBC) and acme (ACME issuance and
#                                  renewal of the SBC certificate, Pebble + bind9) on Debian 12 only
#   make molecule-default          one scenario (on every platform); also molecule-include, molecule-premises
#   make molecule-default-trixie   one scenario on one platform (also -bookworm; default and premises)
#   make lab-up                    converge the default lab and leave it running (SBC TLS on 127.0.0.1:5061);
#                                  LAB_PLATFORM=trixie for a Debian 13 SBC
#   make lab-down                  remove every lab container and network (molecule destroy)
#   make bench-molecule            figures for docs/benchmarks.md (rebuilds the images; ~15 min)
#
# MOLECULE_PLATFORMS=bookworm (or trixie) runs and builds one platform only.
LAB_ENV := source lab/env.sh &&
MOLECULE_SCENARIOS ?= default include premises dryrun acme
MOLECULE_PLATFORMS ?= bookworm trixie
# Scenarios whose SBC runs on each platform (the lab peers and the include scenario stay on bookworm).
MOLECULE_PLATFORM_SCENARIOS ?= default premises
LAB_PLATFORM ?= bookworm
MOLECULE_STAMP := $(VENV)/.requirements-molecule.sha256
SBC_IMAGE = localhost/byoc-lab/kamailio:$(1)

PER_PLATFORM := $(filter $(MOLECULE_PLATFORM_SCENARIOS),$(MOLECULE_SCENARIOS))
PER_PLATFORM_TARGETS := $(foreach s,$(PER_PLATFORM),$(foreach p,$(MOLECULE_PLATFORMS),molecule-$(s)-$(p)))

.PHONY: molecule-setup lab-images lab-pki molecule lab-up lab-down bench-molecule \
	$(addprefix molecule-,$(MOLECULE_SCENARIOS)) $(PER_PLATFORM_TARGETS)

molecule-setup: setup
	@want=$$(sha256sum requirements-molecule.txt | cut -d' ' -f1); \
	if [ "$$(cat $(MOLECULE_STAMP) 2>/dev/null)" != "$$want" ]; then \
	  echo "molecule-setup: installing requirements-molecule.txt into .venv"; \
	  $(BIN)/pip install -q --disable-pip-version-check -r requirements-molecule.txt && echo "$$want" > $(MOLECULE_STAMP); \
	fi

lab-images:
	@lab/images.sh $(sort bookworm $(MOLECULE_PLATFORMS))

lab-pki: setup
	@$(BIN)/python lab/pki.py lab/state/pki --region euc2 >/dev/null

molecule: $(addprefix molecule-,$(MOLECULE_SCENARIOS))

$(addprefix molecule-,$(filter-out $(PER_PLATFORM),$(MOLECULE_SCENARIOS))): molecule-%: molecule-setup lab-images lab-pki
	@$(LAB_ENV) $(BIN)/molecule test -s $*

$(addprefix molecule-,$(PER_PLATFORM)): molecule-%: $(addprefix molecule-%-,$(MOLECULE_PLATFORMS))

# molecule-SCENARIO-PLATFORM: the scenario with its SBC from localhost/byoc-lab/kamailio:PLATFORM.
$(PER_PLATFORM_TARGETS): molecule-%: molecule-setup lab-images lab-pki
	@t=$*; echo "molecule: scenario $${t%-*}, SBC on $${t##*-}"; \
	$(LAB_ENV) BYOC_LAB_SBC_IMAGE=$(call SBC_IMAGE,$${t##*-}) $(BIN)/molecule test -s $${t%-*}

lab-up: molecule-setup lab-images lab-pki
	@$(LAB_ENV) BYOC_LAB_SBC_IMAGE=$(call SBC_IMAGE,$(LAB_PLATFORM)) $(BIN)/molecule converge -s default

bench-molecule: molecule-setup lab-pki
	@$(LAB_ENV) BENCH_PLATFORMS="$(MOLECULE_PLATFORMS)" BENCH_PLATFORM_SCENARIOS="$(PER_PLATFORM)" lab/bench.sh

lab-down: molecule-setup
	@for s in $(MOLECULE_SCENARIOS); do $(LAB_ENV) $(BIN)/molecule destroy -s $$s >/dev/null || true; done
