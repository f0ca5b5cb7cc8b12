# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: wireguard_peer_keys
short_description: Fill the public keys into a host's planned peers
version_added: 0.1.0
description:
  - Takes the C(peers) list of one host's plan entry and a map of peer name to public key, and
    returns the peers with C(public_key) set. An external peer's own C(public_key) wins.
  - Fails naming the host and every peer whose key is unknown or malformed.
author:
  - netfleet engineers (@netfleet)
positional: keys, host
options:
  _input:
    description: The C(peers) list of a plan entry.
    type: list
    elements: dict
    required: true
  keys:
    description: Peer name to base64 public key.
    type: dict
    required: true
  host:
    description: Host name used in error messages.
    type: str
    default: this host
  pending:
    description:
      - Peers whose key pair is created later in the run (check mode on a first run). They get a
        placeholder key (valid syntax, different per peer) and C(pending=true) instead of an error,
        so the rest of the configuration can be previewed.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Peers with keys
  ansible.builtin.debug:
    msg: >-
      {{ __wireguard_network.plan[inventory_hostname].peers
         | netfleet.wireguard.wireguard_peer_keys(__wireguard_registry.public_keys, inventory_hostname) }}
"""

RETURN = r"""
_value:
  description: The peers, each with C(public_key) filled in (and C(pending=true) on placeholder keys).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.netfleet.wireguard.plugins.module_utils._peerkeys import join_peer_keys


def wireguard_peer_keys(peers, keys, host="this host", pending=None):
    try:
        return join_peer_keys(peers, keys, host, pending=tuple(pending or ()))
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"wireguard_peer_keys": wireguard_peer_keys}
