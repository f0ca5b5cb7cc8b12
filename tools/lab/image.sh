#!/usr/bin/env bash
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Build the lab/test image from Debian's own packages (no container registry needed):
# debootstrap a minimal bookworm with systemd and WireGuard (wireguard-go, since the kernel may
# lack the module), then `podman import` it.
#
# Tags: localhost/netfleet-wireguard-lab:<key> and :latest, where <key> is the first 12 hex digits
# of the sha256 of image-packages.txt + this script. The build is skipped when <key> exists.
# /var/lib/apt/lists stays in the image so that apt (state=present) works offline in the tests.
#
# Usage: tools/lab/image.sh [--print-tag | --force]
# Environment: NETFLEET_DEBIAN_MIRROR (default http://deb.debian.org/debian)
set -euo pipefail
# shellcheck source=tools/lab/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PKG_FILE=$HERE/image-packages.txt
SUITE=bookworm
MIRROR=${NETFLEET_DEBIAN_MIRROR:-http://deb.debian.org/debian}
KEY=$(content_key "$PKG_FILE" "$HERE/image.sh")
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

need_cmd podman debootstrap
need_podman_conf

if [ "$force" = 0 ] && podman image exists "$TAG"; then
    podman tag "$TAG" "$LAB_IMAGE_REPO:latest"
    log "image $TAG is up to date (cached; --force to rebuild)"
    exit 0
fi
need_root

packages=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$PKG_FILE" | paste -sd, -)
[ -n "$packages" ] || die "$PKG_FILE lists no packages"

rootfs=$(mktemp -d /var/tmp/netfleet-lab-rootfs.XXXXXX)
logfile=$ROOT/.cache/logs/image-build.log
mkdir -p "$(dirname "$logfile")"
cleanup() { rm -rf --one-file-system "$rootfs"; }
trap cleanup EXIT

log "debootstrap $SUITE ($MIRROR) into $rootfs; log: $logfile"
t0=$SECONDS
if ! debootstrap --variant=minbase --include="$packages" "$SUITE" "$rootfs" "$MIRROR" >"$logfile" 2>&1; then
    tail -n 30 "$logfile" >&2
    die "debootstrap failed (full log: $logfile)"
fi
log "debootstrap done in $((SECONDS - t0)) s"

# Small image, but keep the package lists (offline apt state=present in the tests).
rm -f "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin
# systemd generates a fresh machine id on the first boot of each container.
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"

t0=$SECONDS
tar --numeric-owner -C "$rootfs" -c . |
    podman import --quiet \
        --change 'CMD ["/sbin/init"]' \
        --change "LABEL $LAB_LABEL=1" \
        --change "LABEL $LAB_LABEL.key=$KEY" \
        - "$TAG" >/dev/null
podman tag "$TAG" "$LAB_IMAGE_REPO:latest"
log "imported $TAG (+ :latest) in $((SECONDS - t0)) s; $(du -sh "$rootfs" | cut -f1) unpacked"

# Drop images of earlier keys (a running container keeps its image: then it stays).
podman images --filter "label=$LAB_LABEL=1" --format '{{.Repository}}:{{.Tag}}' |
    while read -r old; do
        case "$old" in
            "$TAG" | "$LAB_IMAGE_REPO:latest" | *"<none>"*) ;;
            *) if podman rmi "$old" >/dev/null 2>&1; then log "removed old image $old"; fi ;;
        esac
    done
