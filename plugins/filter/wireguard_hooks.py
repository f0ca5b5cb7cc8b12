# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: wireguard_hooks
short_description: Compute wg-quick PostUp/PostDown firewall and NAT lines from a host's plan entry
version_added: 0.1.0
author: netfleet engineers
description:
  - Turns the C(routing) block of one host's entry in the plan returned by
    M(netfleet.wireguard.wireguard_plan) into C(PostUp)/C(PostDown) lines for wg-quick.
  - A hub whose clients send it a default route or prefixes beyond the network (full tunnel, or
    split tunnel with such extra prefixes) masquerades the tunnel network(s) out of the egress
    interface and accepts forwarding from the tunnel to the egress interface plus
    established/related traffic back.
    A bastion or relay accepts forwarding from the tunnel back into the tunnel. A site gateway
    accepts forwarding between its LAN subnets and the tunnel (routed, no NAT); with
    C(wireguard_site_nat) it masquerades the other sites' traffic toward its own LAN subnets,
    matched by their prefixes rather than by an interface.
  - With the C(iptables) backend the rules live in the chains C(NETFLEET-<if>-FWD) (jumped to
    from the top of C(FORWARD)) and C(NETFLEET-<if>-NAT) (jumped to from C(POSTROUTING)), for
    C(iptables) and C(ip6tables) as needed. PostUp creates or flushes the chains and adds each
    jump only when it is missing; PostDown removes the jumps and deletes the chains. Teardown
    therefore does not depend on the rules themselves and repeated up/down never duplicates rules.
  - With the C(nftables) backend the rules live in the table C(inet netfleet_wg_<if>) described by
    the returned C(nft_ruleset), which the caller writes to C(nft_path). PostUp loads it (the file
    replaces the table atomically); PostDown deletes the table whether or not it exists.
  - Hosts whose plan needs no forwarding or NAT get empty lists.
  - Pure computation on the controller; the logic lives in the collection's C(_hooks) module_utils.
options:
  _input:
    description: One host's plan entry (C(interface), C(listen_port), C(routing)).
    type: dict
    required: true
  backend:
    description: Firewall backend the lines are written for.
    type: str
    choices: [iptables, nftables]
    required: true
  egress_interface:
    description:
      - Interface that internet-bound traffic leaves by (usually the default-route interface).
      - Required when the plan forwards to the egress or has a masquerade entry with neither
        C(egress_interface) nor C(destination).
    type: str
  nft_path:
    description: Absolute path of the nftables rules file (nftables backend).
    type: str
    default: /etc/wireguard/<interface>.nft
  host:
    description: Inventory hostname, used in error messages.
    type: str
  hardening:
    description:
      - When given, also compute the persistent default-drop ruleset (table C(inet netfleet_guard))
        and return it as C(guard_ruleset).
    type: dict
    suboptions:
      ssh_sources:
        description: Addresses or prefixes allowed to reach SSH.
        type: list
        elements: str
        default: []
      ssh_ports:
        description: SSH ports to open for O(hardening.ssh_sources).
        type: list
        elements: int
        default: [22]
      allow_tunnel_input:
        description: Accept everything arriving through the WireGuard interface to the host itself.
        type: bool
        default: true
      tcp_ports:
        description: Extra TCP ports open to everyone.
        type: list
        elements: int
        default: []
      udp_ports:
        description: Extra UDP ports open to everyone.
        type: list
        elements: int
        default: []
"""

EXAMPLES = r"""
- name: Hook lines for this host
  ansible.builtin.set_fact:
    __hooks: >-
      {{ __wireguard_network.plan[inventory_hostname]
         | netfleet.wireguard.wireguard_hooks(backend='iptables', egress_interface='eth0',
                                             host=inventory_hostname) }}

# For a full tunnel hub (10.0.0.0/24, egress eth0) __hooks.post_up contains among others:
#   iptables -w -A NETFLEET-%i-FWD -i %i -o eth0 -j ACCEPT
#   iptables -w -t nat -A NETFLEET-%i-NAT -s 10.0.0.0/24 -o eth0 -j MASQUERADE

- name: The same with nftables and the hardened ruleset
  ansible.builtin.set_fact:
    __hooks: >-
      {{ plan_entry | netfleet.wireguard.wireguard_hooks(
           backend='nftables', egress_interface='eth0',
           hardening={'ssh_sources': ['203.0.113.10/32']}) }}
"""

RETURN = r"""
_value:
  description: Hook lines and what the caller must install.
  type: dict
  contains:
    post_up:
      description: C(PostUp) lines in order; C(%i) is left for wg-quick to expand.
      type: list
      elements: str
    post_down:
      description: C(PostDown) lines in order, undoing C(post_up).
      type: list
      elements: str
    backend:
      description: The backend the lines are for.
      type: str
    nft_path:
      description: Where C(nft_ruleset) must be written (nftables backend with rules), else null.
      type: str
    nft_ruleset:
      description: Content of the nftables rules file, or null.
      type: str
    nft_table:
      description: Name of the interface's nftables table (family C(inet)).
      type: str
    cleanup:
      description:
        - Shell snippets removing rules this collection installed for the interface that the
          current configuration no longer uses (other backend, unused family, or all of them
          when the host needs none). Each prints C(removed) when it removed something.
      type: list
      elements: str
    cleanup_objects:
      description:
        - For each C(cleanup) snippet, in the same order, the object it removes - C(<ipv4|ipv6> <table> <chain>)
          for iptables chains, C(inet <table>) for nftables tables - as reported by
          M(netfleet.wireguard.wireguard_host_facts) in its C(firewall) result.
      type: list
      elements: str
    guard_ruleset:
      description: The hardened ruleset, only when O(hardening) is given.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.wireguard.plugins.module_utils._hooks import (
    build_hooks,
    hardened_ruleset,
)


def wireguard_hooks(entry, backend, egress_interface=None, nft_path=None, host=None, hardening=None):
    try:
        result = build_hooks(entry, backend, egress_interface=egress_interface,
                             nft_path=nft_path, host=host)
        if hardening is not None:
            if not isinstance(hardening, dict):
                raise ValueError("hardening must be a dict, got %r" % (hardening,))
            result["guard_ruleset"] = hardened_ruleset(
                entry, egress_interface=egress_interface,
                ssh_sources=hardening.get("ssh_sources") or [],
                ssh_ports=hardening.get("ssh_ports") or [22],
                allow_tunnel_input=hardening.get("allow_tunnel_input", True),
                tcp_ports=hardening.get("tcp_ports") or [],
                udp_ports=hardening.get("udp_ports") or [],
                host=host)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))
    return result


class FilterModule:
    def filters(self):
        return {"wireguard_hooks": wireguard_hooks}
