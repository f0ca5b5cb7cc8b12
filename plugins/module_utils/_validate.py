# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory parsing and validation for the topology engine.

``parse_network(hostvars, group)`` turns the ``wireguard_*`` variables of every host of one
network group into typed specs. Every variable is parsed by a loop over the one table of
variables (``_variables.VARIABLES``), so none can skip validation; a ``wireguard_*`` name that
is not in the table is a typo, reported with a suggestion. Problems are collected, never raised
one by one: the caller gets a ``PlanError`` (a ``ValueError``) whose ``errors`` list holds one
``host: variable: problem`` line per problem, sorted, so a user fixes an inventory in one round.
"""

from __future__ import annotations

import bisect
import re

from ._addr import (
    format_endpoint,
    interface_str,
    ip_str,
    is_default_route,
    key_contains,
    key_contains_ip,
    key_end,
    key_overlaps,
    key_str,
    network_of,
)
from ._variables import (  # re-exported (see __all__): the public names of the validation layer
    BY_NAME,
    closest,
    DEFAULT_INTERFACE,
    DEFAULT_KEEPALIVE,
    DEFAULT_PORT,
    EXTERNAL_FIELDS,
    ItemErrors,
    OVERLAP_STRATEGIES,
    PREFIX,
    TOPOLOGIES,
    TOPOLOGY_ALIASES,
    UNSAFE_CHARS_RE,
    VARIABLES,
    Var,
    of_scope,
    role_defaults,
    shown,
    suggestion,
    to_bool,
    to_int,
    to_list,
    unknown_names,
    unsafe_text,
    validate_host_name,
    variables_markdown,
)

__all__ = [
    'BY_NAME', 'DEFAULT_INTERFACE', 'DEFAULT_KEEPALIVE', 'DEFAULT_PORT', 'EXTERNAL_FIELDS', 'Errors', 'HUB_TOPOLOGIES',
    'HostSpec', 'ItemErrors', 'NETWORK_VARS', 'NetworkSpec', 'OVERLAP_STRATEGIES', 'PlanError', 'TOPOLOGIES',
    'TOPOLOGY_ALIASES', 'VARIABLES', 'Var', 'owned_overlapping', 'parse_host', 'parse_network', 'parse_role_settings',
    'parse_vars', 'problem_line', 'role_defaults', 'shown', 'to_bool', 'to_int', 'to_list', 'validate_host_name',
    'variables_markdown',
]

HUB_TOPOLOGIES = ('full_tunnel', 'bastion')

# Network-wide variables: group vars, so every host must see the same value.
NETWORK_VARS = tuple(var.name for var in of_scope('network'))
_NETWORK_TABLE = of_scope('network')
_HOST_TABLE = of_scope('host')
_EXTERNAL_TABLE = of_scope('external')
_ROLE_TABLE = of_scope('role')
_PRIVATE_FIELD_RE = re.compile(r'.*private.?key.*', re.IGNORECASE)


class PlanError(ValueError):
    """All validation problems of one network, one ``host: variable: problem`` line each."""

    def __init__(self, errors):
        self.errors = sorted(set(errors))
        super().__init__('%d problem(s) in the WireGuard inventory:\n%s'
                         % (len(self.errors), '\n'.join(self.errors)))


def _escape(match):
    return '\\u%04x' % ord(match.group())


def problem_line(host, var, problem):
    """``host: variable: problem``, one line whatever the inventory holds: an invalid host name is
    shown as its repr and any control/bidi character left in the text is escaped."""
    return UNSAFE_CHARS_RE.sub(_escape, '%s: %s: %s' % (shown(host), var, problem))


class Errors:
    def __init__(self):
        self.lines = []

    def add(self, host, var, problem):
        self.lines.append(problem_line(host, var, problem))

    def __bool__(self):
        return bool(self.lines)

    def raise_if_any(self):
        if self.lines:
            raise PlanError(self.lines)


class HostSpec:
    """One peer of the network (managed host or external peer), validated."""

    __slots__ = (
        'name', 'external', 'address_strs', 'host_keys', 'lan_keys', 'local_keys', 'owned',
        'endpoint', 'endpoint_ip', 'listen_port', 'listen_port_explicit', 'full_tunnel',
        'extra_keys', 'behind_nat', 'keepalive', 'egress_interface', 'site_nat', 'dns', 'mtu',
        'public_key', 'psk', 'overlap_strategy', 'has_ipv6', 'families', 'owned_strs', 'addr_ifaces',
        'key_mode', 'expires', 'default_route_halves', 'table', 'hooks',
    )

    def __init__(self, name, external=False):
        self.name = name
        self.external = external
        self.address_strs = []
        self.addr_ifaces = []
        self.host_keys = []
        self.lan_keys = []
        self.local_keys = []
        self.owned = []          # [(key, var)] prefixes other peers route to this peer
        self.owned_strs = []
        self.endpoint = None
        self.endpoint_ip = None
        self.listen_port = DEFAULT_PORT
        self.listen_port_explicit = False
        self.full_tunnel = None
        self.extra_keys = []
        self.behind_nat = False
        self.keepalive = DEFAULT_KEEPALIVE
        self.egress_interface = None
        self.site_nat = False
        self.dns = []
        self.mtu = None
        self.public_key = None
        self.psk = False
        self.overlap_strategy = 'fail'
        self.has_ipv6 = None
        self.families = set()
        self.table = None             # wireguard_table: None (auto), 'off', a table number or name
        self.hooks = None             # wireguard_hooks: None or {pre_up, post_up, pre_down, post_down: [command]}
        self.key_mode = None          # external peers: device | controller
        self.expires = None           # external peers: datetime.date or None
        self.default_route_halves = False
        if external:
            self.dns = None           # unset: the network's wireguard_client_dns


class NetworkSpec:
    __slots__ = ('group', 'topology', 'interface', 'hub', 'hosts', 'externals', 'tunnel_keys',
                 'owned_index', 'owned_starts', 'client_dns', 'policy')

    def __init__(self, group):
        self.group = group
        self.topology = None
        self.interface = DEFAULT_INTERFACE
        self.hub = None
        self.hosts = {}
        self.externals = {}
        self.tunnel_keys = []
        self.owned_index = []    # sorted [(key, owner, var)] over all peers
        self.owned_starts = []
        self.client_dns = []     # DNS of the device profiles (wireguard_client_dns)
        self.policy = None       # wireguard_policy as _policy.parse returns it

    def all_peers(self):
        out = dict(self.hosts)
        out.update(self.externals)
        return out


# --------------------------------------------------------------------------- the table loop

def _absent(var, raw):
    """Unset: null always; for inventory variables also "" (and [] when a value is required)."""
    if raw is None:
        return True
    if var.scope == 'role':
        return False
    return raw == '' or (var.required and raw == [])


def _near_miss(var, values):
    """For a missing required variable: what the inventory holds instead, when it looks like a typo."""
    names = [k for k in values if isinstance(k, str) and k != var.name and (var.scope == 'external' or k.startswith(PREFIX))]
    found = closest(var.name, names)
    return '; found %s instead, a misspelling?' % found if found else ''


def parse_vars(errors, host, values, table, label=None, only_present=False):
    """Parse the entries of ``table`` found in ``values``; returns {name: checked value}.

    Absent entries get their parsed default, or are left out (``only_present``);
    a missing required one is reported. Every problem goes to ``errors`` as ``host: label: ...``.
    """
    out = {}
    for var in table:
        raw = values.get(var.name)
        where = label(var.name) if label else var.name
        if _absent(var, raw):
            if only_present:
                continue
            if var.required:
                errors.add(host, where, 'required: %s%s' % (var.meaning, _near_miss(var, values)))
            else:
                out[var.name] = None if var.default is None else var.parser(var.default)
            continue
        bad = unsafe_text(raw)
        if bad:
            errors.add(host, where + bad[0], '%s: remove it (such characters can end a config line or hide text)' % bad[1])
            continue
        try:
            out[var.name] = var.parser(raw)
        except ItemErrors as exc:
            for problem in exc.problems:
                errors.add(host, where, problem)
        except ValueError as exc:
            errors.add(host, where, str(exc))
    return out


def parse_role_settings(values, host):
    """Validate the role settings present in ``values`` and fill in the table defaults for the others.

    :returns: {variable: checked value} for every role setting of the table.
    :raises PlanError: listing every problem as ``host: variable: problem``.
    """
    errors = Errors()
    out = parse_vars(errors, host, values, _ROLE_TABLE)
    errors.raise_if_any()
    return out


def _check_unknown(errors, warnings, host, hv, mode):
    """A ``wireguard_*`` variable that is not in the table is a typo (or a stale setting)."""
    for name in unknown_names(hv):
        bad = unsafe_text(hv[name])
        if bad:
            errors.add(host, name + bad[0], '%s: remove it' % bad[1])
        text = 'not a variable of this collection%s; see docs/variables.md' % suggestion(name, BY_NAME)
        if mode == 'warn':
            if warnings is not None:
                warnings.append(problem_line(host, name, text + ' (ignored)'))
        else:
            errors.add(host, name, text + ' (set wireguard_unknown_variables: warn to only warn)')


# --------------------------------------------------------------------------- host parsing

def _set_addresses(spec, addrs):
    for addr in addrs:
        spec.addr_ifaces.append(addr)
        spec.address_strs.append(interface_str(addr))
        spec.host_keys.append((addr[0], addr[1], 32 if addr[0] == 4 else 128))
        spec.families.add(addr[0])


def parse_host(errors, name, hv, external=False, has_ipv6=None, warnings=None):
    """Parse one host's (or external peer's) variables into a HostSpec; problems go to errors."""
    spec = HostSpec(name, external)
    spec.has_ipv6 = has_ipv6
    if external:
        table, prefix = _EXTERNAL_TABLE, ''

        def label(field):
            return 'wireguard_external_peers[%s].%s' % (name, field)
    else:
        table, prefix, label = _HOST_TABLE, PREFIX, None

    def short(field):
        return prefix + field
    values = parse_vars(errors, name, hv, table, label)
    for var in table:
        if var.attr and values.get(var.name) is not None:
            setattr(spec, var.attr, values[var.name])
    spec.listen_port_explicit = hv.get(short('listen_port')) not in (None, '')
    _set_addresses(spec, values.get(short('address')) or [])
    endpoint = values.get(short('endpoint'))
    if endpoint:
        ep_host, ep_port, spec.endpoint_ip = endpoint
        spec.endpoint = format_endpoint(ep_host, spec.listen_port if ep_port is None else ep_port, spec.endpoint_ip)
        if ep_port is not None and ep_port != spec.listen_port and not external and warnings is not None:
            warnings.append(problem_line(name, 'wireguard_endpoint', 'port %d differs from wireguard_listen_port %d: '
                                         'fine behind a port forward, otherwise peers cannot reach this host'
                                         % (ep_port, spec.listen_port)))
    lan_var = label('lan_subnets') if external else 'wireguard_lan_subnets'
    addr_var = label('address') if external else 'wireguard_address'
    # own LANs must not overlap each other
    lans = sorted(spec.lan_keys)
    for a, b in zip(lans, lans[1:]):
        if key_overlaps(a, b):
            errors.add(name, lan_var, '%s and %s overlap' % (key_str(a), key_str(b)))
    spec.owned = sorted([(k, addr_var) for k in spec.host_keys] + [(k, lan_var) for k in spec.lan_keys])
    spec.owned_strs = [key_str(k) for k, _v in spec.owned]
    return spec


# --------------------------------------------------------------------------- network parsing

def _network_value(errors, hostvars, varname, default):
    """The value of a group var; every host must agree (it describes the whole network)."""
    seen = []
    for host in sorted(hostvars):
        value = hostvars[host].get(varname)
        if value is None:
            value = default
        for known, hosts in seen:
            if known == value:
                hosts.append(host)
                break
        else:
            seen.append((value, [host]))
    if not seen:
        return default
    seen.sort(key=lambda item: -len(item[1]))
    majority = seen[0][0]
    for value, hosts in seen[1:]:
        for host in hosts:
            errors.add(host, varname, 'is %r here but %r on %s: it is a network-wide (group) variable'
                       % (value, majority, seen[0][1][0]))
    return majority


def _parse_network_vars(errors, hostvars, group, net):
    raw = {name: _network_value(errors, hostvars, name, None) for name in NETWORK_VARS}
    # the hosts' unknown names go along, so a missing group var can point at its misspelling
    context = dict.fromkeys(name for hv in hostvars.values() for name in unknown_names(hv))
    context.update(raw)
    values = parse_vars(errors, group, context, _NETWORK_TABLE)
    net.topology = values.get('wireguard_topology')
    net.interface = values.get('wireguard_interface') or DEFAULT_INTERFACE
    net.client_dns = values.get('wireguard_client_dns') or []
    net.policy = values.get('wireguard_policy')
    hub = values.get('wireguard_hub')
    if hub is None and raw['wireguard_hub'] in (None, '') and net.topology in HUB_TOPOLOGIES:
        errors.add(group, 'wireguard_hub', 'required for the %s topology: the inventory name of the %s'
                   % (net.topology, 'VPS' if net.topology == 'full_tunnel' else 'bastion'))
    elif hub is not None and hub not in hostvars:
        errors.add(group, 'wireguard_hub', '%r is not a host of the group %s' % (hub, group))
    else:
        net.hub = hub
    return raw, values


def _external_fields_ok(errors, group, where, ext):
    """Only the table's fields; a private key is refused outright: it must never leave the device."""
    ok = True
    for field in ext:
        if isinstance(field, str) and field in EXTERNAL_FIELDS:
            continue
        ok = False
        if isinstance(field, str) and _PRIVATE_FIELD_RE.fullmatch(field):
            errors.add(group, '%s.%s' % (where, field), "an external peer's private key must stay on the device: "
                       'remove it from the inventory (only its public_key is needed), and replace the key if it was '
                       'committed anywhere')
        else:
            errors.add(group, '%s.%s' % (where, field) if isinstance(field, str) else '%s[%r]' % (where, field),
                       'not a field of an external peer%s (fields: %s)'
                       % (suggestion(str(field), EXTERNAL_FIELDS), ', '.join(EXTERNAL_FIELDS)))
    return ok


