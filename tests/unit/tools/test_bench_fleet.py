# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/bench/bench_fleet.py: the generated fleets, podman's figures, the fit and the table.

Nothing about speed is asserted: only the pure code that turns measurements into the printed table
(and the inventories the benchmark generates) is checked here; the benchmark itself needs podman.
"""
from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
sys.path.insert(0, os.path.join(REPO, 'tests', 'bench'))
_SPEC = importlib.util.spec_from_file_location('bench_fleet', os.path.join(REPO, 'tests', 'bench', 'bench_fleet.py'))
bench = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench)

BENCH_RANGE = ipaddress.ip_network('10.93.0.0/16')


def _hosts(inventory):
    return inventory['lab']['children']['wireguard']['hosts']


@pytest.mark.parametrize('n', [2, 4, 32, bench.MAX_HOSTS])
def test_fleet_is_a_hub_and_spokes_inside_the_benchmark_range(n):
    inventory = bench.fleet_inventory(n)
    hosts = _hosts(inventory)
    assert len(hosts) == n
    assert inventory['lab']['children']['wireguard']['vars']['wireguard_hub'] == 'hub'
    (network,) = inventory['lab']['vars']['lab_networks']
    subnet = ipaddress.ip_network(network['subnet'])
    assert subnet.subnet_of(BENCH_RANGE) and network['name'].startswith('bench-')
    wan, tunnel = set(), set()
    for name, host in hosts.items():
        assert host['ansible_host'] == 'bench-n%d-%s' % (n, name)
        net, address = host['lab_network'].split(':ip=')
        assert net == network['name'] and ipaddress.ip_address(address) in subnet
        assert host['wireguard_endpoint'] == address
        wan.add(address)
        tunnel.add(ipaddress.ip_interface(host['wireguard_address']))
    assert len(wan) == n and len(tunnel) == n
    assert all(addr.network.subnet_of(BENCH_RANGE) and addr.ip != addr.network.network_address for addr in tunnel)


def test_fleets_of_different_sizes_do_not_share_a_network():
    subnets = [bench.fleet_inventory(n)['lab']['vars']['lab_networks'][0]['subnet'] for n in (4, 8, 16, 32)]
    assert len(set(subnets)) == 4


@pytest.mark.parametrize('n', [0, 1, bench.MAX_HOSTS + 1])
def test_sizes_that_do_not_fit_are_refused(n):
    with pytest.raises(ValueError, match='fleet size'):
        bench.fleet_inventory(n)


@pytest.mark.parametrize('text, seconds', [('300.619183ms', 0.300619183), ('1.5s', 1.5), ('1m2.5s', 62.5),
                                           ('1h0m1s', 3601.0), ('250µs', 0.00025), ('20ns', 2e-8)])
def test_go_durations(text, seconds):
    assert bench.go_seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize('text', ['', 'fast', '1.5', '1x'])
def test_not_a_duration(text):
    with pytest.raises(ValueError):
        bench.go_seconds(text)


def test_podman_stats_are_read_per_container():
    stats = json.dumps([
        {'name': 'bench-n4-hub', 'cpu_time': '1.25s', 'mem_usage': '19.12MB / 268.4MB'},
        {'name': 'bench-n4-s01', 'cpu_time': '500ms', 'mem_usage': '1.5GiB / 2GiB'},
    ])
    assert bench.parse_stats(stats) == {'bench-n4-hub': (pytest.approx(19.12e6), pytest.approx(1.25)),
                                        'bench-n4-s01': (pytest.approx(1.5 * 2 ** 30), pytest.approx(0.5))}


def test_a_fleet_that_would_exhaust_inotify_is_refused_with_the_number_missing():
    assert bench.inotify_shortfall(1024, 100, 32) == 0
    assert bench.inotify_shortfall(128, 100, 4) == 100 + 4 * bench.INOTIFY_PER_CONTAINER - 128
    assert bench.inotify_shortfall(128, 0, 16) == 0


def test_linear_costs_fit_exactly():
    slope, intercept, r2 = bench.linear_fit([4, 8, 16, 32], [3.0 + 0.5 * n for n in (4, 8, 16, 32)])
    assert (slope, intercept, r2) == (pytest.approx(0.5), pytest.approx(3.0), pytest.approx(1.0))
    assert bench.marginal_costs([4, 8, 16, 32], [5.0, 7.0, 11.0, 19.0]) == [0.5, 0.5, 0.5]


def test_quadratic_costs_show_in_the_marginal_cost_and_the_fit():
    sizes = [4, 8, 16, 32]
    costs = [0.01 * n * n for n in sizes]
    assert bench.marginal_costs(sizes, costs) == pytest.approx([0.12, 0.24, 0.48])
    assert bench.linear_fit(sizes, costs)[2] < 0.99


def test_a_fit_needs_two_sizes():
    with pytest.raises(ValueError):
        bench.linear_fit([4], [1.0])
    with pytest.raises(ValueError):
        bench.linear_fit([4, 4], [1.0, 2.0])


def _row(n, site, ping):
    return {'n': n, 'forks': min(n, 20), 'tasks_first': 15.0, 'tasks_again': 11.0, 'first_wall': 3.0 * n,
            'first_cpu': 2.0 * n, 'site_wall': site, 'site_cpu': site / 2, 'site_fleet': 0.1 * n, 'ping_wall': ping,
            'ping_cpu': ping / 2, 'ping_fleet': 0.05 * n, 'mem_bytes': n * 20 * 2 ** 20, 'changed_again': 0}


def test_table_has_a_line_per_size_with_ratios_and_per_host_costs():
    text = bench.table([_row(4, 6.0, 4.0), _row(8, 10.0, 5.0)])
    lines = text.splitlines()
    headings = lines[0].split('  ')
    assert 'ratio wall' in lines[0] and 'again ctl/host' in lines[0] and 'MiB/host' in lines[0]
    first = lines[1].split()
    assert first[0] == '4' and first[1] == '4'
    assert '1.50' in first and '2.00' in lines[2].split()   # 6/4 and 10/5
    assert '0.75' in first                                   # 3.0 s of controller CPU / 4 hosts
    assert first[-1] == '20'                                 # MiB per host
    assert len(first) == len([h for h in headings if h.strip()])
    fit = [line for line in lines if line.strip().startswith('no-change wall')]
    assert fit and 'slope  1.000 s/host' in fit[0] and 'marginal 1.00' in fit[0]


def test_table_of_one_size_has_no_fit():
    assert 'slope' not in bench.table([_row(4, 6.0, 4.0)])


def test_the_table_can_be_rebuilt_from_the_last_row_of_each_size(tmp_path):
    results = tmp_path / 'rows.jsonl'
    rows = [_row(8, 9.0, 6.0), _row(4, 6.0, 4.0), _row(8, 12.0, 6.0)]
    results.write_text('\n'.join(json.dumps(row) for row in rows) + '\n\n', encoding='utf-8')
    assert [(row['n'], row['site_wall']) for row in bench.latest_rows(str(results))] == [(4, 6.0), (8, 12.0)]
