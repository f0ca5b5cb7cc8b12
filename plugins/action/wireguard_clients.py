# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin netfleet.wireguard.wireguard_clients: enrol, update and revoke unmanaged devices.

Runs on the controller only and never connects to a host. It reads the network like
``wireguard_plan`` (same code), records key pairs and revocations (key registry, revocation file),
computes the plan again with them and writes the device profiles with the one renderer. The
decisions live in module_utils/_devices.py and _deviceprofile.py. No private key is ever part of
the result: a controller-made key exists only in the device's profile files (0600, folder 0700).
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.netfleet.wireguard.plugins.action.wireguard_plan import ActionModule as PlanAction
from ansible_collections.netfleet.wireguard.plugins.module_utils import _deviceprofile, _devices, _psk, _registry
from ansible_collections.netfleet.wireguard.plugins.module_utils._render import render_conf


class ActionModule(PlanAction):
    _VALID_ARGS = frozenset(('clients', 'state', 'rekey', 'dir', 'svg', 'group', 'registry', 'fast_hostvars'))

    ARGSPEC = {
        'clients': {'type': 'list', 'elements': 'str', 'default': []},
        'state': {'type': 'str', 'choices': ['present', 'absent'], 'default': 'present'},
        'rekey': {'type': 'bool', 'default': False},
        'dir': {'type': 'path'},
        'svg': {'type': 'bool', 'default': True},
        'group': {'type': 'str'},
        'registry': {'type': 'path'},
        'fast_hostvars': {'type': 'bool', 'default': True},
    }
    PLAN_ARGS = {'return_plan': True, 'render_dir': None, 'render_host_facts': False, 'play_hosts': None}

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(PlanAction, self).run(tmp, task_vars)   # ActionBase.run, not the plan's
        del tmp
        _valid, args = self.validate_argument_spec(argument_spec=self.ARGSPEC)
        args.update(self.PLAN_ARGS)
        network = self._read_network(task_vars, args, result)
        first = None if network is None else self._plan(args, network, result)
        if first is None:
            return result
        names, data, hostvars = network[1:]
        wanted = self._selected(args, first['devices']['states'])
        try:
            folder = self._folder(args, hostvars, names, data, first['interface'])
            new_keys, recorded = self._record(args, first, wanted)
        except (ValueError, OSError) as exc:
            raise AnsibleActionFail(to_native(exc))
        second = first if not (new_keys or recorded) else self._plan(args, network, result)
        if second is None:
            return result
        sealed = {}
        try:
            report = self._write(args, second, wanted, folder, new_keys, sealed)
        except (ValueError, OSError) as exc:
            raise AnsibleActionFail(to_native(exc))
        for key in ('registry', 'devices'):
            result.pop(key, None)
        names = {key: name for name, key in dict(second['keys'], **second['pinned']).items() if name in second['plan']}
        names.update((info['public_key'], name) for name, info in second['devices']['states'].items()
                     if info.get('public_key'))
        # preshared keys sealed to the hub's public key (playbooks/clients.yml stores them on the hub)
        result.update(hub=self._hub(second), dir=folder, clients=report, names=names, sealed=sealed,
                      changed=bool(new_keys or recorded or any(r['files'] for r in report)))
        return result

    def _selected(self, args, states):
        """The devices named by ``clients`` (``all``: every one); unknown names fail the task."""
        requested = [to_native(c) for c in args['clients']]
        if requested == ['all']:
            return sorted(states)
        unknown = sorted(set(requested) - set(states))
        if unknown:
            raise AnsibleActionFail('%s: not in wireguard_external_peers of the network (devices: %s)'
                                    % (', '.join(unknown), ', '.join(sorted(states)) or 'none'))
        return sorted(set(requested))

    def _folder(self, args, hostvars, names, data, interface):
        configured = args['dir'] or next((data[n]['wireguard_client_dir'] for n in names
                                          if data[n].get('wireguard_client_dir')), None)
        if configured:
            return os.path.abspath(os.path.expanduser(configured))
        registry = self._default_registry(hostvars, names, data)
        return os.path.join(os.path.dirname(os.path.abspath(registry)), 'wireguard-clients', interface)

    def _record(self, args, context, wanted):
        """Revocations and new key pairs in the controller files: ``({device: private key} made now,
        whether the revocation file or the registry changed)``."""
        states, interface = context['devices']['states'], context['interface']
        registry_path, check = context['registry_path'], self._task.check_mode
        revoked_file = _devices.revoked_path(registry_path)
        recorded = False
        if args['state'] == 'absent':
            controller_made = [n for n in wanted if states[n]['key_mode'] == 'controller']
            if not check:
                recorded = _devices.update_revoked(revoked_file, interface, revoke=wanted)
                recorded |= _registry.update(registry_path, interface, {}, remove=controller_made)[2]
            else:
                recorded = any(states[n]['state'] != 'revoked' for n in wanted)
            return {}, recorded
        restore = [n for n in wanted if states[n]['state'] == 'revoked']
        if restore and not check:
            recorded = _devices.update_revoked(revoked_file, interface, restore=restore)
        new_keys = {}
        for name in wanted:
            info = states[name]
            if info['key_mode'] != 'controller':
                if args['rekey']:
                    raise ValueError('%s: rekey: key_mode is device: the device makes its own key; put its new '
                                     'public_key in the inventory' % name)
                continue
            if args['rekey'] or name in restore or name not in context['keys']:
                new_keys[name] = _devices.generate_key_pair()
        if new_keys and not check:
            _registry.update(registry_path, interface, {n: pair[1] for n, pair in new_keys.items()})
        return {n: pair[0] for n, pair in new_keys.items()}, recorded

    def _write(self, args, context, wanted, folder, new_keys, sealed):
        """Profiles of the wanted active devices; files of revoked and expired devices removed."""
        check = self._task.check_mode
        states, profiles = context['devices']['states'], context['devices']['profiles']
        keys = dict(context['keys'], **context['pinned'])
        report = []
        if wanted and not check:
            _deviceprofile.prepare_folder(folder)
        for name in sorted(states):
            info = dict(states[name], name=name, files=[], profile=None)
            info.pop('public_key', None)
            if name in new_keys and check:
                info['state'] = 'active'    # would be enrolled by this run
            if info['state'] in ('revoked', 'expired') and os.path.isdir(folder):
                info['files'] = _deviceprofile.remove_profile(folder, name, check)
            elif name in wanted and name in profiles:
                info['profile'] = 'full' if _is_full(profiles[name]) else 'split'
                info['files'] = self._write_one(args, folder, name, profiles[name], keys, new_keys, info, sealed)
            elif name in profiles:
                info['profile'] = 'full' if _is_full(profiles[name]) else 'split'
            report.append(info)
        return report

    def _write_one(self, args, folder, name, entry, keys, new_keys, info, sealed):
        hub = entry['peers'][0]['name']
        hub_key = entry['peers'][0]['public_key'] or keys.get(hub)
        if hub_key is None:
            # the hub's first run makes its key pair: clients.yml writes the profile again after it
            info['note'] = 'the hub %s has no key pair yet: a placeholder stands for its public key' % hub
        text = render_conf(name, entry, keys, pending=(hub,), strict=True)
        existing = _deviceprofile.read_profile(folder, name) if os.path.isdir(folder) else None
        private = None
        if info['key_mode'] == 'controller':
            private = new_keys.get(name) or self._existing_private_key(existing, folder, name, keys.get(name))
            if private is None:
                info['note'] = ('enrolled, but its profile (the only copy of its private key) is no longer on the '
                                'controller; -e rekey=true makes a new key pair and profile')
                return []
        preshared = None
        if entry['peers'][0]['preshared_key']:
            preshared = self._preshared_key(existing, name in new_keys)
            if hub_key is not None and not self._task.check_mode:
                sealed[name] = _psk.seal(preshared, hub_key, _psk.seal_context(entry['interface'], name, hub))
        return _deviceprofile.write_profile(folder, name, _devices.with_private_key(text, private, preshared),
                                            svg=args['svg'], check=self._task.check_mode)

    def _preshared_key(self, existing, new_pair):
        """The profile's preshared key; a new one with a new key pair or when the profile has none."""
        current = _devices.profile_key(existing, 'PresharedKey') if existing and not new_pair else None
        if current is None:
            return '(made by the real run)' if self._task.check_mode else _psk.generate()
        return current

    @staticmethod
    def _existing_private_key(text, folder, name, public_key):
        private = _devices.profile_key(text) if text else None
        if private is not None and _devices.public_key_of(private) != public_key:
            raise ValueError('%s: the private key in %s does not match its public key in the key registry; '
                             '-e rekey=true makes a new key pair' % (name, os.path.join(folder, name + '.conf')))
        return private

    @staticmethod
    def _hub(context):
        plan = context['plan']
        return next((name for name, entry in plan.items() if entry['role'] in ('hub', 'relay')), None)


def _is_full(entry):
    return set(entry['peers'][0]['allowed_ips']) >= {'0.0.0.0/0'} or '0.0.0.0/1' in entry['peers'][0]['allowed_ips']
