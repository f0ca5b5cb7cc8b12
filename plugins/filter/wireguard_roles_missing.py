# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: wireguard_roles_missing
short_description: Roles of the collection whose part of a host is undone and that are not in the play
version_added: 0.2.0
author: netfleet engineers (@netfleet)
description:
  - Compares a host's decisions (C(__wireguard_host), from M(netfleet.wireguard.wireguard_host_plan)) with the
    roles of the play. A role whose work on the host is still pending (packages to install, kernel settings,
    firewall rules) but that is not part of the play is returned with the reason, so the interface role can
    fail naming it instead of bringing up a tunnel that silently lacks NAT or forwarding.
options:
  _input:
    description: The host's decisions (C(__wireguard_host)).
    type: dict
    required: true
  role_names:
    description: The roles of the play (C(ansible_role_names)).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Refuse to bring up a tunnel without the roles it needs
  ansible.builtin.assert:
    that: __missing | length == 0
    fail_msg: "run first: {{ __missing | join(', ') }}"
  vars:
    __missing: "{{ __wireguard_host | netfleet.wireguard.wireguard_roles_missing(ansible_role_names) }}"
"""

RETURN = r"""
_value:
  description: C(netfleet.wireguard.<role> (reason)) for each missing role.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.wireguard.plugins.module_utils._hostplan import roles_missing


def wireguard_roles_missing(decisions, role_names):
    try:
        return roles_missing(decisions, role_names)
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError('wireguard_roles_missing: not a host plan (%s)' % exc) from None


class FilterModule:
    def filters(self):
        return {'wireguard_roles_missing': wireguard_roles_missing}
