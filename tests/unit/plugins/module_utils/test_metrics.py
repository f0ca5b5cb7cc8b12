# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Metrics with inventory names: the names map from the plan (_metrics), and what the host plan decides
the wireguard_metrics role writes or removes (_hostplan)."""
from __future__ import annotations

import json

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _hostplan as hp
from ansible_collections.netfleet.wireguard.plugins.module_utils import _metrics
from ansible_collections.netfleet.wireguard.plugins.module_utils._peerkeys import join_peer_keys
from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import build_plan
from ansible_collections.netfleet.wireguard.plugins.module_utils._validate import PlanError, parse_role_settings

KEYS = {name: (letter * 42 + 'A=') for name, letter in (('hub', 'H'), ('spoke', 'S'), ('laptop', 'L'))}
PHONE_KEY = 'P' * 42 + 'A='
DEVICES = [{'name': 'phone', 'public_key': PHONE_KEY, 'address': '10.77.0.50'}]
GROUP = {'wireguard_topology': 'bastion', 'wireguard_hub': 'hub'}


def bastion(devices=None):
    group = dict(GROUP, wireguard_external_peers=devices or DEVICES)
    return {
        'hub': dict(group, wireguard_address='10.77.0.1/24', wireguard_endpoint='203.0.113.1'),
        'spoke': dict(group, wireguard_address='10.77.0.2/24', wireguard_behind_nat=True),
        # reachable (an endpoint), not behind NAT: the plan gives no keepalive either way
        'laptop': dict(group, wireguard_address='10.77.0.3/24', wireguard_endpoint='198.51.100.3'),
    }


BASTION = bastion()
MESH = {
    'a': {'wireguard_topology': 'mesh', 'wireguard_address': '10.5.0.1/24', 'wireguard_endpoint': '198.51.100.1'},
    'b': {'wireguard_topology': 'mesh', 'wireguard_address': '10.5.0.2/24', 'wireguard_endpoint': '198.51.100.2'},
}
ENABLED = {'wireguard_metrics_enabled': True}


def names_for(host, plan=None, keys=None):
    plan = plan or build_plan(BASTION)
    peers = join_peer_keys(plan[host]['peers'], keys or KEYS, host)
    return _metrics.names_map(host, plan, peers)


def test_the_hub_names_every_planned_peer_and_knows_which_tunnels_the_plan_keeps_up():
    names = names_for('hub')
    assert names['host'] == 'hub' and names['interface'] == 'wg0'
    by_name = {entry['name']: (key, entry['expected_up']) for key, entry in names['peers'].items()}
    # the spoke behind NAT sends keepalives to the hub: kept up; the laptop and the phone are on demand
    assert by_name == {'spoke': (KEYS['spoke'], True), 'laptop': (KEYS['laptop'], False),
                       'phone': (PHONE_KEY, False)}


def test_the_spoke_behind_nat_keeps_its_hub_tunnel_up():
    assert names_for('spoke')['peers'] == {KEYS['hub']: {'name': 'hub', 'expected_up': True}}


def test_mesh_members_without_keepalive_are_on_demand():
    keys = {'a': KEYS['hub'], 'b': KEYS['spoke']}
    assert names_for('a', build_plan(MESH), keys)['peers'] == {KEYS['spoke']: {'name': 'b', 'expected_up': False}}


def test_the_names_file_is_stable_json():
    text = _metrics.names_text(names_for('hub'))
    assert text == _metrics.names_text(json.loads(text)) and text.endswith('}\n')
    assert json.loads(text)['peers'][KEYS['spoke']]['name'] == 'spoke'


def test_a_key_shared_by_two_peers_or_an_invalid_key_is_refused():
    plan = build_plan(BASTION)
    peers = join_peer_keys(plan['hub']['peers'], dict(KEYS, laptop=KEYS['spoke']), 'hub')
    with pytest.raises(ValueError, match='^hub: peers .* have the same public key'):
        _metrics.names_map('hub', plan, peers)
    with pytest.raises(ValueError, match='^hub: the public key of peer spoke is not a valid'):
        _metrics.names_map('hub', plan, [{'name': 'spoke', 'public_key': 'nope'}])


def test_interface_names_that_cannot_name_a_unit_are_refused_naming_host_and_variable():
    assert _metrics.check_interface('hub', 'wg-office.1') == 'wg-office.1'
    for bad in ('wg+1', 'x=y', 'wg0\n'):
        with pytest.raises(ValueError, match='^hub: wireguard_interface: .* cannot name'):
            _metrics.check_interface('hub', bad)


# ----------------------------------------------------------------------------- host plan

def facts(files=None, systemd=True):
    found = {_metrics.PYTHON: {'exists': True, 'type': 'file'}}
    found.update(files or {})
    return {'os_family': 'Debian', 'pkg_mgr': 'apt', 'packages': ['wireguard-tools'], 'systemd': systemd,
            'kernel_wireguard': True, 'commands': {'nft': '/usr/sbin/nft'}, 'files': found,
            'routes': {'ipv4_default': ['eth0'], 'ipv6_default': [], 'ipv6_ra': []}, 'sysctls': {},
            'firewall': {'nft_tables': [], 'iptables_chains': []}, 'public_keys': {}}


def present(content, mode='0644'):
    return {'exists': True, 'type': 'file', 'mode': mode, 'uid': 0, 'gid': 0, 'checksum': hp.sha1(content)}


def decide(host_facts, settings=None):
    plan = build_plan(BASTION)
    return hp.decide('hub', plan['hub'], host_facts, settings=settings)


def test_a_first_install_writes_units_creates_the_directory_and_starts_the_timer():
    metrics = decide(facts(), ENABLED)['metrics']
    assert metrics['state'] == 'present' and metrics['pending']
    assert metrics['write_service'] and metrics['write_timer'] and metrics['dir_missing'] and metrics['enable']
    assert metrics['timer_name'] == 'netfleet-wireguard-metrics-wg0.timer'
    assert ('ExecStart=/usr/bin/python3 -I /usr/local/lib/netfleet-wireguard-metrics-wg0.py --names '
            '/etc/wireguard/wg0.metrics.json --output /var/lib/prometheus/node-exporter/netfleet_wireguard_wg0.prom'
            in metrics['service'].splitlines())
    assert 'ReadWritePaths=/var/lib/prometheus/node-exporter' in metrics['service'].splitlines()
    assert 'OnUnitActiveSec=30s' in metrics['timer'].splitlines()


def test_an_installed_collector_needs_nothing_and_a_changed_interval_rewrites_the_timer():
    first = decide(facts(), ENABLED)
    paths = first['paths']
    files = {paths['metrics_service']: present(first['metrics']['service']),
             paths['metrics_timer']: present(first['metrics']['timer']),
             paths['metrics_timer_link']: {'exists': True, 'type': 'link'},
             paths['metrics_dir']: {'exists': True, 'type': 'directory'}}
    assert not decide(facts(files), ENABLED)['metrics']['pending']
    changed = decide(facts(files), dict(ENABLED, wireguard_metrics_interval=60))['metrics']
    assert changed['write_timer'] and not changed['write_service'] and changed['restart'] and changed['pending']
    assert 'OnUnitActiveSec=60s' in changed['timer'].splitlines()


def test_a_textfile_dir_of_the_inventory_reaches_the_unit_and_the_output_path():
    metrics = decide(facts(), dict(ENABLED, wireguard_metrics_textfile_dir='/srv/node-exporter'))['metrics']
    assert 'ReadWritePaths=/srv/node-exporter' in metrics['service'].splitlines()
    assert '--output /srv/node-exporter/netfleet_wireguard_wg0.prom' in metrics['service']


@pytest.mark.parametrize('variable,value', [
    ('wireguard_metrics_textfile_dir', '/var/lib/x y'), ('wireguard_metrics_textfile_dir', 'relative/dir'),
    ('wireguard_metrics_textfile_dir', '/var/lib/%i'), ('wireguard_metrics_textfile_dir', '/var/lib/x\n'),
    ('wireguard_metrics_textfile_dir', '/var/../etc'), ('wireguard_metrics_interval', 0),
    ('wireguard_metrics_interval', '30s'), ('wireguard_metrics_enabled', 'maybe'),
])
def test_unusable_settings_are_refused_naming_host_and_variable(variable, value):
    with pytest.raises(PlanError) as err:
        parse_role_settings({variable: value}, 'hub')
    assert err.value.errors[0].startswith('hub: %s: ' % variable)


def test_metrics_need_systemd_and_python():
    with pytest.raises(ValueError, match='^hub: wireguard_metrics_enabled: needs systemd'):
        decide(facts(systemd=False), ENABLED)
    no_python = facts()
    no_python['files'] = {}
    with pytest.raises(ValueError, match='^hub: wireguard_metrics_enabled: the collector needs /usr/bin/python3'):
        decide(no_python, ENABLED)


def test_disabled_removes_exactly_what_is_there_and_does_nothing_when_nothing_is():
    assert decide(facts())['metrics'] is None
    paths = decide(facts())['paths']
    there = {paths[name]: {'exists': True, 'type': 'file'} for name in ('metrics_timer', 'metrics_names',
                                                                        'metrics_output')}
    metrics = decide(facts(there))['metrics']
    assert metrics == {'state': 'absent', 'pending': True, 'timer_present': True, 'units_present': True,
                       'remove_files': [paths['metrics_timer'], paths['metrics_names'], paths['metrics_output']]}


def test_the_files_the_host_plan_reads_include_every_file_of_the_collector():
    args = hp.facts_module_args('wg0', hp.settings_with_defaults({}))
    paths = hp._paths.host_paths('wg0')
    assert {paths[name] for name in hp.METRICS_FILES} | {paths['metrics_dir'], _metrics.PYTHON} <= set(args['paths'])


def test_names_file_and_script_are_written_only_when_they_differ():
    plan = build_plan(BASTION)
    decisions = hp.decide('hub', plan['hub'], facts(), settings=ENABLED)
    decisions['facts'] = facts()
    first = hp.metrics_files(decisions, plan, KEYS, 'script\n')
    assert first['write_names'] and first['write_script'] and first['pending']
    paths = decisions['paths']
    decisions['facts']['files'].update({paths['metrics_names']: present(first['names']),
                                        paths['metrics_script']: present('script\n')})
    assert not hp.metrics_files(decisions, plan, KEYS, 'script\n')['pending']
    # a new device on the hub changes the names file only
    plan = build_plan(bastion(DEVICES + [{'name': 'tablet', 'public_key': 'T' * 42 + 'A=', 'address': '10.77.0.51'}]))
    again = hp.metrics_files(decisions, plan, KEYS, 'script\n')
    assert again['write_names'] and not again['write_script'] and 'tablet' in again['names']


def test_a_peer_without_a_known_key_fails_naming_the_host():
    plan = build_plan(BASTION)
    decisions = dict(hp.decide('hub', plan['hub'], facts(), settings=ENABLED), facts=facts())
    with pytest.raises(ValueError, match='^hub: no public key known for peer.*laptop'):
        hp.metrics_files(decisions, plan, {'spoke': KEYS['spoke']}, 'script\n')