def _parse_externals(errors, group, hostvars, externals, net):
    for i, ext in enumerate(externals):
        where = 'wireguard_external_peers[%d]' % i
        if not isinstance(ext, dict) or ext.get('name') in (None, ''):
            errors.add(group, where, 'each entry needs a name (and public_key, address)')
            continue
        name = ext['name']
        try:
            validate_host_name(name)
        except ValueError as exc:
            errors.add(group, where + '.name', str(exc))
            continue
        where = 'wireguard_external_peers[%s]' % name     # a valid name says more than the index
        if not _external_fields_ok(errors, name, where, ext):
            continue
        if name in hostvars or name in net.externals:
            errors.add(name, 'wireguard_external_peers', 'the name %r is already used by another peer' % name)
            continue
        spec = net.externals[name] = parse_host(errors, name, ext, external=True)
        _check_key_mode(errors, name, spec)


def _check_key_mode(errors, name, spec):
    """``key_mode: device`` needs the device's public key; ``controller`` makes the pair itself."""
    where = 'wireguard_external_peers[%s].public_key' % name
    if spec.key_mode == 'device' and spec.public_key is None:
        errors.add(name, where, 'required with key_mode device (the default): the public key the device made; '
                   'or set key_mode: controller to have playbooks/clients.yml make the key pair')
    elif spec.key_mode == 'controller' and spec.public_key is not None:
        errors.add(name, where, 'not allowed with key_mode controller: playbooks/clients.yml makes the key pair '
                   'and records the public key in the key registry; remove public_key or use key_mode device')


