# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hosts whose firewall ufw or firewalld manages (_ufw, and how _hostplan.decide uses it)."""
from __future__ import annotations

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _hostfacts as hf
from ansible_collections.netfleet.wireguard.plugins.module_utils import _hostplan as hp
from ansible_collections.netfleet.wireguard.plugins.module_utils import _ufw
from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import build_plan

NET = {
    'vps': {'wireguard_topology': 'full_tunnel', 'wireguard_hub': 'vps', 'wireguard_address': '10.0.0.1/24',
            'wireguard_endpoint': '203.0.113.1'},
    'laptop': {'wireguard_topology': 'full_tunnel', 'wireguard_hub': 'vps', 'wireguard_address': '10.0.0.2/24'},
}
PLAN = build_plan(NET)
TAG = " comment 'netfleet-wireguard wg0'"
HUB_RULES = ["allow 51820/udp" + TAG, "allow in on wg0" + TAG,
             "route allow in on wg0 out on eth1" + TAG, "route allow in on wg0 out on wg0" + TAG]
# what `ufw show added` printed in the lab image (ufw 0.36.2) after the collection's commands
SHOW_ADDED = """Added user rules (see 'ufw status' for running firewall):
ufw allow 22/tcp
ufw allow 51820/udp comment 'netfleet-wireguard wg0'
ufw route allow in on wg0 out on eth0 comment 'netfleet-wireguard wg0'
ufw route allow in on wg1 out on eth0 comment 'netfleet-wireguard wg1'
"""


def facts(firewall):
    return {'os_family': 'Debian', 'pkg_mgr': 'apt', 'packages': ['wireguard-tools', 'nftables'], 'systemd': True,
            'commands': {'nft': '/usr/sbin/nft', 'ufw': '/usr/sbin/ufw'}, 'firewall': firewall, 'files': {},
            'routes': {'ipv4_default': ['eth1'], 'ipv6_default': [], 'ipv6_ra': []}, 'sysctls': {}}


def ufw_facts(added=(), active=True):
    return facts({'nft_tables': [], 'iptables_chains': [], 'firewalld_running': False,
                  'ufw': {'active': active, 'added': list(added)}})


def test_ufw_output_parsers():
    assert hf.parse_ufw_status("Status: active\n\nTo  Action  From\n")
    assert not hf.parse_ufw_status("Status: inactive\n")
    assert not hf.parse_ufw_status("")
    assert hf.parse_ufw_added(SHOW_ADDED) == [
        "allow 22/tcp", "allow 51820/udp comment 'netfleet-wireguard wg0'",
        "route allow in on wg0 out on eth0 comment 'netfleet-wireguard wg0'",
        "route allow in on wg1 out on eth0 comment 'netfleet-wireguard wg1'"]


def test_full_tunnel_hub_gets_port_tunnel_input_and_routes_in_ufws_words():
    d = hp.decide('vps', PLAN['vps'], ufw_facts())
    ufw = d['firewall']['ufw']
    assert ufw['managed'] and ufw['rules'] == HUB_RULES and ufw['add'] == HUB_RULES and ufw['delete'] == []
    assert ufw['add_argv'][2] == ['route', 'allow', 'in', 'on', 'wg0', 'out', 'on', 'eth1',
                                  'comment', 'netfleet-wireguard wg0']
    assert d['firewall']['pending']
    # NAT stays with the detected backend: the nftables table masquerades beside ufw
    assert d['firewall']['backend'] == 'nftables' and 'masquerade' in d['firewall']['nft_ruleset']
    assert 'ufw rules: netfleet-wireguard wg0 (ufw filters, the backend NATs)' in d['basis']


def test_nothing_to_do_when_ufw_already_has_the_rules_and_user_rules_are_left_alone():
    d = hp.decide('vps', PLAN['vps'], ufw_facts(added=['allow 22/tcp'] + HUB_RULES))
    assert d['firewall']['ufw']['pending'] is False and d['firewall']['ufw']['delete'] == []


def test_rules_no_longer_needed_are_deleted_and_other_interfaces_kept():
    stale = "route allow in on wg0 out on eth0" + TAG
    other = "route allow in on wg1 out on eth0 comment 'netfleet-wireguard wg1'"
    d = hp.decide('vps', PLAN['vps'], ufw_facts(added=HUB_RULES + [stale, other, 'allow 22/tcp']))
    ufw = d['firewall']['ufw']
    assert ufw['add'] == [] and ufw['delete'] == [stale]
    assert ufw['delete_argv'] == [['route', 'delete', 'allow', 'in', 'on', 'wg0', 'out', 'on', 'eth0']]


def test_client_opens_only_its_tunnel_input():
    d = hp.decide('laptop', PLAN['laptop'], ufw_facts())
    assert d['firewall']['ufw']['rules'] == ["allow in on wg0" + TAG]
    closed = hp.decide('laptop', PLAN['laptop'], ufw_facts(),
                       settings={'wireguard_firewall_allow_tunnel_input': False})
    assert closed['firewall']['ufw']['rules'] == []


