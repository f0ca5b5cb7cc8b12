#!/usr/bin/env bash
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# `make rehearse-examples` (a stage of `make test`): `make rehearse` of the three example
# inventories and of tests/rehearse/mixed_nat (8 hosts, mixed NAT, two LANs), one after another
# (their public addresses overlap, so their labs cannot exist at the same time). Each output goes
# to .cache/logs/rehearse-<name>.log; a table says which passed. Exit 1 when one failed.
set -uo pipefail
# shellcheck source=tools/lab/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/common.sh"

cd "$ROOT" || exit 2
mkdir -p .cache/logs
inventories=(inventories/full_tunnel inventories/site_to_site inventories/bastion tests/rehearse/mixed_nat)
declare -A res dur
failed=0
for inv in "${inventories[@]}"; do
    name=$(basename "$inv")
    log "rehearse $inv (log: .cache/logs/rehearse-$name.log)"
    t0=$SECONDS
    if "$VENV/bin/python" tools/rehearse/rehearse.py "$inv" >".cache/logs/rehearse-$name.log" 2>&1; then
        res[$inv]=ok
    else
        res[$inv]=FAIL
        failed=1
        tail -n 40 ".cache/logs/rehearse-$name.log" >&2
    fi
    dur[$inv]=$((SECONDS - t0))
    sed -n '/^=== rehearsal/,$p' ".cache/logs/rehearse-$name.log"
done
echo
printf '%-28s %-6s %8s\n' INVENTORY RESULT SECONDS
for inv in "${inventories[@]}"; do
    printf '%-28s %-6s %8s\n' "$inv" "${res[$inv]}" "${dur[$inv]}"
done
exit "$failed"
