#!/usr/bin/env bash
# Figures for docs/benchmarks.md (Kamailio lab): image build cold / warm / from cache,
# converge, idempotent re-run and its ratio, molecule test wall time per scenario.
#
#   lab/bench.sh            everything (rebuilds the images from scratch: about 10 minutes)
#   lab/bench.sh --no-cold  keep the images (skip the cold build and the cache load)
#
# Prints Markdown table rows. Run from the repository root with the venv on PATH
# (`make bench-molecule` does both). Leaves no container behind.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lab/env.sh
source lab/env.sh
COLD=1
[ "${1:-}" = "--no-cold" ] && COLD=0

now() { date +%s.%N; }
since() { python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$(now)"; }
row() { printf '| %s | %s |\n' "$1" "$2"; }

echo "| measure | seconds |"
echo "|---|---|"
if [ $COLD = 1 ]; then
  podman rmi -f "$BYOC_LAB_IMAGE" "$BYOC_LAB_BASE_IMAGE" >/dev/null 2>&1 || true
  rm -rf "$BYOC_LAB_CACHE/images"
  t=$(now); lab/images.sh >/dev/null 2>&1; row "lab image, cold (debootstrap + import + build + save)" "$(since "$t")"
  podman rmi -f "$BYOC_LAB_IMAGE" >/dev/null
  t=$(now); lab/images.sh >/dev/null 2>&1; row "lab image, podman load from .cache" "$(since "$t")"
fi
t=$(now); lab/images.sh >/dev/null 2>&1; row "lab image, already current" "$(since "$t")"

for scenario in default include; do
  molecule destroy -s "$scenario" >/dev/null 2>&1 || true
  molecule create -s "$scenario" >/dev/null 2>&1
  molecule prepare -s "$scenario" >/dev/null 2>&1
  t=$(now); molecule converge -s "$scenario" >/dev/null 2>&1; first=$(since "$t")
  t=$(now); molecule converge -s "$scenario" >/dev/null 2>&1; again=$(since "$t")
  row "$scenario: converge (first run)" "$first"
  row "$scenario: converge again, nothing to change" "$again"
  row "$scenario: ratio second / first" "$(python3 -c "print('%.2f' % ($again / $first))")"
  molecule destroy -s "$scenario" >/dev/null 2>&1
  t=$(now); molecule test -s "$scenario" >/dev/null 2>&1; row "$scenario: molecule test, wall" "$(since "$t")"
done