@pytest.mark.parametrize('backend', ['nftables', 'iptables'])
def test_forced_backend_ignores_ufw_and_removes_what_the_collection_added(backend):
    d = hp.decide('vps', PLAN['vps'], ufw_facts(added=HUB_RULES + ['allow 22/tcp']),
                  settings={'wireguard_firewall_backend': backend})
    ufw = d['firewall']['ufw']
    assert not ufw['managed'] and ufw['add'] == [] and ufw['delete'] == HUB_RULES
    assert ufw['delete_argv'][0] == ['delete', 'allow', '51820/udp']
    assert d['firewall']['backend'] == backend and 'ufw rules' not in ' '.join(d['basis'])


def test_truth_table_of_the_manager():
    # (ufw installed+active, firewalld running, wireguard_firewall_backend) -> manager or error
    cases = [
        (None, False, '', None), (False, False, '', None), (True, False, '', 'ufw'),
        (True, False, 'nftables', None), (True, False, 'ufw', 'ufw'), (None, True, 'iptables', None),
        (True, True, '', 'ufw'),
    ]
    for active, firewalld, forced, expected in cases:
        fw = {'ufw': None if active is None else {'active': active, 'added': []}, 'firewalld_running': firewalld}
        assert _ufw.manager('h', {'firewall': fw}, forced) == expected, (active, firewalld, forced)


@pytest.mark.parametrize('active, firewalld, forced, harden, words', [
    (None, True, '', False, ['h: wireguard_firewall_backend', 'firewalld is running', 'nftables or iptables']),
    (False, False, 'ufw', False, ['h: wireguard_firewall_backend: ufw', 'not active']),
    (None, False, 'ufw', False, ['not active']),
    (True, False, '', True, ['h: wireguard_firewall_harden', 'second default-drop firewall']),
    (True, False, 'ufw', True, ['wireguard_firewall_harden']),
])
def test_refusals_name_the_host_and_the_variable(active, firewalld, forced, harden, words):
    fw = {'ufw': None if active is None else {'active': active, 'added': []}, 'firewalld_running': firewalld}
    with pytest.raises(ValueError) as err:
        _ufw.manager('h', {'firewall': fw}, forced, harden)
    assert all(word in str(err.value) for word in words)


def test_refusal_comes_from_the_host_plan_before_any_change():
    fw = {'nft_tables': [], 'iptables_chains': [], 'ufw': None, 'firewalld_running': True}
    with pytest.raises(ValueError, match='vps: wireguard_firewall_backend: firewalld'):
        hp.decide('vps', PLAN['vps'], facts(fw))
    with pytest.raises(ValueError, match='vps: wireguard_firewall_harden'):
        hp.decide('vps', PLAN['vps'], ufw_facts(), settings={'wireguard_firewall_harden': True})
    # hardened with a forced backend beside an active ufw: the user's choice, planned as before
    d = hp.decide('vps', PLAN['vps'], ufw_facts(), settings={'wireguard_firewall_harden': True,
                                                             'wireguard_firewall_backend': 'nftables',
                                                             'wireguard_firewall_ssh_sources': ['192.0.2.0/24']})
    assert d['harden']['state'] == 'present' and not d['firewall']['ufw']


def test_host_without_ufw_is_planned_as_before():
    d = hp.decide('vps', PLAN['vps'], facts({'nft_tables': [], 'iptables_chains': []}))
    assert d['firewall']['ufw'] is None
    assert hp.decide('vps', PLAN['vps'], ufw_facts(active=False))['firewall']['ufw'] is None


def test_render_without_facts_adds_ufw_rules_only_when_forced():
    assert hp.decide('vps', PLAN['vps'])['firewall']['ufw'] is None
    forced = hp.decide('vps', PLAN['vps'], settings={'wireguard_firewall_backend': 'ufw',
                                                     'wireguard_egress_interface': 'eth1'})
    assert forced['firewall']['ufw']['managed'] and not forced['firewall']['ufw']['pending']


def test_site_gateway_routes_its_lans_with_host_addresses_as_ufw_prints_them():
    entry = {'interface': 'wg0', 'routing': {'forward_ipv4': True, 'forward_ipv6': True,
                                             'lan_subnets': ['192.168.1.0/24', '10.9.9.9/32', 'fd00:1::/64']}}
    rules = _ufw.wanted_rules(entry, allow_tunnel_input=False)
    assert rules == ["route allow in on wg0 to 192.168.1.0/24" + TAG, "route allow out on wg0 from 192.168.1.0/24" + TAG,
                     "route allow in on wg0 to 10.9.9.9" + TAG, "route allow out on wg0 from 10.9.9.9" + TAG,
                     "route allow in on wg0 to fd00:1::/64" + TAG, "route allow out on wg0 from fd00:1::/64" + TAG]


def test_removal_for_a_retired_host():
    status = {'active': True, 'added': hf.parse_ufw_added(SHOW_ADDED)}
    gone = _ufw.removal(status, 'wg0')
    assert gone['delete_argv'] == [['delete', 'allow', '51820/udp'],
                                   ['route', 'delete', 'allow', 'in', 'on', 'wg0', 'out', 'on', 'eth0']]
    assert _ufw.removal(status, 'wg7') is None and _ufw.removal(None, 'wg0') is None
