# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_policy: parsing, resolution against the plan, the evaluator's truth tables per topology,
policy tests, errors that name the rule, host and variable, and the rule lines it produces."""
from __future__ import annotations

import copy
import ipaddress

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _hooks as h
from ansible_collections.netfleet.wireguard.plugins.module_utils import _policy
from ansible_collections.netfleet.wireguard.plugins.module_utils._devices import profile_entry
from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import PlanError, build_plan
from ansible_collections.netfleet.wireguard.plugins.module_utils._validate import parse_network


def network(topology, hosts, **group):
    common = {'wireguard_topology': topology}
    common.update({'wireguard_' + k: v for k, v in group.items()})
    return {name: dict(common, **{'wireguard_' + k: v for k, v in hv.items()}) for name, hv in hosts.items()}


HUB_HOSTS = {
    'hub': {'address': '10.0.0.1/24', 'endpoint': '203.0.113.1', 'lan_subnets': ['192.168.50.0/24']},
    'c1': {'address': '10.0.0.2/24'}, 'c2': {'address': '10.0.0.3/24'}, 'c3': {'address': '10.0.0.4/24'},
}
POLICY = {
    'default': 'deny',
    'groups': {'admins': ['c1', 'phone']},
    'rules': [
        {'name': 'admins', 'from': 'group:admins', 'to': 'any'},
        {'name': 'c2-web', 'from': 'c2', 'to': 'c3', 'proto': 'tcp', 'ports': [8080, '9000-9010']},
        {'name': 'lan', 'from': ['c2', 'c3'], 'to': 'lan:hub', 'proto': 'icmp'},
    ],
}
PHONE = [{'name': 'phone', 'public_key': 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=', 'address': '10.0.0.10', 'full_tunnel': False}]


def hub_plan(policy=None, topology='full_tunnel', warnings=None, **group):
    group.setdefault('hub', 'hub')
    if policy is not None:
        group['policy'] = policy
    return build_plan(network(topology, HUB_HOSTS, full_tunnel=False, external_peers=PHONE, **group),
                      warnings=warnings)


def verdicts(plan, hostvars, pairs):
    """{(src, dst, proto, port): allowed} evaluated on the plan's access blocks."""
    net = parse_network(hostvars)
    model = _policy.Network(net, plan, {name: profile_entry(net, spec, []) for name, spec in net.externals.items()})
    access = {name: _runtime(entry['access']) for name, entry in plan.items() if 'access' in entry}
    out = {}
    for src, dst, proto, port in pairs:
        res = _policy.connect(model, access, ipaddress.ip_address(src), ipaddress.ip_address(dst), proto, port)
        out[(src, dst, proto, port)] = res.allowed
    return out


def _runtime(block):
    """A plan access block back into the evaluator's form (what a host enforces, read back)."""
    def side(value):
        return None if value is None else [ipaddress.ip_network(n) for fam in ('ipv4', 'ipv6') for n in value[fam]]
    return {'default': block['default'], 'rules': [
        dict(r, **{'from': side(r['from']), 'to': side(r['to']),
                   'ports': [tuple(p) for p in r['ports']] if r['ports'] else None}) for r in block['rules']]}


# ----------------------------------------------------------------------------- truth tables

C1, C2, C3, HUB, LAN_HOST, PHONE_IP = '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.1', '192.168.50.10', '10.0.0.10'
FULL_TUNNEL_TABLE = [
    ((C1, C3, 'icmp', None), True),            # admins reach everything
    ((C1, HUB, 'tcp', 22), True),
    ((PHONE_IP, C2, 'tcp', 443), True),        # a device in the group, through the hub
    ((C2, C3, 'tcp', 8080), True),
    ((C2, C3, 'tcp', 9005), True),
    ((C2, C3, 'tcp', 9011), False),            # outside the range
    ((C2, C3, 'udp', 8080), False),            # other protocol
    ((C2, C3, 'icmp', None), False),
    ((C3, C2, 'tcp', 8080), False),            # client to client through the hub: the other way
    ((C3, C1, 'icmp', None), False),
    ((C2, HUB, 'tcp', 22), False),             # a client to a hub service
    ((C2, LAN_HOST, 'icmp', None), True),
    ((C3, LAN_HOST, 'tcp', 80), False),        # the LAN rule is icmp only
    ((LAN_HOST, C2, 'icmp', None), False),     # the LAN starts nothing
]


