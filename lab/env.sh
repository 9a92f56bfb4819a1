# Source me: the environment every lab command (podman, molecule) runs with.
# shellcheck shell=bash
BYOC_LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$BYOC_LAB_DIR/containers.conf}"
export BYOC_LAB_CACHE="${BYOC_LAB_CACHE:-$(dirname "$BYOC_LAB_DIR")/.cache/lab}"
export BYOC_LAB_IMAGE="${BYOC_LAB_IMAGE:-localhost/byoc-lab/kamailio:bookworm}"
export BYOC_LAB_BASE_IMAGE="${BYOC_LAB_BASE_IMAGE:-localhost/byoc-lab/debian:bookworm}"
