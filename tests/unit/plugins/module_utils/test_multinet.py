# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host in several networks (_multinet): per-network values, clash checks, the forwarding union."""
from __future__ import annotations

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _hostplan as hp
from ansible_collections.netfleet.wireguard.plugins.module_utils import _multinet as mn
from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import build_plan

LAPTOPS = {'wireguard_topology': 'full_tunnel', 'wireguard_hub': 'vps', 'wireguard_interface': 'wg0'}
SITES = {'wireguard_topology': 'site_to_site', 'wireguard_interface': 'wg1', 'wireguard_listen_port': 51821}


def laptops(**vps):
    return build_plan({
        'vps': dict(LAPTOPS, wireguard_address='10.0.0.1/24', wireguard_endpoint='203.0.113.1', **vps),
        'laptop': dict(LAPTOPS, wireguard_address='10.0.0.2/24',
                       **{k: v for k, v in vps.items() if k == 'wireguard_interface'}),
    })


def sites(vps_address='10.100.0.1/24', office_lan='10.0.2.0/24', office_address='10.100.0.2/24', **net):
    common = dict(SITES, **net)
    return build_plan({
        'vps': dict(common, wireguard_address=vps_address, wireguard_endpoint='203.0.113.1',
                    wireguard_lan_subnets=['10.0.1.0/24']),
        'office': dict(common, wireguard_address=office_address, wireguard_endpoint='198.51.100.9',
                       wireguard_lan_subnets=[office_lan]),
    })


# ------------------------------------------------------------------ wireguard_network_groups
def test_network_groups_default_to_the_one_group_and_refuse_bad_lists():
    assert mn.network_groups(None, 'wireguard') == ['wireguard']
    assert mn.network_groups(['a', 'b'], 'wireguard') == ['a', 'b']
    assert mn.network_groups(['a', 'b', 'c'], 'wireguard') == ['a', 'b', 'c']
    for bad, why in ((['a', 'a'], 'listed twice'), ('a,b', 'must be a list'), (['a b'], 'wireguard_network_groups'),
                     (['a', 'b', 'c', 'd'], 'site.yml deploys at most 3')):
        with pytest.raises(ValueError, match=why):
            mn.network_groups(bad, 'wireguard')


def test_memberships_keep_the_order_of_the_list():
    assert mn.memberships(['n1', 'n2'], {'n1': ['a', 'b'], 'n2': ['b'], 'other': ['c']}) == {
        'a': ['n1'], 'b': ['n1', 'n2']}


# ------------------------------------------------------------------ wireguard_networks
def test_per_network_values_are_laid_over_the_host_vars_of_that_network_only():
    values = {'wireguard_address': '10.0.0.1/24', 'wireguard_endpoint': '203.0.113.1',
              'wireguard_networks': {'sites': {'wireguard_address': '10.100.0.1/24'}}}
    assert mn.network_values('vps', 'sites', values, ['laptops', 'sites']) == (
        {'wireguard_address': '10.100.0.1/24', 'wireguard_endpoint': '203.0.113.1'}, [])
    assert mn.network_values('vps', 'laptops', values, ['laptops', 'sites']) == (
        {'wireguard_address': '10.0.0.1/24', 'wireguard_endpoint': '203.0.113.1'}, [])


@pytest.mark.parametrize('per_network, problem', [
    ({'elsewhere': {'wireguard_address': '10.1.0.1/24'}}, 'vps: wireguard_networks.elsewhere: the host is not in'),
    ({'sites': {'wireguard_topology': 'mesh'}}, 'vps: wireguard_networks.sites.wireguard_topology: a network variable'),
    ({'sites': {'wireguard_adress': '10.1.0.1/24'}}, 'vps: wireguard_networks.sites.wireguard_adress: not a variable'),
    ({'sites': ['wireguard_address']}, 'vps: wireguard_networks.sites: must map host variables'),
    (['sites'], 'vps: wireguard_networks: must map a network group'),
])
def test_per_network_values_name_host_and_variable_when_wrong(per_network, problem):
    _values, errors = mn.network_values('vps', 'sites', {'wireguard_networks': per_network}, ['laptops', 'sites'])
    assert len(errors) == 1 and errors[0].startswith(problem), errors