def parse_network(hostvars, group='wireguard', warnings=None):
    """Validate every host of the network group. Returns a NetworkSpec; raises PlanError.

    ``hostvars`` maps inventory hostname -> dict of that host's ``wireguard_*`` variables
    (group vars included). An optional ``__wireguard_has_ipv6`` entry (bool, from facts)
    tells whether the host has global IPv6 connectivity. ``warnings``, when a list, receives
    ``host: variable: text`` lines about accepted but doubtful values.
    """
    errors = Errors()
    net = NetworkSpec(group)
    if not hostvars:
        errors.add(group, 'hosts', 'the network group has no hosts')
        errors.raise_if_any()

    raw, values = _parse_network_vars(errors, hostvars, group, net)
    mode = values.get('wireguard_unknown_variables') or 'error'
    for host in sorted(hostvars):
        hv = hostvars[host]
        try:
            validate_host_name(host)
        except ValueError as exc:
            errors.add(host, 'inventory_hostname', str(exc))
        _check_unknown(errors, warnings, host, hv, mode)
        parse_vars(errors, host, hv, _ROLE_TABLE, only_present=True)
        net.hosts[host] = parse_host(errors, host, hv, has_ipv6=hv.get('__wireguard_has_ipv6'), warnings=warnings)

    externals = values.get('wireguard_external_peers') or []
    _parse_externals(errors, group, hostvars, externals, net)
    if net.externals and not net.hub and raw['wireguard_hub'] in (None, ''):
        errors.add(group, 'wireguard_external_peers', 'external peers attach to the hub: set wireguard_hub')

    _check_addresses(errors, net)
    _check_lans(errors, net)
    _index_owned(net)
    _check_public_keys(errors, net)
    _check_endpoints(errors, net)
    errors.raise_if_any()
    return net


