# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: wireguard_apply_needed
short_description: Whether wireguard_apply has anything to do for a rendered configuration
version_added: 0.2.0
author: netfleet engineers (@netfleet)
description:
  - Compares the rendered text with what M(netfleet.wireguard.wireguard_host_plan) read on the host
    (C(__wireguard_host.facts.wireguard) - the SHA-1 of the deployed file without its secret lines, and whether
    the interface runs exactly as that file says, judged by the same code as M(netfleet.wireguard.wireguard_apply)).
  - False only when the host is in sync with a file that is the rendered text plus its current private key, and
    the key pair did not change in this run; the interface role then skips the module call, so a run with
    nothing to change costs one module call per host. Hosts with preshared keys always get the call.
options:
  _input:
    description: The host's decisions (C(__wireguard_host)).
    type: dict
    required: true
  content:
    description: The rendered configuration (filter netfleet.wireguard.wireguard_conf).
    type: str
    required: true
  key_pair:
    description:
      - The result of this run's M(netfleet.wireguard.wireguard_keypair) task (C(__wireguard_keypair)); when it
        changed the key, the module call is needed.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Apply only when something differs
  netfleet.wireguard.wireguard_apply:
    interface: wg0
    content: "{{ rendered }}"
  when: __wireguard_host | netfleet.wireguard.wireguard_apply_needed(rendered)
"""

RETURN = r"""
_value:
  description: True when wireguard_apply must run.
  type: bool
"""

from ansible_collections.netfleet.wireguard.plugins.module_utils._hostplan import apply_needed


def wireguard_apply_needed(decisions, content, key_pair=None):
    return apply_needed(decisions, content, bool((key_pair or {}).get('changed')))


class FilterModule:
    def filters(self):
        return {'wireguard_apply_needed': wireguard_apply_needed}
