# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: wireguard_clients_table
short_description: A readable table of the network's devices with their last handshake and transfer
version_added: 0.3.0
author: netfleet engineers (@netfleet)
description:
  - Joins the device report of M(netfleet.wireguard.wireguard_clients) (state, profile, addresses, expiry) with
    the hub's running peers from M(netfleet.wireguard.wireguard_status_info) (named by the same names), one line
    per device, for C(playbooks/clients.yml) to print.
  - A device the hub does not run (revoked, expired, pending, or not applied yet) shows C(not on the hub).
options:
  _input:
    description: The C(clients) list returned by M(netfleet.wireguard.wireguard_clients).
    type: list
    elements: dict
    required: true
  peers:
    description: The C(peers) list returned by M(netfleet.wireguard.wireguard_status_info) on the hub.
    type: list
    elements: dict
    default: []
"""

EXAMPLES = r"""
- name: List the devices
  ansible.builtin.debug:
    msg: "{{ clients.clients | netfleet.wireguard.wireguard_clients_table(status.peers) }}"
"""

RETURN = r"""
_value:
  description: The table's lines, a header line first.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.wireguard.plugins.module_utils._devices import device_table


def wireguard_clients_table(devices, peers=None):
    try:
        return device_table(devices, peers)
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError('wireguard_clients_table: not a wireguard_clients report (%s)' % exc) from None


class FilterModule:
    def filters(self):
        return {'wireguard_clients_table': wireguard_clients_table}