def _var_of(spec, short):
    return 'wireguard_external_peers[%s].%s' % (spec.name, short) if spec.external else PREFIX + short


def _check_public_keys(errors, net):
    """One key pair per peer: WireGuard identifies a peer by its public key."""
    seen = {}
    for name, spec in sorted(net.all_peers().items()):
        if spec.public_key is None:
            continue
        if spec.public_key in seen:
            errors.add(name, _var_of(spec, 'public_key'), 'the same public key as %s: every peer needs its own key '
                       'pair (WireGuard identifies peers by key)' % seen[spec.public_key])
        else:
            seen[spec.public_key] = name


def _check_endpoints(errors, net):
    """Two peers on one address:port, or an endpoint inside another peer's prefixes."""
    seen = {}
    for name, spec in sorted(net.all_peers().items()):
        if spec.endpoint is None:
            continue
        where = _var_of(spec, 'endpoint')
        same = spec.endpoint.lower()
        if same in seen:
            errors.add(name, where, '%s is also the endpoint of %s: two peers cannot share one address and port'
                       % (spec.endpoint, seen[same]))
        else:
            seen[same] = name
        ip = spec.endpoint_ip
        if ip is None:
            continue
        probe = (ip.version, int(ip), ip.max_prefixlen)
        for key, owner, var in owned_overlapping(net, probe):
            if owner == name or is_default_route(key) or not key_contains_ip(key, ip):
                continue
            what = 'the tunnel address' if key[2] == ip.max_prefixlen and var.endswith('address') else var
            errors.add(name, where, '%s is inside %s (%s of %s): peers routing to %s would send this peer\'s tunnel '
                       'packets into the tunnel; fix the endpoint or that prefix' % (ip, key_str(key), what, owner, owner))
            errors.add(owner, var, '%s contains the endpoint %s of %s%s' % (
                key_str(key), ip, 'the hub ' if name == net.hub else 'peer ', name))


