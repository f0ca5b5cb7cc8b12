# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: wireguard_conf
short_description: Render one host's WireGuard plan entry as its wg-quick configuration
version_added: 0.1.0
author: netfleet engineers (@netfleet)
description:
  - Turns one entry of the plan (from M(netfleet.wireguard.wireguard_plan)) into the wg-quick text the
    C(netfleet.wireguard.wireguard_interface) role deploys and C(render.yml) writes for review - the same
    function renders both, so a review copy equals the deployed file apart from the C(PrivateKey) and
    C(PresharedKey) lines M(netfleet.wireguard.wireguard_apply) inserts on the host.
  - Each C([Peer]) is preceded by a comment line with the peer's name. The header names the firewall
    backend and egress interface the hook lines were computed for, and says when they were assumed.
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
  decisions:
    description:
      - The host's decisions from M(netfleet.wireguard.wireguard_host_plan) (C(__wireguard_host)), which
        carry the collection's C(PostUp)/C(PostDown) lines and their basis. Without it the file has only the
        host's own C(wireguard_hooks) commands (from the plan entry).
    type: dict
  pending:
    description: Peers whose key pair is created later in this run (check mode); they get a placeholder key.
    type: list
    elements: str
    default: []
  strict:
    description: Fail, naming the host and the peer, when a peer has no public key (instead of a placeholder text).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Show what laptop's wg0.conf contains
  ansible.builtin.debug:
    msg: >-
      {{ __wireguard_network.plan['laptop'] | netfleet.wireguard.wireguard_conf(host='laptop',
         public_keys=__wireguard_registry.public_keys, decisions=hostvars['laptop'].__wireguard_host) }}
"""

RETURN = r"""
_value:
  description: The configuration text (ends with a newline).
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.wireguard.plugins.module_utils._render import render_conf


def wireguard_conf(entry, host, public_keys=None, decisions=None, pending=None, strict=False):
    if not isinstance(entry, dict):
        raise AnsibleFilterError('wireguard_conf: input must be one host\'s plan entry (a dict)')
    try:
        return render_conf(host, entry, public_keys or {}, decisions=decisions, pending=tuple(pending or ()), strict=strict)
    except (ValueError, KeyError, TypeError) as exc:
        raise AnsibleFilterError('wireguard_conf: %s: %s' % (host, exc))


class FilterModule:
    def filters(self):
        return {'wireguard_conf': wireguard_conf}
