#!/usr/bin/env bash
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Resolve requirements.in into the lock file requirements.txt (every package pinned), in a
# throw-away virtualenv so the result does not depend on what .venv holds.
#
# Usage: tools/lab/lock.sh        Environment: PYTHON (default python3)
set -euo pipefail
# shellcheck source=tools/lab/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PYTHON=${PYTHON:-python3}
need_cmd "$PYTHON"
[ -f "$ROOT/requirements.in" ] || die "requirements.in missing"

tmp=$(mktemp -d /tmp/netfleet-lock.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
log "resolving requirements.in in a scratch venv (a few minutes)"
"$PYTHON" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$ROOT/requirements.in"
pyver=$("$tmp/venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
{
    echo "# Generated from requirements.in by 'make lock' on Python $pyver. Do not edit by hand."
    "$tmp/venv/bin/python" -m pip freeze --disable-pip-version-check --exclude-editable | LC_ALL=C sort -f
} >"$tmp/requirements.txt"
if cmp -s "$tmp/requirements.txt" "$ROOT/requirements.txt"; then
    log "requirements.txt unchanged"
else
    mv "$tmp/requirements.txt" "$ROOT/requirements.txt"
    log "requirements.txt updated ($(grep -vc '^#' "$ROOT/requirements.txt") packages)"
fi
