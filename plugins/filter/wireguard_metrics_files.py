# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: wireguard_metrics_files
short_description: The metrics collector's names file, and whether it and the collector script differ on the host
version_added: 0.3.0
author: netfleet engineers (@netfleet)
description:
  - Computes the names file of the host's metrics collector from the plan - public key to inventory host or
    device name and whether the plan keeps that tunnel up (a persistent keepalive on one side).
  - Compares it and the collector script with what M(netfleet.wireguard.wireguard_host_plan) read on the host
    (C(__wireguard_host.facts.files)), so the role writes only what differs.
  - Fails naming the host when a peer's public key is unknown or invalid.
options:
  _input:
    description: The host's decisions (C(__wireguard_host)).
    type: dict
    required: true
  plan:
    description: The network plan (C(__wireguard_network.plan)).
    type: dict
    required: true
  public_keys:
    description: Peer name to public key (C(__wireguard_registry.public_keys)).
    type: dict
    required: true
  script:
    description: The collector script as the role ships it.
    type: str
    required: true
  pending:
    description: Hosts whose key pair does not exist yet (check mode before the first run) - a placeholder key is used.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Write the names file when it differs
  ansible.builtin.copy:
    content: "{{ files.names }}"
    dest: /etc/wireguard/wg0.metrics.json
    mode: "0644"
  vars:
    files: >-
      {{ __wireguard_host | netfleet.wireguard.wireguard_metrics_files(__wireguard_network.plan,
         __wireguard_registry.public_keys, lookup('ansible.builtin.file', 'netfleet_wireguard_metrics.py', rstrip=false)) }}
  when: files.write_names
"""

RETURN = r"""
_value:
  description: C(names) (the names file's text), C(write_names), C(write_script) and C(pending) (either differs).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.wireguard.plugins.module_utils._hostplan import metrics_files


def wireguard_metrics_files(decisions, plan, public_keys, script, pending=()):
    try:
        return metrics_files(decisions, plan, public_keys, str(script), pending=list(pending or ()))
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {'wireguard_metrics_files': wireguard_metrics_files}