@pytest.mark.parametrize('pair,allowed', FULL_TUNNEL_TABLE)
def test_full_tunnel_hub_truth_table(pair, allowed):
    plan = hub_plan(POLICY)
    hostvars = network('full_tunnel', HUB_HOSTS, hub='hub', full_tunnel=False, external_peers=PHONE, policy=POLICY)
    assert verdicts(plan, hostvars, [pair])[pair] is allowed


def test_only_the_hub_enforces_and_clients_stay_as_they_were():
    plan = hub_plan(POLICY)
    assert [name for name, entry in plan.items() if 'access' in entry] == ['hub']
    bare = hub_plan()
    assert {k: v for k, v in plan['hub'].items() if k != 'access'} == bare['hub']
    for client in ('c1', 'c2', 'c3'):
        assert plan[client] == bare[client]


@pytest.mark.parametrize('policy', [{'default': 'allow'}, {'default': 'allow', 'rules': [{'from': 'c1', 'to': 'c2'}]},
                                    {'rules': [{'from': 'c1', 'to': 'c2'}], 'tests': [
                                        {'from': 'c3', 'to': 'c2', 'expect': 'allow'}]}])
def test_default_allow_without_deny_rules_changes_nothing(policy):
    assert hub_plan(policy) == hub_plan()


BASTION = {
    'bastion': {'address': '10.1.0.1/24', 'endpoint': '203.0.113.9'},
    'office': {'address': '10.1.0.2/24', 'lan_subnets': ['10.20.0.0/24']},
    'home': {'address': '10.1.0.3/24', 'lan_subnets': ['10.30.0.0/24']},
    'laptop': {'address': '10.1.0.4/24'},
}
BASTION_POLICY = {'default': 'deny', 'rules': [
    {'name': 'home-to-office-ssh', 'from': 'lan:home', 'to': 'lan:office', 'proto': 'tcp', 'ports': [22]},
    {'name': 'laptop-office', 'from': 'laptop', 'to': ['office', 'lan:office']},
    {'name': 'no-home', 'action': 'deny', 'from': 'any', 'to': 'lan:home'},
    {'name': 'rest-to-bastion', 'from': 'any', 'to': 'bastion', 'proto': 'icmp'},
]}
BASTION_TABLE = [
    (('10.30.0.5', '10.20.0.5', 'tcp', 22), True),      # LAN to LAN through the relay, both gateways agree
    (('10.30.0.5', '10.20.0.5', 'tcp', 23), False),
    (('10.20.0.5', '10.30.0.5', 'tcp', 22), False),
    (('10.1.0.4', '10.20.0.7', 'icmp', None), True),
    (('10.1.0.4', '10.1.0.2', 'tcp', 80), True),
    (('10.1.0.4', '10.30.0.7', 'icmp', None), False),
    (('10.1.0.4', '10.1.0.3', 'icmp', None), False),
    (('10.1.0.3', '10.1.0.1', 'icmp', None), True),
    (('10.1.0.3', '10.1.0.1', 'tcp', 22), False),
]


@pytest.mark.parametrize('pair,allowed', BASTION_TABLE)
def test_bastion_truth_table(pair, allowed):
    hostvars = network('bastion', BASTION, hub='bastion', policy=BASTION_POLICY)
    plan = build_plan(hostvars)
    assert sorted(name for name, entry in plan.items() if 'access' in entry) == ['bastion', 'home', 'office']
    assert verdicts(plan, hostvars, [pair])[pair] is allowed


