#!/usr/bin/env bash
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Make sure the lab/test image exists: localhost/netfleet-wireguard-lab:<key> and :latest, where
# <key> is the first 12 hex digits of the sha256 of image-packages.txt + image-build.sh (the
# recipe). Builds (image-build.sh, no registry needed) only when no image has that key; then
# removes images of older keys that no container uses.
#
# Usage: tools/lab/image.sh [--print-tag | --force]
set -euo pipefail
# shellcheck source=tools/lab/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KEY=$(content_key "$HERE/image-packages.txt" "$HERE/image-build.sh")
TAG=$LAB_IMAGE_REPO:$KEY

case "${1:-}" in
    --print-tag)
        echo "$TAG"
        exit 0
        ;;
    --force) force=1 ;;
    "") force=0 ;;
    *) die "usage: $0 [--print-tag | --force]" ;;
esac

need_cmd podman
need_podman_conf

if [ "$force" = 0 ] && podman image exists "$TAG"; then
    log "image $TAG is up to date (cached; --force rebuilds)"
else
    t0=$SECONDS
    "$HERE/image-build.sh" "$TAG" "$KEY"
    log "built $TAG in $((SECONDS - t0)) s"
fi
podman tag "$TAG" "$LAB_IMAGE_REPO:latest"

# Images of earlier keys: removed unless a container still uses them (then podman refuses).
podman images --filter "label=$LAB_LABEL=1" --format '{{.Repository}}:{{.Tag}}' |
    while read -r old; do
        case "$old" in
            "$TAG" | "$LAB_IMAGE_REPO:latest" | *"<none>"*) ;;
            *) if podman rmi "$old" >/dev/null 2>&1; then log "removed old image $old"; fi ;;
        esac
    done
