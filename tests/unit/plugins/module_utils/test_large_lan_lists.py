# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A gateway with 10,000 LANs is validated, planned and turned into hook lines (correctness only;
the time is measured by hand, not asserted)."""
from __future__ import annotations

from ansible_collections.netfleet.wireguard.plugins.module_utils._hooks import build_hooks
from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import build_plan

N = 10000


def lans(first_octet, n=N):
    return ['%d.%d.%d.0/24' % (first_octet, i // 256, i % 256) for i in range(n)]


def network():
    group = {'wireguard_topology': 'site_to_site'}
    return {
        'big': dict(group, wireguard_address='10.255.0.1/24', wireguard_endpoint='192.0.2.1',
                    wireguard_lan_subnets=lans(20), wireguard_egress_interface='eth0'),
        'small': dict(group, wireguard_address='10.255.0.2/24', wireguard_endpoint='192.0.2.2',
                      wireguard_lan_subnets=['172.16.0.0/24']),
        'other': dict(group, wireguard_address='10.255.0.3/24', wireguard_endpoint='192.0.2.3',
                      wireguard_lan_subnets=lans(30)),
    }


def test_ten_thousand_lans_plan_and_hooks():
    plan = build_plan(network())
    big = {p['name']: p for p in plan['small']['peers']}['big']
    # 10,000 LANs plus the tunnel address; adjacent /24s stay separate entries (exactly what was listed)
    assert len(big['allowed_ips']) == N + 1
    assert big['allowed_ips'][0] == '10.255.0.1/32'
    assert big['allowed_ips'][1] == '20.0.0.0/24' and big['allowed_ips'][-1] == '20.39.15.0/24'
    assert plan['big']['routing']['lan_subnets'][9999] == '20.39.15.0/24'

    ipt = build_hooks(plan['big'], 'iptables', host='big')
    fwd = [line for line in ipt['post_up'] if line.startswith('iptables -w -A NETFLEET-%i-FWD')]
    assert len(fwd) == 2 * N
    assert fwd[0] == 'iptables -w -A NETFLEET-%i-FWD -d 20.0.0.0/24 -i %i -j ACCEPT'
    assert fwd[1] == 'iptables -w -A NETFLEET-%i-FWD -s 20.0.0.0/24 -o %i -j ACCEPT'
    assert fwd[-1] == 'iptables -w -A NETFLEET-%i-FWD -s 20.39.15.0/24 -o %i -j ACCEPT'

    nft = build_hooks(plan['big'], 'nftables', host='big')
    rules = [line for line in nft['nft_ruleset'].splitlines() if 'counter accept' in line]
    assert len(rules) == 2 * N
    assert rules[0].strip() == 'iifname "wg0" ip daddr 20.0.0.0/24 counter accept'
    assert rules[-1].strip() == 'oifname "wg0" ip saddr 20.39.15.0/24 counter accept'
