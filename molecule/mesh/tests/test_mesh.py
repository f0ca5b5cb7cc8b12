# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mesh: four members with IPv4 and IPv6 tunnel addresses, two of them behind their own NAT.

Expected from the engine's rules for this topology: every pair with an endpoint on at least one
side peers directly (the members behind NAT, having no endpoint, keep their mappings open with
PersistentKeepalive 25 toward the two public members); the pair behind NAT cannot handshake, so
neither has an entry for the other: each one's entry for the relay ms-hub also carries the other's
tunnel addresses (and ms-nb's LAN), and the relay forwards wg0 -> wg0 for both families without
NAT, so relayed packets keep the sender's tunnel address.
"""

from __future__ import annotations

import re

import pytest

HUB, PUB, NA, NB = 'ms-hub', 'ms-pub', 'ms-na', 'ms-nb'
TUNNEL = {
    HUB: {4: '10.70.0.1', 6: 'fd70::1'},
    PUB: {4: '10.70.0.2', 6: 'fd70::2'},
    NA: {4: '10.70.0.3', 6: 'fd70::3'},
    NB: {4: '10.70.0.4', 6: 'fd70::4'},
}
WAN = {HUB: '10.89.161.10', PUB: '10.89.161.11'}
# each member behind NAT: its carrier address, its NAT box's private and public addresses
BEHIND_NAT = {
    NA: {'carrier': '100.64.161.12', 'nat_private': '100.64.161.254', 'nat_public': '10.89.161.20'},
    NB: {'carrier': '100.64.162.13', 'nat_private': '100.64.162.254', 'nat_public': '10.89.161.21'},
}
OTHER_NAT = {NA: NB, NB: NA}
LAN_HOST = '10.89.162.50'   # behind ms-nb
FAMILIES = (4, 6)
# pairs that handshake directly (at least one side has an endpoint); the first side pings
DIRECT_PAIRS = [(HUB, PUB), (NA, HUB), (NB, HUB), (NA, PUB), (NB, PUB)]
# another scenario may run on the same 2 cores: give first contacts time
SECONDS = 30


@pytest.mark.parametrize('name', TUNNEL)
def test_interface_up_and_enabled_at_boot(node, name):
    n = node(name)
    assert n.run('ip link show wg0').rc == 0
    assert n.run('systemctl is-enabled wg-quick@wg0').stdout.strip() == 'enabled'


@pytest.mark.parametrize('name', TUNNEL)
def test_member_has_an_ipv4_and_an_ipv6_tunnel_address(node, name):
    addresses = node(name).out('ip -o addr show dev wg0')
    assert ' %s/24 ' % TUNNEL[name][4] in addresses
    assert ' %s/64 ' % TUNNEL[name][6] in addresses


@pytest.mark.parametrize('pair', DIRECT_PAIRS, ids='-'.join)
def test_directly_reachable_pair_handshakes(node, pair):
    first, second = node(pair[0]), node(pair[1])
    assert first.ping(TUNNEL[pair[1]][4], seconds=SECONDS)
    for here, there in ((first, second), (second, first)):
        key = there.public_key()
        res = here.retry('wg show wg0 latest-handshakes', seconds=SECONDS,
                         ok=lambda r, key=key: re.search(r'^%s\s+[1-9]' % re.escape(key), r.stdout, re.M))
        assert re.search(r'^%s\s+[1-9]' % re.escape(key), res.stdout, re.M), (here.name, there.name, res.stdout)


@pytest.mark.parametrize('name', BEHIND_NAT)
def test_nat_members_have_no_entry_for_each_other(node, name):
    """Their only peers are the two public members; the relay's entry carries the other's addresses."""
    allowed = node(name).wg('allowed-ips')
    assert sorted(allowed) == sorted([node(HUB).public_key(), node(PUB).public_key()])
    assert node(OTHER_NAT[name]).public_key() not in allowed
    other = TUNNEL[OTHER_NAT[name]]
    assert {other[4] + '/32', other[6] + '/128'} <= set(allowed[node(HUB).public_key()])
    assert TUNNEL[HUB][4] + '/32' in allowed[node(HUB).public_key()]


@pytest.mark.parametrize('name', BEHIND_NAT)
def test_nat_member_leaves_through_its_nat(node, name):
    assert 'via ' + BEHIND_NAT[name]['nat_private'] in node(name).out('ip -o route get %s', WAN[HUB])
    # the public members cannot reach the carrier networks: only replies to the NAT mappings get in
    for public in WAN:
        assert node(public).route_dev(BEHIND_NAT[name]['carrier']) == ''


@pytest.mark.parametrize('name', BEHIND_NAT)
def test_nat_member_keeps_its_mappings_open(node, name):
    n = node(name)
    keepalive, endpoints = n.wg('persistent-keepalive'), n.wg('endpoints')
    for public in WAN:
        key = node(public).public_key()
        assert keepalive[key] == ['25']
        assert endpoints[key] == [WAN[public] + ':51820']


@pytest.mark.parametrize('observer', WAN)
@pytest.mark.parametrize('name', BEHIND_NAT)
def test_public_members_learned_the_nat_members_through_their_nat(node, observer, name):
    key = node(name).public_key()
    res = node(observer).retry('wg show wg0 endpoints', seconds=SECONDS,
                               ok=lambda r: re.search(r'^%s\s+\d' % re.escape(key), r.stdout, re.M))
    endpoint = dict(line.split() for line in res.stdout.splitlines())[key]
    assert endpoint.rsplit(':', 1)[0] == BEHIND_NAT[name]['nat_public']


def test_relay_forwards_ipv4_and_ipv6(node):
    hub = node(HUB)
    assert hub.out('sysctl -n net.ipv4.ip_forward').strip() == '1'
    assert hub.out('sysctl net.ipv6.conf.all.forwarding').strip() == 'net.ipv6.conf.all.forwarding = 1'


def test_relay_is_hardened(node):
    # the relayed pair below passes through a default-drop forward chain (wireguard_firewall_harden)
    ruleset = node(HUB).out('nft list table inet netfleet_guard')
    assert 'hook forward priority filter; policy drop;' in ruleset.replace('priority 0', 'priority filter')
    assert 'udp dport 51820 accept' in ruleset


@pytest.mark.parametrize('family', FAMILIES)
@pytest.mark.parametrize('name', BEHIND_NAT)
def test_route_to_the_other_nat_member_uses_wg0(node, name, family):
    route = node(name).out('ip -%s -o route get %s', str(family), TUNNEL[OTHER_NAT[name]][family])
    words = route.split()
    assert words[words.index('dev') + 1] == 'wg0', route
    assert words[words.index('src') + 1] == TUNNEL[name][family], route


@pytest.mark.parametrize('family', FAMILIES)
@pytest.mark.parametrize('pair', [(s, d) for s in TUNNEL for d in TUNNEL if s != d], ids='-'.join)
def test_members_reach_each_other(node, pair, family):
    src, dst = pair
    assert node(src).ping(TUNNEL[dst][family], family, seconds=SECONDS)


@pytest.mark.parametrize('family', FAMILIES)
@pytest.mark.parametrize('name', BEHIND_NAT)
def test_nat_pair_goes_through_the_relay(node, name, family):
    """A ping with TTL (hop limit) 1 to the other member behind NAT expires at the relay, whose
    tunnel address reports it: exactly one router on the path, the hub. To a directly reachable
    peer the same ping is answered."""
    n = node(name)
    hub_address = TUNNEL[HUB][family]
    res = n.retry('ping -%s -n -c 1 -W 2 -t 1 %s', str(family), TUNNEL[OTHER_NAT[name]][family], seconds=SECONDS,
                  ok=lambda r: 'From %s ' % hub_address in r.stdout)
    assert 'From %s ' % hub_address in res.stdout, res.stdout + res.stderr
    assert n.retry('ping -%s -n -c 1 -W 2 -t 1 %s', str(family), TUNNEL[PUB][family], seconds=SECONDS).rc == 0


@pytest.mark.parametrize('family', FAMILIES)
@pytest.mark.parametrize('name', BEHIND_NAT)
def test_relayed_traffic_keeps_the_senders_tunnel_address(node, name, family):
    # the "who am I" service of the other member reports the source it saw: ours, not the relay's
    assert node(name).whoami(TUNNEL[OTHER_NAT[name]][family], seconds=SECONDS) == TUNNEL[name][family]


@pytest.mark.parametrize('src', [NA, PUB])
def test_lan_host_behind_a_nat_member_is_reachable_through_the_tunnel(node, src):
    """ms-na reaches ms-nb's LAN through the relay, ms-pub directly; the LAN host sees the tunnel address."""
    n = node(src)
    assert n.route_dev(LAN_HOST) == 'wg0'
    assert n.ping(LAN_HOST, 4, seconds=SECONDS)
    assert n.whoami(LAN_HOST, seconds=SECONDS) == TUNNEL[src][4]


def test_review_copies_equal_the_deployed_files(node, tmp_path):
    """render.yml with the hosts' facts writes what site.yml deployed, byte for byte (secrets aside)."""
    from lab_node import render_with_host_facts, review_differences
    out = render_with_host_facts(tmp_path / 'render')
    assert review_differences(node, list(TUNNEL), out) == []
