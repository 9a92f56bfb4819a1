#!/usr/bin/env bash
# core-venv.sh VERSION: print the bin directory of a venv holding ansible-core==VERSION, creating it
# once under .venvs/core-VERSION (idempotent). The project's pinned core is the project .venv itself.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$1
pin=$(sed -n 's/^ansible-core==//p' requirements-dev.txt)
if [ "$version" = "$pin" ]; then
  echo "$PWD/.venv/bin"
  exit 0
fi
venv=$PWD/.venvs/core-$version
have=$("$venv/bin/python" -c 'import ansible.release as r, sys; sys.stdout.write(r.__version__)' 2>/dev/null || true)
if [ "$have" != "$version" ]; then
  echo "core-venv: creating $venv with ansible-core==$version" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "ansible-core==$version" >&2
fi
echo "$venv/bin"
