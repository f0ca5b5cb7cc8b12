# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan artifact: the whole network's plan as a public file a partial run can use.

``render.yml`` writes ``<render dir>/plan.json`` (``build`` + ``dumps``): the plan of every host,
the public keys it was computed with, the device states, and a digest of each host's plan inputs
(one per ``wireguard_*`` variable of the network and host scopes). ``site.yml -e
wireguard_plan_file=PATH`` then uses that plan instead of computing one from the inventory it sees,
which may be only a slice of the network (AWX job slicing, ``ansible-pull``). ``stale`` refuses the
file, naming host and variable, when what this run sees differs from what the plan was computed
from: a visible host's inputs, the key registry, the device states, or a host the file lacks.

The file holds no secret (addresses, public keys, AllowedIPs, endpoints, routing decisions). It is
written with sorted keys, so an unchanged inventory renders it byte for byte again. Its checksum
catches edits and broken merges; it is no signature: whoever may write the file may write the
inventory too. Pure module: stdlib only, raises ``ValueError``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import types

from ._devices import device_state
from ._topology import PlanEntry, PlanPeer
from ._variables import VARIABLES, unsafe_text

NAME = 'plan.json'
FORMAT = 'netfleet.wireguard plan artifact 1'
VAR = 'wireguard_plan_file'
# network-scope variables that steer a run, not the plan: a slice may set them differently
RUN_TIME_VARIABLES = frozenset((
    'wireguard_client_dir', 'wireguard_key_registry', 'wireguard_network_group', 'wireguard_plan_file',
    'wireguard_render_dir', 'wireguard_render_host_facts', 'wireguard_unknown_variables',
))
INPUT_VARIABLES = tuple(sorted(var.name for var in VARIABLES
                               if var.scope in ('network', 'host') and var.name not in RUN_TIME_VARIABLES))
RENDER_AGAIN = 'render the plan again (playbooks/render.yml on the whole inventory)'


def _plain(value):
    """JSON for values YAML and Ansible hand over beyond JSON's types (dates, tagged strings)."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def _canonical(value):
    return json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=True, default=_plain)


def value_digest(value):
    """Short SHA-256 of one variable's value: detects a change, not an attack (see the module doc)."""
    return hashlib.sha256(_canonical(value).encode('ascii')).hexdigest()[:16]


def host_inputs(values):
    """``{variable: digest}`` of the plan inputs a host's ``wireguard_*`` variables hold."""
    return {name: value_digest(values[name]) for name in INPUT_VARIABLES if name in values}


def _checksum(artifact):
    body = {k: v for k, v in artifact.items() if k != 'checksum'}
    return 'sha256:' + hashlib.sha256(_canonical(body).encode('ascii')).hexdigest()


def build(group, plan, data, keys, pinned, devices):
    """The artifact of ``plan`` (``build_plan`` of ``data``, the hosts' ``wireguard_*`` variables).

    ``keys``: registry keys (host or device -> public key); ``pinned``: ``wireguard_public_key`` of
    the hosts; ``devices``: ``_devices.settle``'s report (device -> state, ...).
    """
    hosts = sorted(plan)
    artifact = {
        'format': FORMAT,
        'group': group,
        'hosts': hosts,
        'inputs': {host: host_inputs(data.get(host) or {}) for host in hosts},
        'public_keys': {host: keys[host] for host in hosts if host in keys and host not in pinned},
        'public_keys_pinned': {host: pinned[host] for host in hosts if host in pinned},
        'missing_public_keys': [host for host in hosts if host not in keys and host not in pinned],
        'devices': {name: dict(report) for name, report in (devices or {}).items()},
        'plan': plan,
    }
    artifact['checksum'] = _checksum(artifact)
    return json.loads(_canonical(artifact))


def dumps(artifact):
    """The file's text: sorted keys, one value per line (diffs stay readable in review)."""
    return json.dumps(artifact, sort_keys=True, indent=1, ensure_ascii=True) + '\n'


def loads(text, source):
    """The artifact in ``text`` (the content of ``source``), checked; ValueError naming the problem."""
    where = 'controller: %s: %s' % (VAR, source)
    try:
        artifact = json.loads(text)
    except ValueError as exc:
        raise ValueError('%s is not JSON (%s); %s' % (where, exc, RENDER_AGAIN)) from None
    if not isinstance(artifact, dict) or artifact.get('format') != FORMAT:
        raise ValueError('%s is not a plan artifact of this collection (format %r expected); %s'
                         % (where, FORMAT, RENDER_AGAIN))
    if artifact.get('checksum') != _checksum(artifact):
        raise ValueError('%s was changed after render.yml wrote it (checksum mismatch): do not edit it, %s'
                         % (where, RENDER_AGAIN))
    problem = _shape_problem(artifact) or unsafe_text(artifact)
    if problem:
        raise ValueError('%s: %s' % (where, problem if isinstance(problem, str) else '%s %s' % problem))
    return artifact


