# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rehearse a real inventory in a container lab that mirrors it (`make rehearse INVENTORY=path`).

1. plan.yml computes the plan from the inventory on the controller (no host contacted);
2. mirror.py lays out the lab and writes its inventory, checked with ansible-inventory: every host
   is a ``rehearse-*`` container reached over the podman connection;
3. tools/lab/up.yml brings the containers up, playbooks/site.yml deploys the lab copy;
4. every host pings every tunnel address and LAN; reachability.py says which the plan intends, and
   every pair that differs is diagnosed (wireguard_status_info of the peers on the way, ip route get);
5. the lab is removed (not with --keep). The key registry and logs live in a temporary folder.

Exit status: 0 when every pair behaves as the plan intends, 1 when one does not or site.yml failed,
2 when the inventory cannot be rehearsed.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [HERE, os.path.join(ROOT, '.cache', 'collections')]
# pylint: disable=wrong-import-position
import matrix        # noqa: E402
import mirror        # noqa: E402
import reachability  # noqa: E402

_SPEC = importlib.util.spec_from_file_location('lab_report', os.path.join(ROOT, 'tools', 'lab', 'report.py'))
report = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(report)

VENV_BIN = os.path.join(os.environ.get('VENV', os.path.join(ROOT, '.venv')), 'bin')


def say(text):
    print('[rehearse] %s' % text, flush=True)


def playbook(work, log, *args):
    """ansible-playbook with the repository's ansible.cfg; output to ``work/log``; True when it passed."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_FORCE_COLOR='0')
    with open(os.path.join(work, log), 'w', encoding='utf-8') as out:
        rc = subprocess.run([os.path.join(VENV_BIN, 'ansible-playbook'), *args], stdout=out, stderr=subprocess.STDOUT,
                            env=env, cwd=ROOT, check=False).returncode
    return rc == 0


def tail(work, log, lines=30):
    with open(os.path.join(work, log), encoding='utf-8') as handle:
        return ''.join(handle.readlines()[-lines:])


def existing_rehearsal():
    """Names of containers and networks an earlier rehearsal left (KEEP=1)."""
    label = 'label=netfleet.wireguard.lab=%s' % mirror.LABEL
    names = []
    for cmd in (['podman', 'ps', '--all', '--filter', label, '--format', '{{.Names}}'],
                ['podman', 'network', 'ls', '--filter', label, '--format', '{{.Name}}']):
        rc, out = report.run(cmd)
        names += out.split() if rc == 0 else []
    return names


def build_lab(work, inventory):
    """Plan, lab layout and the checked lab inventory; ValueError when it cannot be rehearsed."""
    say('computing the plan of %s on the controller (log: %s/plan.log)' % (inventory, work))
    if not playbook(work, 'plan.log', '-i', os.path.abspath(inventory), os.path.join(HERE, 'plan.yml'), '-e',
                    'rehearse_out=%s/plan.json' % work, '-e', 'rehearse_registry=%s/keys.yml' % work):
        raise ValueError('the plan of %s could not be computed:\n%s' % (inventory, tail(work, 'plan.log')))
    with open(os.path.join(work, 'plan.json'), encoding='utf-8') as handle:
        computed = json.load(handle)
    lab = mirror.design(computed['plan'], computed['variables'])
    path = os.path.join(work, 'lab.yml')
    with open(path, 'w', encoding='utf-8') as handle:
        yaml.safe_dump(mirror.lab_inventory(lab, computed['variables']), handle, sort_keys=False)
    listing = subprocess.run([os.path.join(VENV_BIN, 'ansible-inventory'), '-i', path, '--list'], capture_output=True,
                             text=True, check=True, cwd=ROOT)
    problems = mirror.listing_problems(json.loads(listing.stdout), lab)
    if problems:
        raise ValueError('the lab inventory would reach outside the lab:\n' + '\n'.join(problems))
    with open(os.path.join(work, 'lab.json'), 'w', encoding='utf-8') as handle:
        json.dump({'computed': computed, 'lab': lab, 'inventory': inventory}, handle)
    return computed, lab, path


PING_BUDGET = 90.0   # seconds for every intended pair to answer once (report.py waits 30 s; a
PEXEC_TIMEOUT = 30   # rehearsal often runs on a busier machine, where podman exec alone takes seconds)


def ping(container, address):
    return report.pexec(container, 'ping', '-c', '1', '-W', '2', address, timeout=PEXEC_TIMEOUT)[0] == 0


def ping_all(lab, intended):
    """Observed reachability: intended pairs with report.py's retries (a first ping may precede the
    handshake), the others once."""
    container = lab['hosts']
    with ThreadPoolExecutor(max_workers=8) as pool:
        def check(pairs):
            return dict(zip(pairs, pool.map(lambda pair: ping(container[pair[0]], pair[1]), pairs)))
        wanted = [pair for pair, v in intended.items() if v.intended]
        found, _rounds = report.probe(wanted, check, budget=PING_BUDGET)
        # at least three rounds for a silent pair: on a loaded machine one round over every pair
        # can outlast the budget, and a pair pinged first may have gone out before its handshake
        for _again in range(2):
            silent = [pair for pair in wanted if not found[pair]]
            if silent:
                time.sleep(report.PROBE_PAUSE)
                found.update(report.probe(silent, check, budget=PING_BUDGET)[0])
        found.update(check([pair for pair, v in intended.items() if not v.intended]))
    return found


def diagnose(work, lab_inventory, plan, failures, intended):
    """wireguard_status_info and ip route get on the hosts of each failing pair (read-only)."""
    checks = {}
    for host, address in failures:
        checks.setdefault(host, []).append(address)
        for hop in intended[(host, address)].path[1:2]:
            checks.setdefault(hop, [])
    registry = {}
    if os.path.exists(os.path.join(work, 'keys.yml')):
        with open(os.path.join(work, 'keys.yml'), encoding='utf-8') as handle:
            registry = yaml.safe_load(handle) or {}
    interface = next(iter(plan.values()))['interface']
    names = {key: host for host, key in (registry.get(interface) or {}).items()}
    with open(os.path.join(work, 'diagnose-vars.json'), 'w', encoding='utf-8') as handle:
        json.dump({'rehearse_checks': checks, 'rehearse_names': names, 'rehearse_out_dir': work}, handle)
    playbook(work, 'diagnose.log', '-i', lab_inventory, os.path.join(HERE, 'diagnose.yml'),
             '-e', '@%s/diagnose-vars.json' % work)
    found = {}
    for host in checks:
        path = os.path.join(work, 'diagnose-%s.json' % host)
        if os.path.exists(path):
            with open(path, encoding='utf-8') as handle:
                found[host] = json.load(handle)
    return found


def check(work, inventory, computed, lab):
    """Pings, the matrix next to the plan's, a diagnosis per failing pair; True when all is as planned."""
    plan = computed['plan']
    columns = reachability.targets(plan, lab['lans'])
    intended = reachability.intended_matrix(plan, columns)
    found = ping_all(lab, intended)
    failures = [pair for pair in intended if intended[pair].intended != found[pair]]
    print(matrix.render(inventory, computed['group'], plan, columns, intended, found))
    if failures:
        print(matrix.diagnosis(failures, intended, diagnose(work, os.path.join(work, 'lab.yml'), plan, failures, intended)),
              flush=True)
    return not failures


