#!/usr/bin/env bash
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# `make test`: every stage in order, stopping at the first that fails. Prints a table of the
# stages with their durations and a last line saying PASSED or which stage FAILED; the table is
# also written to .cache/logs/test-stages.txt.
#
# Usage: tools/lab/test.sh [STAGE...]   (default: the full list below; each is a make target,
#                                        except "cleanup" = tools/lab/cleanup.sh)
set -uo pipefail
# shellcheck source=tools/lab/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

MAKE=${MAKE:-make}
if [ "$#" -gt 0 ]; then
    stages=("$@")
else
    # host-deps first: a fresh Debian has no python3-venv, podman or debootstrap.
    stages=(host-deps venv image cleanup lint unit sanity build molecule rehearse-examples)
fi

cd "$ROOT" || exit 2
mkdir -p .cache/logs
report=.cache/logs/test-stages.txt
declare -A res dur
failed=""
for st in "${stages[@]}"; do
    printf '\n######## make test: stage %s  [%s]\n' "$st" "$(date +%H:%M:%S)"
    t0=$SECONDS
    if [ "$st" = cleanup ]; then
        tools/lab/cleanup.sh
    else
        "$MAKE" --no-print-directory "$st"
    fi
    rc=$?
    dur[$st]=$((SECONDS - t0))
    if [ "$rc" -eq 0 ]; then
        res[$st]=ok
    else
        res[$st]="FAIL (rc $rc)"
        failed=$st
        break
    fi
done

{
    printf '%-12s %-14s %8s\n' STAGE RESULT SECONDS
    total=0
    for st in "${stages[@]}"; do
        printf '%-12s %-14s %8s\n' "$st" "${res[$st]:-not run}" "${dur[$st]:--}"
        total=$((total + ${dur[$st]:-0}))
    done
    printf '%-12s %-14s %8s\n' total "" "$total"
} | tee "$report"
echo
if [ -n "$failed" ]; then
    echo "make test: FAILED at stage '$failed' (stages after it were not run)"
    exit 1
fi
echo "make test: PASSED (${stages[*]})"
