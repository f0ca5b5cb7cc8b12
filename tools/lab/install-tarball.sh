#!/usr/bin/env bash
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Build the collection tarball from the shipped files and install it offline into
# .cache/installed (a collections path), as a user would: the site_to_site scenario imports the
# roles from there into a playbook of its own, so "import a role into your playbook" is proven
# with the tarball, not the checkout.
#
# Usage: tools/lab/install-tarball.sh
set -euo pipefail
# shellcheck source=tools/lab/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ -x "$VENV/bin/ansible-galaxy" ] || die "$VENV/bin/ansible-galaxy missing: run 'make venv' first"
work=$(mktemp -d "${TMPDIR:-/tmp}/netfleet-tarball.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$ROOT/tools/copy-shipped-files.sh" "$work/src"
# an empty config: the repository's ansible.cfg points at the working tree
: >"$work/ansible.cfg"
export ANSIBLE_CONFIG=$work/ansible.cfg
(cd "$work" && "$VENV/bin/ansible-galaxy" collection build --output-path "$work/dist" "$work/src" >/dev/null)
rm -rf "$ROOT/.cache/installed"
"$VENV/bin/ansible-galaxy" collection install --offline --no-deps --force \
    -p "$ROOT/.cache/installed" "$work"/dist/*.tar.gz 2>&1 | grep -v 'is not part of the configured Ansible collections paths' >&2 || true
[ -d "$ROOT/.cache/installed/ansible_collections/netfleet/wireguard/roles" ] || die "the tarball did not install"
log "installed $(basename "$work"/dist/*.tar.gz) into .cache/installed"
