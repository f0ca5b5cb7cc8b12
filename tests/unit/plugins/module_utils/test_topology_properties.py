# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property checks on random networks: whatever the topology, every tunnel address and LAN is
reachable from every host by following the peers' AllowedIPs (longest prefix match, at most
one relay hop), and the way back is accepted by the receiver's source validation."""
from __future__ import annotations

import ipaddress
import random

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import build_plan


def lpm(entry, address):
    """The peer WireGuard picks on this host for ``address`` (None when no AllowedIPs matches)."""
    best, best_len, ties = None, -1, 0
    for peer in entry['peers']:
        for prefix in peer['allowed_ips']:
            net = ipaddress.ip_network(prefix)
            if address.version == net.version and address in net:
                if net.prefixlen > best_len:
                    best, best_len, ties = peer, net.prefixlen, 0
                elif net.prefixlen == best_len:
                    ties += 1
    assert ties == 0, 'two peers claim %s with the same prefix length' % address
    return best


def random_network(rng, topology):
    n = rng.randint(3, 10)
    hosts = {}
    names = ['h%02d' % i for i in range(n)]
    hub = names[0] if topology in ('full_tunnel', 'bastion') or rng.random() < 0.6 else None
    for i, name in enumerate(names):
        hv = {'wireguard_topology': topology, 'wireguard_address': ['10.77.0.%d/24' % (i + 1), 'fd77::%x/64' % (i + 1)]}
        if hub:
            hv['wireguard_hub'] = hub
        reachable = name == hub or rng.random() < 0.5 or (topology in ('mesh', 'site_to_site') and not hub)
        if reachable:
            hv['wireguard_endpoint'] = '198.51.100.%d' % (i + 1)
        if topology != 'full_tunnel' and rng.random() < 0.7 and name != hub:
            hv['wireguard_lan_subnets'] = ['172.16.%d.0/24' % i, '2001:db8:%x::/48' % (i + 1)]
        if topology == 'full_tunnel' and name != hub and rng.random() < 0.4:
            hv['wireguard_full_tunnel'] = False
        hosts[name] = hv
    return hosts, hub


def destinations(hosts, name):
    hv = hosts[name]
    out = [ipaddress.ip_interface(a).ip for a in hv['wireguard_address']]
    out += [next(ipaddress.ip_network(lan).hosts()) for lan in hv.get('wireguard_lan_subnets', [])]
    return out


@pytest.mark.parametrize('seed', range(10))
@pytest.mark.parametrize('topology', ['mesh', 'site_to_site', 'bastion', 'full_tunnel'])
def test_everything_reachable(topology, seed):
    rng = random.Random(seed * 31 + len(topology))
    hosts, hub = random_network(rng, topology)
    plan = build_plan(hosts)
    for src in hosts:
        for dst in hosts:
            if dst == src:
                continue
            for address in destinations(hosts, dst):
                if topology == 'full_tunnel' and src != hub and hosts[src].get('wireguard_full_tunnel') is False \
                        and address not in ipaddress.ip_network('10.77.0.0/24') \
                        and address not in ipaddress.ip_network('fd77::/64'):
                    continue   # split-tunnel client: only the tunnel network goes to the hub
                path = [src]
                peer = lpm(plan[src], address)
                assert peer is not None, (src, dst, str(address))
                hop = peer['name']
                path.append(hop)
                if hop != dst:
                    assert hop == hub, path           # only the hub/relay forwards
                    assert plan[hop]['routing']['relay']
                    second = lpm(plan[hop], address)
                    assert second is not None and second['name'] == dst, (path, str(address))
                    path.append(dst)
                # source validation on the receiving side of each hop
                for sender, receiver in zip(path, path[1:]):
                    src_addr = destinations(hosts, src)[0]
                    back = lpm(plan[receiver], src_addr)
                    assert back is not None and back['name'] == sender, (path, 'inbound check', receiver)
                # a host without endpoint is never given an Endpoint, and only reachable ones listen
                first = {p['name']: p for p in plan[src]['peers']}[hop]
                assert (first['endpoint'] is None) == ('wireguard_endpoint' not in hosts[hop])
