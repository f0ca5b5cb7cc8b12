#!/usr/bin/env python
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet-scale benchmark of playbooks/site.yml: N = 4, 8, 16, 32 lab hosts (not a timed test).

For each N it generates a bastion (hub and spoke) inventory under .cache/bench-fleet/n<N>/ (one hub
and N-1 spokes with an endpoint each, no LAN), brings the containers up with tools/lab/up.yml
(podman network bench-n<N>-wan 10.93.<N>.0/24, tunnel 10.93.200.0/24, containers bench-n<N>-*,
label netfleet.wireguard.lab=lab, memory capped), measures with bench_site.measure (first
site.yml run, then ping play / no-change site.yml pairs), reads what the containers cost, and
removes the fleet before the next N. Prints one table and a linear fit of cost against N.

CPU columns: "ctl" is the controller process tree (ansible-playbook, its forks and the podman
clients they start: getrusage RUSAGE_CHILDREN), "fleet" the CPU the fleet's containers used during
the run (podman stats cpu_time: the modules running on the hosts). Wall times depend on the load
other jobs put on the machine; compare ratios measured side by side. Nothing here asserts speed.

    make bench-fleet [NS="4 8 16 32"] [FLEET_ARGS="--rounds 2 --profile"]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_site  # noqa: E402 pylint: disable=wrong-import-position

REPO = bench_site.REPO
SUBNET_PREFIX = '10.93'          # every podman network of the benchmark lies in 10.93.0.0/16
TUNNEL = '10.93.200.%d/24'
MEMORY_CAP = '256m'              # per container: systemd + journald + dbus + logind + wireguard-go
INOTIFY_PER_CONTAINER = 8        # inotify instances of root per container (systemd 5, logind, wireguard-go, spare)
MAX_HOSTS = 190                  # host addresses .10 .. .199 of the fleet's /24
GO_DURATION = re.compile(r'([0-9.]+)(h|ms|us|µs|ns|m|s)')
GO_DURATION_UNITS = {'h': 3600.0, 'm': 60.0, 's': 1.0, 'ms': 1e-3, 'us': 1e-6, 'µs': 1e-6, 'ns': 1e-9}
SIZE = re.compile(r'([0-9.]+)\s*([kKMGT]?i?B)')
SIZE_UNITS = {'B': 1, 'kB': 1e3, 'KB': 1e3, 'MB': 1e6, 'GB': 1e9, 'TB': 1e12,
              'KiB': 1024, 'MiB': 1024 ** 2, 'GiB': 1024 ** 3, 'TiB': 1024 ** 4}


def fleet_inventory(n, memory=MEMORY_CAP):
    """The inventory (a dict for hosts.yml) of a bastion fleet of n hosts: 'hub' and spokes s01..s<n-1>."""
    if not 2 <= n <= MAX_HOSTS:
        raise ValueError('fleet size %d: choose 2 .. %d hosts' % (n, MAX_HOSTS))
    net = 'bench-n%d-wan' % n
    hosts = {}
    for index in range(n):
        name = 'hub' if index == 0 else 's%02d' % index
        wan = '%s.%d.%d' % (SUBNET_PREFIX, n, 10 + index)
        hosts[name] = {'ansible_host': 'bench-n%d-%s' % (n, name), 'lab_network': '%s:ip=%s' % (net, wan),
                       'wireguard_address': TUNNEL % (index + 1), 'wireguard_endpoint': wan}
    return {'lab': {
        'vars': {'ansible_connection': 'containers.podman.podman', 'lab_memory': memory,
                 'lab_networks': [{'name': net, 'subnet': '%s.%d.0/24' % (SUBNET_PREFIX, n)}]},
        'children': {'wireguard': {
            'vars': {'wireguard_topology': 'bastion', 'wireguard_hub': 'hub', 'wireguard_interface': 'wg0'},
            'hosts': hosts}}}}


def go_seconds(text):
    """Seconds of a Go duration as podman prints it ('1m2.5s', '300.6ms')."""
    parts = GO_DURATION.findall(text)
    if not parts or ''.join(number + unit for number, unit in parts) != text.strip():
        raise ValueError('not a duration: %r' % text)
    return sum(float(number) * GO_DURATION_UNITS[unit] for number, unit in parts)


