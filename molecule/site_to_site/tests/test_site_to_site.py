# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Site to site: two gateways join 10.0.1.0/24 (HQ) and 10.0.2.0/24 (remote office).

Expected from the engine's rules for this topology: each gateway has the other as its only peer,
holding exactly the other side's tunnel /32 and LAN, with the other's public endpoint; the
gateways forward between LAN and tunnel without NAT (wireguard_site_nat is off), so a LAN host
sees the other office's hosts with their real addresses.
"""

from __future__ import annotations

import pytest

GW = {
    's2s-hq-gw': {'tunnel': '10.100.0.1', 'wan': '10.89.141.11', 'lan': '10.0.1.0/24', 'lan_host': '10.0.1.50'},
    's2s-rm-gw': {'tunnel': '10.100.0.2', 'wan': '10.89.141.12', 'lan': '10.0.2.0/24', 'lan_host': '10.0.2.50'},
}
OTHER_GW = {'s2s-hq-gw': 's2s-rm-gw', 's2s-rm-gw': 's2s-hq-gw'}
LAN_HOST = {'s2s-hq-host': '10.0.1.50', 's2s-rm-host': '10.0.2.50'}
OTHER_HOST = {'s2s-hq-host': 's2s-rm-host', 's2s-rm-host': 's2s-hq-host'}


@pytest.mark.parametrize('name', GW)
def test_interface_up_and_enabled_at_boot(node, name):
    n = node(name)
    assert n.run('ip link show wg0').rc == 0
    assert n.run('systemctl is-enabled wg-quick@wg0').stdout.strip() == 'enabled'


@pytest.mark.parametrize('name', GW)
def test_gateway_peers_only_with_the_other_site(node, name):
    other = OTHER_GW[name]
    key = node(other).public_key()
    allowed = node(name).wg('allowed-ips')
    assert list(allowed) == [key]
    assert sorted(allowed[key]) == sorted([GW[other]['lan'], GW[other]['tunnel'] + '/32'])
    assert node(name).wg('endpoints')[key] == [GW[other]['wan'] + ':51820']


@pytest.mark.parametrize('name', GW)
def test_gateway_forwards(node, name):
    assert node(name).out('sysctl -n net.ipv4.ip_forward').strip() == '1'


@pytest.mark.parametrize('name', GW)
def test_only_the_remote_lan_goes_into_the_tunnel(node, name):
    n = node(name)
    other = GW[OTHER_GW[name]]
    assert n.route_dev(other['lan_host']) == 'wg0'
    assert n.route_dev(other['tunnel']) == 'wg0'
    # the tunnel's own packets and everything else stay out of it
    assert n.route_dev(other['wan']) not in ('wg0', '')
    assert n.route_dev('198.51.100.7') != 'wg0'


@pytest.mark.parametrize('src', LAN_HOST)
def test_lan_hosts_reach_each_other(node, src):
    assert node(src).ping(LAN_HOST[OTHER_HOST[src]])


@pytest.mark.parametrize('src', LAN_HOST)
def test_lan_traffic_is_routed_not_nated(node, src):
    # The service on the other LAN reports the source it saw: our own LAN address, not a
    # gateway's tunnel or LAN address.
    assert node(src).whoami(LAN_HOST[OTHER_HOST[src]]) == LAN_HOST[src]


def test_review_copies_equal_the_deployed_files(node, tmp_path):
    """render.yml with the hosts' facts writes what site.yml deployed, byte for byte (secrets aside)."""
    from lab_node import render_with_host_facts, review_differences
    out = render_with_host_facts(tmp_path / 'render')
    assert review_differences(node, list(GW), out) == []
