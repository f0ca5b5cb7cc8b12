#!/usr/bin/env bash
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# The recipe of the lab/test image (called by image.sh, which decides whether to build at all).
# debootstrap a minimal Debian 12 with the packages of image-packages.txt (systemd, WireGuard
# tools and wireguard-go, since the host kernel may lack the module), then `podman import` it.
# /var/lib/apt/lists stays in the image so that apt (state=present) works offline in the tests.
# The image key is the hash of image-packages.txt and of this file: any change here rebuilds.
#
# Usage: tools/lab/image-build.sh TAG KEY
# Environment: NETFLEET_DEBIAN_MIRROR (default http://deb.debian.org/debian)
set -euo pipefail
# shellcheck source=tools/lab/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TAG=${1:?usage: image-build.sh TAG KEY}
KEY=${2:?usage: image-build.sh TAG KEY}
SUITE=bookworm
MIRROR=${NETFLEET_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PKG_FILE=$(dirname "${BASH_SOURCE[0]}")/image-packages.txt

need_root
need_cmd podman debootstrap
packages=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$PKG_FILE" | paste -sd, -)
[ -n "$packages" ] || die "$PKG_FILE lists no packages"

rootfs=$(mktemp -d /var/tmp/netfleet-lab-rootfs.XXXXXX)
logfile=$ROOT/.cache/logs/image-build.log
mkdir -p "$(dirname "$logfile")"
trap 'rm -rf --one-file-system "$rootfs"' EXIT

log "debootstrap $SUITE ($MIRROR) into $rootfs; log: ${logfile#"$ROOT"/}"
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
log "imported $TAG in $((SECONDS - t0)) s ($(du -sh "$rootfs" | cut -f1) unpacked)"
