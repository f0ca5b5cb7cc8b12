# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Split tunnel: a full_tunnel hub whose clients are all split tunnel, and both overlap strategies.

Expected from the engine's rules: each client sends the hub the tunnel network, the hub's LAN and
its extra prefix 10.89.172.0/24 (beyond the hub), nothing else; its own default route stays. A
client's extra prefix beyond the network makes the hub forward and masquerade the tunnel out of
its egress, so the far host is reached and sees the hub's address. The hub's LAN equals the café
network both clients sit on: with `widen` the remote prefix becomes 192.168.50.0/23, the café /24
stays local and the rest (192.168.51.0/24) goes into the tunnel; with `split` it becomes its two
/25 halves, which win over the café's connected /24, so all of 192.168.50.0/24 goes into the
tunnel: the hub's LAN host is reached, the café host no longer is.
"""

from __future__ import annotations

import pytest

HUB = 'sp-hub'
WIDEN = 'sp-widen'
SPLIT = 'sp-split'
CLIENTS = {WIDEN: '10.0.171.2', SPLIT: '10.0.171.3'}
HUB_TUNNEL = '10.0.171.1'
HUB_WAN = '10.89.171.10'
HUB_UPSTREAM = '10.89.172.10'       # the hub's address on the far host's network
FAR = '10.89.172.30'                # "who am I" on TCP 8080; reached only through the hub
FAR_NAME = 'sp-far'
ELSEWHERE = '198.51.100.7'          # any other address outside: stays on the client's default route
CLIENT_GATEWAY = '10.89.171.254'    # the clients' default route (a router that does not exist)
LAN_HOST = '192.168.50.10'          # behind the hub ("who am I" on TCP 8080)
CAFE_HOST = '192.168.50.20'         # in the café, next to both clients
BEYOND = '192.168.51.1'             # on the hub, in the widened /23 but outside the café /24


def allowed_to_hub(node, name):
    allowed = node(name).wg('allowed-ips')
    assert list(allowed) == [node(HUB).public_key()]
    return sorted(allowed[node(HUB).public_key()])


@pytest.mark.parametrize('name', [HUB, *CLIENTS])
def test_interface_up_and_enabled_at_boot(node, name):
    n = node(name)
    assert n.run('ip link show wg0').rc == 0
    assert n.run('systemctl is-enabled wg-quick@wg0').stdout.strip() == 'enabled'


def test_clients_send_the_hub_only_their_split_prefixes(node):
    assert allowed_to_hub(node, WIDEN) == ['10.0.171.0/24', '10.89.172.0/24', '192.168.50.0/23']
    assert allowed_to_hub(node, SPLIT) == [
        '10.0.171.0/24', '10.89.172.0/24', '192.168.50.0/25', '192.168.50.128/25']


def test_hub_knows_every_client_by_its_tunnel_address(node):
    allowed = node(HUB).wg('allowed-ips')
    assert allowed == {node(c).public_key(): [ip + '/32'] for c, ip in CLIENTS.items()}


def test_hub_forwards_and_masquerades_toward_its_egress(node):
    hub = node(HUB)
    assert hub.out('sysctl -n net.ipv4.ip_forward').strip() == '1'
    egress = hub.route_dev(FAR)
    ruleset = hub.out('nft list ruleset')
    assert 'masquerade' in ruleset and '10.0.171.0/24' in ruleset and egress in ruleset


# --- all clients split tunnel: the far host through the hub, the rest not ---------------------

@pytest.mark.parametrize('name', CLIENTS)
def test_client_reaches_the_hub(node, name):
    assert node(name).ping(HUB_TUNNEL)


@pytest.mark.parametrize('name', CLIENTS)
def test_far_host_is_routed_into_the_tunnel_and_nothing_else(node, name):
    n = node(name)
    # precondition: the client has a default route of its own
    assert 'via ' + CLIENT_GATEWAY in n.out('ip -4 route show default')
    assert n.route_dev(FAR) == 'wg0'
    other = n.out('ip -o -4 route get %s', ELSEWHERE)
    assert 'dev wg0' not in other and 'via ' + CLIENT_GATEWAY in other


@pytest.mark.parametrize('name', CLIENTS)
def test_far_host_is_reached_and_sees_the_hub_address(node, name):
    # The far host has no route to the tunnel or the clients' networks: an answer comes back only
    # because the hub rewrote the source to its own upstream address.
    assert node(FAR_NAME).route_dev(CLIENTS[name]) == ''
    assert node(name).ping(FAR)
    assert node(name).whoami(FAR) == HUB_UPSTREAM


@pytest.mark.parametrize('src,dst', [(WIDEN, SPLIT), (SPLIT, WIDEN)])
def test_clients_reach_each_other_through_the_hub(node, src, dst):
    # each client's only peer is the hub: the packet is relayed wg0 -> wg0
    assert node(src).route_dev(CLIENTS[dst]) == 'wg0'
    assert node(src).ping(CLIENTS[dst])


# --- overlap strategies: the café network equals the hub's LAN --------------------------------

def cafe_dev(n):
    return n.out("ip -o -4 addr show | awk '$4 ~ /^192\\.168\\.50\\./ {print $2; exit}'").strip()


@pytest.mark.parametrize('name', CLIENTS)
def test_overlap_strategy_is_noted_and_rp_filter_loosened(node, name):
    n = node(name)
    strategy = 'widen' if name == WIDEN else 'split'
    assert '# note: wireguard_overlap_strategy=%s' % strategy in n.out('cat /etc/wireguard/wg0.conf')
    assert n.out('sysctl -n net.ipv4.conf.all.rp_filter').strip() == '2'


def test_widen_keeps_the_cafe_local(node):
    n = node(WIDEN)
    dev = cafe_dev(n)
    assert dev and dev != 'wg0'
    assert n.route_dev(CAFE_HOST) == dev
    assert n.ping(CAFE_HOST)


def test_widen_routes_the_rest_of_the_widened_range_into_the_tunnel(node):
    n = node(WIDEN)
    assert n.route_dev(BEYOND) == 'wg0'
    assert n.ping(BEYOND)       # answered by the hub: the packet went through the tunnel
    # the same address from the split client is not in its tunnel (its own default route)
    assert node(SPLIT).route_dev(BEYOND) != 'wg0'


def test_widen_cannot_reach_the_remote_hosts_inside_the_cafe_range(node):
    n = node(WIDEN)
    assert n.route_dev(LAN_HOST) == cafe_dev(n)
    assert not n.ping(LAN_HOST, seconds=3)
    assert n.whoami(LAN_HOST, seconds=3) == ''


def test_split_sends_the_whole_cafe_network_into_the_tunnel(node):
    n = node(SPLIT)
    for address in (CAFE_HOST, LAN_HOST, '192.168.50.200'):
        assert n.route_dev(address) == 'wg0', address


def test_split_reaches_the_hub_lan_routed(node):
    n = node(SPLIT)
    assert n.ping(LAN_HOST)
    assert n.whoami(LAN_HOST) == CLIENTS[SPLIT]     # routed by the hub, not NATed


def test_split_no_longer_reaches_the_cafe_host(node):
    # the café host is up (the widen client, on the same café network, reaches it) ...
    assert node(WIDEN).ping(CAFE_HOST)
    # ... but from the split client its address goes into the tunnel, where nothing answers
    assert not node(SPLIT).ping(CAFE_HOST, seconds=3)


def test_review_copies_equal_the_deployed_files(node, tmp_path):
    """render.yml with the hosts' facts writes what site.yml deployed, byte for byte (secrets aside)."""
    from lab_node import render_with_host_facts, review_differences
    out = render_with_host_facts(tmp_path / 'render')
    assert review_differences(node, [HUB] + list(CLIENTS), out) == []
