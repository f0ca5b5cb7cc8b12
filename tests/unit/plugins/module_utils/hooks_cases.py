# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan entries shaped like the engine's output for the seed topologies (shared by the hook tests)."""
from __future__ import annotations

import copy


def entry(interface="wg0", listen_port=51820, **routing):
    base = {"forward_ipv4": False, "forward_ipv6": False, "relay": False, "masquerade": [],
            "forward_to_egress": False, "lan_subnets": [], "loose_rp_filter": False}
    base.update(routing)
    return {"interface": interface, "role": "x", "addresses": [], "listen_port": listen_port,
            "dns": [], "mtu": None, "routing": base, "peers": []}


CASES = {
    # seed 001 section 02: VPS hub of a full tunnel, IPv4 only
    "full_tunnel_hub": entry(
        forward_ipv4=True, forward_to_egress=True, relay=True,
        masquerade=[{"family": "ipv4", "source": "10.0.0.0/24", "egress_interface": None}]),
    # the same hub with an IPv6 tunnel network (clients send ::/0 too)
    "full_tunnel_hub_dual": entry(
        forward_ipv4=True, forward_ipv6=True, forward_to_egress=True,
        masquerade=[{"family": "ipv4", "source": "10.0.0.0/24", "egress_interface": None},
                    {"family": "ipv6", "source": "fd00:0:0:1::/64", "egress_interface": None}]),
    "full_tunnel_client": entry(listen_port=None),
    # seed 001 section 03: HQ gateway, routed (no NAT)
    "site_gateway": entry(forward_ipv4=True, lan_subnets=["10.0.1.0/24"]),
    # the same gateway with wireguard_site_nat: remote LAN masqueraded toward the own LAN
    "site_gateway_nat": entry(
        forward_ipv4=True, lan_subnets=["10.0.1.0/24"],
        masquerade=[{"family": "ipv4", "source": "10.0.2.0/24", "destination": "10.0.1.0/24",
                     "egress_interface": None}]),
    # seed 001 section 04: bastion relays wg0 -> wg0
    "bastion": entry(forward_ipv4=True, relay=True, loose_rp_filter=True),
    "mesh_member": entry(),
}


def case(name):
    return copy.deepcopy(CASES[name])
