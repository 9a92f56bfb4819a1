#!/usr/bin/env bash
# Build the lab's container images without a registry, idempotently, with a cache.
#
#   lab/images.sh            ensure host tools, then the images (load from cache or build)
#   lab/images.sh --rebuild  ignore the cache and build again
#
# 1. host tools: podman, runc, debootstrap from apt when missing (Debian 12);
# 2. base image: debootstrap --variant=minbase bookworm from the mirror found in this
#    machine's own apt sources (never a hard-coded host), then `podman import`;
# 3. lab image: `podman build` of lab/images/kamailio.Containerfile on top;
# 4. cache: `podman save` into .cache/lab/images/, keyed by a hash of the build inputs,
#    so a second machine run (or a wiped podman store) only needs `podman load`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lab/env.sh
source lab/env.sh

REBUILD=0
[ "${1:-}" = "--rebuild" ] && REBUILD=1
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
MIRROR=${BYOC_LAB_MIRROR:-$(apt_uris ' bookworm ' | grep -v -- '-security' | head -n1 || true)}
SECURITY=${BYOC_LAB_SECURITY_MIRROR:-$(apt_uris ' bookworm-security ' | head -n1 || true)}
if [ -z "$MIRROR" ]; then
  log "no Debian bookworm mirror found in /etc/apt/sources.list{,.d}; set BYOC_LAB_MIRROR=http://<your mirror>/debian"
  exit 2
fi

# ------------------------------------------------------------------ cache key
KEY=$(cat lab/images/kamailio.Containerfile lab/images.sh | sha256sum | cut -c1-12)
CACHE_DIR="$BYOC_LAB_CACHE/images"
CACHE_TAR="$CACHE_DIR/kamailio-$KEY.tar"
mkdir -p "$CACHE_DIR"

image_key() { podman image inspect --format '{{ index .Labels "byoc.lab.key" }}' "$1" 2>/dev/null || true; }

if [ $REBUILD = 0 ] && [ "$(image_key "$BYOC_LAB_IMAGE")" = "$KEY" ]; then
  log "$BYOC_LAB_IMAGE is current (key $KEY)"
  exit 0
fi
if [ $REBUILD = 0 ] && [ -s "$CACHE_TAR" ]; then
  log "loading $BYOC_LAB_IMAGE from $CACHE_TAR"
  podman load -q -i "$CACHE_TAR" >/dev/null
  if [ "$(image_key "$BYOC_LAB_IMAGE")" = "$KEY" ]; then exit 0; fi
  log "cache $CACHE_TAR did not hold the expected image; rebuilding"
fi

# ------------------------------------------------------------------ base image
t0=$(date +%s)
if [ $REBUILD = 1 ] || ! podman image exists "$BYOC_LAB_BASE_IMAGE"; then
  ROOTFS=$(mktemp -d /var/tmp/byoc-lab-rootfs.XXXXXX)
  trap 'rm -rf "$ROOTFS"' EXIT
  log "debootstrap bookworm from $MIRROR"
  debootstrap --variant=minbase bookworm "$ROOTFS" "$MIRROR" >"$CACHE_DIR/debootstrap.log" 2>&1 || {
    tail -n 20 "$CACHE_DIR/debootstrap.log" >&2; exit 1; }
  {
    echo "deb $MIRROR bookworm main"
    echo "deb $MIRROR bookworm-updates main"
    [ -n "$SECURITY" ] && echo "deb $SECURITY bookworm-security main"
  } >"$ROOTFS/etc/apt/sources.list"
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  tar -C "$ROOTFS" -c . | podman import -q - "$BYOC_LAB_BASE_IMAGE" >/dev/null
  rm -rf "$ROOTFS"; trap - EXIT
  log "base image $BYOC_LAB_BASE_IMAGE built in $(( $(date +%s) - t0 )) s"
fi

# ------------------------------------------------------------------ lab image
t1=$(date +%s)
log "building $BYOC_LAB_IMAGE"
podman build -q --label "byoc.lab.key=$KEY" --build-arg "BASE=$BYOC_LAB_BASE_IMAGE" \
  -t "$BYOC_LAB_IMAGE" -f lab/images/kamailio.Containerfile lab/images >/dev/null
log "lab image built in $(( $(date +%s) - t1 )) s; saving to $CACHE_TAR"
rm -f "$CACHE_DIR"/kamailio-*.tar
podman save -q -o "$CACHE_TAR" "$BYOC_LAB_IMAGE"
log "done in $(( $(date +%s) - t0 )) s"
