# shellcheck shell=bash
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Helpers sourced by the tools/lab/*.sh scripts (not executable on its own).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV=${VENV:-$ROOT/.venv}
# shellcheck disable=SC2034 # used by the scripts that source this file
LAB_LABEL=netfleet.wireguard.lab
# shellcheck disable=SC2034
LAB_IMAGE_REPO=localhost/netfleet-wireguard-lab
# Podman settings written by tools/lab/podman-conf.sh; every podman call of the project uses them.
export CONTAINERS_CONF=${CONTAINERS_CONF:-$ROOT/.lab/containers.conf}

# The name of the calling script, for messages.
_LAB_ME=$(basename "${0%.sh}")

log() { printf '[%s %s] %s\n' "$_LAB_ME" "$(date +%H:%M:%S)" "$*"; }
warn() { printf '[%s] WARNING: %s\n' "$_LAB_ME" "$*" >&2; }
die() {
    printf '[%s] ERROR: %s\n' "$_LAB_ME" "$*" >&2
    exit 1
}

need_root() {
    [ "$(id -u)" -eq 0 ] || die "this step needs root (it installs packages / runs rootful podman)"
}

need_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || die "'$c' not found: run 'make host-deps' first"
    done
}

need_podman_conf() {
    [ -f "$CONTAINERS_CONF" ] || die "$CONTAINERS_CONF missing: run 'make host-deps' first"
}

# sha256 over the given files, first 12 hex digits.
content_key() {
    cat "$@" | sha256sum | cut -c1-12
}
