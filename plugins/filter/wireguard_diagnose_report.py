# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: wireguard_diagnose_report
short_description: The network's diagnosis report from every host's verdicts
version_added: 0.3.0
author: netfleet engineers (@netfleet)
description:
  - Takes the verdicts M(netfleet.wireguard.wireguard_diagnose) returned per host and returns one readable table
    per host, every problem in the order an operator looks for the cause (interface, handshake, transfer,
    route, AllowedIPs, forwarding, rules, rp_filter, relay, MTU, endpoint names), each naming host, peer, cause
    and fix, and whether the network is healthy.
  - A host that at least two peers get no answer from is named as the likely culprit of their failures.
options:
  _input:
    description:
      - Registered M(netfleet.wireguard.wireguard_diagnose) results (or their verdict lists) by host name; a host
        whose result failed, is missing or was unreachable gets a failed C(host) verdict.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Build the report on the controller
  ansible.builtin.set_fact:
    report: "{{ dict(hosts | zip(hosts | map('extract', hostvars, 'diagnosis')))
                | netfleet.wireguard.wireguard_diagnose_report }}"
  vars:
    hosts: "{{ groups['wireguard'] }}"
"""

RETURN = r"""
_value:
  description:
    - C(ok) (no problem), C(counts) (verdicts per status), C(problems) (failed verdicts in order, plus the hosts
      their peers get no answer from), C(problem_lines) (the same as text), C(tables) (text per host) and
      C(hosts) (the input).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.wireguard.plugins.module_utils._diagnose import report


def wireguard_diagnose_report(results):
    if not isinstance(results, dict) or not all(isinstance(v, (list, dict)) or v is None for v in results.values()):
        raise AnsibleFilterError('wireguard_diagnose_report: expects {host: registered result or [verdict, ...]}')
    return report(results)


class FilterModule:
    def filters(self):
        return {'wireguard_diagnose_report': wireguard_diagnose_report}
