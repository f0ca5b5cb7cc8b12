# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: wireguard_conf
short_description: Render one host's WireGuard plan entry as a wg-quick configuration for review
version_added: 0.1.0
author: netfleet engineers (@netfleet)
description:
  - Turns one entry of the plan (from M(netfleet.wireguard.wireguard_plan) or the
    C(netfleet.wireguard.wireguard_topology) filter) into wg-quick text, each C([Peer]) preceded by
    a comment line with the peer's name.
  - The text never contains a private or preshared key; comment lines stand in their place.
    Public keys missing from O(public_keys) are written as a visible placeholder.
  - PostUp/PostDown lines come from the firewall hooks of the collection (see the
    C(netfleet.wireguard.wireguard_hooks) filter).
options:
  _input:
    description: One host's plan entry.
    type: dict
    required: true
  host:
    description: Inventory hostname the entry belongs to (written in the header comment).
    type: str
    required: true
  public_keys:
    description: Peer name mapped to its public key.
    type: dict
    default: {}
  backend:
    description: Firewall backend for the PostUp/PostDown lines.
    type: str
    choices: [iptables, nftables]
    default: iptables
  egress_interface:
    description: Egress interface for NAT/forwarding lines when the plan leaves it unset.
    type: str
"""

EXAMPLES = r"""
- name: Show what laptop's wg0.conf would contain
  ansible.builtin.debug:
    msg: "{{ plan['laptop'] | netfleet.wireguard.wireguard_conf(host='laptop', public_keys=keys) }}"
"""

RETURN = r"""
_value:
  description: The configuration text (ends with a newline).
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.wireguard.plugins.module_utils._render import render_conf


def wireguard_conf(entry, host, public_keys=None, backend='iptables', egress_interface=None):
    if not isinstance(entry, dict):
        raise AnsibleFilterError('wireguard_conf: input must be one host\'s plan entry (a dict)')
    try:
        return render_conf(host, entry, public_keys or {}, backend=backend, egress_interface=egress_interface)
    except (ValueError, KeyError, TypeError) as exc:
        raise AnsibleFilterError('wireguard_conf: %s: %s' % (host, exc))


class FilterModule:
    def filters(self):
        return {'wireguard_conf': wireguard_conf}
