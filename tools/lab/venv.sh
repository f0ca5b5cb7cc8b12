#!/usr/bin/env bash
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Create .venv from the lock file requirements.txt; rebuilt only when the lock (or the Python
# version) changes. Also creates .cache/collections/ansible_collections/netfleet/wireguard, a
# relative link to the checkout, so ansible.cfg / Molecule resolve netfleet.wireguard.* to the
# working tree.
#
# Usage: tools/lab/venv.sh        Environment: PYTHON (default python3), VENV (default .venv)
set -euo pipefail
# shellcheck source=tools/lab/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PYTHON=${PYTHON:-python3}
LOCK=$ROOT/requirements.txt
STAMP=$VENV/.netfleet-lock.sha256
need_cmd "$PYTHON"
[ -f "$LOCK" ] || die "$LOCK missing"

want="$(sha256sum "$LOCK" | cut -d' ' -f1) $("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    log "$VENV matches requirements.txt (cached)"
else
    if [ -x "$VENV/bin/python" ] && [ "$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" = "${want#* }" ]; then
        log "updating $VENV from requirements.txt"
    else
        log "creating $VENV with $("$PYTHON" --version 2>&1)"
        rm -rf "$VENV"
        "$PYTHON" -m venv "$VENV" || die "'$PYTHON -m venv' failed (Debian: install python3-venv, e.g. 'make host-deps')"
    fi
    rm -f "$STAMP"
    # (some machines' pip.conf names local find-links that may not exist: drop that noise)
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$LOCK" \
        2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
    echo "$want" >"$STAMP"
    log "$VENV ready"
fi

# netfleet.wireguard -> this checkout (relative: the clone may move).
link_dir=$ROOT/.cache/collections/ansible_collections/netfleet
mkdir -p "$link_dir"
if [ "$(readlink "$link_dir/wireguard" 2>/dev/null)" != "../../../.." ]; then
    rm -rf "$link_dir/wireguard"
    ln -s ../../../.. "$link_dir/wireguard"
    log "linked $link_dir/wireguard -> checkout"
fi