def size_bytes(text):
    """Bytes of a size as podman prints it ('19.12MB', '1.5GiB')."""
    match = SIZE.fullmatch(text.strip())
    if not match:
        raise ValueError('not a size: %r' % text)
    return float(match.group(1)) * SIZE_UNITS[match.group(2)]


def parse_stats(stats_json):
    """{container: (memory bytes, cpu seconds)} from `podman stats --no-stream --format json`."""
    return {entry['name']: (size_bytes(entry['mem_usage'].split('/')[0]), go_seconds(entry['cpu_time']))
            for entry in json.loads(stats_json)}


def inotify_shortfall(limit, in_use, n):
    """How many more inotify instances (fs.inotify.max_user_instances) a fleet of n containers needs; 0 if it fits."""
    return max(0, in_use + n * INOTIFY_PER_CONTAINER - limit)


def inotify_in_use(uid=0):
    """inotify instances held by processes of ``uid`` (the containers' root is the host's root: rootful podman)."""
    count = 0
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            if os.stat('/proc/%s' % pid).st_uid != uid:
                continue
            for fd in os.listdir('/proc/%s/fd' % pid):
                count += os.readlink('/proc/%s/fd/%s' % (pid, fd)) == 'anon_inode:inotify'
        except OSError:
            continue  # the process ended meanwhile
    return count


def check_inotify(n):
    """Refuse a fleet whose systemd containers could not boot (they exit 255 at once when inotify runs out)."""
    with open('/proc/sys/fs/inotify/max_user_instances', encoding='ascii') as handle:
        limit = int(handle.read())
    missing = inotify_shortfall(limit, inotify_in_use(), n)
    if missing:
        sys.exit('bench_fleet: N=%d needs about %d more inotify instances than fs.inotify.max_user_instances=%d '
                 'leaves: sysctl -w fs.inotify.max_user_instances=%d (make host-deps raises it to 1024)'
                 % (n, missing, limit, limit + missing))


def linear_fit(xs, ys):
    """Least squares y = intercept + slope * x: (slope, intercept, r2)."""
    if len(xs) != len(ys) or len(xs) < 2 or len(set(xs)) < 2:
        raise ValueError('a fit needs two or more distinct x values')
    count = len(xs)
    mean_x, mean_y = sum(xs) / count, sum(ys) / count
    sxx = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sxx
    intercept = mean_y - slope * mean_x
    total = sum((y - mean_y) ** 2 for y in ys)
    residual = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys))
    return slope, intercept, (1.0 - residual / total) if total else 1.0


def marginal_costs(xs, ys):
    """Cost of one more host between consecutive sizes: [(y[i+1] - y[i]) / (x[i+1] - x[i])]."""
    return [(y2 - y1) / (x2 - x1) for x1, x2, y1, y2 in zip(xs, xs[1:], ys, ys[1:])]


COLUMNS = (  # (heading, row key, format)
    ('N', 'n', '%d'), ('forks', 'forks', '%d'), ('tasks/host 1st', 'tasks_first', '%.1f'),
    ('tasks/host again', 'tasks_again', '%.1f'), ('1st wall', 'first_wall', '%.1f'), ('1st ctl', 'first_cpu', '%.1f'),
    ('again wall', 'site_wall', '%.1f'), ('again ctl', 'site_cpu', '%.1f'), ('again fleet', 'site_fleet', '%.1f'),
    ('ping wall', 'ping_wall', '%.1f'), ('ping ctl', 'ping_cpu', '%.1f'), ('ping fleet', 'ping_fleet', '%.1f'),
    ('ratio wall', 'ratio_wall', '%.2f'), ('ratio ctl', 'ratio_cpu', '%.2f'),
    ('again ctl/host', 'site_cpu_host', '%.2f'), ('ping ctl/host', 'ping_cpu_host', '%.2f'),
    ('MiB/host', 'mem_host', '%.0f'))


def derive(row):
    """Add the ratio and per-host columns to a row of raw figures (seconds, bytes)."""
    out = dict(row)
    out['ratio_wall'] = row['site_wall'] / row['ping_wall']
    out['ratio_cpu'] = row['site_cpu'] / row['ping_cpu']
    out['site_cpu_host'] = row['site_cpu'] / row['n']
    out['ping_cpu_host'] = row['ping_cpu'] / row['n']
    out['mem_host'] = row['mem_bytes'] / row['n'] / 2 ** 20
    return out


