# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin netfleet.wireguard.wireguard_plan: compute and validate the plan once per run.

Runs on the controller only. Reads the ``wireguard_*`` variables of every host of the network
group, hands them to the pure engine (module_utils/_topology.py) and returns the plan, or fails
with every validation problem at once. Optionally writes every host's wg-quick file to a folder
for review (``render_dir``), without connecting to any host.

Reading variables: ``hostvars[host]`` merges *all* variables of a host (every group var, facts,
magic variables) on each access; for thousands of hosts that dominates the run. The fast path
(default) merges the same sources in the same precedence order as the VariableManager, once
per distinct group membership instead of once per host, and keeps only the ``wireguard_*``
keys. A host whose ``wireguard_*`` values contain templates is read through ``hostvars``
(so templates see that host's full variable context); ``fast_hostvars: false`` does that for
every host.
"""

from __future__ import annotations

import os
import time

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.netfleet.wireguard.plugins.module_utils import (
    _devices, _hooks, _hostplan, _multinet, _paths, _picture, _planfile, _renderdir)
from ansible_collections.netfleet.wireguard.plugins.module_utils._addr import parse_public_key
from ansible_collections.netfleet.wireguard.plugins.module_utils._render import render_conf
from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import PlanError, build_plan
from ansible_collections.netfleet.wireguard.plugins.module_utils._validate import parse_role_settings

PREFIX = 'wireguard_'
HINT = '__wireguard_has_ipv6'


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(('group', 'registry', 'render_dir', 'render_host_facts', 'return_plan', 'fast_hostvars',
                             'play_hosts', 'plan_file', 'groups'))

    ARGSPEC = {
        'group': {'type': 'str'},
        'registry': {'type': 'path'},
        'render_dir': {'type': 'path'},
        'render_host_facts': {'type': 'bool', 'default': False},
        'return_plan': {'type': 'bool', 'default': True},
        'fast_hostvars': {'type': 'bool', 'default': True},
        'play_hosts': {'type': 'list', 'elements': 'str'},
        'plan_file': {'type': 'path'},
        'groups': {'type': 'list', 'elements': 'str'},
    }

    # ------------------------------------------------------------------ variables
    def _fast_vars(self, hostvars, names, other_networks=()):
        """wireguard_* variables of ``names``, merged like VariableManager.get_vars(host) does; the vars of
        the groups ``other_networks`` (the other networks of ``wireguard_network_groups``) left out."""
        from ansible import constants as C
        from ansible.inventory.helpers import get_group_vars, sort_groups
        from ansible.utils.vars import combine_vars
        from ansible.vars.plugins import get_vars_from_inventory_sources, get_vars_from_path

        inventory = hostvars._inventory
        vm = hostvars._variable_manager
        loader = hostvars._loader
        basedirs = [loader.get_basedir()] if getattr(vm, 'safe_basedir', False) else []
        all_group = inventory.groups.get('all')
        stage = 'task'

        def only(data):
            return {k: v for k, v in data.items() if k.startswith(PREFIX)} if data else {}

        def plugins_inventory(entities):
            return get_vars_from_inventory_sources(loader, inventory._sources, entities, stage)

        def plugins_play(entities):
            data = {}
            for path in basedirs:
                data = combine_vars(data, get_vars_from_path(loader, path, entities, stage))
            return data

        group_cache = {}
        out = {}
        for name in names:
            host = inventory.get_host(name)
            groups = tuple(sort_groups([g for g in host.get_groups() if g.name != 'all' and g.name not in other_networks]))
            merged = group_cache.get(groups)
            if merged is None:
                merged = {}
                for entry in C.VARIABLE_PRECEDENCE:
                    if entry == 'all_inventory':
                        layer = all_group.get_vars()
                    elif entry == 'all_plugins_inventory':
                        layer = plugins_inventory([all_group])
                    elif entry == 'all_plugins_play':
                        layer = plugins_play([all_group])
                    elif entry == 'groups_inventory':
                        layer = get_group_vars(list(groups))
                    elif entry == 'groups_plugins_inventory':
                        layer = plugins_inventory(list(groups))
                    elif entry == 'groups_plugins_play':
                        layer = plugins_play(list(groups))
                    else:
                        return None   # unusual precedence config: use the exact slow path
                    merged = combine_vars(merged, only(layer))
                group_cache[groups] = merged
            data = combine_vars(merged, only(host.get_vars()))
            data = combine_vars(data, only(plugins_inventory([host])))
            data = combine_vars(data, only(plugins_play([host])))
            data = combine_vars(data, only(vm._vars_cache.get(name, {})))
            data = combine_vars(data, only(vm._nonpersistent_fact_cache.get(name, {})))
            data = combine_vars(data, only(vm.extra_vars))
            try:
                facts = vm._fact_cache.get(name)
            except KeyError:
                facts = None
            data[HINT] = _has_ipv6(facts)
            out[name] = data
        return out

    def _template(self, hostvars, raw, errors, several=()):
        """Resolve templates: hosts whose values are all plain data are used as they are. Hosts in
        ``several`` networks cannot be templated (``hostvars`` merges every network's group vars)."""
        result = {}
        for name, data in raw.items():
            if any(_maybe_template(v) for k, v in data.items() if k != HINT):
                if name in several:
                    errors.append('%s: %s: the host is in several networks: its wireguard_* values cannot hold '
                                  'templates yet' % (name, _multinet.GROUPS_VAR))
                    continue
                hv = hostvars[name]
                templated = {}
                for key in data:
                    if key == HINT or key not in hv:
                        continue
                    try:
                        templated[key] = hv[key]
                    except Exception as exc:  # undefined variable, syntax error: report with host and variable
                        errors.append('%s: %s: cannot be templated (%s)' % (name, key, to_native(exc).splitlines()[0]))
                templated[HINT] = data.get(HINT)
                data = templated
            result[name] = data
        return result

    def _slow_vars(self, hostvars, names):
        out = {}
        for name in names:
            hv = hostvars[name]
            data = {k: hv[k] for k in hv if k.startswith(PREFIX)}
            data[HINT] = _has_ipv6(hv.get('ansible_facts')) if 'ansible_facts' in hv else None
            out[name] = data
        return out

    # ------------------------------------------------------------------ registry
    def _read_registry(self, path, errors):
        """The whole registry file ``{interface: {host: public key}}``, {} when there is none."""
        if not path or not os.path.exists(path):
            return {}
        try:
            data = self._loader.load_from_file(path, cache='none') or {}
        except Exception as exc:  # a broken registry must not hide the plan's own problems
            errors.append('controller: wireguard_key_registry: cannot read %s (%s)' % (path, to_native(exc)))
            return {}
        if not isinstance(data, dict) or any(not isinstance(v or {}, dict) for v in data.values()):
            errors.append('controller: wireguard_key_registry: %s must map interface -> {host: public key}' % path)
            return {}
        return {str(iface): dict(hosts or {}) for iface, hosts in data.items()}

    @staticmethod
    def _registry_keys(data, interface, names, errors, path):
        """Valid keys of ``interface``; a bad key of a host in the network is an error."""
        keys = {}
        for host, key in (data.get(interface) or {}).items():
            try:
                keys[str(host)] = parse_public_key(key)
            except ValueError as exc:
                if host in names:
                    errors.append('%s: wireguard_key_registry: %s in %s' % (host, exc, path))
        return keys

    # ------------------------------------------------------------------ run
    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        _valid, args = self.validate_argument_spec(argument_spec=self.ARGSPEC)
        if args['plan_file'] and args['render_dir']:
            raise AnsibleActionFail('plan_file and render_dir exclude each other: render from the inventory')
        networks = self._networks(task_vars, args)
        if len(networks) > 1:
            together = self._plan_networks(task_vars, args, result, networks)
            if together is None or args['render_dir']:
                return result if together is None else self._render_all(args, result, together)
            network = self._network_of(task_vars, args, result, together)
        else:
            network = self._network_plan(task_vars, args, result, networks)
        if network is None:
            return result
        names, data, hostvars, context = network
        plan, keys, pinned = context['plan'], context['keys'], context['pinned']
        errors = []
        if args['play_hosts'] is not None:
            errors += _unknown_keys(plan, set(args['play_hosts']) & set(plan), set(keys) | set(pinned) | set(args['play_hosts']),
                                    context['registry_path'])
        if errors:
            result.update(failed=True, errors=errors, msg='\n'.join(errors))
            return result
        if args['render_dir']:
            start = time.monotonic()
            try:
                result['rendered'] = self._render(args['render_dir'], context, dict(keys, **pinned), data,
                                                  hostvars if args['render_host_facts'] else None)
            except ValueError as exc:
                result.update(failed=True, msg=str(exc))
                return result
            result['timing']['render'] = round(time.monotonic() - start, 3)
            result['changed'] = bool(result['rendered']['changed_count'] or result['rendered']['removed_count'])
        if args['return_plan']:
            result['plan'] = plan
        return result

    def _networks(self, task_vars, args):
        """The network groups of the inventory (``groups``, else ``wireguard_network_groups``, else the one group)."""
        group = args.get('group') or task_vars.get('wireguard_network_group') or 'wireguard'
        value = args['groups'] if args.get('groups') is not None else self._templar.template(
            task_vars.get(_multinet.GROUPS_VAR))
        try:
            return _multinet.network_groups(value, group)
        except ValueError as exc:
            raise AnsibleActionFail(str(exc)) from None

    def _plan_networks(self, task_vars, args, result, networks):
        """Every network of ``networks`` planned as one, then checked together (``_multinet.clashes``):
        group -> ``network`` (as ``_network_plan`` returns it), ``result`` (its own), ``data``,
        ``context``; None with ``result`` failed when any network is invalid or two clash on a host."""
        if args['render_host_facts'] or args['plan_file']:
            raise AnsibleActionFail('%s: wireguard_render_host_facts and wireguard_plan_file do not work with several '
                                    'networks yet' % _multinet.GROUPS_VAR)
        errors, contexts = [], {}
        for group in networks:
            sub = {}
            network = self._network_plan(task_vars, dict(args, group=group), sub, networks)
            if network is None:
                errors += sub.get('errors') or [sub.get('msg')]
                continue
            contexts[group] = {'network': network, 'result': sub, 'data': network[1], 'context': network[3]}
        errors = errors or _multinet.clashes({group: value['context']['plan'] for group, value in contexts.items()})
        if errors:
            result.update(failed=True, errors=errors, msg='\n'.join(errors))
            return None
        return contexts

    def _network_of(self, task_vars, args, result, together):
        """The run's own network out of ``together`` (site.yml's play of one network group), ``result``
        filled as for one network plus ``forwarding_entries`` (host -> its plan entries in every network) and
        a retired host's shared files (sysctl, hardened posture) left alone while it stays in another network."""
        group = args['group'] or task_vars.get('wireguard_network_group') or 'wireguard'
        if group not in together:
            raise AnsibleActionFail('%s: %s: the group %s is not one of the listed networks'
                                    % (group, _multinet.GROUPS_VAR, group))
        own = together[group]
        result.update(own['result'])
        entries = _multinet.host_entries({name: value['context']['plan'] for name, value in together.items()})
        result['forwarding_entries'] = {host: [entry for _name, entry in entries[host]]
                                        for host in own['context']['plan'] if len(entries[host]) > 1}
        for host, retired in (result.get('retired') or {}).items():
            if host in entries:
                result['retired'][host] = _multinet.retired_in_one_network(retired, _hooks.GUARD_TABLE)
        return own['network']

    def _render_all(self, args, result, contexts):
        """render.yml with several networks: every interface of every host (``_plan_networks``)."""
        try:
            result['rendered'] = self._render_networks(args['render_dir'], contexts)
        except ValueError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        warnings = [w for value in contexts.values() for w in value['result'].get('warnings') or []]
        if warnings:
            result['warnings'] = warnings
        result['changed'] = bool(result['rendered']['changed_count'] or result['rendered']['removed_count'])
        result['networks'] = {group: sorted(value['context']['plan']) for group, value in contexts.items()}
        if args['return_plan']:
            result['plans'] = {group: value['context']['plan'] for group, value in contexts.items()}
        return result

    def _network_plan(self, task_vars, args, result, networks=()):
        """``(names, data, hostvars, plan context)`` of the network group; None (``result`` failed) otherwise."""
        network = self._read_network(task_vars, args, result, networks)
        if network is None:
            return None
        context = self._plan(args, network, result)
        return None if context is None else network[1:] + (context,)

    def _read_network(self, task_vars, args, result, networks=()):
        """``(group, names, wireguard_* data per host, hostvars)`` of the network group; None when it failed.

        ``networks``: every network group (``wireguard_network_groups``): the others' group vars are left
        out and each host's ``wireguard_networks`` entry of this group is laid over its vars."""
        group = args['group'] or task_vars.get('wireguard_network_group') or 'wireguard'
        groups = task_vars.get('groups') or {}
        if group not in groups:
            raise AnsibleActionFail('%s: wireguard_network_group: no inventory group named %r' % (group, group))
        names = sorted(set(groups[group]))
        hostvars = task_vars['hostvars']
        if _hooks.netaddr is None:
            raise AnsibleActionFail('controller: netaddr: the Python library netaddr is needed on the controller '
                                    '(pip install netaddr, or the python3-netaddr package); nothing was changed')
        start = time.monotonic()
        networks = networks or self._networks(task_vars, args)   # the clients action passes none
        others = [name for name in networks if name != group]
        member_of = _multinet.memberships(list(networks) or [group], groups)
        several = {name for name in names if len(member_of.get(name) or ()) > 1}
        if others and not args['fast_hostvars']:
            raise AnsibleActionFail('controller: fast_hostvars: false cannot leave out the other networks\' group vars')
        raw = self._fast_vars(hostvars, names, others) if args['fast_hostvars'] else None
        if others and raw is None:
            raise AnsibleActionFail('controller: %s: an unusual variable precedence setting: the other networks\' '
                                    'group vars cannot be left out' % _multinet.GROUPS_VAR)
        template_errors = []
        data = self._template(hostvars, raw, template_errors, several) if raw is not None \
            else self._slow_vars(hostvars, names)
        for name in (name for name in names if name in data):
            data[name], problems = _multinet.network_values(name, group, data[name], member_of.get(name) or [group])
            template_errors += problems
        result['timing'] = {'read_vars': round(time.monotonic() - start, 3)}
        if template_errors:
            result.update(failed=True, errors=sorted(template_errors), msg='\n'.join(sorted(template_errors)))
            return None
        return group, names, data, hostvars

    def _plan(self, args, network, result):
        """Registry, device states and the plan of ``network`` (``_read_network``); fills ``result``; a dict
        of them (``devices``: what ``build_plan`` filled in), or None when it failed."""
        group, names, data, hostvars = network
        errors = []
        interface = _interface_of(data)
        registry = args['registry'] or self._default_registry(hostvars, names, data)
        registry_data = self._read_registry(registry, errors)
        keys = self._registry_keys(registry_data, interface, set(names), errors, registry)
        devices = {}
        try:
            devices['revoked'] = _devices.load_revoked(_devices.revoked_path(registry)).get(interface) or {}
        except ValueError as exc:
            errors.append('controller: wireguard_key_registry: %s' % exc)
        if errors:
            result.update(failed=True, errors=errors, msg='\n'.join(errors))
            return None
        devices['keys'] = keys
        start = time.monotonic()
        retired = {}
        if args.get('plan_file'):   # the clients action shares this method without the option
            plan, pinned = self._plan_of_file(args['plan_file'], group, data, devices, result)
        else:
            plan, retired = self._build(args, group, data, devices, result, interface)
            pinned = {name: data[name]['wireguard_public_key'] for name in names if data[name].get('wireguard_public_key')}
        if plan is None:
            return None
        result['timing']['plan'] = round(time.monotonic() - start, 3)
        result.update(changed=False, hosts=len(plan), registry_path=registry, registry=registry_data,
                      public_keys_pinned=pinned, devices=devices['states'], retired=retired,
                      preshared_keys=any(peer.get('preshared_key') for entry in plan.values() for peer in entry['peers']))
        return {'plan': plan, 'keys': keys, 'pinned': pinned, 'registry_path': registry, 'interface': interface,
                'devices': devices, 'group': group}

    @staticmethod
    def _build(args, group, data, devices, result, interface):
        """``(plan, retired hosts' paths)`` computed from ``data``; (None, None) with ``result`` failed when
        the inventory is invalid."""
        try:
            warnings, retired = [], []
            plan = build_plan(data, group, share=not args['return_plan'], warnings=warnings, devices=devices,
                              retired=retired)
            retired = {name: _retired_paths(interface, name, data[name]) for name in retired}
            if warnings:
                result['warnings'] = warnings
        except PlanError as exc:
            result.update(failed=True, errors=exc.errors, msg=str(exc))
            return None, None
        return plan, retired

    def _plan_of_file(self, path, group, data, devices, result):
        """``(plan, pinned keys)`` of the artifact at ``path`` when it is not stale against what this run
        sees (``data``: its hosts, ``devices``: registry keys and revocations); (None, None) otherwise."""
        source = os.path.abspath(os.path.expanduser(path))
        try:
            with open(source, encoding='utf-8') as handle:
                artifact = _planfile.loads(handle.read(), source)
        except (OSError, UnicodeDecodeError) as exc:
            errors = ['controller: %s: cannot read %s (%s)' % (_planfile.VAR, source, to_native(exc))]
        except ValueError as exc:
            errors = [str(exc)]
        else:
            errors = _planfile.stale(artifact, source, group, data, devices['keys'], devices.get('revoked') or {},
                                     _devices.today_utc())
        if errors:
            result.update(failed=True, errors=errors, msg='\n'.join(errors))
            return None, None
        devices['states'] = artifact['devices']
        result['plan_file'] = {'path': source, 'public_keys': _planfile.public_keys(artifact)}
        return artifact['plan'], artifact['public_keys_pinned']

    @staticmethod
    def _default_registry(hostvars, names, data):
        """``wireguard_key_registry`` of the network, else .wireguard_public_keys.yml next to the inventory."""
        for name in names:
            if data.get(name, {}).get('wireguard_key_registry'):
                return os.path.expanduser(data[name]['wireguard_key_registry'])
        host = hostvars._inventory.get_host(names[0]) if names else None
        inventory_dir = host.vars.get('inventory_dir') if host is not None else None
        return os.path.join(inventory_dir or '.', '.wireguard_public_keys.yml')

    def _render(self, directory, context, keys, data, hostvars=None):
        """Every file the hosts get, rendered by the same code as site.yml, into <dir>/<host>/.

        With ``hostvars`` (render.yml -e wireguard_render_host_facts=true) each host's decisions use
        the facts it reported (``__wireguard_host``); otherwise assumed values are named in the header.
        """
        files, errors = {}, []
        self._host_files(context['plan'], keys, data, hostvars, files, errors)
        if errors:
            raise ValueError('\n'.join(sorted(errors)))
        files.update(_picture_files(context['plan'], context['group']))
        artifact = _planfile.build(context['group'], context['plan'], data, context['keys'], context['pinned'],
                                   context['devices']['states'])
        files[_planfile.NAME] = _planfile.dumps(artifact)
        return _renderdir.sync(os.path.abspath(os.path.expanduser(directory)), files, check_mode=self._task.check_mode)

    def _render_networks(self, directory, networks):
        """Every file of every network (``networks``: group -> data and plan context) into <dir>/<host>/;
        a host's sysctl.d file holds what all its networks need. No plan artifact (site.yml cannot use it)."""
        files, errors = {}, []
        entries = _multinet.host_entries({group: value['context']['plan'] for group, value in networks.items()})
        for group, value in networks.items():
            context = value['context']
            self._host_files(context['plan'], dict(context['keys'], **context['pinned']), value['data'], None, files,
                             errors, {host: [entry for _group, entry in found] for host, found in entries.items()})
            files.update(_picture_files(context['plan'], group))
        if errors:
            raise ValueError('\n'.join(sorted(errors)))
        return _renderdir.sync(os.path.abspath(os.path.expanduser(directory)), files, check_mode=self._task.check_mode)

    @staticmethod
    def _host_files(plan, keys, data, hostvars, files, errors, networks_of=None):
        """Add each host's files of ``plan`` to ``files`` (``networks_of``: host -> its plan entries in every
        network, whose union decides the forwarding)."""
        cache = {}
        for host, entry in plan.items():
            facts = None
            if hostvars is not None:
                facts = (hostvars[host].get('__wireguard_host') or {}).get('facts')
                if facts is None:
                    errors.append('%s: wireguard_render_host_facts: the host was not read (unreachable?)' % host)
                    continue
            try:
                settings = parse_role_settings({k: v for k, v in data.get(host, {}).items()
                                                if k in _hostplan.SETTINGS_DEFAULTS}, host)
                decisions = _hostplan.decide(host, entry, facts=facts, settings=settings, render_only=True,
                                             forwarding_entries=(networks_of or {}).get(host))
            except PlanError as exc:
                errors.extend(exc.errors)
                continue
            except ValueError as exc:
                errors.append(str(exc))
                continue
            files['%s/%s.conf' % (host, entry['interface'])] = render_conf(host, entry, keys, decisions, cache=cache)
            if decisions['firewall']['nft_ruleset'] is not None:
                files['%s/%s' % (host, os.path.basename(decisions['firewall']['nft_path']))] = decisions['firewall']['nft_ruleset']
            if decisions['forwarding']['content'] is not None:
                files['%s/%s' % (host, os.path.basename(decisions['forwarding']['file']))] = decisions['forwarding']['content']


def _picture_files(plan, group):
    """``<if>-network.dot`` (always) and ``.svg`` (when the dot binary is installed) for the render folder."""
    if not plan:
        return {}
    name = '%s-network' % next(iter(plan.values()))['interface']
    dot = _picture.network_dot(plan, group)
    files = {name + '.dot': dot}
    image = _picture.svg(dot)
    if image is not None:
        files[name + '.svg'] = image
    return files


def _retired_paths(interface, host, values):
    """What site.yml removes from a retired host: its interface and the paths of its files."""
    settings = parse_role_settings({k: v for k, v in values.items() if k in _hostplan.SETTINGS_DEFAULTS}, host)
    return {'interface': interface, 'paths': _paths.host_paths(interface, settings),
            'nft_tables': [_hooks.nft_table_name(interface), _hooks.GUARD_TABLE]}


def _interface_of(data):
    """The network's interface as the inventory names it (the plan validates it)."""
    for values in data.values():
        if values.get('wireguard_interface'):
            return str(values['wireguard_interface'])
    return 'wg0'


def _unknown_keys(plan, hosts, known, registry):
    """Hosts of this run with a peer whose public key nobody can provide (before any host changes)."""
    errors = []
    for host in sorted(hosts):
        missing = [peer['name'] for peer in plan[host]['peers'] if not peer.get('public_key') and peer['name'] not in known]
        if missing:
            errors.append('%s: wireguard_key_registry: no public key for peer(s) %s: they are not in this run (--limit?) '
                          'and not in %s; run the play once without --limit for them, or set wireguard_public_key in '
                          'their host vars' % (host, ', '.join(missing), registry))
    return errors


def _maybe_template(value):
    if isinstance(value, str):
        return '{{' in value or '{%' in value
    if isinstance(value, dict):
        return any(_maybe_template(k) or _maybe_template(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_maybe_template(v) for v in value)
    return False


def _has_ipv6(facts):
    """True/False when facts tell whether the host has a global IPv6 address, None when unknown."""
    if not isinstance(facts, dict) or not facts:
        return None
    addresses = facts.get('all_ipv6_addresses', facts.get('ansible_all_ipv6_addresses'))
    if addresses is None:
        return None
    return any(not str(a).lower().startswith(('fe80', '::1')) for a in addresses)
