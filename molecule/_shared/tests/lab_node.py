# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by the topology scenarios' tests: named containers and retried network checks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import testinfra

# A fresh tunnel may need a handshake (or a rekey) before the first packet passes:
# checks retry for this long instead of sleeping a fixed time.
RETRY_SECONDS = 12


class Node:
    """One container of the scenario, reached with `podman exec`."""

    def __init__(self, name):
        self.name = name
        self.host = testinfra.get_host('podman://' + name)

    def run(self, command, *args):
        return self.host.run(command, *args)

    def out(self, command, *args):
        return self.host.check_output(command, *args)

    def retry(self, command, *args, ok=lambda res: res.rc == 0, seconds=RETRY_SECONDS):
        """Run command until ok(result) or `seconds` (default RETRY_SECONDS) pass; return the last result."""
        deadline = time.monotonic() + seconds
        while True:
            res = self.run(command, *args)
            if ok(res) or time.monotonic() > deadline:
                return res
            time.sleep(0.5)

    def ping(self, address, family=None, seconds=RETRY_SECONDS):
        """True when address answers one ping within the retry window (family 4/6: `ping -4`/`ping -6`)."""
        flag = '-%d ' % family if family else ''
        return self.retry('ping ' + flag + '-n -c 1 -W 1 %s', address, seconds=seconds).rc == 0

    def whoami(self, address, port=8080, seconds=RETRY_SECONDS):
        """Source address the "who am I" service at address:port saw for us ('' if unreachable)."""
        res = self.retry('nc -n -w 3 %s %s </dev/null', address, str(port),
                         ok=lambda r: r.rc == 0 and r.stdout.strip() != '', seconds=seconds)
        return res.stdout.strip()

    def route_dev(self, address, family='-4'):
        """Output interface of the route to address ('' when there is none)."""
        res = self.run('ip %s -o route get %s', family, address)
        if res.rc != 0:
            return ''
        words = res.stdout.split()
        return words[words.index('dev') + 1] if 'dev' in words else ''

    def wg(self, field):
        """`wg show wg0 FIELD` as {public key: [values]}."""
        table = {}
        for line in self.out('wg show wg0 %s', field).splitlines():
            key, *values = line.split()
            table[key] = values
        return table

    def public_key(self):
        return self.out('wg show wg0 public-key').strip()


@pytest.fixture(scope='session')
def node():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = Node(name)
        return cache[name]
    return get


# ------------------------------------------------------------------ review copy == deployed file

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / 'tools' / 'lab'))
# pylint: disable-next=wrong-import-position
import review_check  # noqa: E402  (the comparison make lab runs, one implementation)


def molecule_inventory():
    path = os.environ.get('MOLECULE_INVENTORY_FILE')
    if not path:
        path = os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'inventory', 'ansible_inventory.yml')
    return path


def playbook(name, *extra_vars, options=(), timeout=600):
    """Run playbooks/<name> against the scenario's hosts with `-e` for each of extra_vars and then the
    command-line options (e.g. `--limit`, `-vvv`), without colour; the process result."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / '.cache' / 'collections'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_FORCE_COLOR='0')
    env.pop('ANSIBLE_CONFIG', None)
    argv = ['ansible-playbook', '-i', molecule_inventory(), str(REPO / 'playbooks' / name)]
    for item in extra_vars:
        argv += ['-e', item]
    return subprocess.run(argv + list(options), cwd=str(REPO), env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def ping_gaps(log, minimum):
    """(pings sent, pings lost) of a `ping -n` log with more than `minimum` answers: a loss is a gap in
    the icmp_seq numbers answered, never a late answer; the ping in flight when it was stopped is not
    one (the count ends at the last answer)."""
    answered = {int(seq) for seq in re.findall(r'bytes from .* icmp_seq=(\d+) ', log)}
    assert len(answered) > minimum, log[-500:]
    return max(answered), max(answered) - len(answered)


def render_with_host_facts(out):
    """playbooks/render.yml -e wireguard_render_host_facts=true against the scenario's hosts."""
    proc = playbook('render.yml', 'wireguard_render_dir=%s' % out, 'wireguard_render_host_facts=true')
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return out


def review_differences(node, hosts, out):
    """Every rendered file of each host against the file on the host (secrets removed): [] when equal."""
    def read(host, path):
        handle = node(host).host.file(path)
        return handle.content_string if handle.exists else None
    count, problems = review_check.differences(str(out), read, hosts)
    assert count >= len(hosts), count
    return problems
