# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: wireguard_rotation
short_description: What rotating one host's WireGuard private key involves
version_added: 0.2.0
author: netfleet engineers (@netfleet)
description:
  - Takes the network (C(__wireguard_network)) and returns, for O(host), its current public key, the
    managed peers that learn the new key live (their public key and one tunnel address the host routes
    to them) and the external devices that do not.
  - Fails naming the host and the variable when the host is not in the plan (outside the group or retired),
    its key is pinned (C(wireguard_public_key)), a key is missing from the registry, or a peer of it is in
    the same batch (O(batch)).
  - Pure computation on the controller; the logic lives in the collection's C(_rotate) module_utils.
positional: host, batch
options:
  _input:
    description: The network (C(__wireguard_network) from M(netfleet.wireguard.wireguard_plan)).
    type: dict
    required: true
  host:
    description: Inventory name of the host whose key is replaced.
    type: str
    required: true
  batch:
    description: The hosts rotated at the same time (C(ansible_play_batch)).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Decide
  ansible.builtin.set_fact:
    rotation: "{{ __wireguard_network | netfleet.wireguard.wireguard_rotation(inventory_hostname, ansible_play_batch) }}"
"""

RETURN = r"""
_value:
  description: C(old_key), C(peers) (name to C(key) and C(address)), C(devices) (names).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.wireguard.plugins.module_utils._rotate import rotation


def wireguard_rotation(network, host, batch=None):
    plan = network['plan']
    interface = next(iter(plan.values()))['interface'] if plan else 'wg0'
    keys = dict((network.get('registry') or {}).get(interface) or {}, **(network.get('public_keys_pinned') or {}))
    try:
        return rotation(plan, keys, network.get('public_keys_pinned') or {}, host, list(batch or []))
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {'wireguard_rotation': wireguard_rotation}