def recheck(work):
    """The matrix again on a lab kept with --keep (after changing something by hand, say)."""
    with open(os.path.join(work, 'lab.json'), encoding='utf-8') as handle:
        saved = json.load(handle)
    return 0 if check(work, saved['inventory'], saved['computed'], saved['lab']) else 1


def teardown(work, lab_inventory):
    say('removing the lab (log: %s/down.log)' % work)
    if not playbook(work, 'down.log', '-i', lab_inventory, os.path.join(ROOT, 'tools', 'lab', 'down.yml')):
        say('removal failed: make rehearse-down removes every container and network labelled %s' % mirror.LABEL)


def rehearse(inventory, keep):
    work = tempfile.mkdtemp(prefix='netfleet-rehearse-')
    try:
        computed, lab, lab_inventory = build_lab(work, inventory)
    except (ValueError, subprocess.CalledProcessError) as exc:
        print('rehearse: %s: cannot rehearse: %s' % (inventory, exc), file=sys.stderr)
        return 2
    plan = computed['plan']
    for note in lab['notes']:
        say('note: ' + note)
    say('lab copy: %s (%d WireGuard hosts, %d containers, every one reached with %s)'
        % (lab_inventory, len(plan), len(lab['nodes']), mirror.CONNECTION))
    ok = False
    try:
        # twice: on a loaded machine a container can exit at its first start; the second run starts it
        if not any(playbook(work, 'up.log', '-i', lab_inventory, os.path.join(ROOT, 'tools', 'lab', 'up.yml'))
                   for _attempt in range(2)):
            print('rehearse: the lab did not come up:\n' + tail(work, 'up.log'), file=sys.stderr)
            return 2
        say('site.yml on the lab copy (log: %s/site.log)' % work)
        deployed = playbook(work, 'site.log', '-i', lab_inventory, os.path.join(ROOT, 'playbooks', 'site.yml'),
                            '-e', 'wireguard_key_registry=%s/keys.yml' % work, '-e', 'wireguard_network_group=wireguard')
        if not deployed:
            print('rehearse: site.yml FAILED on the lab copy:\n' + tail(work, 'site.log'), file=sys.stderr)
        as_planned = check(work, inventory, computed, lab)
        ok = deployed and as_planned
        return 0 if ok else 1
    finally:
        if keep:
            say('lab kept (KEEP=1): containers rehearse-*; files in %s; make rehearse-down removes it' % work)
        else:
            teardown(work, lab_inventory)
            if ok:
                shutil.rmtree(work, ignore_errors=True)
            else:
                say('logs kept in %s' % work)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('inventory', help='the inventory to rehearse (file or directory); it is only read')
    ap.add_argument('--keep', action='store_true', help='leave the lab running afterwards')
    ap.add_argument('--recheck', metavar='DIR', help='only ping and diagnose again the lab kept in DIR (--keep)')
    args = ap.parse_args()
    if args.recheck:
        return recheck(args.recheck)
    if not os.path.exists(args.inventory):
        ap.error('%s: no such inventory' % args.inventory)
    left = existing_rehearsal()
    if left:
        print('rehearse: a rehearsal lab is still there (%s): make rehearse-down removes it'
              % ' '.join(sorted(left)), file=sys.stderr)
        return 2
    return rehearse(args.inventory, args.keep)


if __name__ == '__main__':
    sys.exit(main())
