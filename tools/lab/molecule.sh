#!/usr/bin/env bash
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Run `molecule test` for every scenario under molecule/ whose name does not start with '_',
# one after the other (they share 2 cores on CI). Each log goes to .cache/logs/molecule-NAME.log;
# a PASS/FAIL table with durations follows, then the end of the log of every failed scenario.
# Exit status: non-zero when any scenario failed or none was found.
#
# Usage: tools/lab/molecule.sh [SCENARIO...]    (default: all)
set -euo pipefail
# shellcheck source=tools/lab/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ -x "$VENV/bin/molecule" ] || die "$VENV/bin/molecule missing: run 'make venv' first"
need_cmd podman
need_podman_conf
export PATH="$VENV/bin:$PATH"
export ANSIBLE_FORCE_COLOR=${ANSIBLE_FORCE_COLOR:-0}
cd "$ROOT"

if [ "$#" -gt 0 ]; then
    scenarios=("$@")
else
    scenarios=()
    for f in molecule/*/molecule.yml; do
        [ -e "$f" ] || continue
        s=$(basename "$(dirname "$f")")
        case "$s" in _*) continue ;; esac
        scenarios+=("$s")
    done
fi
[ "${#scenarios[@]}" -gt 0 ] || die "no Molecule scenario found under molecule/ (nothing tested)"

logdir=$ROOT/.cache/logs
mkdir -p "$logdir"
# the site_to_site scenario imports the roles from the installed tarball, as a user's playbook does
"$ROOT/tools/lab/install-tarball.sh"
declare -A result duration
failed=()
for s in "${scenarios[@]}"; do
    [ -f "molecule/$s/molecule.yml" ] || die "molecule/$s/molecule.yml not found"
    logf=$logdir/molecule-$s.log
    log "scenario $s: molecule test (log: ${logf#"$ROOT"/})"
    t0=$SECONDS
    if molecule test -s "$s" >"$logf" 2>&1; then
        result[$s]=PASS
    else
        result[$s]=FAIL
        failed+=("$s")
    fi
    duration[$s]=$((SECONDS - t0))
    log "scenario $s: ${result[$s]} in ${duration[$s]} s"
done

for s in "${failed[@]}"; do
    printf '\n===== end of .cache/logs/molecule-%s.log (FAILED) =====\n' "$s"
    sed 's/\x1b\[[0-9;]*m//g' "$logdir/molecule-$s.log" | tail -n "${MOLECULE_TAIL:-80}"
done

printf '\n%-24s %-6s %8s\n' SCENARIO RESULT SECONDS
total=0
for s in "${scenarios[@]}"; do
    printf '%-24s %-6s %8s\n' "$s" "${result[$s]}" "${duration[$s]}"
    total=$((total + duration[$s]))
done
printf '%-24s %-6s %8s\n' total "$([ "${#failed[@]}" -eq 0 ] && echo PASS || echo FAIL)" "$total"

if [ "${#failed[@]}" -gt 0 ]; then
    echo "molecule: ${#failed[@]} of ${#scenarios[@]} scenario(s) FAILED: ${failed[*]}"
    exit 1
fi
echo "molecule: all ${#scenarios[@]} scenario(s) passed"
