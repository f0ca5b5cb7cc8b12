# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bastion: HQ (reachable) and a remote office behind a carrier NAT, relayed by a bastion.

Expected from the engine's rules for this topology: both gateways peer only with the bastion;
the bastion's entry for the remote has no Endpoint (it has none to give) and the remote, having
no endpoint and being behind NAT, keeps the mapping open with PersistentKeepalive 25. The bastion
learns the remote's address from its handshakes: the carrier NAT's public address. Traffic
between the LANs is relayed wg0 -> wg0 by the bastion and keeps its LAN source addresses.
"""

from __future__ import annotations

import re

import pytest

BASTION = 'bst-bastion'
HQ_GW = 'bst-hq-gw'
RM_GW = 'bst-rm-gw'
BASTION_WAN = '10.89.151.10'
HQ_WAN = '10.89.151.11'
CGNAT_PUBLIC = '10.89.151.20'
CGNAT_PRIVATE = '100.64.151.254'
TUNNEL = {BASTION: '10.100.0.254', HQ_GW: '10.100.0.1', RM_GW: '10.100.0.2'}
LAN_HOST = {'bst-hq-host': '10.0.11.50', 'bst-rm-host': '10.0.12.50'}
OTHER_HOST = {'bst-hq-host': 'bst-rm-host', 'bst-rm-host': 'bst-hq-host'}


def config_peers(n):
    """[Peer] sections of /etc/wireguard/wg0.conf as {public key: {option: value}}."""
    text = n.out('cat /etc/wireguard/wg0.conf')
    peers = {}
    for section in re.split(r'^\s*\[Peer\]\s*$', text, flags=re.M)[1:]:
        options = {}
        for line in section.splitlines():
            line = line.split('#', 1)[0].strip()
            if '=' in line:
                key, value = line.split('=', 1)
                options[key.strip().lower()] = value.strip()
        peers[options['publickey']] = options
    return peers


@pytest.mark.parametrize('name', TUNNEL)
def test_interface_up_and_enabled_at_boot(node, name):
    n = node(name)
    assert n.run('ip link show wg0').rc == 0
    assert n.run('systemctl is-enabled wg-quick@wg0').stdout.strip() == 'enabled'


@pytest.mark.parametrize('name', [HQ_GW, RM_GW])
def test_gateways_peer_only_with_the_bastion(node, name):
    assert list(node(name).wg('allowed-ips')) == [node(BASTION).public_key()]


def test_bastion_config_has_no_endpoint_for_the_remote(node):
    peers = config_peers(node(BASTION))
    remote = peers[node(RM_GW).public_key()]
    assert 'endpoint' not in remote
    assert peers[node(HQ_GW).public_key()]['endpoint'] == HQ_WAN + ':51820'


def test_remote_has_no_public_address_and_leaves_through_the_nat(node):
    route = node(RM_GW).out('ip -o route get %s', BASTION_WAN)
    assert 'via ' + CGNAT_PRIVATE in route
    # the bastion cannot reach the carrier network: only replies to the NAT mapping get through
    assert node(BASTION).route_dev('100.64.151.12') == ''


def test_remote_keeps_the_nat_mapping_open(node):
    bastion_key = node(BASTION).public_key()
    rm = node(RM_GW)
    assert rm.wg('persistent-keepalive')[bastion_key] == ['25']
    assert rm.wg('endpoints')[bastion_key] == [BASTION_WAN + ':51820']


def test_bastion_learned_the_remote_through_the_nat(node):
    remote_key = node(RM_GW).public_key()
    bastion = node(BASTION)
    res = bastion.retry('wg show wg0 endpoints',
                        ok=lambda r: re.search(r'^%s\s+\d' % re.escape(remote_key), r.stdout, re.M))
    endpoint = dict(line.split() for line in res.stdout.splitlines())[remote_key]
    assert endpoint.rsplit(':', 1)[0] == CGNAT_PUBLIC
    handshake = bastion.wg('latest-handshakes')[remote_key]
    assert int(handshake[0]) > 0


@pytest.mark.parametrize('src', [HQ_GW, RM_GW])
def test_gateways_reach_each_other_through_the_bastion(node, src):
    dst = RM_GW if src == HQ_GW else HQ_GW
    assert node(src).ping(TUNNEL[BASTION])
    assert node(src).ping(TUNNEL[dst])


@pytest.mark.parametrize('src', LAN_HOST)
def test_lan_hosts_reach_each_other(node, src):
    assert node(src).ping(LAN_HOST[OTHER_HOST[src]])


@pytest.mark.parametrize('src', LAN_HOST)
def test_lan_traffic_keeps_its_source_address(node, src):
    assert node(src).whoami(LAN_HOST[OTHER_HOST[src]]) == LAN_HOST[src]


def test_review_copies_equal_the_deployed_files(node, tmp_path):
    """render.yml with the hosts' facts writes what site.yml deployed, byte for byte (secrets aside)."""
    from lab_node import render_with_host_facts, review_differences
    out = render_with_host_facts(tmp_path / 'render')
    assert review_differences(node, list(TUNNEL), out) == []
