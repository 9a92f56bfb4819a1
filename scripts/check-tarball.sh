#!/usr/bin/env bash
# The built collection must hold what users run and nothing else: an allow-list of what may ship
# (galaxy.yml's build_ignore keeps the rest out), and no password file anywhere.
set -euo pipefail
tarball=$1
listing=$(tar -tzf "$tarball")
allowed='^(MANIFEST\.json|FILES\.json|README\.md|CHANGELOG\.rst|LICENSE)$|^(plugins|roles|playbooks|meta|docs|changelogs|examples)(/|$)'
secret='(^|/)[^/]*(password|passwd|vault[-_.]?pass)[^/]*$'
state='(^|/)(__pycache__|\.pytest_cache|\.ruff_cache|output)(/|$)|\.pyc$|\.tar\.gz$'
bad=$( (grep -Ev "$allowed" <<<"$listing"; grep -Ei "$secret" <<<"$listing"; grep -E "$state" <<<"$listing") | sort -u || true)
if [ -n "$bad" ]; then
  echo "check-tarball: $tarball ships files users do not run (dev, test or work-tree files, or a password file):" >&2
  echo "$bad" | head -20 | sed 's/^/  /' >&2
  echo "check-tarball: add them to build_ignore in galaxy.yml (never ship a password file)" >&2
  exit 1
fi
for must in MANIFEST.json FILES.json LICENSE plugins/modules/digicert_roots.py plugins/module_utils/policy.py \
  playbooks/secure_trunk.yml examples/inventory/hosts.yml; do
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
