# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_diagnose: what a host is asked, and one truth table per check.

The network is the Molecule scenario's: a bastion relay whose cloud network equals HQ's LAN (widened,
loose rp_filter), HQ, and a remote office whose extra prefix the relay NATs out of its egress. A
healthy state is built from the plan; each case changes one thing and names the verdict it expects.
"""
from __future__ import annotations

import copy

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _diagnose as d
from ansible_collections.netfleet.wireguard.plugins.module_utils import _hooks
from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import build_plan
from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import encode_key

RELAY, HQ, RM = 'relay', 'hq', 'rm'
KEYS = {RELAY: encode_key(b'\x01' * 32), HQ: encode_key(b'\x02' * 32), RM: encode_key(b'\x03' * 32)}
STRAY = encode_key(b'\x09' * 32)
HOSTVARS = {
    RELAY: {'wireguard_address': '10.89.199.254/24', 'wireguard_endpoint': '10.89.191.10',
            'wireguard_local_subnets': ['10.89.197.0/24'], 'wireguard_overlap_strategy': 'widen'},
    HQ: {'wireguard_address': '10.89.199.1/24', 'wireguard_endpoint': 'hq.example.test',
         'wireguard_lan_subnets': ['10.89.197.0/24']},
    RM: {'wireguard_address': '10.89.199.2/24', 'wireguard_endpoint': '10.89.191.12',
         'wireguard_lan_subnets': ['10.89.198.0/24'], 'wireguard_extra_allowed_ips': ['10.89.192.0/24']},
}
for _vars in HOSTVARS.values():
    _vars.update(wireguard_topology='bastion', wireguard_hub=RELAY)
PLAN = build_plan(HOSTVARS)
NETWORK = {'plan': PLAN, 'registry': {'wg0': dict(KEYS)}, 'public_keys_pinned': {}}
NAMES = d.key_names(NETWORK, 'wg0')
EGRESS = {RELAY: 'eth1', HQ: 'eth0', RM: 'eth0'}
SETTINGS = {'wireguard_firewall_backend': 'nftables'}


def nft_listing(host):
    """What `nft list table` prints for the rules the plan gives the host (counters as nft adds them)."""
    pol = _hooks.policy(PLAN[host], EGRESS[host])
    chains = [('forward', 'type filter hook forward priority filter; policy accept;', _hooks.nft_forward_rules(pol)),
              ('postrouting', 'type nat hook postrouting priority srcnat; policy accept;', _hooks.nft_nat_rules(pol))]
    lines = ['table inet netfleet_wg_wg0 {']
    for name, head, rules in chains:
        if rules:
            lines += ['\tchain %s {' % name, '\t\t' + head]
            lines += ['\t\t' + r.replace(' accept', ' counter packets 3 bytes 252 accept')
                      .replace(' masquerade', ' counter packets 0 bytes 0 masquerade') for r in rules]
            lines += ['\t}']
    return '\n'.join(lines + ['}'])


def peer_state(host, name, rx, age=5):
    return {'name': None, 'public_key': KEYS[name], 'endpoint': None,
            'allowed_ips': next(p['allowed_ips'] for p in PLAN[host]['peers'] if p['name'] == name),
            'latest_handshake': 1000, 'handshake_age': age, 'transfer_rx': rx, 'transfer_tx': rx,
            'persistent_keepalive': None, 'preshared_key': False}


def healthy(host):
    """The state wireguard_diagnose_info returns for a healthy host of PLAN."""
    entry = PLAN[host]
    peers = [p['name'] for p in entry['peers']]
    wg = {'up': True, 'interface': {'public_key': KEYS[host], 'listen_port': 51820}}
    asked = d.probes(host, PLAN)
    egress = {'ipv4': [EGRESS[host]], 'ipv6': []}
    loose = entry['routing']['loose_rp_filter']
    return {
        'link': {'exists': True, 'up': True, 'mtu': 1420, 'addresses': entry['addresses']},
        'wg_before': dict(wg, peers=[peer_state(host, n, 100) for n in peers]),
        'wg_after': dict(wg, peers=[peer_state(host, n, 400) for n in peers]),
        'routes': {p: {'address': d._diagprobe.representative(p, ['10.89.197.0/24'] if host == RELAY else []),
                       'dev': 'wg0', 'via': None, 'table': None, 'type': None, 'error': None}
                   for p in asked['prefixes']},
        'relay_paths': [{'source': p['source'], 'destination': p['destination'],
                         'dev': 'wg0' if p['to'] == 'peer' else EGRESS[host], 'error': None}
                        for p in asked['relay_paths']],
        'sysctls': {'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '0',
                    'net.ipv4.conf.all.rp_filter': '2' if loose else '1', 'net.ipv4.conf.wg0.rp_filter': '2' if loose else '1'},
        'firewall': {'nft': True, 'nft_table': nft_listing(host), 'iptables': {}},
        'default_routes': egress,
        'resolved': {name: {'addresses': ['10.89.191.11'], 'error': None} for name in asked['names']},
        'pings': {a: {'size': 1392, 'small': [3, 3], 'mtu': [3, 3]} for a in asked['pings']},
    }


def judge(host, state, max_age=180):
    decisions = d.host_decisions(host, PLAN[host], state, SETTINGS)
    return d.judge(host, PLAN, state, decisions, NAMES, max_age, KEYS[host])


def failures(host, state):
    return {(v['check'], v['peer']) for v in judge(host, state) if v['status'] == 'fail'}


# ---------------------------------------------------------------------------------- probes

def test_probes_ask_every_prefix_ping_every_peer_host_and_resolve_endpoint_names():
    asked = d.probes(RM, PLAN)
    assert asked['prefixes'] == next(p['allowed_ips'] for p in PLAN[RM]['peers'])
    assert asked['pings'] == ['10.89.199.254'] and asked['names'] == []
    assert d.probes(RELAY, PLAN)['names'] == ['hq.example.test']


def test_relay_paths_start_behind_each_peer_and_reach_the_next_peer_and_the_egress():
    paths = {(p['peer'], p['source'], p['destination'], p['to']) for p in d.relay_paths(RELAY, PLAN)}
    assert (HQ, '10.89.197.1', '10.89.199.2', 'peer') in paths        # HQ's LAN -> the remote's tunnel address
    assert (RM, '10.89.198.1', '198.51.100.1', 'egress') in paths     # the remote's LAN -> the internet
    assert d.relay_paths(HQ, PLAN) == []                               # a spoke relays nothing


def test_key_names_cover_registry_and_pinned_keys():
    names = d.key_names(dict(NETWORK, public_keys_pinned={'phone': STRAY}), 'wg0')
    assert names[KEYS[HQ]] == HQ and names[STRAY] == 'phone'


# ------------------------------------------------------------------------------ healthy

@pytest.mark.parametrize('host', [RELAY, HQ, RM])
def test_a_healthy_host_has_no_failure_and_every_check_ran(host):
    verdicts = judge(host, healthy(host))
    assert [v for v in verdicts if v['status'] == 'fail'] == []
    ran = {v['check'] for v in verdicts}
    assert ran >= {'interface', 'handshake', 'transfer', 'route', 'allowed_ips', 'forwarding', 'rp_filter', 'mtu'}


# ------------------------------------------------------------------------- truth tables

def _set(path, value):
    def change(state):
        target = state
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _peer(when, name, **values):
    def change(state):
        for peer in state[when]['peers']:
            if peer['public_key'] == KEYS[name]:
                peer.update(values)
    return change


INTERFACE = [
    ('healthy', None, set()),
    ('absent', _set(['link', 'exists'], False), {('interface', None)}),
    ('down', _set(['link', 'up'], False), {('interface', None)}),
    ('wrong address', _set(['link', 'addresses'], ['10.89.199.9/24']), {('interface', None)}),
    ('wrong port', _set(['wg_after', 'interface', 'listen_port'], 51821), {('interface', None)}),
    ('other key', _set(['wg_after', 'interface', 'public_key'], STRAY), {('interface', None)}),
]
HANDSHAKE = [
    ('fresh', _peer('wg_after', RELAY, handshake_age=179), set()),
    ('stale', _peer('wg_after', RELAY, handshake_age=181), {('handshake', RELAY)}),
    ('never', _peer('wg_after', RELAY, handshake_age=None, latest_handshake=None), {('handshake', RELAY)}),
]
TRANSFER = [
    ('nothing back', _peer('wg_after', RELAY, transfer_rx=100), {('transfer', RELAY)}),
    ('bytes but no ping answer', _set(['pings', '10.89.199.254', 'small'], [3, 0]), {('transfer', RELAY)}),
]
ROUTE_AND_DRIFT = [
    ('kernel sends it elsewhere', _set(['routes', '10.89.198.0/24', 'dev'], 'eth0'), {('route', RELAY)}),
    ('no route at all', lambda s: s['routes']['10.89.198.0/24'].update(dev=None, error='Network is unreachable'),
     {('route', RELAY)}),
    ('AllowedIPs replaced with wg set', _peer('wg_after', RELAY, allowed_ips=['10.89.199.254/32']),
     {('route', RELAY), ('allowed_ips', RELAY)}),
    ('an extra prefix', _peer('wg_after', RELAY, allowed_ips=PLAN[HQ]['peers'][0]['allowed_ips'] + ['10.9.0.0/16']),
     {('allowed_ips', RELAY)}),
    ('peer missing', lambda s: s['wg_after'].update(peers=[]),
     {('route', RELAY), ('allowed_ips', RELAY)}),
    ('a stray peer', lambda s: s['wg_after']['peers'].append(dict(s['wg_after']['peers'][0], public_key=STRAY)),
     {('allowed_ips', STRAY)}),
]
MTU_AND_DNS = [
    ('MTU black hole', _set(['pings', '10.89.199.254', 'mtu'], [3, 0]), {('mtu', RELAY)}),
    ('endpoint name does not resolve', None, set()),   # HQ's own peers have no name: see the relay table
]


@pytest.mark.parametrize('case, change, expected', INTERFACE + HANDSHAKE + TRANSFER + ROUTE_AND_DRIFT + MTU_AND_DNS,
                         ids=[c[0] for c in INTERFACE + HANDSHAKE + TRANSFER + ROUTE_AND_DRIFT + MTU_AND_DNS])
def test_hq_truth_table(case, change, expected):
    state = healthy(HQ)
    if change:
        change(state)
    assert failures(HQ, state) == expected, case


RELAY_CASES = [
    ('healthy', None, set()),
    ('forwarding off', _set(['sysctls', 'net.ipv4.ip_forward'], '0'), {('forwarding', None)}),
    ('strict rp_filter where the plan asks for loose', lambda s: s['sysctls'].update(
        {'net.ipv4.conf.all.rp_filter': '1', 'net.ipv4.conf.wg0.rp_filter': '1'}), {('rp_filter', None)}),
    ('all strict, interface loose: effective loose', _set(['sysctls', 'net.ipv4.conf.all.rp_filter'], '1'), set()),
    ('NAT rule deleted', lambda s: s['firewall'].update(nft_table=s['firewall']['nft_table'].replace(
        'oifname "eth1" ip saddr 10.89.198.0/23 counter packets 0 bytes 0 masquerade', '')), {('rules', None)}),
    ('table not loaded', _set(['firewall', 'nft_table'], None), {('rules', None)}),
    ('a rule added by hand', lambda s: s['firewall'].update(nft_table=s['firewall']['nft_table'].replace(
        'policy accept;', 'policy accept;\n\t\tiifname "eth9" accept', 1)), {('rules', None)}),
    ('relayed path refused by rp_filter', lambda s: s['relay_paths'][2].update(dev=None, error='Invalid argument'),
     {('relay', HQ)}),
    ('endpoint name does not resolve', _set(['resolved', 'hq.example.test'], {'addresses': [], 'error': 'not known'}),
     {('endpoint_dns', HQ)}),
]


@pytest.mark.parametrize('case, change, expected', RELAY_CASES, ids=[c[0] for c in RELAY_CASES])
def test_relay_truth_table(case, change, expected):
    state = healthy(RELAY)
    if change:
        change(state)
    assert failures(RELAY, state) == expected, case


def test_forwarding_off_names_the_cause_and_the_fix():
    state = healthy(RELAY)
    state['sysctls']['net.ipv4.ip_forward'] = '0'
    [fail] = [v for v in judge(RELAY, state) if v['status'] == 'fail']
    assert 'ip_forward is 0' in fail['cause'] and 'sysctl -w net.ipv4.ip_forward=1' in fail['fix']


@pytest.mark.parametrize('error, words', [('Invalid argument', 'reverse-path'),
                                          ('Invalid cross-device link', 'reverse-path'),
                                          ('No route to host', 'forwarding is off'),
                                          (None, 'would leave by eth7')])
def test_relay_path_cause_follows_the_kernel_answer(error, words):
    state = healthy(RELAY)
    state['relay_paths'][0].update(dev=None if error else 'eth7', error=error)
    [fail] = [v for v in judge(RELAY, state) if v['status'] == 'fail']
    assert words in fail['cause']


def test_a_device_without_handshake_is_a_warning_not_a_failure():
    plan = copy.deepcopy(PLAN)
    plan[RELAY]['peers'].append({'name': 'phone', 'public_key': STRAY, 'allowed_ips': ['10.89.199.50/32'],
                                 'endpoint': None, 'persistent_keepalive': None, 'preshared_key': False})
    state = healthy(RELAY)
    state['wg_after']['peers'].append(dict(state['wg_after']['peers'][0], public_key=STRAY, handshake_age=None,
                                           allowed_ips=['10.89.199.50/32']))
    names = dict(NAMES, **{STRAY: 'phone'})
    decisions = d.host_decisions(RELAY, plan[RELAY], state, SETTINGS)
    phone = [v for v in d.judge(RELAY, plan, state, decisions, names) if v['peer'] == 'phone']
    assert {(v['check'], v['status']) for v in phone} == {('handshake', 'warn'), ('allowed_ips', 'ok')}


# ------------------------------------------------------------------------- iptables backend

def test_iptables_rules_are_compared_with_the_hook_lines():
    state = healthy(RELAY)
    settings = {'wireguard_firewall_backend': 'iptables'}
    decisions = d.host_decisions(RELAY, PLAN[RELAY], state, settings)
    expected = d.expected_rules(PLAN[RELAY], decisions)
    assert expected['ipv4 nat NETFLEET-wg0-NAT'] == ['-A NETFLEET-wg0-NAT -s 10.89.198.0/23 -o eth1 -j MASQUERADE']
    assert expected['ipv4 filter FORWARD'] == ['-A FORWARD -j NETFLEET-wg0-FWD']
    # our chains hold exactly our rules; in FORWARD another tool's jump is left alone
    listing = {where: '\n'.join(['-N X'] + rules) for where, rules in expected.items()}
    listing['ipv4 filter FORWARD'] += '\n-A FORWARD -j DOCKER-USER'
    state['firewall'] = {'nft': False, 'nft_table': None, 'iptables': listing}
    assert [v['status'] for v in d.check_rules(RELAY, PLAN[RELAY], state, decisions)] == ['ok'] * len(expected)
    listing['ipv4 nat NETFLEET-wg0-NAT'] = '-N NETFLEET-wg0-NAT'
    [fail] = [v for v in d.check_rules(RELAY, PLAN[RELAY], state, decisions) if v['status'] == 'fail']
    assert 'NAT rule' in fail['cause'] and 'wg-quick@wg0' in fail['fix']


# ------------------------------------------------------------------------------ the report

def test_report_orders_problems_by_likelihood_and_names_the_silent_host():
    states = {h: healthy(h) for h in PLAN}
    for host in (HQ, RM):                                   # the relay answers nobody
        _peer('wg_after', RELAY, transfer_rx=100)(states[host])
    states[RELAY]['sysctls']['net.ipv4.ip_forward'] = '0'
    for peer in (HQ, RM):
        _peer('wg_after', peer, transfer_rx=100)(states[RELAY])
    report = d.report({h: judge(h, s) for h, s in states.items()})
    assert not report['ok']
    first = report['problems'][0]
    assert (first['check'], first['host'], first['subject']) == ('transfer', RELAY, 'every peer')
    checks = [p['check'] for p in report['problems']]
    assert checks == sorted(checks, key=d.CHECKS.index)
    assert report['problem_lines'][0].startswith('1. [transfer] relay (every peer): none of its peers')
    assert 'VERDICT' in report['tables'][RELAY]


def test_report_of_a_healthy_network_is_ok_and_an_unreadable_host_fails():
    assert d.report({h: judge(h, healthy(h)) for h in PLAN})['ok']
    report = d.report({HQ: {'unreachable': True, 'msg': 'ssh: connection refused'}, RM: None})
    assert [(p['check'], p['host']) for p in report['problems']] == [('host', HQ), ('host', RM)]
    assert 'connection refused' in report['problems'][0]['cause']
