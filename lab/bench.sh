#!/usr/bin/env bash
# Figures for docs/benchmarks.md (Kamailio lab): image build cold / warm / from cache,
# converge, idempotent re-run and its ratio, molecule test wall time per scenario.
#
#   lab/bench.sh            everything (rebuilds the images from scratch: about 10 minutes)
#   lab/bench.sh --no-cold  keep the images (skip the cold build and the cache load)
#   BENCH_SCENARIOS="premises" lab/bench.sh --no-cold   only some scenarios
#   BENCH_PLATFORMS="trixie" lab/bench.sh --no-cold     the per-platform scenarios on some SBC platforms
#
# BENCH_PLATFORM_SCENARIOS (default "default premises") run once per platform of BENCH_PLATFORMS
# (default "bookworm trixie"), their SBC from localhost/byoc-lab/kamailio:PLATFORM; the others on bookworm.
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
PLATFORMS=${BENCH_PLATFORMS:-bookworm trixie}
SUITES=$(printf '%s\n' bookworm $PLATFORMS | sort -u | tr '\n' ' ')
if [ $COLD = 1 ]; then
  for suite in $SUITES; do
    podman rmi -f "localhost/byoc-lab/kamailio:$suite" "localhost/byoc-lab/debian:$suite" >/dev/null 2>&1 || true
    rm -f "$BYOC_LAB_CACHE/images/kamailio-$suite-"*.tar
    t=$(now); run "images-cold-$suite" lab/images.sh "$suite"
    row "lab image $suite, cold (debootstrap + import + build + save)" "$(since "$t")"
    podman rmi -f "localhost/byoc-lab/kamailio:$suite" >/dev/null
    t=$(now); run "images-load-$suite" lab/images.sh "$suite"; row "lab image $suite, podman load from .cache" "$(since "$t")"
  done
fi
# shellcheck disable=SC2086
t=$(now); run images-warm lab/images.sh $SUITES; row "lab images ($SUITES), already current" "$(since "$t")"

for scenario in ${BENCH_SCENARIOS:-default include premises}; do
  platforms=bookworm
  case " ${BENCH_PLATFORM_SCENARIOS:-default premises} " in *" $scenario "*) platforms=$PLATFORMS ;; esac
  for platform in $platforms; do
    export BYOC_LAB_SBC_IMAGE="localhost/byoc-lab/kamailio:$platform"
    name="$scenario ($platform SBC)"; log="$scenario-$platform"
    run "$log-destroy" molecule destroy -s "$scenario" || true
    run "$log-create" molecule create -s "$scenario"
    run "$log-prepare" molecule prepare -s "$scenario"
    t=$(now); run "$log-converge" molecule converge -s "$scenario"; first=$(since "$t")
    t=$(now); run "$log-converge-again" molecule converge -s "$scenario"; again=$(since "$t")
    row "$name: converge (first run)" "$first"
    row "$name: converge again, nothing to change" "$again"
    row "$name: ratio second / first" "$(python3 -c "print('%.2f' % ($again / $first))")"
    run "$log-destroy" molecule destroy -s "$scenario"
    t=$(now); status=ok; run "$log-test" molecule test -s "$scenario" || status=FAILED
    row "$name: molecule test, wall ($status)" "$(since "$t")"
  done
done