def _check_addresses(errors, net):
    """One tunnel network per family; every address inside it; no duplicates."""
    peers = net.all_peers()
    by_family = {}
    for name, spec in peers.items():
        for addr in spec.addr_ifaces:
            if spec.external and addr[2] == (32 if addr[0] == 4 else 128):
                continue
            by_family.setdefault(addr[0], []).append((name, network_of(addr)))
    hub = peers.get(net.hub) if net.hub else None
    for family, entries in sorted(by_family.items()):
        chosen = None
        if hub is not None:
            for addr in hub.addr_ifaces:
                if addr[0] == family:
                    chosen = (net.hub, network_of(addr))
                    break
        if chosen is None:
            counts = {}
            for name, network in entries:
                counts.setdefault(network, []).append(name)
            chosen_net = sorted(counts, key=lambda n: (-len(counts[n]), n[2], n))[0]
            chosen = (sorted(counts[chosen_net])[0], chosen_net)
        net.tunnel_keys.append(chosen[1])
    net.tunnel_keys.sort()
    tunnel_by_family = {k[0]: k for k in net.tunnel_keys}
    seen = {}
    for name in sorted(peers):
        spec = peers[name]
        var = 'wireguard_external_peers[%s].address' % name if spec.external else 'wireguard_address'
        for addr, key in zip(spec.addr_ifaces, spec.host_keys):
            tkey = tunnel_by_family.get(addr[0])
            text = interface_str(addr)
            if tkey is not None and not key_contains(tkey, key):
                errors.add(name, var, '%s is not inside the tunnel network %s' % (text, key_str(tkey)))
            elif tkey is not None and not spec.external and addr[2] < tkey[2]:
                errors.add(name, var, '%s is wider than the tunnel network %s' % (text, key_str(tkey)))
            if key in seen:
                errors.add(name, var, 'duplicate tunnel address %s, already used by %s'
                           % (ip_str(addr[0], addr[1]), seen[key]))
            else:
                seen[key] = name


