# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin netfleet.wireguard.wireguard_diagnose: read a host once, judge it against the plan.

Asks ``_diagnose.probes`` what to read, runs netfleet.wireguard.wireguard_diagnose_info on the host
(read-only), then on the controller takes the host's decisions (``_hostplan.decide`` with what was
read, so the expected rules are the ones ``_hooks.py`` computes) and ``_diagnose.judge``.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.netfleet.wireguard.plugins.action.wireguard_host_plan import ActionModule as HostPlanAction
from ansible_collections.netfleet.wireguard.plugins.module_utils import _diagnose
from ansible_collections.netfleet.wireguard.plugins.module_utils._validate import PlanError, parse_role_settings

INFO_MODULE = 'netfleet.wireguard.wireguard_diagnose_info'


class ActionModule(HostPlanAction):
    _VALID_ARGS = frozenset(('network', 'max_handshake_age'))
    ARGSPEC = {'network': {'type': 'dict'}, 'max_handshake_age': {'type': 'int', 'default': _diagnose.DEFAULT_MAX_AGE}}

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(HostPlanAction, self).run(tmp, task_vars)  # pylint: disable=bad-super-call
        _valid, args = self.validate_argument_spec(argument_spec=self.ARGSPEC)
        host = task_vars.get('inventory_hostname')
        network = args['network'] or self._templar.template(task_vars.get('__wireguard_network'))
        plan = (network or {}).get('plan') or {}
        if host not in plan:
            raise AnsibleActionFail('%s: no plan entry: run netfleet.wireguard.wireguard_plan first, or the host is '
                                    'not in the network group' % host)
        if args['max_handshake_age'] < 1:
            raise AnsibleActionFail('max_handshake_age must be at least 1 second')
        try:
            settings = parse_role_settings(self._settings(task_vars), host)
        except PlanError as exc:
            result.update(failed=True, errors=exc.errors, msg=str(exc))
            return result
        asked = _diagnose.probes(host, plan)
        module_args = dict(asked, relay_paths=[{'source': p['source'], 'destination': p['destination']}
                                               for p in asked['relay_paths']])
        state = self._execute_module(module_name=INFO_MODULE, module_args=module_args, task_vars=task_vars)
        if state.get('failed'):
            result.update(failed=True, msg='%s: reading the host failed: %s' % (host, state.get('msg')))
            return result
        for key in ('invocation', '_ansible_no_log', 'changed'):
            state.pop(key, None)
        names = _diagnose.key_names(network, plan[host]['interface'])
        own_key = next((key for key, name in names.items() if name == host), None)
        try:
            decisions = _diagnose.host_decisions(host, plan[host], state, settings)
            verdicts = _diagnose.judge(host, plan, state, decisions, names, args['max_handshake_age'], own_key)
        except ValueError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result.update(changed=False, verdicts=verdicts, state=state,
                      ok=not any(v['status'] == 'fail' for v in verdicts))
        return result