def _shape_problem(artifact):
    """What is missing from a well-formed artifact, or None."""
    for key, kind in (('group', str), ('hosts', list), ('inputs', dict), ('public_keys', dict),
                      ('public_keys_pinned', dict), ('missing_public_keys', list), ('devices', dict), ('plan', dict)):
        if not isinstance(artifact.get(key), kind):
            return '%s must be a %s' % (key, kind.__name__)
    if artifact['hosts'] != sorted(artifact['plan']) or sorted(artifact['inputs']) != artifact['hosts']:
        return 'hosts, inputs and plan must name the same hosts'
    for host, entry in artifact['plan'].items():
        if not isinstance(entry, dict) or set(entry) != set(PlanEntry.__annotations__):
            return 'plan[%s] is not a plan entry' % host
        if any(not isinstance(peer, dict) or set(peer) != set(PlanPeer.__annotations__) for peer in entry['peers']):
            return 'plan[%s].peers holds an entry that is not a peer' % host
    return None


def public_keys(artifact):
    """Every host's public key as the plan was computed with it (registry and pinned)."""
    return dict(artifact['public_keys'], **artifact['public_keys_pinned'])


def stale(artifact, source, group, data, registry_keys, revoked, today):
    """Problems (``host: variable: text`` lines) that make ``artifact`` unusable for this run.

    ``data``: the ``wireguard_*`` variables of the hosts this run sees (its slice of the network
    group); ``registry_keys``: the key registry's keys of the interface now; ``revoked``: device ->
    date of the revocation file now; ``today``: UTC date.
    """
    errors = []
    if artifact['group'] != group:
        errors.append('%s: wireguard_network_group: %s was rendered for the group %s; use that group or %s'
                      % (group, source, artifact['group'], RENDER_AGAIN))
    for host in artifact['missing_public_keys']:
        errors.append('%s: %s: %s has no public key for %s (its key pair did not exist when it was rendered): create '
                      'the key pairs first (playbooks/keys.yml on the whole inventory, or wireguard_public_key), then '
                      '%s' % (host, VAR, source, host, RENDER_AGAIN))
    for host in sorted(data):
        errors.extend(_host_stale(artifact, source, host, data[host]))
    errors.extend(_registry_stale(artifact, source, registry_keys))
    errors.extend(_devices_stale(artifact, source, registry_keys, revoked, today))
    return errors


def _host_stale(artifact, source, host, values):
    if host not in artifact['inputs']:
        return ['%s: %s: the host is not in %s (added to the inventory after it was rendered?); %s'
                % (host, VAR, source, RENDER_AGAIN)]
    then, now = artifact['inputs'][host], host_inputs(values)
    errors = []
    for name in sorted(set(then) | set(now)):
        if name not in now:
            what = 'no longer set'
        elif name not in then:
            what = 'set'
        elif then[name] != now[name]:
            what = 'changed'
        else:
            continue
        errors.append('%s: %s: %s since %s was rendered; %s' % (host, name, what, source, RENDER_AGAIN))
    return errors


def _registry_stale(artifact, source, registry_keys):
    errors = []
    for host, key in sorted(artifact['public_keys'].items()):
        now = registry_keys.get(host)
        if now != key:
            what = 'has no public key for the host' if now is None else 'holds another public key (%s)' % now
            errors.append('%s: wireguard_key_registry: the registry %s than %s was rendered with (%s); %s'
                          % (host, what, source, key, RENDER_AGAIN))
    return errors


def _devices_stale(artifact, source, registry_keys, revoked, today):
    errors = []
    for name, report in sorted(artifact['devices'].items()):
        expires = report.get('expires')
        spec = types.SimpleNamespace(name=name, key_mode=report.get('key_mode'),
                                     expires=datetime.date.fromisoformat(expires) if expires else None)
        state = device_state(spec, registry_keys, revoked, today)
        key = registry_keys.get(name) if report.get('key_mode') == 'controller' else report.get('public_key')
        if state != report.get('state') or (state == 'active' and key != report.get('public_key')):
            errors.append('%s: wireguard_external_peers[%s]: %s now (%s when %s was rendered, key %s); %s'
                          % (name, name, state, report.get('state'), source, report.get('public_key'), RENDER_AGAIN))
    return errors


def check_host_key(host, key_pair, rotate, artifact_key, source):
    """Refuse a host whose key would not be the artifact's: its peers in other slices keep that key.

    ``key_pair``: the host plan's ``key_pair`` decision; ``rotate``: ``wireguard_keys_rotate``.
    """
    if rotate:
        raise ValueError('%s: wireguard_keys_rotate: a rotation changes the key the peers in %s expect; rotate in a '
                         'run without %s, then %s' % (host, source, VAR, RENDER_AGAIN))
    found = key_pair.get('public_key')
    if found != artifact_key:
        what = 'has no key pair yet' if found is None else 'holds the public key %s' % found
        values = (host, VAR, what, key_pair.get('path'), source, artifact_key, VAR, RENDER_AGAIN)
        raise ValueError('%s: %s: the host %s (%s) but %s has %s for it: create or restore its key in a run without %s '
                         '(playbooks/keys.yml), then %s' % values)