# ------------------------------------------------------------------ clashes (truth table)
@pytest.mark.parametrize('plans, expected', [
    # the example: hub of wg0 and gateway of wg1, nothing shared
    (lambda: {'laptops': laptops(), 'sites': sites()}, []),
    (lambda: {'laptops': laptops(wireguard_interface='wg1'), 'sites': sites()},
     ['vps: wireguard_interface: wg1 is used by the networks laptops and sites']),
    (lambda: {'laptops': laptops(wireguard_listen_port=51821), 'sites': sites()},
     ['vps: wireguard_listen_port: 51821 is used by the networks laptops and sites']),
    (lambda: {'laptops': laptops(), 'sites': sites(vps_address='10.0.0.65/26', office_address='10.0.0.66/26')},
     ['vps: wireguard_address: 10.0.0.0/24 (tunnel network on wg0, network laptops) overlaps 10.0.0.64/26']),
    # a LAN behind wg1 inside wg0's tunnel network: routed by two interfaces
    (lambda: {'laptops': laptops(), 'sites': sites(office_lan='10.0.0.128/25')},
     ['vps: wireguard_address: 10.0.0.0/24 (tunnel network on wg0, network laptops) overlaps 10.0.0.128/25 '
      '(AllowedIPs of peer office on wg1, network sites)']),
    # the same LAN behind a peer of each network
    (lambda: {'laptops': build_plan({
        'vps': dict(LAPTOPS, wireguard_topology='site_to_site', wireguard_address='10.0.0.1/24',
                    wireguard_endpoint='203.0.113.1'),
        'hq': dict(LAPTOPS, wireguard_topology='site_to_site', wireguard_address='10.0.0.2/24',
                   wireguard_endpoint='198.51.100.2', wireguard_lan_subnets=['10.0.2.0/23'])}), 'sites': sites()},
     ['vps: wireguard_networks: 10.0.2.0/23 (AllowedIPs of peer hq on wg0, network laptops) overlaps 10.0.2.0/24']),
    # another host in one network only is never checked against the other network
    (lambda: {'laptops': laptops(), 'sites': {'office': sites(office_lan='10.0.0.0/24')['office']}}, []),
])
def test_clashes(plans, expected):
    errors = mn.clashes(plans())
    assert len(errors) == len(expected), errors
    for error, start in zip(errors, expected):
        assert error.startswith(start), errors


def test_a_default_route_beside_specific_prefixes_is_allowed_two_default_routes_are_not():
    # laptop: full-tunnel client (0.0.0.0/0 to the hub on wg0) and a gateway of a site network on wg1
    client = laptops()
    office = build_plan({
        'laptop': dict(SITES, wireguard_address='10.100.0.3/24', wireguard_lan_subnets=['10.0.3.0/24']),
        'office': dict(SITES, wireguard_address='10.100.0.2/24', wireguard_endpoint='198.51.100.9',
                       wireguard_lan_subnets=['10.0.2.0/24']),
    })
    assert mn.clashes({'laptops': client, 'sites': office}) == []
    errors = mn.clashes({'laptops': client, 'again': {'laptop': dict(client['laptop'], interface='wg2',
                                                                     tunnel_networks=['10.200.0.0/24'],
                                                                     listen_port=None)}})
    assert any('0.0.0.0/0' in error and 'overlaps 0.0.0.0/0' in error for error in errors), errors


# ------------------------------------------------------------------ forwarding: the union
@pytest.mark.parametrize('routings, wanted', [
    ([{'forward_ipv4': True}, {}], ['net.ipv4.ip_forward']),
    ([{'forward_ipv4': True}, {'forward_ipv6': True}], ['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding']),
    ([{}, {'loose_rp_filter': True}], ['net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.default.rp_filter']),
    ([{}, {}], []),
])
def test_forwarding_is_the_union_of_the_networks(routings, wanted):
    entries = [dict(laptops()['vps'], routing=dict(r)) for r in routings]
    decided = hp.decide('vps', entries[0], forwarding_entries=entries)['forwarding']
    assert [key for key, _value in decided['sysctls']] == wanted


def test_removing_one_network_recomputes_the_union_and_rewrites_only_that_part():
    hub, gateway = laptops()['vps'], dict(sites()['vps'], routing=dict(sites()['vps']['routing'], forward_ipv6=True))
    both = hp.decide('vps', hub, forwarding_entries=[hub, gateway])['forwarding']
    assert 'net.ipv6.conf.all.forwarding = 1' in both['content']
    on_host = {'files': {both['file']: {'exists': True, 'mode': '0644', 'uid': 0, 'gid': 0,
                                        'checksum': hp.sha1(both['content'])}},
               'sysctls': {'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '1'}}
    kept = hp.decide('vps', hub, forwarding_entries=[hub])['forwarding']
    assert kept['content'] is not None and 'ipv6' not in kept['content'] and 'net.ipv4.ip_forward = 1' in kept['content']
    settings = hp.settings_with_defaults({})
    paths = hp._paths.host_paths('wg0', settings)
    after = hp._forwarding(mn.forwarding_entry([hub]), on_host, settings, paths)
    assert after['write_file'] and not after['remove_file'] and after['apply'] == []
    unchanged = hp._forwarding(mn.forwarding_entry([hub, gateway]), on_host, settings, paths)
    assert not unchanged['pending']
