# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: wireguard_conf_hooks
short_description: The hook lines netfleet.wireguard.wireguard_conf writes for one host, by stage
version_added: 0.3.0
author: netfleet engineers (@netfleet)
description:
  - Returns the C(PreUp), C(PostUp), C(PreDown) and C(PostDown) commands of the host's wg-quick file as
    the renderer writes them, from the same function - the user's C(wireguard_hooks) around the collection's
    firewall lines (the collection's C(PostUp) first, its C(PostDown) last).
  - The C(netfleet.wireguard.wireguard_interface) role passes them to M(netfleet.wireguard.wireguard_apply)
    as O(netfleet.wireguard.wireguard_apply#module:expect), which refuses a file with any other hook line.
options:
  _input:
    description: One host's plan entry.
    type: dict
    required: true
  decisions:
    description: The host's decisions from M(netfleet.wireguard.wireguard_host_plan) (C(__wireguard_host)).
    type: dict
"""

EXAMPLES = r"""
- name: Apply wg0, allowing exactly the hook lines the plan produced
  netfleet.wireguard.wireguard_apply:
    interface: wg0
    content: "{{ rendered }}"
    expect: "{{ plan_entry | netfleet.wireguard.wireguard_conf_hooks(decisions=__wireguard_host) }}"
"""

RETURN = r"""
_value:
  description: C(pre_up), C(post_up), C(pre_down), C(post_down), each a list of commands in the order wg-quick runs them.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.wireguard.plugins.module_utils._render import hook_lines


def wireguard_conf_hooks(entry, decisions=None):
    if not isinstance(entry, dict):
        raise AnsibleFilterError('wireguard_conf_hooks: input must be one host\'s plan entry (a dict)')
    return hook_lines(entry, decisions)


class FilterModule:
    def filters(self):
        return {'wireguard_conf_hooks': wireguard_conf_hooks}
