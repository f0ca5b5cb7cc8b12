# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin netfleet.wireguard.wireguard_registry: record public keys in the controller registry.

Runs on the controller only and never connects to a host. The merge, lock and atomic write live
in module_utils/_registry.py; this plugin only validates arguments and shapes the result.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.netfleet.wireguard.plugins.module_utils import _registry as registry


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(('path', 'interface', 'keys', 'pinned', 'lock_timeout', 'remove'))

    ARGSPEC = {
        'path': {'type': 'path', 'required': True},
        'interface': {'type': 'str', 'required': True},
        'keys': {'type': 'dict', 'required': True},
        'pinned': {'type': 'dict', 'default': {}},
        'lock_timeout': {'type': 'int', 'default': 30},
        'remove': {'type': 'list', 'elements': 'str', 'default': []},
    }

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars or {})
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=self.ARGSPEC)
        path = os.path.abspath(os.path.expanduser(args['path']))
        keys = {to_native(host): to_native(key) for host, key in args['keys'].items()}
        pinned = {to_native(host): to_native(key) for host, key in args['pinned'].items()}
        before = None
        if self._task.diff:
            before = self._read(path)
        try:
            registry.validate(args['interface'], pinned)
            merged, changes, changed = registry.update(
                path, args['interface'], keys, check=self._task.check_mode, timeout=args['lock_timeout'],
                remove=[to_native(name) for name in args['remove']])
        except TimeoutError as exc:
            raise AnsibleActionFail('%s: %s; retry when the other run has finished' % (path, exc))
        except (ValueError, OSError) as exc:
            raise AnsibleActionFail('cannot update the public key registry %s: %s' % (path, to_native(exc)))
        # pinned keys (wireguard_public_key: managed elsewhere) win over the file and are never written to it
        public_keys = dict(merged.get(str(args['interface'])) or {}, **pinned)
        result.update(changed=changed, path=path, registry=merged, public_keys=public_keys,
                      added=changes['added'], updated=changes['updated'], removed=changes['removed'])
        if self._task.diff and changed:
            result['diff'] = dict(before=before or '', after=registry.render(merged), before_header=path, after_header=path)
        return result

    @staticmethod
    def _read(path):
        try:
            with open(path, encoding='utf-8') as handle:
                return handle.read()
        except OSError:
            return None
