#!/usr/bin/env bash
# ansible-test on this collection, offline-safe and idempotent.
#   scripts/ansible-test.sh BIN sanity|units [ansible-test options...]
# BIN is the bin directory of a venv holding ansible-core (the project .venv, or a matrix venv).
# 1. ansible-test bootstraps pip into each venv it creates with a get-pip script that it
#    downloads from a host unreachable here; we put a small stand-in where it caches that script
#    (~/.ansible/test/cache/get_pip_<version>.py): ensurepip, then `pip install` what was asked.
# 2. ansible-test must run from ansible_collections/<namespace>/<name>/: the tracked files of this
#    work tree are copied to .cache/ansible-test/<core version>/ansible_collections/byoc/secure_trunk.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(cd "$1" && pwd); shift
root=$PWD
python=$bin/python
ansible_test=$(dirname "$("$python" -c 'import ansible_test, sys; sys.stdout.write(ansible_test.__file__)')")
core=$("$python" -c 'import ansible.release as r, sys; sys.stdout.write(r.__version__)')

# 1. The pip bootstrap stand-in, for the pip version this ansible-test asks for.
pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',\$/\1/p" "$ansible_test/_internal/python_requirements.py" | head -1)
[ -n "$pip_version" ] || { echo "ansible-test.sh: cannot read the pip version ansible-test $core bootstraps; check $ansible_test/_internal/python_requirements.py" >&2; exit 1; }
cache=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
standin=$(cat <<PY
# Stand-in for get-pip.py, written by byoc.secure_trunk scripts/ansible-test.sh (offline bootstrap).
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "-q"] + args)
PY
)
if [ "$(cat "$cache" 2>/dev/null)" != "$standin" ]; then
  mkdir -p "$(dirname "$cache")" && printf '%s\n' "$standin" > "$cache"
fi

# 2. A copy of the tracked files (and new, not ignored ones) under ansible_collections/byoc/secure_trunk,
#    less the podman lab harness (molecule/, lab/: Kamailio configs, lab peers and their scripts,
#    never shipped, linted by ruff and run by molecule), which is not collection content.
dest=$root/.cache/ansible-test/$core/ansible_collections/byoc/secure_trunk
rm -rf "$dest" && mkdir -p "$dest"
git -C "$root" ls-files -z --cached --others --exclude-standard -- . ':!molecule' ':!lab' \
  | (cd "$root" && while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done) \
  | tar -C "$root" --null -T - -cf - | tar -C "$dest" -xf -
cd "$dest"
# A repository of its own: ansible-test would otherwise list files through the enclosing work tree,
# where .cache/ is ignored (untracked files count, so nothing needs adding).
git init -q
echo "ansible-test.sh: ansible-test $core $1 in $dest"
exec "$bin/ansible-test" "$@" --venv --python 3.11 --color no
