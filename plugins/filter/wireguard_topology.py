# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: wireguard_topology
short_description: Compute every host's WireGuard peers and AllowedIPs from inventory variables
version_added: 0.1.0
author: netfleet engineers (@netfleet)
description:
  - Pure computation of the plan that the action M(netfleet.wireguard.wireguard_plan) returns,
    from a dict that maps each inventory hostname to its C(wireguard_*) variables.
  - Use the action in playbooks (it reads the inventory once, fast); use this filter for
    what-if computations and tests on hand-written data.
  - "Fails with every validation problem at once, one C(host: variable: problem) line each."
options:
  _input:
    description:
      - Inventory hostname mapped to that host's variables (group variables included), for example
        C(wireguard_topology), C(wireguard_hub), C(wireguard_address), C(wireguard_endpoint),
        C(wireguard_lan_subnets).
    type: dict
    required: true
  group:
    description: Name of the network group, used in messages.
    type: str
    default: wireguard
"""

EXAMPLES = r"""
- name: What would the seed full tunnel look like?
  ansible.builtin.debug:
    msg: >-
      {{ {'vps': {'wireguard_topology': 'full_tunnel', 'wireguard_hub': 'vps',
                  'wireguard_address': '10.0.0.1/24', 'wireguard_endpoint': '203.0.113.1'},
          'laptop': {'wireguard_topology': 'full_tunnel', 'wireguard_hub': 'vps',
                     'wireguard_address': '10.0.0.2/24'}}
         | netfleet.wireguard.wireguard_topology }}
# laptop's only peer is vps with allowed_ips [0.0.0.0/0, ::/0], endpoint 203.0.113.1:51820
# and persistent_keepalive 25; vps holds laptop as 10.0.0.2/32.
"""

RETURN = r"""
_value:
  description:
    - The plan, keyed by inventory hostname (format in docs/architecture.md) - interface,
      role, addresses, listen_port, dns, mtu, routing facts and peers with allowed_ips,
      endpoint, persistent_keepalive and preshared_key.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import build_plan


def wireguard_topology(hostvars, group='wireguard'):
    if not isinstance(hostvars, dict):
        raise AnsibleFilterError('wireguard_topology: input must be a dict of hostname -> variables')
    try:
        return build_plan({str(k): dict(v or {}) for k, v in hostvars.items()}, group)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {'wireguard_topology': wireguard_topology}