SITES = {
    'hq': {'address': '10.2.0.1/24', 'endpoint': '198.51.100.1', 'lan_subnets': ['10.10.1.0/24']},
    'branch': {'address': '10.2.0.2/24', 'endpoint': '198.51.100.2', 'lan_subnets': ['10.10.2.0/24']},
}
SITES_POLICY = {'default': 'deny', 'rules': [{'name': 'branch-uses-hq-web', 'from': 'lan:branch', 'to': 'lan:hq',
                                              'proto': 'tcp', 'ports': [443]}],
                'tests': [{'name': 'web', 'from': '10.10.2.9', 'to': '10.10.1.9', 'port': 443, 'expect': 'allow'},
                          {'name': 'hq-starts-nothing', 'from': '10.10.1.9', 'to': '10.10.2.9', 'port': 443,
                           'expect': 'deny'}]}


@pytest.mark.parametrize('pair,allowed', [
    (('10.10.2.9', '10.10.1.9', 'tcp', 443), True),
    (('10.10.2.9', '10.10.1.9', 'icmp', None), False),
    (('10.10.1.9', '10.10.2.9', 'tcp', 443), False),
    (('10.2.0.2', '10.10.1.9', 'tcp', 443), False),      # the gateway itself is not its LAN
])
def test_site_to_site_truth_table(pair, allowed):
    hostvars = network('site_to_site', SITES, policy=SITES_POLICY)
    plan = build_plan(hostvars)
    assert sorted(name for name, entry in plan.items() if 'access' in entry) == ['branch', 'hq']
    assert verdicts(plan, hostvars, [pair])[pair] is allowed


# ----------------------------------------------------------------------------- errors name rule, host, variable

def problems(policy, hosts=None, topology='full_tunnel', **group):
    """The plan's error lines for ``policy`` on the hub fixture (or ``hosts`` of another topology)."""
    with pytest.raises(PlanError) as info:
        if hosts is None:
            hub_plan(policy, **group)
        else:
            build_plan(network(topology, hosts, policy=policy, **group))
    return info.value.errors


def test_a_failing_policy_test_names_the_test_the_rule_the_host_and_the_variable():
    policy = dict(POLICY, tests=[{'name': 'c3-web-on-c2', 'from': 'c3', 'to': 'c2', 'port': 8080, 'expect': 'allow'},
                                 {'name': 'admin-hub', 'from': 'c1', 'to': 'hub', 'port': 22, 'expect': 'deny'}])
    assert problems(policy) == [
        'hub: wireguard_policy.tests[admin-hub]: expected deny, but c1 -> hub tcp/22 is allowed: accepted on hub '
        'by wireguard_policy.rules[admins] (path c1 -> hub)',
        'hub: wireguard_policy.tests[c3-web-on-c2]: expected allow, but c3 -> c2 tcp/8080 is denied: dropped on hub '
        'by default (path c3 -> hub)',
    ]


@pytest.mark.parametrize('policy,expected', [
    ({'rules': [{'from': 'nobody', 'to': 'c1'}]},
     "wireguard: wireguard_policy.rules[0].from: 'nobody' is not a host of the network nor a device"),
    ({'rules': [{'name': 'x', 'from': 'group:ops', 'to': 'c1'}]},
     'wireguard: wireguard_policy.rules[x].from: group:ops is not a group of wireguard_policy.groups'),
    ({'rules': [{'name': 'x', 'from': 'c1', 'to': 'lan:c2'}]},
     'wireguard: wireguard_policy.rules[x].to: lan:c2: c2 has no LAN'),
    ({'rules': [{'name': 'x', 'from': 'c1', 'to': 'fd00::/64'}]},
     'wireguard: wireguard_policy.rules[x]: never matches: its sources and destinations share no address family'),
    ({'rules': [{'name': 'x', 'from': 'c1', 'to': 'c2', 'ports': [22]}]},
     'wireguard: wireguard_policy: rules[x].ports: never matches: ports need proto tcp or udp'),
    ({'tests': [{'name': 't', 'from': 'c1', 'to': 'ghost', 'expect': 'deny'}]},
     "wireguard: wireguard_policy.tests[t]: 'ghost' is not a host of the network"),
])
def test_unknown_names_and_rules_that_never_match_are_errors(policy, expected):
    errors = problems(dict({'default': 'deny'}, **policy))
    assert any(line.startswith(expected) for line in errors), errors


