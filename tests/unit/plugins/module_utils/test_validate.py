# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One test per validation rule: a valid base network is broken in one place and the engine
must refuse it with a ``host: variable: problem`` line naming the right host and variable."""
from __future__ import annotations

import copy

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import PlanError, build_plan
from ansible_collections.netfleet.wireguard.plugins.module_utils._validate import parse_network

KEY = 'YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE='   # 32 bytes


def base(topology='bastion'):
    group = {'wireguard_topology': topology, 'wireguard_hub': 'hub'}
    hosts = {
        'hub': {'wireguard_address': '10.100.0.254/24', 'wireguard_endpoint': '203.0.113.99'},
        'hq': {'wireguard_address': '10.100.0.1/24', 'wireguard_endpoint': '198.51.100.1',
               'wireguard_lan_subnets': ['10.0.1.0/24']},
        'remote': {'wireguard_address': '10.100.0.2/24', 'wireguard_lan_subnets': ['10.0.2.0/24']},
    }
    return {name: dict(group, **hv) for name, hv in hosts.items()}


def mutate(hv, **changes):
    """changes: host__var=value (value None deletes)."""
    hv = copy.deepcopy(hv)
    for key, value in changes.items():
        host, var = key.split('__', 1)
        targets = list(hv) if host == 'all' else [host]
        for target in targets:
            if value is None:
                hv[target].pop('wireguard_' + var, None)
            else:
                hv[target]['wireguard_' + var] = value
    return hv


def errors_of(hv):
    with pytest.raises(PlanError) as err:
        build_plan(hv)
    assert isinstance(err.value, ValueError)
    return err.value.errors


def test_base_is_valid():
    assert build_plan(base())


CASES = [
    # id, changes, expected "host: variable:" prefix, fragment of the explanation
    ('malformed-cidr', {'hq__lan_subnets': ['10.0.1.0/33']}, 'hq: wireguard_lan_subnets:', 'too long'),
    ('not-a-cidr', {'hq__lan_subnets': ['banana/24']}, 'hq: wireguard_lan_subnets:', 'not an IPv4 or IPv6'),
    ('no-prefix', {'hq__lan_subnets': ['10.0.1.0']}, 'hq: wireguard_lan_subnets:', 'no prefix length'),
    ('host-bits', {'hq__lan_subnets': ['10.0.1.1/24']}, 'hq: wireguard_lan_subnets:', 'host bits set (did you mean 10.0.1.0/24?)'),
    ('address-host-bits-ok-but-network', {'hq__address': '10.100.0.0/24'}, 'hq: wireguard_address:', 'network address'),
    ('address-without-prefix', {'hq__address': '10.100.0.1'}, 'hq: wireguard_address:', 'no prefix length'),
    ('address-missing', {'hq__address': None}, 'hq: wireguard_address:', 'required'),
    ('address-outside-network', {'remote__address': '10.101.0.2/24'}, 'remote: wireguard_address:',
     'not inside the tunnel network 10.100.0.0/24'),
    ('duplicate-address', {'remote__address': '10.100.0.1/24'}, 'remote: wireguard_address:',
     'duplicate tunnel address 10.100.0.1, already used by hq'),
    ('prefix-claimed-twice', {'remote__lan_subnets': ['10.0.1.128/25']}, 'remote: wireguard_lan_subnets:',
     'overlaps 10.0.1.0/24 (wireguard_lan_subnets of hq)'),
    ('lan-overlaps-tunnel', {'hq__lan_subnets': ['10.100.0.0/16']}, 'hq: wireguard_lan_subnets:',
     'overlaps the tunnel network 10.100.0.0/24'),
    ('local-overlaps-tunnel', {'remote__local_subnets': ['10.100.0.0/25']}, 'remote: wireguard_local_subnets:',
     'overlaps the tunnel network'),
    ('own-lans-overlap', {'hq__lan_subnets': ['10.0.1.0/24', '10.0.1.0/25']}, 'hq: wireguard_lan_subnets:', 'overlap'),
    ('lan-contains-own-endpoint', {'hq__lan_subnets': ['198.51.100.0/24']}, 'hq: wireguard_lan_subnets:',
     'contains this host\'s own endpoint 198.51.100.1'),
    ('extra-contains-hub-endpoint', {'remote__extra_allowed_ips': ['203.0.113.0/24']},
     'remote: wireguard_extra_allowed_ips:', 'contains the endpoint 203.0.113.99 of peer hub'),
    ('lan-contains-hub-endpoint', {'hq__lan_subnets': ['203.0.113.0/24']}, 'hq: wireguard_lan_subnets:',
     'endpoint 203.0.113.99 of the hub'),
    ('hub-missing', {'all__hub': None}, 'wireguard: wireguard_hub:', 'required for the bastion topology'),
    ('hub-not-in-group', {'all__hub': 'elsewhere'}, 'wireguard: wireguard_hub:', "'elsewhere' is not a host of the group"),
    ('hub-disagrees', {'remote__hub': 'hq'}, 'remote: wireguard_hub:', 'network-wide'),
    ('unknown-topology', {'all__topology': 'star'}, 'wireguard: wireguard_topology:', "unknown topology 'star'"),
    ('missing-topology', {'all__topology': None}, 'wireguard: wireguard_topology:', 'required'),
    ('port-too-big', {'hq__listen_port': 70000}, 'hq: wireguard_listen_port:', 'not a UDP port'),
    ('port-zero', {'hq__listen_port': 0}, 'hq: wireguard_listen_port:', 'not a UDP port'),
    ('port-not-number', {'hq__listen_port': 'http'}, 'hq: wireguard_listen_port:', 'not a UDP port'),
    ('endpoint-bad-port', {'hq__endpoint': '198.51.100.1:99999'}, 'hq: wireguard_endpoint:', 'not a UDP port'),
    ('endpoint-bad-name', {'hq__endpoint': 'bad_name!:51820'}, 'hq: wireguard_endpoint:', 'neither an IP address nor a valid DNS name'),
    ('endpoint-bad-v6', {'hq__endpoint': '[2001:db8::zz]:51820'}, 'hq: wireguard_endpoint:', 'not an IPv6 address'),
    ('interface-too-long', {'all__interface': 'wireguard-interface0'}, 'wireguard: wireguard_interface:',
     'not a valid interface name'),
    ('interface-bad-char', {'all__interface': 'wg 0'}, 'wireguard: wireguard_interface:', 'not a valid interface name'),
    ('key-too-short', {'hq__public_key': 'YWFhYQ=='}, 'hq: wireguard_public_key:', 'must be 44 characters'),
    ('key-not-base64', {'hq__public_key': '!' * 44}, 'hq: wireguard_public_key:', 'not a canonical base64 WireGuard key'),
    ('key-padding-bits', {'hq__public_key': KEY[:42] + 'F='}, 'hq: wireguard_public_key:', 'padding bits zero'),
    ('bool-garbage', {'remote__behind_nat': 'perhaps'}, 'remote: wireguard_behind_nat:', 'not a boolean'),
    ('strategy-unknown', {'remote__overlap_strategy': 'guess'}, 'remote: wireguard_overlap_strategy:', 'not one of'),
    ('keepalive-negative', {'remote__persistent_keepalive': -1}, 'remote: wireguard_persistent_keepalive:', 'keepalive'),
    ('mtu-silly', {'remote__mtu': 20}, 'remote: wireguard_mtu:', 'MTU'),
    ('dns-garbage', {'remote__dns': ['1.1.1.1, 9.9.9.9']}, 'remote: wireguard_dns:', 'not a DNS server'),
    ('egress-bad', {'hub__egress_interface': 'eth 0'}, 'hub: wireguard_egress_interface:', 'not a valid interface name'),
    ('no-side-can-handshake', {'hub__endpoint': None}, 'remote: wireguard_endpoint:',
     'neither this host nor the hub hub has wireguard_endpoint'),
    ('ipv4-only-full-tunnel', {'remote__extra_allowed_ips': ['0.0.0.0/0']}, 'remote: wireguard_extra_allowed_ips:',
     'routes 0.0.0.0/0 but not ::/0'),
    ('ipv6-only-full-tunnel', {'remote__extra_allowed_ips': ['::/0']}, 'remote: wireguard_extra_allowed_ips:',
     'routes ::/0 but not 0.0.0.0/0'),
    ('local-overlap-fail', {'remote__local_subnets': ['10.0.1.0/24']}, 'remote: wireguard_overlap_strategy:',
     'overlaps wireguard_local_subnets 10.0.1.0/24'),
]


@pytest.mark.parametrize('changes, prefix, fragment', [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(changes, prefix, fragment):
    errors = errors_of(mutate(base(), **changes))
    matching = [e for e in errors if e.startswith(prefix + ' ')]
    assert matching, errors
    assert any(fragment in e for e in matching), matching


def test_ipv4_only_full_tunnel_allowed_when_facts_show_no_ipv6():
    hv = mutate(base(), remote__extra_allowed_ips=['0.0.0.0/0'])
    hv['remote']['__wireguard_has_ipv6'] = False
    plan = build_plan(hv)
    assert '0.0.0.0/0' in plan['remote']['peers'][0]['allowed_ips']


MESH = {
    'a': {'wireguard_topology': 'mesh', 'wireguard_address': '10.9.0.1/24', 'wireguard_endpoint': '192.0.2.1'},
    'b': {'wireguard_topology': 'mesh', 'wireguard_address': '10.9.0.2/24'},
    'c': {'wireguard_topology': 'mesh', 'wireguard_address': '10.9.0.3/24'},
    'd': {'wireguard_topology': 'mesh', 'wireguard_address': '10.9.0.4/24'},
}


def test_mesh_unreachable_pairs_without_relay():
    errors = errors_of(copy.deepcopy(MESH))
    assert sorted(e.split(':')[0] for e in errors) == ['b', 'c', 'd']
    assert all(': wireguard_endpoint: not set, and ' in e for e in errors)
    assert any(e.startswith('b: ') and 'c, d have none' in e for e in errors)


def test_mesh_unreachable_pairs_with_relay_are_fine():
    hv = copy.deepcopy(MESH)
    for h in hv.values():
        h['wireguard_hub'] = 'a'
    assert build_plan(hv)['b']['peers'][0]['name'] == 'a'


def test_mesh_relay_without_endpoint():
    hv = copy.deepcopy(MESH)
    for h in hv.values():
        h['wireguard_hub'] = 'b'
    errors = errors_of(hv)
    assert any(e.startswith('b: wireguard_hub: the relay b has no wireguard_endpoint') for e in errors)


def test_mesh_full_tunnel_needs_hub():
    hv = {k: dict(v, wireguard_endpoint='192.0.2.%d' % i) for i, (k, v) in enumerate(sorted(MESH.items()), 1)}
    hv['b']['wireguard_full_tunnel'] = True
    errors = errors_of(hv)
    assert errors == ['b: wireguard_full_tunnel: needs wireguard_hub (a relay with an endpoint) in the mesh topology: '
                      'these prefixes are sent to the hub']


def test_two_peers_claim_overlapping_prefix_seen_by_a_third_mesh_member():
    hv = {k: dict(v, wireguard_endpoint='192.0.2.%d' % i) for i, (k, v) in enumerate(sorted(MESH.items()), 1)}
    hv['b']['wireguard_lan_subnets'] = ['10.50.0.0/16']
    hv['c']['wireguard_lan_subnets'] = ['10.50.7.0/24']
    errors = errors_of(hv)
    assert any(e.startswith('c: wireguard_lan_subnets: 10.50.7.0/24 overlaps 10.50.0.0/16 (wireguard_lan_subnets of b)')
               for e in errors)


def test_extra_prefix_overlapping_a_direct_peer_in_mesh():
    hv = {k: dict(v, wireguard_endpoint='192.0.2.%d' % i, wireguard_hub='a')
          for i, (k, v) in enumerate(sorted(MESH.items()), 1)}
    hv['b']['wireguard_lan_subnets'] = ['10.50.0.0/24']
    hv['c']['wireguard_extra_allowed_ips'] = ['10.50.0.0/23']
    errors = errors_of(hv)
    assert any(e.startswith('c: wireguard_extra_allowed_ips: ') and 'peer b' in e and 'peer a' in e for e in errors), errors


def test_external_peer_validation():
    hv = base()
    for h in hv.values():
        h['wireguard_external_peers'] = [
            {'name': 'phone', 'address': '10.100.0.9', 'public_key': 'short'},
            {'name': 'tablet', 'address': '10.100.0.1', 'public_key': KEY},
            {'address': '10.100.0.10'},
        ]
    errors = errors_of(hv)
    assert any(e.startswith('phone: wireguard_external_peers[phone].public_key:') for e in errors)
    assert any(e.startswith('tablet: wireguard_external_peers[tablet].address: duplicate tunnel address') or
               e.startswith('hq: wireguard_address: duplicate tunnel address') for e in errors)
    assert any(e.startswith('wireguard: wireguard_external_peers[2]:') for e in errors)


def test_all_errors_are_collected_and_formatted():
    hv = mutate(base(), hq__lan_subnets=['10.0.1.1/24'], remote__listen_port=0, hub__public_key='nope',
                all__interface='this-name-is-far-too-long')
    errors = errors_of(hv)
    assert len(errors) >= 4
    for line in errors:
        host, var, problem = line.split(': ', 2)
        assert host and var and problem
    assert errors == sorted(errors)
    message = str(PlanError(errors))
    assert all(line in message for line in errors)


def test_parse_network_returns_specs():
    net = parse_network(base())
    assert net.topology == 'bastion' and net.hub == 'hub' and net.interface == 'wg0'
    assert list(net.tunnel_keys) == [(4, 0x0A640000, 24)]
    assert net.hosts['remote'].endpoint is None
    assert net.hosts['hq'].endpoint == '198.51.100.1:51820'


def test_empty_group():
    with pytest.raises(PlanError) as err:
        build_plan({})
    assert err.value.errors == ['wireguard: hosts: the network group has no hosts']
