# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: wireguard_psk_decide
short_description: Decide per pair which host sends its WireGuard preshared key to the other
version_added: 0.1.0
author: netfleet engineers (@netfleet)
description:
  - Takes the preshared key fingerprints each host reported (M(netfleet.wireguard.wireguard_psk)) and
    the plan, and decides for every pair of hosts that use a preshared key
    (C(wireguard_preshared_keys)) what has to move. Only fingerprints are compared; no key is
    involved.
  - "Per pair, C(low) being the host whose name sorts first: both hosts hold the same key - nothing;
    one holds a key - it sends it to the other; neither - C(low) creates one and sends it; they hold
    different keys - the key of C(low) is kept and sent to the other (the pair is listed in C(notes))."
  - A host of the run without a key whose peer is not in the run cannot get one; that is reported in
    C(errors) under the host, naming the peer and C(wireguard_preshared_keys).
  - Pure computation on the controller; the logic lives in the collection's C(_psk) module_utils.
positional: plan, present, rotate
options:
  _input:
    description:
      - Host name to that host's RV(netfleet.wireguard.wireguard_psk#module:fingerprints) (peer name to
        fingerprint or V(null)), for the hosts of the run that have a preshared key peer.
    type: dict
    required: true
  plan:
    description: The plan of every host (M(netfleet.wireguard.wireguard_plan)).
    type: dict
    required: true
  present:
    description: Hosts taking part in the run (they can send and receive keys).
    type: list
    elements: str
    required: true
  rotate:
    description: Replace the key of every pair whose two hosts are present.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Decide what moves
  ansible.builtin.set_fact:
    psk_decision: >-
      {{ {'hub': {'spoke': none}, 'spoke': {'hub': none}}
         | netfleet.wireguard.wireguard_psk_decide(__wireguard_network.plan, ['hub', 'spoke']) }}
# hosts.hub.send == ['spoke'], hosts.spoke.receive == ['hub'], notes: hub-spoke: new preshared key created on hub
"""

RETURN = r"""
_value:
  description: The decision.
  type: dict
  contains:
    hosts:
      description:
        - Every present host of the plan to C(send) (peers to seal a key for, created first when
          missing), C(regenerate) (peers whose key is replaced) and C(receive) (peers a sealed key
          comes from).
      type: dict
    errors:
      description: Host name to the messages of pairs that cannot be set up in this run.
      type: dict
    notes:
      description: One line per pair whose key is created, copied, repaired or rotated (no key in it).
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.netfleet.wireguard.plugins.module_utils._psk import decide


def wireguard_psk_decide(status, plan, present, rotate=False):
    if not isinstance(status, dict) or not isinstance(plan, dict):
        raise AnsibleFilterError("wireguard_psk_decide: the status and the plan must be dicts")
    try:
        return decide(plan, status, list(present or []), bool(rotate))
    except ValueError as exc:
        raise AnsibleFilterError("wireguard_psk_decide: %s" % exc) from None


class FilterModule:
    def filters(self):
        return {"wireguard_psk_decide": wireguard_psk_decide}