def test_an_allow_rule_the_routing_cannot_carry_is_an_error():
    """Split clients send the hub only the tunnel network and the LANs: nothing beyond goes through it."""
    errors = problems({'default': 'deny', 'rules': [{'name': 'web', 'from': 'c1', 'to': '198.51.100.0/24'}]})
    assert errors == ['wireguard: wireguard_policy.rules[web]: allows c1 -> 198.51.100.0/24, but the routing '
                      '(AllowedIPs) gives no path: c1 has no route through the tunnel to 198.51.100.1']
    # the same rule with a client that sends the hub that prefix (and the hub forwards it out): accepted
    hosts = dict(HUB_HOSTS, c1={'address': '10.0.0.2/24', 'extra_allowed_ips': ['198.51.100.0/24']})
    build_plan(network('full_tunnel', hosts, hub='hub', full_tunnel=False, egress_interface='eth0',
                       policy={'default': 'deny', 'rules': [{'name': 'web', 'from': 'c1', 'to': '198.51.100.0/24'}]}))


def test_warnings_for_shadowed_rules_and_denials_nobody_enforces():
    warnings = []
    hub_plan({'default': 'deny', 'rules': [{'name': 'wide', 'from': 'any', 'to': 'c2'},
                                           {'name': 'narrow', 'from': 'c1', 'to': 'c2', 'proto': 'tcp'}]},
             warnings=warnings)
    assert 'wireguard: wireguard_policy.rules[narrow]: never matches: rules[wide] above it matches everything it ' \
           'does' in warnings
    hosts = {'a': {'address': '10.3.0.1/24', 'endpoint': '198.51.100.1'},
             'b': {'address': '10.3.0.2/24', 'endpoint': '198.51.100.2'}}
    warnings = []
    build_plan(network('mesh', hosts, policy={'rules': [{'name': 'no', 'action': 'deny', 'from': 'a', 'to': 'b'}]}),
               warnings=warnings)
    assert any('rules[no]: denies a -> b, but no host on its path (a -> b) enforces' in w for w in warnings), warnings


HOSTILE = [
    {'rules': [{'from': 'c1"; flush ruleset; "', 'to': 'c2'}]},
    {'rules': [{'from': 'c1', 'to': 'c2\n', 'proto': 'tcp'}]},
    {'rules': [{'from': 'c1', 'to': 'c2', 'proto': 'tcp; flush ruleset'}]},
    {'rules': [{'from': 'c1', 'to': 'c2', 'proto': 'tcp', 'ports': ['22 } accept; drop {']}]},
    {'rules': [{'from': 'c1', 'to': 'c2', 'proto': 'tcp', 'ports': ['22,23 -j ACCEPT']}]},
    {'rules': [{'from': 'c1', 'to': '10.0.0.0/24 -j ACCEPT'}]},
    {'rules': [{'name': 'x" accept comment "', 'from': 'c1', 'to': 'c2'}]},
    {'rules': [{'name': 'x\u202e', 'from': 'c1', 'to': 'c2'}]},
    {'groups': {'a$(reboot)': ['c1']}},
    {'groups': {'ops': ['c1 -j ACCEPT']}},
    {'tests': [{'from': 'c1', 'to': 'c2', 'port': '22; reboot', 'expect': 'allow'}]},
    {'rules': [{'from': 'c1', 'to': 'c2', 'proto': 'tcp', 'ports': [0]}]},
    {'rules': [{'from': 'c1', 'to': 'c2', 'proto': 'tcp', 'ports': [True]}]},
    {'rules': [{'from': 'c1', 'to': 'c2', 'action': 'accept'}]},
    {'rules': [{'from': 'c1', 'to': 'c2', 'table': 'filter'}]},
    {'default': 'drop'},
    {'rules': 'c1 -> c2'},
]


