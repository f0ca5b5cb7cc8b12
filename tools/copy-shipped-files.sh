#!/usr/bin/env bash
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Copy the files the collection ships (what git tracks, plus untracked files it does not ignore,
# as they are in the working tree; deleted-but-tracked files are skipped) into DEST.
# The one definition of "the collection's files" for the sanity run and the build check: a model of
# a clone as a user or a release would have it. It deliberately keeps tests/, tools/ and everything
# else git knows about (ansible-test sanity needs them); what the tarball leaves out is decided by
# galaxy.yml build_ignore alone, because that is all `ansible-galaxy collection build` reads in a clone.
#
# Usage: tools/copy-shipped-files.sh DEST
set -euo pipefail

[ "$#" -eq 1 ] || { echo "usage: $0 DEST" >&2; exit 2; }
DEST=$1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$DEST"
(
    cd "$ROOT"
    git ls-files -z -co --exclude-standard --deduplicate |
        while IFS= read -r -d '' f; do
            if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
        done |
        tar --null --no-recursion -T - -cf -
) | tar -C "$DEST" -xf -
