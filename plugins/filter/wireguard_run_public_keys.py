# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: wireguard_run_public_keys
short_description: The public keys the hosts of this run hold, from the key pair task or the host plan
version_added: 0.2.0
author: netfleet engineers (@netfleet)
description:
  - For each host, the public key M(netfleet.wireguard.wireguard_keypair) returned in this run
    (C(__wireguard_keypair)), else the one M(netfleet.wireguard.wireguard_host_plan) read from the host's key
    file (C(__wireguard_host.key_pair.public_key)).
  - Hosts whose key is managed elsewhere (C(wireguard_public_key)) and hosts without a key are left out.
options:
  _input:
    description: C(hostvars).
    type: dict
    required: true
  hosts:
    description: The hosts of this run (C(ansible_play_hosts)).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Public keys of this run
  ansible.builtin.debug:
    msg: "{{ hostvars | netfleet.wireguard.wireguard_run_public_keys(ansible_play_hosts) }}"
"""

RETURN = r"""
_value:
  description: Host name mapped to its public key.
  type: dict
"""


def wireguard_run_public_keys(hostvars, hosts):
    out = {}
    for host in hosts:
        facts = hostvars[host]
        keypair = facts.get('__wireguard_keypair') or {}
        keys = (facts.get('__wireguard_host') or {}).get('key_pair') or {}
        if keys.get('pinned'):
            continue
        key = keypair.get('public_key') or keys.get('public_key')
        if key:
            out[host] = key
    return out


class FilterModule:
    def filters(self):
        return {'wireguard_run_public_keys': wireguard_run_public_keys}
