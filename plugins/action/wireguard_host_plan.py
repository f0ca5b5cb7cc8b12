# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin netfleet.wireguard.wireguard_host_plan: read the host once, decide everything for it.

Runs netfleet.wireguard.wireguard_host_facts on the host (one read-only module call), then, on the
controller, ``_hostplan.decide`` with the host's plan entry and the role settings. The result is
what every role of the collection compares against and writes; see docs/architecture.md.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.netfleet.wireguard.plugins.module_utils import _hostplan, _planfile
from ansible_collections.netfleet.wireguard.plugins.module_utils._validate import PlanError, parse_role_settings

FACTS_MODULE = 'netfleet.wireguard.wireguard_host_facts'


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('network',))
    ARGSPEC = {'network': {'type': 'dict'}}

    def _settings(self, task_vars):
        """The role settings as this host sees them (inventory, play, role defaults), templated."""
        out = {}
        for name in _hostplan.SETTINGS_DEFAULTS:
            if name in task_vars:
                out[name] = self._templar.template(task_vars[name])
        return out

    def _ssh_connection(self):
        """SSH_CONNECTION of the login session (without become: sudo drops it); only asked when hardening."""
        res = self._low_level_execute_command('printenv SSH_CONNECTION', sudoable=False)
        return to_native(res.get('stdout') or '').strip() if res.get('rc') == 0 else None

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        _valid, args = self.validate_argument_spec(argument_spec=self.ARGSPEC)
        host = task_vars.get('inventory_hostname')
        network = args['network'] or self._templar.template(task_vars.get('__wireguard_network'))
        if not isinstance(network, dict) or host not in (network.get('plan') or {}):
            raise AnsibleActionFail('%s: no plan entry: run netfleet.wireguard.wireguard_plan first (the wireguard_common '
                                    'role\'s tasks/plan.yml registers __wireguard_network), or the host is not in the '
                                    'network group' % host)
        entry = network['plan'][host]
        try:
            # play vars and role params are validated here (the plan validated the inventory's)
            settings = parse_role_settings(self._settings(task_vars), host)
        except PlanError as exc:
            result.update(failed=True, errors=exc.errors, msg=str(exc))
            return result
        facts = self._execute_module(module_name=FACTS_MODULE, task_vars=task_vars,
                                     module_args=_hostplan.facts_module_args(entry['interface'], settings))
        if facts.get('failed'):
            result.update(failed=True, msg='%s: reading the host failed: %s' % (host, facts.get('msg')))
            return result
        for key in ('invocation', '_ansible_no_log', 'changed'):
            facts.pop(key, None)
        ssh = self._ssh_connection() if settings['wireguard_firewall_harden'] else None
        connection = self._templar.template(task_vars.get('ansible_connection')) or self._play_context.connection
        try:
            decisions = _hostplan.decide(host, entry, facts, settings,
                                         pinned_public_key=self._templar.template(task_vars.get('wireguard_public_key')),
                                         connection=connection, ssh_connection=ssh,
                                         forwarding_entries=(network.get('forwarding_entries') or {}).get(host))
            if network.get('plan_file'):
                # a sliced run: the peers in the other slices keep the key the artifact holds
                _planfile.check_host_key(host, decisions['key_pair'], settings['wireguard_keys_rotate'],
                                         network['plan_file']['public_keys'].get(host), network['plan_file']['path'])
        except ValueError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result.update(decisions)
        result['facts'] = facts
        result['changed'] = False
        return result
