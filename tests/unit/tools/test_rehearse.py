# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tools/rehearse: the pure parts of `make rehearse` (no podman, no Ansible run).

Plans are computed by the real engine (``build_plan``) from inventories written as for real
machines; the lab layout, the lab copy of the inventory, the intended reachability matrix and
the report are checked against them.
"""
from __future__ import annotations

import copy
import os
import sys

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import build_plan

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
sys.path.insert(0, os.path.join(REPO, 'tools', 'rehearse'))
# pylint: disable=wrong-import-position,import-error
import matrix        # noqa: E402
import mirror        # noqa: E402
import reachability  # noqa: E402


def network(topology, hosts, **group):
    common = {'wireguard_topology': topology}
    common.update({'wireguard_' + k: v for k, v in group.items()})
    return {name: dict(common, **{'wireguard_' + k: v for k, v in hv.items()}) for name, hv in hosts.items()}


BASTION = network('bastion', {
    'bastion': {'address': '10.100.0.254/24', 'endpoint': '203.0.113.99'},
    'hq': {'address': '10.100.0.1/24', 'endpoint': '198.51.100.1', 'lan_subnets': ['10.0.1.0/24'], 'behind_nat': True},
    'remote': {'address': '10.100.0.2/24', 'lan_subnets': ['10.0.2.0/24'], 'behind_nat': True},
}, hub='bastion')

MESH = network('mesh', {
    'relay': {'address': '10.50.0.1/24', 'endpoint': 'relay.example.net'},
    'berlin': {'address': '10.50.0.3/24', 'endpoint': '198.51.100.20:51821', 'listen_port': 51821},
    'rome': {'address': '10.50.0.6/24', 'endpoint': 'rome.example.net:4500', 'behind_nat': True},
    'vienna': {'address': '10.50.0.7/24', 'behind_nat': True, 'lan_subnets': ['10.60.2.0/24']},
    'madrid': {'address': '10.50.0.8/24', 'behind_nat': True},
}, hub='relay')


def lab_of(variables):
    return mirror.design(build_plan(variables), variables)


# ---------------------------------------------------------------- names and endpoints
@pytest.mark.parametrize('name', ['hq', 'web-01', 'db_2.example.com', 'A1'])
def test_container_names(name):
    assert mirror.container_name(name) == 'rehearse-' + name


@pytest.mark.parametrize('name', ['', '-rm', 'a b', 'x/../y', 'hq\n', 'hq;reboot', 'h\u202eq', 'caf\u00e9', 'a' * 42, 7])
def test_hostile_host_names_are_refused_naming_the_host(name):
    with pytest.raises(ValueError, match='inventory host name not rehearsed'):
        mirror.container_name(name)


def test_a_hostile_host_name_stops_the_design():
    with pytest.raises(ValueError, match="'a b': inventory host name not rehearsed"):
        mirror.design({'a b': {'listen_port': None, 'routing': {'lan_subnets': []}}}, {'a b': {}})


@pytest.mark.parametrize('value, expected', [
    (None, (None, None, None)),
    ('203.0.113.1', (None, '203.0.113.1', None)),
    ('203.0.113.1:443', (None, '203.0.113.1', 443)),
    ('vpn.example.com:4500', ('vpn.example.com', None, 4500)),
    ('192.168.1.10', (None, '192.168.1.10', None)),
])
def test_endpoint_mapping(value, expected):
    name, ip, port = mirror.public_endpoint('h', value)
    assert (name, None if ip is None else str(ip), port) == expected


@pytest.mark.parametrize('value, why', [
    ('[2001:db8::1]:51820', 'IPv6 endpoint addresses are not mirrored'),
    ('10.92.3.4', '10.92.0.0/16'),
    ('127.0.0.1', 'unicast address'),
    ('224.0.0.1', 'unicast address'),
    ('vpn.example.com\n', 'wireguard_endpoint'),
])
def test_endpoints_that_cannot_be_mirrored(value, why):
    with pytest.raises(ValueError, match=why):
        mirror.public_endpoint('h', value)


def test_two_hosts_on_one_public_address_are_refused():
    variables = copy.deepcopy(BASTION)
    plan = build_plan(variables)
    variables['remote']['wireguard_endpoint'] = '198.51.100.1'
    with pytest.raises(ValueError, match='also the endpoint of another host'):
        mirror.design(plan, variables)


def test_two_hosts_on_one_endpoint_name_are_refused():
    variables = copy.deepcopy(MESH)
    plan = build_plan(variables)
    variables['madrid']['wireguard_endpoint'] = 'Rome.example.net'
    with pytest.raises(ValueError, match='wireguard_endpoint: the name rome.example.net is also the endpoint of another'):
        mirror.design(plan, variables)


@pytest.mark.parametrize('hq, var', [
    ({'address': '10.92.5.1/24'}, 'address'),
    ({'address': '10.1.0.1/24', 'lan_subnets': ['10.92.0.0/16']}, 'lan_subnets'),
])
def test_networks_inside_the_lab_range_are_refused(hq, var):
    other = '10.92.5.2/24' if var == 'address' else '10.1.0.2/24'
    variables = network('site_to_site', {'hq': dict(hq, endpoint='192.0.2.1'), 'b': {'address': other, 'endpoint': '192.0.2.2'}})
    with pytest.raises(ValueError, match='(hq|b): wireguard_%s: .* overlaps 10.92.0.0/16' % var):
        mirror.design(build_plan(variables), variables)


@pytest.mark.parametrize('prefix, expected', [
    ('10.0.1.0/24', ('10.0.1.1', '10.0.1.254')),
    ('10.0.0.0/30', ('10.0.0.1', '10.0.0.2')),
    ('fd00:1::/64', ('fd00:1::1', 'fd00:1::fe')),
    ('10.0.0.0/31', None),
])
def test_lan_addresses(prefix, expected):
    found = mirror.lan_addresses(prefix)
    assert (None if found is None else tuple(str(a) for a in found)) == expected


# ---------------------------------------------------------------- the lab layout
def test_public_addresses_are_kept_and_names_resolve_to_the_lab():
    lab = lab_of(MESH)
    assert lab['public']['berlin'] == '198.51.100.20'
    assert lab['etc_hosts'] == {'relay.example.net': lab['public']['relay'], 'rome.example.net': lab['public']['rome']}
    assert all(a.startswith('10.92.0.') for a in lab['etc_hosts'].values())
    berlin = lab['nodes']['rehearse-berlin']
    assert 'ip addr replace 198.51.100.20/32 dev "$inet"' in berlin['setup']
    assert berlin['network'].startswith('rehearse-inet:ip=10.92.0.')


def test_hosts_behind_nat_sit_behind_their_own_nat_with_the_port_forward_of_their_endpoint():
    lab = lab_of(MESH)
    rome, nat = lab['nodes']['rehearse-rome'], lab['nodes']['rehearse-rome-nat']
    assert rome['network'] == 'rehearse-rome-carrier:ip=%s' % rome['networks'][0][1]
    assert not any(net == 'rehearse-inet' for net, _ip in rome['networks'])
    script = '\n'.join(nat['setup'])
    # the endpoint's port 4500 reaches the listen port 51820 of the host on the carrier network
    assert '--dport 4500 -j DNAT --to-destination %s:51820' % rome['networks'][0][1] in script
    assert 'iptables -P FORWARD DROP' in script
    madrid_nat = '\n'.join(lab['nodes']['rehearse-madrid-nat']['setup'])
    assert 'DNAT' not in madrid_nat and 'SNAT' in madrid_nat     # no endpoint: nothing comes in


def test_every_lan_gets_a_lan_host_routed_through_its_gateway():
    lab = lab_of(BASTION)
    assert [(lan['gateway'], lan['prefix'], lan['gateway_address'], lan['address']) for lan in lab['lans']] == [
        ('hq', '10.0.1.0/24', '10.0.1.1', '10.0.1.254'), ('remote', '10.0.2.0/24', '10.0.2.1', '10.0.2.254')]
    host = lab['nodes']['rehearse-lan1-hq']
    assert 'ip route replace default via 10.0.1.1 dev "$lan"' in host['setup']
    assert 'ip addr replace 10.0.1.1/24 dev "$lan"' in lab['nodes']['rehearse-hq']['setup']


def test_every_lab_network_is_inside_the_lab_range():
    lab = lab_of(MESH)
    assert all(n['name'].startswith('rehearse-') for n in lab['networks'])
    assert all(mirror.ipaddress.ip_network(n['subnet']).subnet_of(mirror.PLUMBING) for n in lab['networks'])
    assert all(name.startswith('rehearse-') for name in lab['nodes'])


# ---------------------------------------------------------------- the lab copy of the inventory
def test_the_lab_copy_reaches_only_containers():
    variables = copy.deepcopy(BASTION)
    variables['hq'].update({'ansible_host': '198.51.100.1', 'ansible_user': 'admin', 'ansible_port': 2222,
                            'ansible_connection': 'ssh', 'wireguard_key_registry': '/home/me/keys.yml',
                            'wireguard_egress_interface': 'ens3'})
    lab = mirror.design(build_plan(BASTION), variables)
    inventory = mirror.lab_inventory(lab, variables)
    hosts = inventory['lab']['children']['wireguard']['hosts']
    assert hosts['hq']['ansible_host'] == 'rehearse-hq'
    assert hosts['hq']['ansible_connection'] == mirror.CONNECTION
    assert not {'ansible_user', 'ansible_port', 'wireguard_key_registry', 'wireguard_egress_interface'} & set(hosts['hq'])
    assert hosts['hq']['wireguard_lan_subnets'] == ['10.0.1.0/24']
    assert any('wireguard_egress_interface' in note for note in lab['notes'])
    listing = {'_meta': {'hostvars': dict(hosts, **inventory['lab']['children']['rehearse_plumbing']['hosts'])}}
    assert mirror.listing_problems(listing, lab) == []


@pytest.mark.parametrize('change, problem', [
    ({'ansible_connection': 'ssh'}, 'ansible_connection'),
    ({'ansible_host': '198.51.100.1'}, 'ansible_host'),
])
def test_a_lab_listing_that_would_reach_a_real_host_is_refused(change, problem):
    lab = lab_of(BASTION)
    inventory = mirror.lab_inventory(lab, BASTION)
    hostvars = copy.deepcopy(dict(inventory['lab']['children']['wireguard']['hosts'],
                                  **inventory['lab']['children']['rehearse_plumbing']['hosts']))
    hostvars['hq'].update(change)
    assert any(problem in line for line in mirror.listing_problems({'_meta': {'hostvars': hostvars}}, lab))
    hostvars = copy.deepcopy(hostvars)
    hostvars['stranger'] = {'ansible_connection': mirror.CONNECTION, 'ansible_host': 'rehearse-x'}
    assert any('differ' in line for line in mirror.listing_problems({'_meta': {'hostvars': hostvars}}, lab))


# ---------------------------------------------------------------- the intended matrix
def test_bastion_every_spoke_reaches_every_address_and_lan_through_the_relay():
    plan = build_plan(BASTION)
    lab = mirror.design(plan, BASTION)
    intended = reachability.intended_matrix(plan, reachability.targets(plan, lab['lans']))
    assert len(intended) == 10 and all(v.intended for v in intended.values())
    assert intended[('remote', '10.0.1.254')].path == ('remote', 'bastion', 'hq', 'bastion', 'remote')


def test_mesh_pairs_without_endpoints_go_through_the_relay_others_directly():
    plan = build_plan(MESH)
    intended = reachability.intended_matrix(plan, reachability.targets(plan))
    assert intended[('madrid', '10.50.0.7')].path == ('madrid', 'relay', 'vienna', 'relay', 'madrid')
    assert intended[('madrid', '10.50.0.3')].path == ('madrid', 'berlin', 'madrid')
    assert all(v.intended for v in intended.values())


def test_full_tunnel_clients_reach_each_other_through_the_hub():
    plan = build_plan(network('full_tunnel', {'vps': {'address': '10.0.0.1/24', 'endpoint': '203.0.113.1'},
                                              'a': {'address': '10.0.0.2/24'}, 'b': {'address': '10.0.0.3/24'}},
                              hub='vps'))
    verdict = reachability.verdict(plan, 'a', reachability.Target('b', '10.0.0.3', 'b', 'tunnel', '10.0.0.3'))
    assert verdict.intended and verdict.path == ('a', 'vps', 'b', 'vps', 'a')


def test_a_pair_the_plan_does_not_route_is_not_intended_and_says_why():
    plan = build_plan(BASTION)
    broken = copy.deepcopy(plan)
    broken['bastion']['routing']['relay'] = False
    verdict = reachability.verdict(broken, 'hq', reachability.Target('remote', '10.100.0.2', 'remote', 'tunnel', ''))
    assert not verdict.intended and 'bastion would have to relay' in verdict.reason
    broken = copy.deepcopy(plan)
    entry = next(p for p in broken['hq']['peers'] if p['name'] == 'bastion')
    entry['allowed_ips'] = ['10.100.0.254/32']
    verdict = reachability.verdict(broken, 'hq', reachability.Target('remote', '10.100.0.2', 'remote', 'tunnel', ''))
    assert verdict.reason == 'hq has no peer whose AllowedIPs hold 10.100.0.2'
    broken = copy.deepcopy(plan)
    entry = next(p for p in broken['bastion']['peers'] if p['name'] == 'remote')
    entry['allowed_ips'] = ['10.0.2.0/24']      # the bastion no longer accepts remote's tunnel address
    verdict = reachability.verdict(broken, 'remote', reachability.Target('hq LAN', '10.0.1.254', 'hq', 'lan', ''))
    assert verdict.reason == 'bastion drops 10.100.0.2 from remote: not in the AllowedIPs it has for remote'


def test_a_pair_where_nobody_knows_an_endpoint_cannot_handshake():
    plan = build_plan(BASTION)
    broken = copy.deepcopy(plan)
    next(p for p in broken['remote']['peers'] if p['name'] == 'bastion')['endpoint'] = None
    verdict = reachability.verdict(broken, 'remote', reachability.Target('bastion', '10.100.0.254', 'bastion', 'tunnel', ''))
    assert verdict.reason == "neither remote nor bastion knows the other's endpoint"


def test_an_ipv6_target_needs_an_ipv6_source():
    plan = build_plan(network('site_to_site', {
        'a': {'address': ['10.1.0.1/24', 'fd01::1/64'], 'endpoint': '192.0.2.1'},
        'b': {'address': '10.1.0.2/24', 'endpoint': '192.0.2.2'}}))
    columns = reachability.targets(plan)
    intended = reachability.intended_matrix(plan, columns)
    assert intended[('b', 'fd01::1')].reason == 'b has no IPv6 tunnel address'
    assert intended[('b', '10.1.0.1')].intended


# ---------------------------------------------------------------- the report
def test_the_report_puts_the_plan_next_to_the_pings_and_flags_each_difference():
    plan = build_plan(BASTION)
    columns = reachability.targets(plan)
    intended = reachability.intended_matrix(plan, columns)
    found = {pair: True for pair in intended}
    found[('hq', '10.100.0.2')] = False
    text = matrix.render('inv', 'wireguard', plan, columns, intended, found)
    assert '5 of 6 pairs as the plan intends (6 intended reachable): FAILED' in text
    row = next(line for line in text.splitlines() if line.startswith('hq '))
    assert '\u2714 \u2718' in row
    status = {'up': True, 'peers': [{'name': 'bastion', 'endpoint': '203.0.113.99:51820', 'handshake_age': None,
                                     'transfer_rx': 0, 'transfer_tx': 148}]}
    lines = matrix.diagnosis([('hq', '10.100.0.2')], intended, {
        'hq': {'status': status, 'routes': {'10.100.0.2': '10.100.0.2 dev wg0 src 10.100.0.1 uid 0 \n    cache \n'}},
        'bastion': {'status': {'up': False, 'interface': {'name': 'wg0'}, 'peers': []}}}).splitlines()
    assert lines[2] == 'hq -> 10.100.0.2: no answer; the plan routes it hq -> bastion -> remote -> bastion -> hq'
    assert lines[3] == '  hq: ip route get 10.100.0.2: 10.100.0.2 dev wg0 src 10.100.0.1 uid 0 cache'
    assert lines[4] == '  hq: peer bastion: endpoint 203.0.113.99:51820, latest handshake never, received 0 B, sent 148 B'
    assert lines[5] == '  bastion: no WireGuard interface wg0'


def test_an_answer_the_plan_does_not_intend_is_a_failure():
    verdict = reachability.Verdict(False, ('a',), 'a has no peer whose AllowedIPs hold 10.9.9.9')
    assert matrix.cell(verdict, True) == '- \u2714'
    assert matrix.cell(verdict, False) == '- -'
    lines = matrix.diagnosis([('a', '10.9.9.9')], {('a', '10.9.9.9'): verdict}, {}).splitlines()
    assert 'answered, but the plan does not intend it' in lines[2]