def _check_lans(errors, net):
    """LAN and local subnets must not overlap the tunnel network."""
    for name, spec in sorted(net.all_peers().items()):
        for var, keys in (('lan_subnets', spec.lan_keys), ('local_subnets', spec.local_keys)):
            full = 'wireguard_external_peers[%s].%s' % (name, var) if spec.external else 'wireguard_' + var
            for key in keys:
                for tkey in net.tunnel_keys:
                    if key_overlaps(key, tkey):
                        errors.add(name, full, '%s overlaps the tunnel network %s' % (key_str(key), key_str(tkey)))


def _index_owned(net):
    index = []
    for name, spec in net.all_peers().items():
        for key, var in spec.owned:
            index.append((key, name, var))
    index.sort()
    net.owned_index = index
    net.owned_starts = [(k[0], k[1]) for k, _n, _v in index]


def owned_overlapping(net, key):
    """Owned prefixes (key, owner, var) that overlap ``key``: O(log N + hits).

    Relies on owned prefixes being mostly disjoint (checked separately): the only candidates
    are those starting inside ``key`` plus the nearest ones starting before it.
    """
    out = []
    starts = net.owned_starts
    index = net.owned_index
    lo = bisect.bisect_left(starts, (key[0], key[1]))
    hi = bisect.bisect_right(starts, (key[0], key_end(key)))
    out.extend(index[lo:hi])
    i = lo - 1
    # walk back over prefixes that start before key and may still cover it
    steps = 0
    while i >= 0 and index[i][0][0] == key[0] and steps < 8:
        if key_overlaps(index[i][0], key):
            out.append(index[i])
        steps += 1
        i -= 1
    return out
