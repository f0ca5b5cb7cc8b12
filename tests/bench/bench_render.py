#!/usr/bin/env python
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark of playbooks/render.yml on generated inventories (not a timed test).

Prints, for an N-host mesh (N = 100, 200), the wall time of render.yml next to a one-task
``ansible.builtin.ping`` play on the same inventory (``ansible_connection: local``), and the
render time of a 1,000-host mesh and of a 10,000-client full-tunnel hub, plus the time of the
pure engine for the large cases. Targets: render <= 1.5 x ping; large renders < 30 s.

Times are wall seconds; "cpu" is user+sys CPU of ansible-playbook and its workers, which does not
grow with the load other jobs put on the machine. Large inventories are generated in INI format:
ansible-core's YAML inventory parser spends several times longer on 10,000 hosts.

Usage (from the repository root):
    .venv/bin/python tests/bench/bench_render.py [--quick] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import resource
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.path.dirname(sys.executable)


def mesh_inventory(path, n):
    """n hosts, all reachable, each with a /24 LAN: every host has n-1 peers."""
    lines = ['all:', '  children:', '    wireguard:', '      vars:', '        wireguard_topology: mesh',
             '        ansible_connection: local', '        ansible_python_interpreter: %s' % sys.executable,
             '      hosts:']
    for i in range(n):
        j = i + 1
        fields = (i, j // 256, j % 256, j // 256, j % 256, 16 + i // 256, i % 256)
        lines.append('        m%05d: {wireguard_address: 10.64.%d.%d/16, wireguard_endpoint: "198.18.%d.%d",'
                     ' wireguard_lan_subnets: [172.%d.%d.0/24]}' % fields)
    _write(path, lines)


def mesh_inventory_ini(path, n):
    """Same network as mesh_inventory, INI format (ansible-core's YAML inventory parser is slow
    for thousands of hosts; the INI one is several times faster)."""
    lines = ['[wireguard:vars]', 'wireguard_topology=mesh', 'ansible_connection=local',
             'ansible_python_interpreter=%s' % sys.executable, '', '[wireguard]']
    for i in range(n):
        j = i + 1
        fields = (i, j // 256, j % 256, j // 256, j % 256, 16 + i // 256, i % 256)
        lines.append("m%05d wireguard_address=10.64.%d.%d/16 wireguard_endpoint=198.18.%d.%d"
                     " wireguard_lan_subnets=\"['172.%d.%d.0/24']\"" % fields)
    _write(path, lines, 'hosts')


def hub_inventory_ini(path, n):
    """Same network as hub_inventory, INI format."""
    lines = ['[wireguard:vars]', 'wireguard_topology=full_tunnel', 'wireguard_hub=vps', 'ansible_connection=local',
             'ansible_python_interpreter=%s' % sys.executable, '', '[wireguard]',
             "vps wireguard_address=\"['10.128.0.1/14', 'fd10::1/64']\" wireguard_endpoint=203.0.113.1"
             " wireguard_egress_interface=eth0"]
    for i in range(n):
        j = i + 2
        lines.append("c%05d wireguard_address=\"['10.128.%d.%d/14', 'fd10::%x/64']\"" % (i, j // 256, j % 256, j))
    _write(path, lines, 'hosts')


def hub_inventory(path, n):
    """One VPS and n full-tunnel clients without endpoint (dual stack)."""
    lines = ['all:', '  children:', '    wireguard:', '      vars:', '        wireguard_topology: full_tunnel',
             '        wireguard_hub: vps', '        ansible_connection: local',
             '        ansible_python_interpreter: %s' % sys.executable, '      hosts:',
             '        vps: {wireguard_address: [10.128.0.1/14, "fd10::1/64"], wireguard_endpoint: 203.0.113.1,'
             ' wireguard_egress_interface: eth0}']
    for i in range(n):
        j = i + 2
        lines.append('        c%05d: {wireguard_address: [10.128.%d.%d/14, "fd10::%x/64"]}' % (i, j // 256, j % 256, j))
    _write(path, lines)


def _write(path, lines, filename='hosts.yml'):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, filename), 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(lines) + '\n')


def run(cmd, **extra_env):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, 'ansible.cfg'), ANSIBLE_NOCOLOR='1', **extra_env)
    start = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit('command failed: %s' % ' '.join(cmd))
    return elapsed, cpu, proc.stdout


def render(inv, out):
    """Wall and CPU time of render.yml and the action's own breakdown (read_vars / plan / render)."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [os.path.join(BIN, 'ansible-playbook'), '-i', inv, os.path.join(REPO, 'playbooks', 'render.yml'),
           '-e', 'wireguard_render_dir=%s' % out]
    elapsed, cpu, stdout = run(cmd, ANSIBLE_STDOUT_CALLBACK='json')
    timing = {}
    try:
        for task in json.loads(stdout)['plays'][0]['tasks']:
            for result in task['hosts'].values():
                timing = result.get('timing', timing)
    except (ValueError, KeyError, IndexError):
        pass
    return elapsed, cpu, timing


def ping(inv, workdir):
    playbook = os.path.join(workdir, 'ping.yml')
    with open(playbook, 'w', encoding='utf-8') as handle:
        handle.write('- name: Ping\n  hosts: wireguard\n  gather_facts: false\n  tasks:\n'
                     '    - name: Ping\n      ansible.builtin.ping:\n')
    return run([os.path.join(BIN, 'ansible-playbook'), '-i', inv, playbook])[:2]


def engine_time(kind, n):
    sys.path.insert(0, os.path.join(REPO, '.cache', 'collections'))
    from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import build_plan
    hv = {}
    if kind == 'mesh':
        for i in range(n):
            j = i + 1
            hv['m%05d' % i] = {'wireguard_topology': 'mesh', 'wireguard_address': '10.64.%d.%d/16' % (j // 256, j % 256),
                               'wireguard_endpoint': '198.18.%d.%d' % (j // 256, j % 256),
                               'wireguard_lan_subnets': ['172.%d.%d.0/24' % (16 + i // 256, i % 256)]}
    else:
        hv['vps'] = {'wireguard_topology': 'full_tunnel', 'wireguard_hub': 'vps',
                     'wireguard_address': ['10.128.0.1/14', 'fd10::1/64'], 'wireguard_endpoint': '203.0.113.1'}
        for i in range(n):
            j = i + 2
            hv['c%05d' % i] = {'wireguard_topology': 'full_tunnel', 'wireguard_hub': 'vps',
                               'wireguard_address': ['10.128.%d.%d/14' % (j // 256, j % 256), 'fd10::%x/64' % j]}
    start, cpu_start = time.monotonic(), time.process_time()
    plan = build_plan(hv)
    elapsed, cpu = time.monotonic() - start, time.process_time() - cpu_start
    return elapsed, cpu, sum(len(e['peers']) for e in plan.values())


def _fmt(timing):
    if not timing:
        return '-'
    return '/'.join('%.2f' % timing.get(k, 0) for k in ('read_vars', 'plan', 'render'))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--quick', action='store_true', help='only the N=100/200 comparison')
    parser.add_argument('--keep', help='keep generated inventories and renders in this folder')
    args = parser.parse_args()
    work = args.keep or tempfile.mkdtemp(prefix='wg-bench-')
    os.makedirs(work, exist_ok=True)
    rows = []
    try:
        print('load average at start: %.1f %.1f %.1f (2 cores; other jobs inflate wall times)' % os.getloadavg())
        head = '%-26s %8s %8s %8s %8s %7s %7s  %-24s %s'
        print(head % ('case', 'render', 'cpu', 'ping', 'cpu', 'ratio', 'cpu', 'target', 'action read/plan/render'))
        for n in (100, 200):
            inv = os.path.join(work, 'mesh%d' % n)
            mesh_inventory(inv, n)
            r, rc, timing = render(inv, os.path.join(work, 'out-mesh%d' % n))
            p, pc = ping(inv, work)
            ok = r <= 1.5 * p
            rows.append(ok)
            print(head % ('mesh %d hosts (yaml)' % n, '%.2f' % r, '%.2f' % rc, '%.2f' % p, '%.2f' % pc,
                          '%.2f' % (r / p), '%.2f' % (rc / pc), '<= 1.5 x ping: %s' % ('ok' if ok else 'MISSED'),
                          _fmt(timing)))
        if not args.quick:
            for kind, n, label in (('mesh', 1000, 'mesh 1000 hosts (ini)'), ('hub', 10000, 'hub+10000 clients (ini)')):
                inv = os.path.join(work, '%s%d' % (kind, n))
                (mesh_inventory_ini if kind == 'mesh' else hub_inventory_ini)(inv, n)
                r, rc, timing = render(inv, os.path.join(work, 'out-%s%d' % (kind, n)))
                ok = r < 30
                rows.append(ok)
                print(head % (label, '%.2f' % r, '%.2f' % rc, '-', '-', '-', '-',
                              '< 30 s: %s' % ('ok' if ok else 'MISSED'), _fmt(timing)))
            for kind, n, label in (('mesh', 1000, 'engine only, mesh 1000'), ('hub', 10000, 'engine only, hub 10000')):
                elapsed, cpu, entries = engine_time(kind, n)
                print('%-26s %8.2f %8.2f  %d peer entries' % (label, elapsed, cpu, entries))
        print('load average at end: %.1f %.1f %.1f' % os.getloadavg())
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print('targets met: %d/%d' % (sum(rows), len(rows)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
