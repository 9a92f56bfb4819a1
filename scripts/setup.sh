#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine (root): apt packages, the
# project venv with pinned Python packages, and the collection on its path.
# Re-running it does nothing once everything is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

# openssl: the policy probes' s_client; python3-cryptography: the managed-node modules' only need.
scripts/apt-ensure.sh openssl ca-certificates python3 python3-cryptography python3-venv openssh-client

PYTHON=${PYTHON:-python3}
REQS=(requirements-dev.txt)
stamp=.venv/.requirements.sha256
want=$(cat "${REQS[@]}" | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing pinned Python packages into .venv"
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  args=()
  for r in "${REQS[@]}"; do args+=(-r "$r"); done
  .venv/bin/pip install -q --disable-pip-version-check "${args[@]}"
  echo "$want" > "$stamp"
fi

# The collection is used from the work tree: .collections/ansible_collections/byoc/secure_trunk -> .
mkdir -p .collections/ansible_collections/byoc
ln -sfn ../../.. .collections/ansible_collections/byoc/secure_trunk
