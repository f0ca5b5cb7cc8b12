#!/usr/bin/env python
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark of playbooks/site.yml on a lab fleet (not a timed test: it prints figures).

Brings a lab fleet (inventories/lab/<fleet>) up from nothing, runs site.yml once (first run) and
then alternates no-change runs of site.yml with a one-task ``ansible.builtin.ping`` play
(tests/bench/ping.yml) on the same fleet, so both sides see the same machine load. Prints tasks
per host (from the play recap) for the first and the no-change run, the wall times and the
ratio (target: no-change site.yml <= 2 x the ping play). The fleet is removed afterwards unless --keep is given.

CPU is the user+sys time of the controller's process tree (ansible-playbook, its forks and the
``podman exec``/``podman cp`` clients they start), taken from getrusage(RUSAGE_CHILDREN) around
each run; the modules' own work inside the containers is not part of it.

Needs what `make lab` needs (podman, the lab image, .venv); run it as
    make bench-site [LAB_FLEET=bastion]      or
    CONTAINERS_CONF=.lab/containers.conf .venv/bin/python tests/bench/bench_site.py [--fleet F]
tests/bench/bench_fleet.py (make bench-fleet) uses the same measurement on generated fleets.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.path.dirname(sys.executable)
PLAYBOOK = os.path.join(BIN, 'ansible-playbook')
RECAP = re.compile(r'^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)', re.M)


def run(args, log, **env_extra):
    """Run an ansible command from the repository; return (wall s, controller CPU s, stdout). Fails loudly.

    CPU: user+sys of the finished child process tree (getrusage RUSAGE_CHILDREN before and after)."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               PATH=BIN + os.pathsep + os.environ.get('PATH', ''), **env_extra)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    took = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with open(log, 'a', encoding='utf-8') as handle:
        handle.write('$ %s\n%s%s\n# wall %.2f s, controller cpu %.2f s\n' % (' '.join(args), proc.stdout, proc.stderr, took, cpu))
    if proc.returncode != 0:
        sys.exit('bench: %s failed (rc %d), see %s' % (' '.join(args[:3]), proc.returncode, log))
    return took, cpu, proc.stdout


def recap(output):
    """{host: (ok, changed, skipped)} from a PLAY RECAP."""
    return {m.group(1): (int(m.group(2)), int(m.group(3)), int(m.group(6))) for m in RECAP.finditer(output)}


def lab_down(inventory, log):
    """Remove the fleet's containers and networks (tools/lab/down.yml) and its key registry."""
    run([PLAYBOOK, '-i', inventory, 'tools/lab/down.yml'], log)
    registry = os.path.join(REPO, os.path.dirname(inventory), '.wireguard_public_keys.yml')
    if os.path.exists(registry):
        os.unlink(registry)


def lab_up(inventory, log):
    """Remove leftovers, then bring the fleet's containers up (tools/lab/up.yml); return the wall time."""
    lab_down(inventory, log)
    return run([PLAYBOOK, '-i', inventory, 'tools/lab/up.yml'], log)[0]


def measure(inventory, log, rounds, extra=()):
    """First site.yml run, then `rounds` pairs of ping play / no-change site.yml on a fleet that is up.

    Returns {'first': (wall, cpu), 'first_recap', 'site': [(wall, cpu)], 'ping': [(wall, cpu)], 'again_recap'}.
    `extra` (e.g. ['--forks', '8']) is given to every run."""
    site_cmd = [PLAYBOOK, '-i', inventory, 'playbooks/site.yml'] + list(extra)
    ping_cmd = [PLAYBOOK, '-i', inventory, 'tests/bench/ping.yml'] + list(extra)
    wall, cpu, out = run(site_cmd, log)
    result = {'first': (wall, cpu), 'first_recap': recap(out), 'site': [], 'ping': [], 'again_recap': {}}
    for dummy in range(rounds):
        result['ping'].append(run(ping_cmd, log)[:2])
        wall, cpu, out = run(site_cmd, log)
        result['site'].append((wall, cpu))
        result['again_recap'] = recap(out)
    return result


def median(pairs, index):
    """Median of one column (0: wall, 1: cpu) of [(wall, cpu)]."""
    return statistics.median(pair[index] for pair in pairs)


def changed_on_rerun(result):
    """Changed tasks summed over the hosts of the last no-change run (must be 0)."""
    return sum(counts[1] for counts in result['again_recap'].values())


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

    print('fleet %s: removing leftovers, containers up' % args.fleet, flush=True)
    lab_up(inventory, log)
    try:
        result = measure(inventory, log, args.rounds)
    finally:
        if not args.keep:
            lab_down(inventory, log)

    first, again = result['first_recap'], result['again_recap']
    print('\n%-12s %28s %28s' % ('host', 'first run ok/changed/skipped', 'no-change ok/changed/skipped'))
    for host in sorted(first):
        print('%-12s %28s %28s' % (host, '%d/%d/%d' % first[host], '%d/%d/%d' % again.get(host, (0, 0, 0))))
    site, ping = median(result['site'], 0), median(result['ping'], 0)
    print('\n%-30s %6.1f s  (cpu %.1f s)' % (('first site.yml run:',) + result['first']))
    for label, runs in (('no-change site.yml', result['site']), ('ping play', result['ping'])):
        times = ' '.join('%.1f' % pair[0] for pair in runs)
        print('%-30s %6.1f s  %s  (cpu %.1f s)' % ('%s (median %d):' % (label, len(runs)), median(runs, 0), times,
                                                   median(runs, 1)))
    print('ratio no-change / ping:        %6.2f x  (target <= 2)' % (site / ping))
    changed = changed_on_rerun(result)
    print('changed tasks on the no-change run: %d (must be 0)' % changed)
    print('load average: %s' % ' '.join('%.2f' % x for x in os.getloadavg()))
    return 1 if changed else 0


if __name__ == '__main__':
    sys.exit(main())