@pytest.mark.parametrize('policy', HOSTILE)
def test_hostile_policy_values_are_refused_naming_the_variable(policy):
    errors = problems(policy)
    assert errors and all(line.startswith('wireguard: wireguard_policy') for line in errors), errors
    assert all('\n' not in line and '\u202e' not in line for line in errors)


def test_the_hooks_refuse_a_tampered_access_block():
    plan = hub_plan(POLICY)
    for path, value in ((('rules', 0, 'label'), 'rules[x]"; drop'), (('rules', 1, 'proto'), 'tcp drop'),
                        (('rules', 1, 'ports'), [[22, '23 } drop']]), (('rules', 0, 'from', 'ipv4'), ['1.2.3.4 drop']),
                        (('default',), 'reject')):
        entry = copy.deepcopy(plan['hub'])
        target = entry['access']
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        with pytest.raises(ValueError):
            h.build_hooks(entry, 'nftables', egress_interface='eth0')


# ----------------------------------------------------------------------------- the lines on the hub

def test_nft_and_iptables_lines_of_the_hub():
    entry = hub_plan(POLICY)['hub']
    text = h.build_hooks(entry, 'nftables', egress_interface='eth0')['nft_ruleset']
    assert '\t\tip saddr { 10.0.0.2, 10.0.0.10 } counter accept comment "rules[admins]"\n' in text
    assert ('\t\tip saddr { 10.0.0.3 } ip daddr { 10.0.0.4 } tcp dport { 8080, 9000-9010 } counter accept '
            'comment "rules[c2-web]"\n') in text
    assert text.count('counter drop comment "default deny"') == 2
    assert 'chain policy_input {' in text and '\t\tiifname != "wg0" oifname != "wg0" accept\n' in text
    ipt = h.build_hooks(entry, 'iptables', egress_interface='eth0')
    assert ('iptables -w -A NETFLEET-%i-POL -s 10.0.0.3 -d 10.0.0.4 -p tcp -m multiport --dports 8080,9000:9010 '
            '-j RETURN') in ipt['post_up']
    assert ipt['post_up'].index('iptables -w -C FORWARD -j NETFLEET-%i-POL 2>/dev/null || '
                                'iptables -w -I FORWARD -j NETFLEET-%i-POL') > ipt['post_up'].index(
        'iptables -w -C FORWARD -j NETFLEET-%i-FWD 2>/dev/null || iptables -w -I FORWARD -j NETFLEET-%i-FWD')
    assert ipt['access_cleanup_objects'] == ['ipv6 filter NETFLEET-wg0-POL', 'ipv6 filter NETFLEET-wg0-IN']
    assert not any('ip6tables' in line for line in ipt['post_up'])


def test_more_than_fifteen_ports_are_split_over_multiport_lines():
    policy = {'default': 'deny', 'rules': [{'name': 'many', 'from': 'c1', 'to': 'c2', 'proto': 'udp',
                                            'ports': list(range(1000, 1020))}]}
    lines = [line for line in h.build_hooks(hub_plan(policy)['hub'], 'iptables', egress_interface='eth0')['post_up']
             if '-A NETFLEET-%i-POL' in line and 'multiport' in line]
    assert len(lines) == 2 and lines[0].count(',') == 14


def test_a_lan_host_reaching_its_own_gateway_is_not_tunnel_traffic():
    """The gateway's input chain only sees what comes out of the tunnel: its LAN reaches it whatever the policy."""
    hostvars = network('site_to_site', SITES, policy=SITES_POLICY)
    plan = build_plan(hostvars)
    assert verdicts(plan, hostvars, [('10.10.1.9', '10.2.0.1', 'tcp', 22)]) == {('10.10.1.9', '10.2.0.1', 'tcp', 22): True}
    assert verdicts(plan, hostvars, [('10.2.0.2', '10.2.0.1', 'tcp', 22)]) == {('10.2.0.2', '10.2.0.1', 'tcp', 22): False}
