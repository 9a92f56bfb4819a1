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
