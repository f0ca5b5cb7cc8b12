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
import re
import subprocess
import sys

import yaml

SECRET_LINE = re.compile(r'^(PrivateKey|PresharedKey) = .*\n', re.M)


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


def main():
    inventory, render_dir = sys.argv[1:3]
    names = containers(inventory)
    problems, count = [], 0
    for host in sorted(os.listdir(render_dir)):
        if host.startswith('.'):
            continue
        for name in sorted(os.listdir(os.path.join(render_dir, host))):
            where = '/etc/sysctl.d/' if name.startswith('90-netfleet') else '/etc/wireguard/'
            with open(os.path.join(render_dir, host, name), encoding='utf-8') as handle:
                review = handle.read()
            proc = subprocess.run(['podman', 'exec', names[host], 'cat', where + name], capture_output=True, text=True,
                                  timeout=60, check=False)
            count += 1
            if proc.returncode != 0:
                problems.append('%s: %s%s missing on the host' % (host, where, name))
            elif SECRET_LINE.sub('', proc.stdout) != review:
                problems.append('%s: %s%s differs from its review copy' % (host, where, name))
    print('review copies equal to the deployed files: %d/%d' % (count - len(problems), count))
    for line in problems:
        print('  ' + line)
    return 1 if problems or not count else 0


if __name__ == '__main__':
    sys.exit(main())
