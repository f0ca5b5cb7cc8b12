#!/usr/bin/env bash
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Run `ansible-test sanity` against this collection without network access to anything but PyPI.
#
# ansible-test only works inside a directory laid out as ansible_collections/<namespace>/<name> and
# resolves symlinks, so the files git would ship (tracked + untracked-not-ignored) are copied into a
# temporary tree of that shape and the tests run there with the repository's .venv.
#
# ansible-test creates one virtualenv per sanity test under ~/.ansible/test/venv (cached between runs)
# and seeds each with pip by running a "get-pip" script that it normally downloads from
# ci-files.testing.ansible.com (not reachable from every network). It first looks for that script in
# ~/.ansible/test/cache/get_pip_<version>.py, the documented place for a manually provided copy. This
# script provides one: a small stand-in that installs the pip wheel of the exact version ansible-test
# asks for, fetched once from the package index with the .venv's pip. Everything else (the pinned
# sanity requirements) comes from the package index through pip as usual.
#
# Usage: tools/sanity.sh [ansible-test sanity options...]
#   tools/sanity.sh                      # every sanity test, every Python version found on PATH
#   tools/sanity.sh --test pep8          # one test
#   tools/sanity.sh --python 3.11        # one target Python
# Environment: VENV (default <repo>/.venv), KEEP_SANITY_TREE=1 keeps the temporary tree.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
PY=$VENV/bin/python
ANSIBLE_TEST=$VENV/bin/ansible-test

die() { printf 'sanity: %s\n' "$*" >&2; exit 2; }

[ -x "$ANSIBLE_TEST" ] || die "$ANSIBLE_TEST not found: run 'make venv' first"
command -v git >/dev/null || die "git is required"

start=$(date +%s)

# Namespace and name come from galaxy.yml so the script stays generic.
read -r NAMESPACE NAME < <("$PY" - "$ROOT/galaxy.yml" <<'PYEOF'
import sys
import yaml
with open(sys.argv[1], encoding='utf-8') as f:
    meta = yaml.safe_load(f)
print(meta['namespace'], meta['name'])
PYEOF
)

# --- pip bootstrap stand-in ------------------------------------------------------------------------
PIP_VERSION=$(cd / && "$PY" -c '
from ansible_test._internal.host_configs import NativePythonConfig
from ansible_test._internal.python_requirements import get_venv_packages
import sys
print(get_venv_packages(NativePythonConfig(version="%d.%d" % sys.version_info[:2], path=sys.executable))["pip"])')
AT_CACHE=$HOME/.ansible/test/cache
GET_PIP=$AT_CACHE/get_pip_${PIP_VERSION//./_}.py
PIP_WHEEL=$AT_CACHE/pip-$PIP_VERSION-py3-none-any.whl
if [ ! -s "$GET_PIP" ]; then
    mkdir -p "$AT_CACHE"
    if [ ! -s "$PIP_WHEEL" ]; then
        echo "sanity: fetching pip $PIP_VERSION wheel for ansible-test's virtualenv bootstrap"
        tmpwheel=$(mktemp -d)
        "$VENV/bin/pip" download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
            --dest "$tmpwheel" "pip==$PIP_VERSION"
        mv "$tmpwheel/pip-$PIP_VERSION-py3-none-any.whl" "$PIP_WHEEL"
        rm -rf "$tmpwheel"
    fi
    cat > "$GET_PIP.tmp" <<PYEOF
"""Offline stand-in for get-pip.py $PIP_VERSION, written by netfleet.wireguard tools/sanity.sh.

ansible-test runs this as a script with pip options and requirement specifiers, in a virtualenv
created without pip. Like get-pip.py it runs pip from its wheel to install the requested packages;
the --no-setuptools/--no-wheel flags are get-pip.py's own and mean "do not add them", which is
already the case here. The wheel is installed from the local file, so no download is needed.
"""
import os
import sys

WHEEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'pip-$PIP_VERSION-py3-none-any.whl')


def main():
    args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
    sys.path.insert(0, WHEEL)
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel
    return pip_main(['install', '--upgrade', '--force-reinstall', '--no-index',
                     '--find-links', os.path.dirname(WHEEL)] + args)


if __name__ == '__main__':
    sys.exit(main())
PYEOF
    mv "$GET_PIP.tmp" "$GET_PIP"
fi

# --- interpreters ---------------------------------------------------------------------------------
# ansible-test looks for pythonX.Y on PATH and runs its tests with a scrubbed environment. pyenv
# shims fail unless a version is selected through variables ansible-test drops, so when pyenv is
# installed, link each installed CPython 3 interpreter into a directory put first on PATH.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sanity.XXXXXX")
if [ "${KEEP_SANITY_TREE:-0}" = 1 ]; then
    trap 'echo "sanity: tree kept in $WORK"' EXIT
else
    trap 'rm -rf "$WORK"' EXIT
fi
if command -v pyenv >/dev/null 2>&1; then
    mkdir -p "$WORK/bin"
    pyenv_root=$(pyenv root)
    for v in $(pyenv versions --bare --skip-aliases 2>/dev/null | grep -E '^3\.[0-9]+\.[0-9]+$' || true); do
        exe=$pyenv_root/versions/$v/bin/python${v%.*}
        if [ -x "$exe" ]; then ln -sf "$exe" "$WORK/bin/python${v%.*}"; fi
    done
    PATH=$WORK/bin:$PATH
fi

# --- collection tree ------------------------------------------------------------------------------
DEST=$WORK/ansible_collections/$NAMESPACE/$NAME
mkdir -p "$DEST"
"$ROOT/tools/copy-shipped-files.sh" "$DEST"
echo "sanity: $(find "$DEST" -type f | wc -l) files copied to $DEST"

# --- run ------------------------------------------------------------------------------------------
LOG=$WORK/sanity.log
set +e
(cd "$DEST" && "$ANSIBLE_TEST" sanity --color "$(if [ -t 1 ]; then echo yes; else echo no; fi)" "$@") 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e

# Keep the results (JSON/JUnit bot output) next to the repository for inspection, git-ignored.
if [ -d "$DEST/tests/output" ]; then
    mkdir -p "$ROOT/tests/output"
    rm -rf "$ROOT/tests/output/sanity"
    cp -r "$DEST/tests/output" "$ROOT/tests/output/sanity"
fi

ran=$(grep -cE '^Running sanity test' "$LOG" || true)
skipped=$(grep -E 'Skipping sanity test' "$LOG" | sed 's/^WARNING: //' | awk '!seen[$0]++' || true)
echo
echo "==================== sanity summary ===================="
echo "sanity tests run: $ran   wall time: $(( $(date +%s) - start ))s"
if [ -n "$skipped" ]; then
    echo "skipped by ansible-test:"
    printf '%s\n' "$skipped" | sed 's/^/  /'
fi
if [ "$rc" -eq 0 ]; then
    echo "RESULT: PASS"
else
    grep -E '^(ERROR|FATAL): The [0-9]+ sanity test' "$LOG" | sed 's/^/  /' || true
    grep -A100 -E '^(ERROR|FATAL): The [0-9]+ sanity test' "$LOG" | grep -E '^[a-z0-9-]+( --python [0-9.]+)?$' | sed 's/^/  failed: /' || true
    echo "  problems:"
    grep -E '^ERROR: [^ ]+:[0-9]+:[0-9]+: ' "$LOG" | sed 's/^ERROR: /    /' || true
    echo "RESULT: FAIL (ansible-test exit code $rc); details above and in tests/output/sanity/"
fi
exit "$rc"
