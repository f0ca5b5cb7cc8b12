# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare a render.yml review folder with the files deployed on a lab fleet (secrets removed).

Usage: tools/lab/review_check.py INVENTORY RENDER_DIR
Each <host>/<file> of RENDER_DIR is compared byte for byte with the host's file (read with
`podman exec <ansible_host> cat`), after dropping the PrivateKey/PresharedKey lines that
wireguard_apply inserts on the host. Exit 1 when any file differs or is missing.
"""
from __future__ import annotations

import os
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# the collection through the link `make venv` creates: the secret lines are wireguard_apply's own rule
sys.path.insert(0, os.path.join(ROOT, '.cache', 'collections'))
# pylint: disable-next=wrong-import-position
from ansible_collections.netfleet.wireguard.plugins.module_utils._wghost import SECRET_LINE  # noqa: E402


def containers(inventory):
    """inventory hostname -> container name (ansible_host), for every host of the file."""
    out = {}

    def walk(group):
        for name, hv in ((group or {}).get('hosts') or {}).items():
            out[name] = (hv or {}).get('ansible_host', name)
        for child in ((group or {}).get('children') or {}).values():
            walk(child)
    with open(inventory, encoding='utf-8') as handle:
        for group in (yaml.safe_load(handle) or {}).values():
            walk(group)
    return out


def differences(render_dir, read, hosts=None):
    """(files compared, problems): each review copy against ``read(host, path)`` (the deployed text, None
    when missing) without its secret lines. Also used by the Molecule scenarios (molecule/_shared/tests)."""
    problems, count = [], 0
    for host in hosts or sorted(h for h in os.listdir(render_dir)
                                if not h.startswith('.') and os.path.isdir(os.path.join(render_dir, h))):
        names = sorted(os.listdir(os.path.join(render_dir, host)))
        if not any(name.endswith('.conf') and not name.startswith('90-netfleet') for name in names):
            problems.append('%s: no wg-quick file rendered' % host)
        for name in names:
            where = '/etc/sysctl.d/' if name.startswith('90-netfleet') else '/etc/wireguard/'
            with open(os.path.join(render_dir, host, name), encoding='utf-8') as handle:
                review = handle.read()
            deployed = read(host, where + name)
            count += 1
            if deployed is None:
                problems.append('%s: %s%s missing on the host' % (host, where, name))
            elif SECRET_LINE.sub('', deployed) != review:
                problems.append('%s: %s%s differs from its review copy' % (host, where, name))
    return count, problems


def main():
    inventory, render_dir = sys.argv[1:3]
    names = containers(inventory)

    def read(host, path):
        proc = subprocess.run(['podman', 'exec', names[host], 'cat', path], capture_output=True, text=True,
                              timeout=60, check=False)
        return proc.stdout if proc.returncode == 0 else None
    count, problems = differences(render_dir, read)
    print('review copies equal to the deployed files: %d/%d' % (count - len(problems), count))
    for line in problems:
        print('  ' + line)
    return 1 if problems or not count else 0


if __name__ == '__main__':
    sys.exit(main())
