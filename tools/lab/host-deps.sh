#!/usr/bin/env bash
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Install the Debian packages the lab and the tests need on this machine, only those missing.
# --no-install-recommends matters: wireguard-tools and friends otherwise pull in a kernel image.
#
# Usage: tools/lab/host-deps.sh
set -euo pipefail
# shellcheck source=tools/lab/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PACKAGES=(
    podman        # container engine (rootful) for Molecule and the lab
    runc          # OCI runtime: crun of Debian 12 refuses hybrid cgroup hosts
    netavark      # network backend (internal networks, static addresses)
    aardvark-dns  # name resolution between containers of one network
    iptables      # netavark's firewall driver
    debootstrap   # builds the Debian image without a registry
    nftables      # unit tests run the generated firewall hooks in network namespaces
    shellcheck    # ansible-test sanity's shellcheck test (skipped without it)
    wireguard-tools  # module tests run wg/wg-quick on real interfaces in network namespaces
    wireguard-go     # the userspace WireGuard those tests use (this kernel has no module)
    zbar-tools       # the full_tunnel scenario decodes the QR codes of device profiles (zbarimg)
    prometheus       # promtool: unit tests check and test docs/prometheus/wireguard.rules.yml (no server is started)
    graphviz         # the dot binary: render.yml draws the network picture as SVG (unit tests check it)
    make
    git
    python3-venv
)

installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for p in "${PACKAGES[@]}"; do
    installed "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
    log "all host packages present (${PACKAGES[*]})"
else
    need_root
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    log "installed: ${missing[*]}"
fi

# systemd as PID 1 holds about 7 inotify instances per container as root (systemd, logind,
# wireguard-go): Debian's default of 128 per user stops booting containers after ~18 of them, across
# everything podman runs on the machine (systemd exits 255 at once). Raised for this boot only.
INOTIFY_INSTANCES=1024
if [ "$(cat /proc/sys/fs/inotify/max_user_instances)" -lt "$INOTIFY_INSTANCES" ]; then
    need_root
    sysctl -q -w fs.inotify.max_user_instances="$INOTIFY_INSTANCES"
    log "raised fs.inotify.max_user_instances to $INOTIFY_INSTANCES (systemd containers)"
fi
"$(dirname "${BASH_SOURCE[0]}")/podman-conf.sh"
