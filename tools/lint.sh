#!/usr/bin/env bash
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Static checks of the repository, offline: yamllint (.yamllint), ansible-lint (.ansible-lint:
# production profile, strict, no skip or warn list) and antsibull-changelog lint (changelog fragments).
# Every check runs even when an earlier one fails; the exit code is non-zero if any failed.
#
# Usage: tools/lint.sh            Environment: VENV (default <repo>/.venv)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
for tool in yamllint ansible-lint antsibull-changelog; do
    if [ ! -x "$VENV/bin/$tool" ]; then
        echo "lint: $VENV/bin/$tool not found: run 'make venv' first" >&2
        exit 2
    fi
done
export PATH="$VENV/bin:$PATH"
export VIRTUAL_ENV=$VENV
cd "$ROOT" || exit 2

# Make <namespace>.<name>.* resolve to this checkout for ansible-lint's syntax checks, without
# relying on the .cache link that `make venv` creates (ansible-test style: a temporary
# ansible_collections tree outside the repository).
read -r NAMESPACE NAME < <("$VENV/bin/python" -c '
import sys, yaml
meta = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
print(meta["namespace"], meta["name"])' galaxy.yml)
COLLECTIONS=$(mktemp -d "${TMPDIR:-/tmp}/lint.XXXXXX")
trap 'rm -rf "$COLLECTIONS"' EXIT
mkdir -p "$COLLECTIONS/ansible_collections/$NAMESPACE"
ln -s "$ROOT" "$COLLECTIONS/ansible_collections/$NAMESPACE/$NAME"
export ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS

results=()
failed=0
run() {
    local label=$1
    shift
    local t0 rc
    t0=$(date +%s)
    echo "==> $label: $*"
    "$@"
    rc=$?
    local took=$(( $(date +%s) - t0 ))
    if [ "$rc" -eq 0 ]; then
        results+=("PASS  $label (${took}s)")
    else
        results+=("FAIL  $label (${took}s, exit $rc)")
        failed=1
    fi
}

run yamllint yamllint --strict .
run ansible-lint ansible-lint
run changelog antsibull-changelog lint

echo
echo "==================== lint summary ===================="
printf '%s\n' "${results[@]}"
if [ "$failed" -eq 0 ]; then echo "RESULT: PASS"; else echo "RESULT: FAIL"; fi
exit "$failed"
