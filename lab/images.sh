#!/usr/bin/env bash
# Build the lab's container images without a registry, idempotently, with a cache.
#
#   lab/images.sh                     ensure host tools, then every suite's image (load from cache or build)
#   lab/images.sh trixie              only the named suites (bookworm, trixie)
#   lab/images.sh --rebuild [SUITE…]  ignore the cache and build again
#
# Per Debian suite (BYOC_LAB_SUITES, default "bookworm trixie"):
# 1. host tools: podman, runc, debootstrap from apt when missing (Debian 12);
# 2. base image localhost/byoc-lab/debian:SUITE: debootstrap --variant=minbase SUITE from the
#    mirror found in this machine's own apt sources (never a hard-coded host), then `podman import`;
# 3. lab image localhost/byoc-lab/kamailio:SUITE: `podman build` of
#    lab/images/kamailio.Containerfile on top (the same file for every suite);
# 4. cache: `podman save` into .cache/lab/images/, keyed by a hash of the build inputs and the
#    suite, so a second machine run (or a wiped podman store) only needs `podman load`.
# bookworm serves every lab container; trixie (Debian 13) serves the SBC of the default
# scenario's second run (molecule/default/molecule.yml, BYOC_LAB_SBC_IMAGE).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lab/env.sh
source lab/env.sh

REBUILD=0
[ "${1:-}" = "--rebuild" ] && { REBUILD=1; shift; }
SUITES=("$@")
[ ${#SUITES[@]} -gt 0 ] || read -r -a SUITES <<<"${BYOC_LAB_SUITES:-bookworm trixie}"
log() { printf 'lab-images: %s\n' "$*" >&2; }

# ------------------------------------------------------------------ host tools
"$(dirname "${BASH_SOURCE[0]}")/../scripts/apt-ensure.sh" podman runc debootstrap

# ------------------------------------------------------------------ apt mirror
# The first Debian archive URI of this machine's apt sources that carries the
# release (deb822 .sources or one-line .list), and the security archive if any.
apt_uris() {
  local suite_re=$1
  {
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      awk -v want="$suite_re" '
        function flush() { if (types ~ /(^| )deb( |$)/ && suites ~ want) { n = split(uris, u, " "); for (i = 1; i <= n; i++) print u[i] } types = uris = suites = "" }
        /^[[:space:]]*$/ { flush(); next }
        /^Types:/ { sub(/^Types:[[:space:]]*/, ""); types = $0 }
        /^URIs:/ { sub(/^URIs:[[:space:]]*/, ""); uris = $0 }
        /^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = " " $0 " " }
        END { flush() }' "$f"
    done
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk -v want="$suite_re" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ((" " $(i+1) " ") ~ want) print $i }'
  } | awk '!seen[$0]++'
}
HOST_SUITE=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-bookworm}")
# ------------------------------------------------------------------ one suite
build_suite() {
  local SUITE=$1 MIRROR SECURITY KEY CACHE_DIR CACHE_TAR t0 t1
  local IMAGE="localhost/byoc-lab/kamailio:$SUITE" BASE_IMAGE="localhost/byoc-lab/debian:$SUITE"
  # A Debian 12 host's sources name only bookworm; the same archive serves trixie.
  MIRROR=${BYOC_LAB_MIRROR:-$(apt_uris " ($SUITE|$HOST_SUITE) " | grep -v -- '-security' | head -n1 || true)}
  SECURITY=${BYOC_LAB_SECURITY_MIRROR:-$(apt_uris " ($SUITE|$HOST_SUITE)-security " | head -n1 || true)}
  if [ -z "$MIRROR" ]; then
    log "no Debian archive found in /etc/apt/sources.list{,.d}; set BYOC_LAB_MIRROR=http://<your mirror>/debian"
    return 2
  fi

  # ------------------------------------------------------------------ cache key
  KEY=$( (cat lab/images/kamailio.Containerfile lab/images.sh; echo "$SUITE") | sha256sum | cut -c1-12)
  CACHE_DIR="$BYOC_LAB_CACHE/images"
  CACHE_TAR="$CACHE_DIR/kamailio-$SUITE-$KEY.tar"
  mkdir -p "$CACHE_DIR"

  image_key() { podman image inspect --format '{{ index .Labels "byoc.lab.key" }}' "$1" 2>/dev/null || true; }

  if [ $REBUILD = 0 ] && [ "$(image_key "$IMAGE")" = "$KEY" ]; then
    log "$IMAGE is current (key $KEY)"
    return 0
  fi
  if [ $REBUILD = 0 ] && [ -s "$CACHE_TAR" ]; then
    log "loading $IMAGE from $CACHE_TAR"
    podman load -q -i "$CACHE_TAR" >/dev/null
    if [ "$(image_key "$IMAGE")" = "$KEY" ]; then return 0; fi
    log "cache $CACHE_TAR did not hold the expected image; rebuilding"
  fi

  # ------------------------------------------------------------------ base image
  t0=$(date +%s)
  if [ $REBUILD = 1 ] || ! podman image exists "$BASE_IMAGE"; then
    ROOTFS=$(mktemp -d /var/tmp/byoc-lab-rootfs.XXXXXX)
    trap 'rm -rf "$ROOTFS"' EXIT
    log "debootstrap $SUITE from $MIRROR"
    debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$MIRROR" >"$CACHE_DIR/debootstrap-$SUITE.log" 2>&1 || {
      tail -n 20 "$CACHE_DIR/debootstrap-$SUITE.log" >&2; return 1; }
    {
      echo "deb $MIRROR $SUITE main"
      echo "deb $MIRROR $SUITE-updates main"
      [ -n "$SECURITY" ] && echo "deb $SECURITY $SUITE-security main"
    } >"$ROOTFS/etc/apt/sources.list"
    rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
    tar -C "$ROOTFS" -c . | podman import -q - "$BASE_IMAGE" >/dev/null
    rm -rf "$ROOTFS"; trap - EXIT
    log "base image $BASE_IMAGE built in $(( $(date +%s) - t0 )) s"
  fi

  # ------------------------------------------------------------------ lab image
  t1=$(date +%s)
  log "building $IMAGE"
  podman build -q --label "byoc.lab.key=$KEY" --build-arg "BASE=$BASE_IMAGE" \
    -t "$IMAGE" -f lab/images/kamailio.Containerfile lab/images >/dev/null
  log "lab image built in $(( $(date +%s) - t1 )) s; saving to $CACHE_TAR"
  rm -f "$CACHE_DIR"/kamailio-"$SUITE"-*.tar "$CACHE_DIR"/kamailio-[0-9a-f]*.tar
  podman save -q -o "$CACHE_TAR" "$IMAGE"
  log "done in $(( $(date +%s) - t0 )) s"
}

for suite in "${SUITES[@]}"; do
  case "$suite" in
    bookworm|trixie) build_suite "$suite" ;;
    *) log "unknown suite '$suite'; the lab knows bookworm (Debian 12) and trixie (Debian 13)"; exit 2 ;;
  esac
done
