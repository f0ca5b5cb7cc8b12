# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Truth tables of the topology engine: for each topology, who peers with whom and exactly which
prefixes, Endpoint, keepalive and routing facts each host gets."""
from __future__ import annotations

import ipaddress

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import PlanError, build_plan


def network(topology, hosts, **group):
    """hostvars for a network: group vars (wireguard_ prefix added) merged into every host."""
    common = {'wireguard_topology': topology}
    common.update({'wireguard_' + k: v for k, v in group.items()})
    return {name: dict(common, **{'wireguard_' + k: v for k, v in hv.items()}) for name, hv in hosts.items()}


def peers(plan, host):
    return {p['name']: p for p in plan[host]['peers']}


def allowed(plan, host, peer):
    return peers(plan, host)[peer]['allowed_ips']


def covered(prefixes):
    nets = [ipaddress.ip_network(p) for p in prefixes]
    return {str(n) for fam in (4, 6) for n in ipaddress.collapse_addresses([x for x in nets if x.version == fam])}


# ----------------------------------------------------------------------------- full tunnel

FULL = {
    'vps': {'address': ['10.0.0.1/24', 'fd00::1/64'], 'endpoint': '203.0.113.1'},
    'laptop': {'address': ['10.0.0.2/24', 'fd00::2/64']},
    'phone': {'address': ['10.0.0.3/24', 'fd00::3/64'], 'full_tunnel': False,
              'extra_allowed_ips': ['192.168.50.0/24']},
    'office': {'address': ['10.0.0.4/24', 'fd00::4/64'], 'endpoint': '198.51.100.7:4500', 'lan_subnets': ['192.168.7.0/24']},
}


@pytest.mark.parametrize('host, peer, expected_allowed, endpoint, keepalive', [
    ('laptop', 'vps', ['0.0.0.0/0', '::/0'], '203.0.113.1:51820', 25),
    ('phone', 'vps', ['10.0.0.0/24', '192.168.50.0/24', 'fd00::/64'], '203.0.113.1:51820', 25),
    ('office', 'vps', ['0.0.0.0/0', '::/0'], '203.0.113.1:51820', None),
    ('vps', 'laptop', ['10.0.0.2/32', 'fd00::2/128'], None, None),
    ('vps', 'phone', ['10.0.0.3/32', 'fd00::3/128'], None, None),
    ('vps', 'office', ['10.0.0.4/32', '192.168.7.0/24', 'fd00::4/128'], '198.51.100.7:4500', None),
])
def test_full_tunnel_truth_table(host, peer, expected_allowed, endpoint, keepalive):
    plan = build_plan(network('full_tunnel', FULL, hub='vps'))
    entry = peers(plan, host)[peer]
    assert entry['allowed_ips'] == expected_allowed
    assert entry['endpoint'] == endpoint
    assert entry['persistent_keepalive'] == keepalive


def test_full_tunnel_clients_only_peer_with_the_hub_and_hub_routes():
    plan = build_plan(network('full_tunnel', FULL, hub='vps'))
    for client in ('laptop', 'phone', 'office'):
        assert list(peers(plan, client)) == ['vps']
        assert plan[client]['role'] == 'client'
    assert sorted(peers(plan, 'vps')) == ['laptop', 'office', 'phone']
    routing = plan['vps']['routing']
    assert routing['forward_ipv4'] and routing['forward_ipv6'] and routing['forward_to_egress']
    # egress unknown in the inventory: null, the firewall role uses the default-route interface
    assert {'family': 'ipv4', 'source': '10.0.0.0/24', 'destination': None, 'egress_interface': None} in routing['masquerade']
    assert {'family': 'ipv6', 'source': 'fd00::/64', 'destination': None, 'egress_interface': None} in routing['masquerade']
    # the office's LAN leaves through the hub too (its full tunnel carries the LAN's traffic)
    assert {'family': 'ipv4', 'source': '192.168.7.0/24', 'destination': None, 'egress_interface': None} in routing['masquerade']
    assert plan['vps']['listen_port'] == 51820
    assert plan['laptop']['listen_port'] is None           # no endpoint: does not listen
    assert plan['office']['listen_port'] == 51820           # reachable: listens
    assert plan['office']['routing']['forward_ipv4'] and plan['office']['routing']['lan_subnets'] == ['192.168.7.0/24']
    assert not plan['laptop']['routing']['forward_ipv4']


def test_full_tunnel_ipv4_only_tunnel_masquerades_ipv4_only_but_still_routes_v6_default():
    hosts = {'vps': {'address': '10.0.0.1/24', 'endpoint': '203.0.113.1', 'egress_interface': 'ens3'},
             'laptop': {'address': '10.0.0.2/24'}}
    plan = build_plan(network('full_tunnel', hosts, hub='vps'))
    assert allowed(plan, 'laptop', 'vps') == ['0.0.0.0/0', '::/0']   # IPv6 dropped in the tunnel, never leaked
    assert plan['vps']['routing']['masquerade'] == [{'family': 'ipv4', 'source': '10.0.0.0/24', 'destination': None, 'egress_interface': 'ens3'}]
    assert plan['vps']['routing']['forward_ipv6'] is False


def test_split_only_hub_forwards_and_masquerades_extras_beyond_it():
    # every client split tunnel: the extra prefixes beyond the hub still leave by its egress
    hosts = {'vps': {'address': '10.0.0.1/24', 'endpoint': '203.0.113.1', 'egress_interface': 'ens3',
                     'lan_subnets': ['192.168.1.0/24']},
             'phone': {'address': '10.0.0.2/24', 'full_tunnel': False, 'extra_allowed_ips': ['198.51.100.0/24']},
             'office': {'address': '10.0.0.3/24', 'full_tunnel': False, 'extra_allowed_ips': ['192.168.1.0/24'],
                        'lan_subnets': ['192.168.7.0/24']}}
    routing = build_plan(network('full_tunnel', hosts, hub='vps'))['vps']['routing']
    assert routing['forward_ipv4'] and routing['forward_to_egress']
    assert routing['masquerade'] == [{'family': 'ipv4', 'source': '10.0.0.0/24', 'destination': None, 'egress_interface': 'ens3'}]
    # only the hub's own LAN and the tunnel: nothing leaves, no NAT, no accept toward the egress
    hosts['phone']['extra_allowed_ips'] = ['192.168.1.0/24']
    routing = build_plan(network('full_tunnel', hosts, hub='vps'))['vps']['routing']
    assert routing['forward_ipv4'] and not routing['forward_to_egress'] and routing['masquerade'] == []
    # another client's LAN is relayed wg -> wg, not sent out of the egress either
    hosts['phone']['extra_allowed_ips'] = ['192.168.7.0/25']
    routing = build_plan(network('full_tunnel', hosts, hub='vps'))['vps']['routing']
    assert routing['relay'] and not routing['forward_to_egress'] and routing['masquerade'] == []


def test_split_client_with_a_lan_has_its_lan_masqueraded_too():
    hosts = {'vps': {'address': '10.0.0.1/24', 'endpoint': '203.0.113.1'},
             'office': {'address': '10.0.0.3/24', 'full_tunnel': False, 'extra_allowed_ips': ['198.51.100.0/24'],
                        'lan_subnets': ['192.168.7.0/24']}}
    masq = build_plan(network('full_tunnel', hosts, hub='vps'))['vps']['routing']['masquerade']
    assert [m['source'] for m in masq] == ['10.0.0.0/24', '192.168.7.0/24']


def test_external_peers_attach_to_the_hub():
    hosts = {'vps': {'address': '10.0.0.1/24', 'endpoint': 'vpn.example.org'}, 'laptop': {'address': '10.0.0.2/24'}}
    key = 'A' * 43 + '='
    plan = build_plan(network('full_tunnel', hosts, hub='vps', external_peers=[
        {'name': 'phone', 'public_key': key, 'address': '10.0.0.9'}]))
    phone = peers(plan, 'vps')['phone']
    assert phone['allowed_ips'] == ['10.0.0.9/32'] and phone['public_key'] == key and phone['endpoint'] is None
    assert phone['preshared_key'] is False
    assert 'phone' not in plan
    assert peers(plan, 'laptop')['vps']['endpoint'] == 'vpn.example.org:51820'


# ----------------------------------------------------------------------------- site to site

def test_site_to_site_three_sites():
    hosts = {
        'a': {'address': '10.100.0.1/24', 'endpoint': '192.0.2.1', 'lan_subnets': ['10.1.0.0/16']},
        'b': {'address': '10.100.0.2/24', 'endpoint': '192.0.2.2', 'lan_subnets': ['10.2.0.0/16', '172.20.0.0/24']},
        'c': {'address': '10.100.0.3/24', 'lan_subnets': ['10.3.0.0/16']},
    }
    plan = build_plan(network('site_to_site', hosts))
    assert allowed(plan, 'a', 'b') == ['10.2.0.0/16', '10.100.0.2/32', '172.20.0.0/24']
    assert allowed(plan, 'a', 'c') == ['10.3.0.0/16', '10.100.0.3/32']
    assert allowed(plan, 'c', 'a') == ['10.1.0.0/16', '10.100.0.1/32']
    assert peers(plan, 'c')['a']['persistent_keepalive'] == 25      # c has no endpoint
    assert peers(plan, 'a')['c']['persistent_keepalive'] is None
    assert peers(plan, 'a')['c']['endpoint'] is None
    for host in hosts:
        assert plan[host]['role'] == 'gateway'
        assert plan[host]['routing']['forward_ipv4']
        own = hosts[host]['lan_subnets']
        for entry in plan[host]['peers']:
            # never route a gateway's own LAN back into the tunnel
            assert not set(own) & set(entry['allowed_ips'])
        assert plan[host]['routing']['masquerade'] == []          # site_nat off: routed


def test_site_nat_masquerades_toward_the_own_lans_whatever_the_interface():
    # the egress (default-route) interface is the WAN of a gateway with a LAN card: it is not matched
    hosts = {
        'a': {'address': '10.100.0.1/24', 'endpoint': '192.0.2.1', 'lan_subnets': ['10.1.0.0/24', 'fd01::/64'],
              'site_nat': True, 'egress_interface': 'wan0'},
        'b': {'address': '10.100.0.2/24', 'endpoint': '192.0.2.2', 'lan_subnets': ['10.2.0.0/24']},
    }
    plan = build_plan(network('site_to_site', hosts))
    assert plan['a']['routing']['masquerade'] == [
        {'family': 'ipv4', 'source': '10.2.0.0/24', 'destination': '10.1.0.0/24', 'egress_interface': None},
        {'family': 'ipv4', 'source': '10.100.0.0/24', 'destination': '10.1.0.0/24', 'egress_interface': None},
    ]
    assert not plan['a']['routing']['forward_to_egress']
    assert plan['b']['routing']['masquerade'] == []


# ----------------------------------------------------------------------------- bastion

def _bastion(n, **extra):
    hosts = {'bastion': {'address': '10.100.0.254/24', 'endpoint': '203.0.113.99'}}
    for i in range(1, n + 1):
        hv = {'address': '10.100.0.%d/24' % i, 'lan_subnets': ['10.%d.0.0/24' % i]}
        if i % 2:
            hv['endpoint'] = '198.51.100.%d' % i
        hosts['s%02d' % i] = hv
    hosts.update(extra)
    return network('bastion', hosts, hub='bastion')


def test_bastion_spokes_see_exactly_everyone_else_through_the_bastion():
    hv = _bastion(12)
    plan = build_plan(hv)
    spokes = [h for h in plan if h != 'bastion']
    for spoke in spokes:
        assert list(peers(plan, spoke)) == ['bastion']
        others = ['10.100.0.254/32']
        for other in spokes:
            if other != spoke:
                others += [hv[other]['wireguard_address'].split('/')[0] + '/32'] + hv[other]['wireguard_lan_subnets']
        got = allowed(plan, spoke, 'bastion')
        assert covered(got) == covered(others)          # exact: not one address more or less
        own = hv[spoke]['wireguard_lan_subnets'][0]
        assert not any(ipaddress.ip_network(p).overlaps(ipaddress.ip_network(own)) for p in got)
        assert len(got) < len(others)                    # aggregated where exact
        entry = peers(plan, spoke)['bastion']
        expect_ka = None if 'wireguard_endpoint' in hv[spoke] else 25
        assert entry['persistent_keepalive'] == expect_ka
    bastion = peers(plan, 'bastion')
    assert sorted(bastion) == sorted(spokes)
    for spoke in spokes:
        assert sorted(bastion[spoke]['allowed_ips']) == sorted(
            [hv[spoke]['wireguard_address'].split('/')[0] + '/32'] + hv[spoke]['wireguard_lan_subnets'])
        assert (bastion[spoke]['endpoint'] is None) == ('wireguard_endpoint' not in hv[spoke])
        assert bastion[spoke]['persistent_keepalive'] is None
    assert plan['bastion']['routing']['relay'] and plan['bastion']['role'] == 'relay'


def test_hub_and_spoke_alias():
    hv = _bastion(2)
    for h in hv.values():
        h['wireguard_topology'] = 'hub_and_spoke'
    assert build_plan(hv)['bastion']['topology'] == 'bastion'


def test_keepalive_rules():
    hv = _bastion(2)
    hv['s01']['wireguard_behind_nat'] = True
    hv['s02']['wireguard_persistent_keepalive'] = 0
    plan = build_plan(hv)
    assert peers(plan, 's01')['bastion']['persistent_keepalive'] == 25   # endpoint but behind NAT
    assert peers(plan, 's02')['bastion']['persistent_keepalive'] is None  # explicitly disabled
    hv['s01']['wireguard_persistent_keepalive'] = 15
    assert peers(build_plan(hv), 's01')['bastion']['persistent_keepalive'] == 15


# ----------------------------------------------------------------------------- mesh

def test_mesh_all_reachable_is_a_full_mesh():
    hosts = {'m%d' % i: {'address': ['10.9.0.%d/24' % i, 'fd09::%d/64' % i], 'endpoint': '192.0.2.%d' % i}
             for i in range(1, 6)}
    plan = build_plan(network('mesh', hosts))
    for host in hosts:
        assert sorted(peers(plan, host)) == sorted(h for h in hosts if h != host)
        for peer, entry in peers(plan, host).items():
            i = peer[1:]
            assert entry['allowed_ips'] == ['10.9.0.%s/32' % i, 'fd09::%s/128' % i]
            assert entry['endpoint'] == '192.0.2.%s:51820' % i
            assert entry['persistent_keepalive'] is None
        assert plan[host]['role'] == 'member'
        assert plan[host]['routing']['forward_ipv4'] is False


def test_mesh_nat_pairs_go_through_the_relay():
    hosts = {
        'relay': {'address': '10.9.0.1/24', 'endpoint': '203.0.113.5'},
        'pub': {'address': '10.9.0.2/24', 'endpoint': '203.0.113.6', 'lan_subnets': ['192.168.2.0/24']},
        'nat1': {'address': '10.9.0.3/24', 'lan_subnets': ['192.168.3.0/24']},
        'nat2': {'address': '10.9.0.4/24'},
    }
    plan = build_plan(network('mesh', hosts, hub='relay'))
    # nat hosts talk directly to hosts with an endpoint, and to each other through the relay
    assert sorted(peers(plan, 'nat1')) == ['pub', 'relay']
    assert covered(allowed(plan, 'nat1', 'relay')) == covered(['10.9.0.1/32', '10.9.0.4/32'])
    assert covered(allowed(plan, 'nat2', 'relay')) == covered(['10.9.0.1/32', '10.9.0.3/32', '192.168.3.0/24'])
    assert allowed(plan, 'nat1', 'pub') == ['10.9.0.2/32', '192.168.2.0/24']
    assert peers(plan, 'nat1')['relay']['persistent_keepalive'] == 25
    # hosts with an endpoint peer with everyone directly
    assert sorted(peers(plan, 'pub')) == ['nat1', 'nat2', 'relay']
    assert allowed(plan, 'pub', 'relay') == ['10.9.0.1/32']
    assert plan['relay']['routing']['relay'] is True and plan['relay']['role'] == 'relay'
    assert plan['relay']['routing']['forward_ipv4'] is True
    assert plan['pub']['routing']['relay'] is False


def test_mesh_full_tunnel_member_sends_default_to_relay_which_nats():
    hosts = {
        'relay': {'address': '10.9.0.1/24', 'endpoint': '203.0.113.5', 'egress_interface': 'eth0'},
        'a': {'address': '10.9.0.2/24', 'endpoint': '203.0.113.6'},
        'b': {'address': '10.9.0.3/24', 'full_tunnel': True},
    }
    plan = build_plan(network('mesh', hosts, hub='relay'))
    assert allowed(plan, 'b', 'relay') == ['0.0.0.0/0', '::/0']
    assert allowed(plan, 'b', 'a') == ['10.9.0.2/32']            # more specific than the default: direct
    assert plan['relay']['routing']['forward_to_egress'] is True
    assert plan['relay']['routing']['masquerade'] == [{'family': 'ipv4', 'source': '10.9.0.0/24', 'destination': None, 'egress_interface': 'eth0'}]


def test_preshared_key_flag_is_pairwise():
    hosts = {'a': {'address': '10.9.0.1/24', 'endpoint': '192.0.2.1', 'preshared_keys': True},
             'b': {'address': '10.9.0.2/24', 'endpoint': '192.0.2.2'},
             'c': {'address': '10.9.0.3/24', 'endpoint': '192.0.2.3'}}
    plan = build_plan(network('mesh', hosts))
    assert peers(plan, 'a')['b']['preshared_key'] and peers(plan, 'b')['a']['preshared_key']
    assert not peers(plan, 'b')['c']['preshared_key']


def test_endpoint_forms():
    hosts = {'a': {'address': 'fd00::1/64', 'endpoint': '[2001:db8::1]:1234'},
             'b': {'address': 'fd00::2/64', 'endpoint': '2001:db8::2', 'listen_port': 4000},
             'c': {'address': 'fd00::3/64', 'endpoint': 'c.example.net:5555'}}
    plan = build_plan(network('mesh', hosts))
    assert peers(plan, 'c')['a']['endpoint'] == '[2001:db8::1]:1234'
    assert peers(plan, 'c')['b']['endpoint'] == '[2001:db8::2]:4000'
    assert peers(plan, 'a')['c']['endpoint'] == 'c.example.net:5555'
    assert plan['b']['listen_port'] == 4000
    assert plan['a']['addresses'] == ['fd00::1/64']


# ----------------------------------------------------------------------------- overlap strategies

def _cafe(strategy):
    hosts = {
        'bastion': {'address': '10.100.0.254/24', 'endpoint': '203.0.113.99'},
        'office': {'address': '10.100.0.2/24', 'endpoint': '198.51.100.2', 'lan_subnets': ['10.0.2.0/24']},
        'laptop': {'address': '10.100.0.3/24', 'local_subnets': ['10.0.2.0/24']},
    }
    if strategy:
        hosts['laptop']['overlap_strategy'] = strategy
    return network('bastion', hosts, hub='bastion')


@pytest.mark.parametrize('strategy, expected, loose, says', [
    ('split', ['10.0.2.0/25', '10.0.2.128/25', '10.100.0.2/32', '10.100.0.254/32'], True,
     'split into 10.0.2.0/25, 10.0.2.128/25: these routes are more specific than the local 10.0.2.0/24, so traffic '
     'to the local network goes into the tunnel and local hosts are no longer reached directly'),
    ('widen', ['10.0.2.0/23', '10.100.0.2/32', '10.100.0.254/32'], True,
     'widened to 10.0.2.0/23: the local 10.0.2.0/24 stays local (its connected route is more specific), '
     'the rest of 10.0.2.0/23 goes into the tunnel'),
])
def test_split_route_hack(strategy, expected, loose, says):
    plan = build_plan(_cafe(strategy))
    assert allowed(plan, 'laptop', 'bastion') == expected
    assert len(plan['laptop']['notes']) == 1 and plan['laptop']['notes'][0].startswith(
        'wireguard_overlap_strategy=%s: 10.0.2.0/24 (wireguard_lan_subnets of office) ' % strategy)
    assert says in plan['laptop']['notes'][0]
    assert plan['office']['notes'] == []
    assert plan['laptop']['routing']['loose_rp_filter'] is loose
    # the other hosts are not affected
    assert plan['office']['routing']['loose_rp_filter'] is False
    assert covered(allowed(plan, 'office', 'bastion')) == covered(['10.100.0.254/32', '10.100.0.3/32'])


def test_split_route_hack_default_fails_with_explanation():
    with pytest.raises(PlanError) as err:
        build_plan(_cafe(None))
    assert len(err.value.errors) == 1
    line = err.value.errors[0]
    assert line.startswith('laptop: wireguard_overlap_strategy: ')
    assert '10.0.2.0/24' in line and 'office' in line and 'split or widen' in line


def test_site_gateways_with_the_same_lan_need_a_strategy():
    hosts = {'a': {'address': '10.100.0.1/24', 'endpoint': '192.0.2.1', 'lan_subnets': ['10.0.2.0/24']},
             'b': {'address': '10.100.0.2/24', 'endpoint': '192.0.2.2', 'lan_subnets': ['10.0.2.0/24']}}
    with pytest.raises(PlanError) as err:
        build_plan(network('site_to_site', hosts))
    assert sorted(e.split(':')[0] for e in err.value.errors) == ['a', 'b']
    hosts['a']['overlap_strategy'] = 'split'
    hosts['b']['overlap_strategy'] = 'split'
    plan = build_plan(network('site_to_site', hosts))
    assert allowed(plan, 'a', 'b') == ['10.0.2.0/25', '10.0.2.128/25', '10.100.0.2/32']


def test_wider_remote_route_is_not_an_overlap_problem():
    hosts = {'a': {'address': '10.100.0.1/24', 'endpoint': '192.0.2.1', 'lan_subnets': ['10.0.0.0/12']},
             'b': {'address': '10.100.0.2/24', 'endpoint': '192.0.2.2', 'local_subnets': ['10.0.2.0/24']}}
    plan = build_plan(network('site_to_site', hosts))
    assert allowed(plan, 'b', 'a') == ['10.0.0.0/12', '10.100.0.1/32']  # local /24 stays more specific
    assert plan['b']['routing']['loose_rp_filter'] is False


# ----------------------------------------------------------------------------- scale (correctness, not time)

def test_large_mesh_is_symmetric():
    n = 120
    hosts = {'h%03d' % i: {'address': '10.50.%d.%d/16' % (i // 250, i % 250 + 1), 'endpoint': '192.0.2.1:%d' % (1000 + i),
                           'lan_subnets': ['172.16.%d.0/24' % i]} for i in range(n)}
    plan = build_plan(network('mesh', hosts))
    for host in hosts:
        assert len(plan[host]['peers']) == n - 1
        for peer in plan[host]['peers']:
            back = peers(plan, peer['name'])[host]
            assert back['allowed_ips'] == ['10.50.%d.%d/32' % (int(host[1:]) // 250, int(host[1:]) % 250 + 1),
                                           '172.16.%d.0/24' % int(host[1:])]


# ----------------------------------------------------------------------------- dual stack and external peers

def test_dual_stack_bastion():
    hosts = {
        'bastion': {'address': ['10.100.0.254/24', 'fd64::fe/64'], 'endpoint': '[2001:db8::99]:51820'},
        'hq': {'address': ['10.100.0.1/24', 'fd64::1/64'], 'endpoint': '2001:db8::1',
               'lan_subnets': ['10.0.1.0/24', '2001:db8:1::/48']},
        'remote': {'address': ['10.100.0.2/24', 'fd64::2/64'], 'lan_subnets': ['10.0.2.0/24', '2001:db8:2::/48']},
    }
    plan = build_plan(network('bastion', hosts, hub='bastion'))
    assert covered(allowed(plan, 'remote', 'bastion')) == covered(
        ['10.100.0.254/32', 'fd64::fe/128', '10.100.0.1/32', 'fd64::1/128', '10.0.1.0/24', '2001:db8:1::/48'])
    assert peers(plan, 'remote')['bastion']['endpoint'] == '[2001:db8::99]:51820'
    assert peers(plan, 'bastion')['hq']['endpoint'] == '[2001:db8::1]:51820'
    routing = plan['bastion']['routing']
    assert routing['forward_ipv4'] and routing['forward_ipv6'] and routing['relay']
    assert plan['hq']['routing']['forward_ipv6'] is True
    assert plan['hq']['addresses'] == ['10.100.0.1/24', 'fd64::1/64']


def test_mesh_external_peers_are_reached_through_the_relay():
    key = 'YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE='
    hosts = {
        'relay': {'address': '10.9.0.1/24', 'endpoint': '203.0.113.5'},
        'pub': {'address': '10.9.0.2/24', 'endpoint': '203.0.113.6'},
        'nat': {'address': '10.9.0.3/24'},
    }
    plan = build_plan(network('mesh', hosts, hub='relay', external_peers=[
        {'name': 'phone', 'public_key': key, 'address': '10.9.0.50/32', 'lan_subnets': ['192.168.99.0/24']}]))
    assert peers(plan, 'relay')['phone']['allowed_ips'] == ['10.9.0.50/32', '192.168.99.0/24']
    assert covered(allowed(plan, 'pub', 'relay')) == covered(['10.9.0.1/32', '10.9.0.50/32', '192.168.99.0/24'])
    assert covered(allowed(plan, 'nat', 'relay')) == covered(['10.9.0.1/32', '10.9.0.50/32', '192.168.99.0/24'])
    assert 'phone' not in peers(plan, 'pub')


def test_split_keeps_an_already_more_specific_remote_prefix():
    hosts = {'a': {'address': '10.100.0.1/24', 'endpoint': '192.0.2.1', 'lan_subnets': ['10.0.2.128/25']},
             'b': {'address': '10.100.0.2/24', 'endpoint': '192.0.2.2', 'local_subnets': ['10.0.2.0/24'],
                   'overlap_strategy': 'split'}}
    plan = build_plan(network('site_to_site', hosts))
    assert allowed(plan, 'b', 'a') == ['10.0.2.128/25', '10.100.0.1/32']
    assert plan['b']['routing']['loose_rp_filter'] is True
    hosts['b']['overlap_strategy'] = 'widen'
    plan = build_plan(network('site_to_site', hosts))
    assert allowed(plan, 'b', 'a') == ['10.0.2.0/23', '10.100.0.1/32']


def test_shared_read_only_plan_equals_the_plain_plan_and_renders_the_same():
    from ansible_collections.netfleet.wireguard.plugins.module_utils._render import render_conf
    hosts = {'relay': {'address': '10.9.0.1/24', 'endpoint': '203.0.113.5'},
             'a': {'address': '10.9.0.2/24', 'endpoint': '203.0.113.6', 'behind_nat': True},
             'b': {'address': '10.9.0.3/24', 'lan_subnets': ['192.168.3.0/24'], 'preshared_keys': True},
             'c': {'address': '10.9.0.4/24', 'endpoint': '203.0.113.8'},
             'd': {'address': '10.9.0.5/24', 'endpoint': '203.0.113.9'}}
    hv = network('mesh', hosts, hub='relay')
    plain, shared = build_plan(hv), build_plan(hv, share=True)
    assert plain == shared
    assert peers(shared, 'd')['c'] is peers(shared, 'relay')['c']          # same peer, keepalive, PSK: one dict
    assert peers(shared, 'a')['c'] is not peers(shared, 'relay')['c']      # a keeps alive (behind NAT)
    assert peers(plain, 'd')['c'] is not peers(plain, 'relay')['c']
    cache = {}
    for host in plain:
        assert render_conf(host, shared[host], cache=cache) == render_conf(host, plain[host])
    # the plain plan's lists are private copies: changing one host does not change another
    peers(plain, 'relay')['c']['allowed_ips'].append('1.2.3.4/32')
    assert '1.2.3.4/32' not in peers(plain, 'a')['c']['allowed_ips']
