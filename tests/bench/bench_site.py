#!/usr/bin/env python
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark of playbooks/site.yml on a lab fleet (not a timed test: it prints figures).

Brings a lab fleet (inventories/lab/<fleet>) up from nothing, runs site.yml once (first run) and
then alternates no-change runs of site.yml with a one-task ``ansible.builtin.ping`` play
(tests/bench/ping.yml) on the same fleet, so both sides see the same machine load. Prints tasks
per host (from the play recap) for the first and the no-change run, the wall times and the
ratio (target: no-change site.yml <= 2 x the ping play). The fleet is removed afterwards unless --keep is given.

Needs what `make lab` needs (podman, the lab image, .venv); run it as
    make bench-site [LAB_FLEET=bastion]      or
    CONTAINERS_CONF=.lab/containers.conf .venv/bin/python tests/bench/bench_site.py [--fleet F]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.path.dirname(sys.executable)
RECAP = re.compile(r'^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)', re.M)


def run(args, log):
    """Run an ansible command from the repository; return (wall seconds, output). Fails loudly."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               PATH=BIN + os.pathsep + os.environ.get('PATH', ''))
    start = time.monotonic()
    proc = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    took = time.monotonic() - start
    with open(log, 'a', encoding='utf-8') as handle:
        handle.write('$ %s\n%s%s\n' % (' '.join(args), proc.stdout, proc.stderr))
    if proc.returncode != 0:
        sys.exit('bench_site: %s failed (rc %d), see %s' % (' '.join(args[:3]), proc.returncode, log))
    return took, proc.stdout


def recap(output):
    """{host: (ok, changed, skipped)} from a PLAY RECAP."""
    return {m.group(1): (int(m.group(2)), int(m.group(3)), int(m.group(6))) for m in RECAP.finditer(output)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--fleet', default='bastion', help='directory under inventories/lab (default bastion)')
    parser.add_argument('--rounds', type=int, default=3, help='no-change site.yml / ping pairs (default 3)')
    parser.add_argument('--keep', action='store_true', help='leave the fleet up afterwards')
    args = parser.parse_args()

    if not os.environ.get('CONTAINERS_CONF'):
        sys.exit('bench_site: CONTAINERS_CONF is not set: run through make (make bench) or export it')
    inventory = os.path.join('inventories', 'lab', args.fleet, 'hosts.yml')
    if not os.path.isfile(os.path.join(REPO, inventory)):
        sys.exit('bench_site: no fleet %s' % inventory)
    os.makedirs(os.path.join(REPO, '.cache', 'logs'), exist_ok=True)
    log = os.path.join(REPO, '.cache', 'logs', 'bench-site-%s.log' % args.fleet)
    open(log, 'w', encoding='utf-8').close()
    playbook = os.path.join(BIN, 'ansible-playbook')
    registry = os.path.join(REPO, 'inventories', 'lab', args.fleet, '.wireguard_public_keys.yml')

    print('fleet %s: removing leftovers, containers up' % args.fleet, flush=True)
    run([playbook, '-i', inventory, 'tools/lab/down.yml'], log)
    if os.path.exists(registry):
        os.unlink(registry)
    run([playbook, '-i', inventory, 'tools/lab/up.yml'], log)
    try:
        first_time, first_out = run([playbook, '-i', inventory, 'playbooks/site.yml'], log)
        first = recap(first_out)
        site_times, ping_times, again = [], [], {}
        for dummy in range(args.rounds):
            took, out = run([playbook, '-i', inventory, 'tests/bench/ping.yml'], log)
            ping_times.append(took)
            took, out = run([playbook, '-i', inventory, 'playbooks/site.yml'], log)
            site_times.append(took)
            again = recap(out)
    finally:
        if not args.keep:
            run([playbook, '-i', inventory, 'tools/lab/down.yml'], log)
            if os.path.exists(registry):
                os.unlink(registry)

    print('\n%-12s %28s %28s' % ('host', 'first run ok/changed/skipped', 'no-change ok/changed/skipped'))
    for host in sorted(first):
        print('%-12s %28s %28s' % (host, '%d/%d/%d' % first[host], '%d/%d/%d' % again.get(host, (0, 0, 0))))
    site, ping = statistics.median(site_times), statistics.median(ping_times)
    print('\nfirst site.yml run:            %6.1f s' % first_time)
    print('no-change site.yml (median %d): %6.1f s  %s' % (len(site_times), site, ' '.join('%.1f' % t for t in site_times)))
    print('ping play (median %d):          %6.1f s  %s' % (len(ping_times), ping, ' '.join('%.1f' % t for t in ping_times)))
    print('ratio no-change / ping:        %6.2f x  (target <= 2)' % (site / ping))
    changed = sum(counts[1] for counts in again.values())
    print('changed tasks on the no-change run: %d (must be 0)' % changed)
    print('load average: %s' % ' '.join('%.2f' % x for x in os.getloadavg()))
    return 1 if changed else 0


if __name__ == '__main__':
    sys.exit(main())
