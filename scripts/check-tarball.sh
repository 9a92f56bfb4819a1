#!/usr/bin/env bash
# The built collection must hold the product and nothing of the work tree's state.
set -euo pipefail
tarball=$1
listing=$(tar -tzf "$tarball")
bad=$(grep -E '(^|/)(\.venv|\.collections|\.cache|\.git|\.pytest_cache|\.ruff_cache|__pycache__|tests/output|lab/state|demo-out|build)(/|$)|\.pyc$|\.tar\.gz$' <<<"$listing" || true)
if [ -n "$bad" ]; then
  echo "check-tarball: $tarball holds work-tree state it must not ship:" >&2
  echo "$bad" | head -20 >&2
  exit 1
fi
for must in MANIFEST.json FILES.json plugins/modules/digicert_roots.py plugins/module_utils/policy.py; do
  grep -qx "$must" <<<"$listing" || { echo "check-tarball: $tarball lacks $must" >&2; exit 1; }
done
echo "check-tarball: $(wc -l <<<"$listing") entries, $(du -k "$tarball" | cut -f1) KiB, clean"

# Install the tarball alone and use it as a user would.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
printf "[defaults]\n" > "$scratch/ansible.cfg"
ANSIBLE_CONFIG="$scratch/ansible.cfg" ANSIBLE_COLLECTIONS_PATH="$scratch" \
  ansible-galaxy collection install --no-deps --force -p "$scratch" "$tarball" >/dev/null 2>&1
out=$(ANSIBLE_COLLECTIONS_PATH="$scratch" ANSIBLE_CONFIG="$scratch/ansible.cfg" \
  ansible localhost -e ansible_python_interpreter=/usr/bin/python3 -m ansible.builtin.debug \
  -a "msg={{ lookup('byoc.secure_trunk.byoc_region', 'euc2') }}" 2>&1)
for want in lb01.voice.euc2.pure.cloud lb04.voice.euc2.pure.cloud "DigiCert Global Root G2" "DigiCert Global Root G3"; do
  grep -q "$want" <<<"$out" || { echo "check-tarball: the installed collection's lookup lacks $want:" >&2; echo "$out" >&2; exit 1; }
done
echo "check-tarball: installed from the tarball, byoc_region lookup answers for euc2"
