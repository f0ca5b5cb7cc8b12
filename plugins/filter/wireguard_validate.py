# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: wireguard_validate
short_description: List the problems of a WireGuard network's inventory variables
version_added: 0.1.0
author: netfleet engineers (@netfleet)
description:
  - Runs every validation of the topology engine on a dict that maps each inventory hostname to
    its C(wireguard_*) variables and returns the problems instead of failing.
  - An empty list means the action M(netfleet.wireguard.wireguard_plan) would accept the network.
options:
  _input:
    description: Inventory hostname mapped to that host's variables (group variables included).
    type: dict
    required: true
  group:
    description: Name of the network group, used in messages.
    type: str
    default: wireguard
"""

EXAMPLES = r"""
- name: Check a candidate inventory before committing it
  ansible.builtin.assert:
    that: (candidate | netfleet.wireguard.wireguard_validate) == []
    fail_msg: "{{ candidate | netfleet.wireguard.wireguard_validate | join('\n') }}"
"""

RETURN = r"""
_value:
  description: "One C(host: variable: problem) line per problem, sorted; empty when valid."
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import PlanError, build_plan


def wireguard_validate(hostvars, group='wireguard'):
    if not isinstance(hostvars, dict):
        raise AnsibleFilterError('wireguard_validate: input must be a dict of hostname -> variables')
    try:
        build_plan({str(k): dict(v or {}) for k, v in hostvars.items()}, group)
    except PlanError as exc:
        return list(exc.errors)
    return []


class FilterModule:
    def filters(self):
        return {'wireguard_validate': wireguard_validate}
