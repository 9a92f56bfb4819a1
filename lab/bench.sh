#!/usr/bin/env bash
# Figures for docs/benchmarks.md (Kamailio lab): image build cold / warm / from cache,
# converge, idempotent re-run and its ratio, molecule test wall time per scenario.
#
#   lab/bench.sh            everything (rebuilds the images from scratch: about 10 minutes)
#   lab/bench.sh --no-cold  keep the images (skip the cold build and the cache load)
#   BENCH_SCENARIOS="premises" lab/bench.sh --no-cold   only some scenarios
#
# Prints Markdown table rows; each step's output goes to .cache/lab/bench/*.log. Run from the
# repository root with the venv on PATH (`make bench-molecule` does both). Leaves no
# container behind.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lab/env.sh
source lab/env.sh
COLD=1
[ "${1:-}" = "--no-cold" ] && COLD=0

LOGS="$BYOC_LAB_CACHE/bench"
mkdir -p "$LOGS"
now() { date +%s.%N; }
run() { # LOG COMMAND... : run quietly into LOG; on failure say where the log is and go on
  local log="$LOGS/$1.log"; shift
  "$@" >"$log" 2>&1 || { echo "bench: '$*' failed, see $log" >&2; return 1; }
}
since() { python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$(now)"; }
row() { printf '| %s | %s |\n' "$1" "$2"; }

echo "| measure | seconds |"
echo "|---|---|"
if [ $COLD = 1 ]; then
  podman rmi -f "$BYOC_LAB_IMAGE" "$BYOC_LAB_BASE_IMAGE" >/dev/null 2>&1 || true
  rm -rf "$BYOC_LAB_CACHE/images"
  t=$(now); run images-cold lab/images.sh; row "lab image, cold (debootstrap + import + build + save)" "$(since "$t")"
  podman rmi -f "$BYOC_LAB_IMAGE" >/dev/null
  t=$(now); run images-load lab/images.sh; row "lab image, podman load from .cache" "$(since "$t")"
fi
t=$(now); run images-warm lab/images.sh; row "lab image, already current" "$(since "$t")"

for scenario in ${BENCH_SCENARIOS:-default include premises}; do
  run "$scenario-destroy" molecule destroy -s "$scenario" || true
  run "$scenario-create" molecule create -s "$scenario"
  run "$scenario-prepare" molecule prepare -s "$scenario"
  t=$(now); run "$scenario-converge" molecule converge -s "$scenario"; first=$(since "$t")
  t=$(now); run "$scenario-converge-again" molecule converge -s "$scenario"; again=$(since "$t")
  row "$scenario: converge (first run)" "$first"
  row "$scenario: converge again, nothing to change" "$again"
  row "$scenario: ratio second / first" "$(python3 -c "print('%.2f' % ($again / $first))")"
  run "$scenario-destroy" molecule destroy -s "$scenario"
  t=$(now); status=ok; run "$scenario-test" molecule test -s "$scenario" || status=FAILED
  row "$scenario: molecule test, wall ($status)" "$(since "$t")"
done
