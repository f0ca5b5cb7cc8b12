#!/usr/bin/env bash
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Remove what the project's tests and lab created and left behind: containers and networks that
# carry the label netfleet.wireguard.lab (any value; or only VALUE). Nothing else is touched.
# Removal is one object at a time: podman 4.3 `rm -f a missing b` removes nothing at all.
#
# Usage: tools/lab/cleanup.sh [VALUE]     e.g. VALUE=molecule or lab
set -euo pipefail
# shellcheck source=tools/lab/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

filter=label=$LAB_LABEL${1:+=$1}
if ! command -v podman >/dev/null 2>&1; then
    log "podman not installed: nothing to clean"
    exit 0
fi

n=0
while read -r name; do
    [ -n "$name" ] || continue
    podman rm --force --time 2 "$name" >/dev/null
    log "removed container $name"
    n=$((n + 1))
done < <(podman ps --all --filter "$filter" --format '{{.Names}}')

while read -r name; do
    [ -n "$name" ] || continue
    podman network rm "$name" >/dev/null
    log "removed network $name"
    n=$((n + 1))
done < <(podman network ls --filter "$filter" --format '{{.Name}}')

left=$(
    podman ps --all --filter "$filter" --format '{{.Names}}'
    podman network ls --filter "$filter" --format '{{.Name}}'
)
[ -z "$left" ] || die "could not remove: $(echo "$left" | paste -sd' ' -)"
log "removed $n leftover object(s) labelled $LAB_LABEL${1:+=$1}"
