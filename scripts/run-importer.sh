#!/usr/bin/env bash
# Run galaxy-importer (what Galaxy / Automation Hub run on upload) on a built collection tarball,
# offline, from its own venv (it pins an old attrs). Usage: run-importer.sh IMPORTER_VENV TARBALL
# Fails when the import fails or logs an ERROR; lists its warnings. Full log: build/importer.log.
set -euo pipefail
venv=$(cd "$1" && pwd)
tarball=$2
log=${IMPORTER_LOG:-build/importer.log}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# ansible-doc and ansible-lint come from the importer's venv; no ansible-test (it needs containers).
export PATH="$venv/bin:$PATH" HOME="$scratch" GALAXY_IMPORTER_TMP_ROOT_DIR="$scratch" \
  GALAXY_IMPORTER_RUN_ANSIBLE_TEST=false GALAXY_IMPORTER_OFFLINE_ANSIBLE_LINT=true \
  GALAXY_IMPORTER_RUN_ANSIBLE_LINT=true GALAXY_IMPORTER_CHECK_CHANGELOG=true
unset ANSIBLE_COLLECTIONS_PATH ANSIBLE_CONFIG
start=$(date +%s)
status=0
# It writes importer_result.json into its working directory: run it beside the log.
tarball=$(realpath "$tarball")
log=$(realpath "$log")
logdir=$(dirname "$log")
(cd "$logdir" && "$venv/bin/python" -m galaxy_importer.main "$tarball") >"$log" 2>&1 || status=$?
echo "importer: galaxy-importer on $tarball: $(( $(date +%s) - start )) s, log in $log"
warnings=$(grep -c '^WARNING:' "$log" || true)
if [ "$warnings" -gt 0 ]; then
  echo "importer: $warnings warning(s):"
  grep '^WARNING:' "$log" | cut -c1-220 | sort -u
fi
if [ "$status" -ne 0 ] || grep -q '^ERROR:' "$log" || ! grep -q 'Importer processing completed successfully' "$log"; then
  echo "importer: the import FAILED (exit $status):" >&2
  { grep '^ERROR:' "$log" || tail -20 "$log"; } | cut -c1-300 | sort -u >&2
  exit 1
fi
echo "importer: the import succeeded"