def table(rows):
    """The result table (text): one line per fleet size, then the fit of each cost against N."""
    rows = [derive(row) for row in rows]
    cells = [[heading for heading, dummy, dummy2 in COLUMNS]]
    cells += [[fmt % row[key] for dummy, key, fmt in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = ['  '.join(cell.rjust(width) for cell, width in zip(line, widths)) for line in cells]
    if len(rows) >= 2:
        sizes = [row['n'] for row in rows]
        lines.append('')
        lines.append('fit against N (seconds = intercept + slope x N); marginal: s per added host between sizes')
        for label, key in (('no-change wall', 'site_wall'), ('no-change ctl cpu', 'site_cpu'),
                           ('ping wall', 'ping_wall'), ('ping ctl cpu', 'ping_cpu'), ('first-run wall', 'first_wall')):
            values = [row[key] for row in rows]
            slope, intercept, r2 = linear_fit(sizes, values)
            steps = ' '.join('%.2f' % cost for cost in marginal_costs(sizes, values))
            lines.append('  %-18s slope %6.3f s/host  intercept %6.2f s  r2 %.3f  marginal %s'
                         % (label, slope, intercept, r2, steps))
    return '\n'.join(lines)


def latest_rows(path):
    """The last row recorded for each size in a results file (one JSON object per line), by size."""
    rows = {}
    with open(path, encoding='utf-8') as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                rows[row['n']] = row
    return [rows[n] for n in sorted(rows)]


def forks_setting(log):
    """The forks ansible.cfg gives (ansible-config dump)."""
    out = bench_site.run([os.path.join(bench_site.BIN, 'ansible-config'), 'dump'], log)[2]
    match = re.search(r'^DEFAULT_FORKS\([^)]*\) = (\d+)', out, re.M)
    return int(match.group(1)) if match else 5


def fleet_stats(names):
    """{container: (memory bytes, cpu seconds)} of running containers (podman stats)."""
    proc = subprocess.run(['podman', 'stats', '--no-stream', '--format', 'json'] + names,
                          capture_output=True, text=True, check=True)
    return parse_stats(proc.stdout)


def fleet_cpu_during(names, action):
    """(result of action(), CPU seconds the containers used meanwhile)."""
    before = fleet_stats(names)
    result = action()
    after = fleet_stats(names)
    return result, sum(after[name][1] - before[name][1] for name in names)


def profile(inventory, log, extra):
    """One more no-change run with the profile_tasks callback; returns its slowest-tasks lines."""
    out = bench_site.run([bench_site.PLAYBOOK, '-i', inventory, 'playbooks/site.yml'] + extra, log,
                         ANSIBLE_CALLBACKS_ENABLED='ansible.posix.profile_tasks', PROFILE_TASKS_TASK_OUTPUT_LIMIT='8')[2]
    lines = out.splitlines()
    marker = max((i for i, line in enumerate(lines) if line.startswith('=====')), default=None)
    return [line for line in lines[marker + 1:] if line.strip()] if marker is not None else []


def bench_one(n, args, log, forks):
    """Bring a fleet of n hosts up, measure it, remove it; returns (row, profile lines)."""
    directory = os.path.join(REPO, '.cache', 'bench-fleet', 'n%d' % n)
    os.makedirs(directory, exist_ok=True)
    inventory = os.path.join(directory, 'hosts.yml')
    data = fleet_inventory(n)
    with open(inventory, 'w', encoding='utf-8') as handle:
        yaml.safe_dump(data, handle, sort_keys=False)
    names = [host['ansible_host'] for host in data['lab']['children']['wireguard']['hosts'].values()]
    extra = ['--forks', str(forks)]
    check_inotify(n)
    print('N=%d: containers up' % n, flush=True)
    try:
        up_wall = bench_site.lab_up(inventory, log)
        print('N=%d: up in %.0f s; first run, then %d ping / no-change pairs' % (n, up_wall, args.rounds), flush=True)
        result = bench_site.measure(inventory, log, args.rounds, extra)
        (ping, ping_fleet) = fleet_cpu_during(names, lambda: bench_site.run(
            [bench_site.PLAYBOOK, '-i', inventory, 'tests/bench/ping.yml'] + extra, log))
        (site, site_fleet) = fleet_cpu_during(names, lambda: bench_site.run(
            [bench_site.PLAYBOOK, '-i', inventory, 'playbooks/site.yml'] + extra, log))
        result['ping'].append(ping[:2])
        result['site'].append(site[:2])
        result['again_recap'] = bench_site.recap(site[2])
        memory = sum(entry[0] for entry in fleet_stats(names).values())
        slowest = profile(inventory, log, extra) if args.profile else []
    finally:
        if not args.keep:
            bench_site.lab_down(inventory, log)
            shutil.rmtree(directory, ignore_errors=True)
    first, again = result['first_recap'], result['again_recap']
    row = {'n': n, 'forks': min(forks, n), 'first_wall': result['first'][0], 'first_cpu': result['first'][1],
           'site_wall': bench_site.median(result['site'], 0), 'site_cpu': bench_site.median(result['site'], 1),
           'ping_wall': bench_site.median(result['ping'], 0), 'ping_cpu': bench_site.median(result['ping'], 1),
           'site_fleet': site_fleet, 'ping_fleet': ping_fleet, 'mem_bytes': memory,
           'tasks_first': sum(c[0] for c in first.values()) / len(first),
           'tasks_again': sum(c[0] for c in again.values()) / len(again),
           'changed_again': bench_site.changed_on_rerun(result)}
    return row, slowest


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--sizes', default='4 8 16 32', help='fleet sizes (default "4 8 16 32")')
    parser.add_argument('--rounds', type=int, default=2,
                        help='ping / no-change pairs per size before the one measured with fleet CPU (default 2)')
    parser.add_argument('--forks', type=int, help='forks for every run (default: ansible.cfg)')
    parser.add_argument('--profile', action='store_true', help='one more no-change run with profile_tasks per size')
    parser.add_argument('--keep', action='store_true', help='leave the fleets up (and their inventories)')
    parser.add_argument('--results', default=os.path.join(REPO, '.cache', 'logs', 'bench-fleet.jsonl'),
                        help='each size\'s row is appended here (default .cache/logs/bench-fleet.jsonl)')
    parser.add_argument('--table-only', action='store_true',
                        help='measure nothing: print the table of the last row per size in --results')
    args = parser.parse_args()
    if args.table_only:
        print(table(latest_rows(args.results)))
        return 0
    if not os.environ.get('CONTAINERS_CONF'):
        sys.exit('bench_fleet: CONTAINERS_CONF is not set: run through make (make bench-fleet) or export it')
    sizes = [int(size) for size in args.sizes.split()]
    for size in sizes:
        fleet_inventory(size)  # refuses a size that does not fit before anything starts
    os.makedirs(os.path.join(REPO, '.cache', 'logs'), exist_ok=True)
    log = os.path.join(REPO, '.cache', 'logs', 'bench-fleet-%s.log' % '-'.join(str(size) for size in sizes))
    open(log, 'w', encoding='utf-8').close()
    forks = args.forks or forks_setting(log)
    print('load average at start: %.2f %.2f %.2f (%d cores)' % (os.getloadavg() + (os.cpu_count(),)), flush=True)
    rows = []
    for size in sizes:
        row, slowest = bench_one(size, args, log, forks)
        row['load'] = os.getloadavg()[0]
        rows.append(row)
        with open(args.results, 'a', encoding='utf-8') as handle:
            handle.write(json.dumps(row) + '\n')
        print('N=%d: no-change %.1f s vs ping %.1f s, %d changed on the no-change run; load %.2f'
              % (size, row['site_wall'], row['ping_wall'], row['changed_again'], os.getloadavg()[0]), flush=True)
        if slowest:
            print('\n'.join('    ' + line for line in slowest), flush=True)
    print()
    print(table(rows))
    print('\nctl = controller process tree CPU (getrusage RUSAGE_CHILDREN); fleet = containers\' cpu_time (podman stats);'
          ' goal: ratio wall <= 2 at every N. load average at end: %.2f %.2f %.2f' % os.getloadavg())
    return 1 if any(row['changed_again'] for row in rows) else 0


if __name__ == '__main__':
    sys.exit(main())
