# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory parsing and validation for the topology engine.

``parse_network(hostvars, group)`` turns the ``wireguard_*`` variables of every host of one
network group into typed specs. Problems are collected, never raised one by one: the caller
gets a ``PlanError`` (a ``ValueError``) whose ``errors`` list holds one ``host: variable:
problem`` line per problem, sorted, so a user fixes an inventory in one round.
"""

from __future__ import annotations

import bisect

from ._addr import (
    key_contains,
    key_end,
    key_overlaps,
    key_str,
    interface_str,
    ip_str,
    network_of,
    parse_endpoint,
    parse_interface_address,
    parse_network as parse_cidr,
    parse_port,
    parse_public_key,
    validate_interface_name,
)

TOPOLOGIES = ('full_tunnel', 'site_to_site', 'bastion', 'mesh')
TOPOLOGY_ALIASES = {'hub_and_spoke': 'bastion'}
HUB_TOPOLOGIES = ('full_tunnel', 'bastion')
OVERLAP_STRATEGIES = ('fail', 'split', 'widen')
DEFAULT_INTERFACE = 'wg0'
DEFAULT_PORT = 51820
DEFAULT_KEEPALIVE = 25

# Network-wide variables: group vars, so every host must see the same value.
NETWORK_VARS = ('wireguard_topology', 'wireguard_interface', 'wireguard_hub', 'wireguard_external_peers')

_TRUE = ('true', 'yes', 'on', '1')
_FALSE = ('false', 'no', 'off', '0')


class PlanError(ValueError):
    """All validation problems of one network, one ``host: variable: problem`` line each."""

    def __init__(self, errors):
        self.errors = sorted(set(errors))
        super().__init__('%d problem(s) in the WireGuard inventory:\n%s'
                         % (len(self.errors), '\n'.join(self.errors)))


class Errors:
    def __init__(self):
        self.lines = []

    def add(self, host, var, problem):
        self.lines.append('%s: %s: %s' % (host, var, problem))

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


class NetworkSpec:
    __slots__ = ('group', 'topology', 'interface', 'hub', 'hosts', 'externals', 'tunnel_keys',
                 'owned_index', 'owned_starts')

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

    def all_peers(self):
        out = dict(self.hosts)
        out.update(self.externals)
        return out


# --------------------------------------------------------------------------- scalar parsers

def to_bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    raise ValueError('%r is not a boolean' % (value,))


def to_list(value):
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ValueError('%r is not a list' % (value,))


def to_int(value, low, high, what):
    if isinstance(value, bool):
        raise ValueError('%r is not %s' % (value, what))
    if isinstance(value, str) and value.strip().lstrip('-').isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not low <= value <= high:
        raise ValueError('%r is not %s (%d-%d)' % (value, what, low, high))
    return value


def _prefix_list(errors, host, var, value):
    try:
        items = to_list(value)
    except ValueError as exc:
        errors.add(host, var, str(exc))
        return []
    keys = []
    for item in items:
        try:
            keys.append(parse_cidr(item))
        except ValueError as exc:
            errors.add(host, var, str(exc))
    return keys


def _get(vars_, name, default=None):
    value = vars_.get(name, default)
    return default if value is None else value


# --------------------------------------------------------------------------- host parsing

def parse_host(errors, name, hv, external=False, has_ipv6=None):
    """Parse one host's (or external peer's) variables into a HostSpec; problems go to errors."""
    spec = HostSpec(name, external)
    spec.has_ipv6 = has_ipv6
    pre = '' if external else 'wireguard_'
    addr_var = 'address' if external else 'wireguard_address'
    if external:
        addr_var = 'wireguard_external_peers[%s].address' % name

    def var(short):
        return 'wireguard_external_peers[%s].%s' % (name, short) if external else pre + short

    # tunnel addresses
    raw = hv.get('address' if external else 'wireguard_address')
    if raw in (None, '', []):
        errors.add(name, addr_var, 'required: the tunnel address(es) with prefix, e.g. 10.0.0.2/24')
    else:
        try:
            items = to_list(raw)
        except ValueError as exc:
            errors.add(name, addr_var, str(exc))
            items = []
        for item in items:
            if external and isinstance(item, str) and '/' not in item:
                item = item + ('/128' if ':' in item else '/32')
            try:
                addr = parse_interface_address(item)
            except ValueError as exc:
                errors.add(name, addr_var, str(exc))
                continue
            spec.addr_ifaces.append(addr)
            spec.address_strs.append(interface_str(addr))
            spec.host_keys.append((addr[0], addr[1], 32 if addr[0] == 4 else 128))
            spec.families.add(addr[0])

    spec.lan_keys = _prefix_list(errors, name, var('lan_subnets'), hv.get(var('lan_subnets') if not external else 'lan_subnets'))
    if not external:
        spec.local_keys = _prefix_list(errors, name, 'wireguard_local_subnets', hv.get('wireguard_local_subnets'))
        spec.extra_keys = _prefix_list(errors, name, 'wireguard_extra_allowed_ips', hv.get('wireguard_extra_allowed_ips'))

    # ports and endpoint
    port_raw = hv.get('listen_port' if external else 'wireguard_listen_port')
    if port_raw is not None:
        try:
            spec.listen_port = parse_port(port_raw)
            spec.listen_port_explicit = True
        except ValueError as exc:
            errors.add(name, var('listen_port'), str(exc))
    ep_raw = hv.get('endpoint' if external else 'wireguard_endpoint')
    if ep_raw not in (None, ''):
        try:
            spec.endpoint, spec.endpoint_ip = parse_endpoint(ep_raw, spec.listen_port)
        except ValueError as exc:
            errors.add(name, var('endpoint'), str(exc))

    # booleans
    for short, attr in (('full_tunnel', 'full_tunnel'), ('behind_nat', 'behind_nat'), ('site_nat', 'site_nat'),
                        ('preshared_keys', 'psk')):
        if external and short not in ('full_tunnel',):
            continue
        key = short if external else 'wireguard_' + short
        if hv.get(key) is not None:
            try:
                setattr(spec, attr, to_bool(hv.get(key)))
            except ValueError as exc:
                errors.add(name, var(short), str(exc))

    pk = hv.get('public_key' if external else 'wireguard_public_key')
    if pk not in (None, ''):
        try:
            spec.public_key = parse_public_key(pk)
        except ValueError as exc:
            errors.add(name, var('public_key'), str(exc))
    elif external:
        errors.add(name, var('public_key'), 'required for a peer Ansible does not manage')

    if not external:
        if hv.get('wireguard_persistent_keepalive') is not None:
            try:
                spec.keepalive = to_int(hv['wireguard_persistent_keepalive'], 0, 65535, 'a keepalive interval in seconds')
            except ValueError as exc:
                errors.add(name, 'wireguard_persistent_keepalive', str(exc))
        egress = hv.get('wireguard_egress_interface')
        if egress not in (None, ''):
            try:
                spec.egress_interface = validate_interface_name(egress)
            except ValueError as exc:
                errors.add(name, 'wireguard_egress_interface', str(exc))
        strategy = _get(hv, 'wireguard_overlap_strategy', 'fail')
        if strategy not in OVERLAP_STRATEGIES:
            errors.add(name, 'wireguard_overlap_strategy', '%r is not one of %s' % (strategy, ', '.join(OVERLAP_STRATEGIES)))
        else:
            spec.overlap_strategy = strategy
        try:
            dns = to_list(hv.get('wireguard_dns'))
            for item in dns:
                if not isinstance(item, str) or not item.strip() or any(c in item for c in ' ,\n='):
                    raise ValueError('%r is not a DNS server address or search domain' % (item,))
            spec.dns = [d.strip() for d in dns]
        except ValueError as exc:
            errors.add(name, 'wireguard_dns', str(exc))
        if hv.get('wireguard_mtu') is not None:
            try:
                spec.mtu = to_int(hv['wireguard_mtu'], 576, 65535, 'an MTU')
            except ValueError as exc:
                errors.add(name, 'wireguard_mtu', str(exc))

    # own LANs must not overlap each other
    lans = sorted(spec.lan_keys)
    for a, b in zip(lans, lans[1:]):
        if key_overlaps(a, b):
            errors.add(name, var('lan_subnets'), '%s and %s overlap' % (key_str(a), key_str(b)))
    spec.owned = sorted([(k, addr_var) for k in spec.host_keys] + [(k, var('lan_subnets')) for k in spec.lan_keys])
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
        for i, (known, hosts) in enumerate(seen):
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


def parse_network(hostvars, group='wireguard'):
    """Validate every host of the network group. Returns a NetworkSpec; raises PlanError.

    ``hostvars`` maps inventory hostname -> dict of that host's ``wireguard_*`` variables
    (group vars included). An optional ``__wireguard_has_ipv6`` entry (bool, from facts)
    tells whether the host has global IPv6 connectivity.
    """
    errors = Errors()
    net = NetworkSpec(group)
    if not hostvars:
        errors.add(group, 'hosts', 'the network group has no hosts')
        errors.raise_if_any()

    topology = _network_value(errors, hostvars, 'wireguard_topology', None)
    topology = TOPOLOGY_ALIASES.get(topology, topology)
    if topology is None:
        errors.add(group, 'wireguard_topology', 'required: one of %s' % ', '.join(TOPOLOGIES))
    elif topology not in TOPOLOGIES:
        errors.add(group, 'wireguard_topology', 'unknown topology %r (one of %s, or hub_and_spoke)'
                   % (topology, ', '.join(TOPOLOGIES)))
    else:
        net.topology = topology

    interface = _network_value(errors, hostvars, 'wireguard_interface', DEFAULT_INTERFACE)
    try:
        net.interface = validate_interface_name(interface)
    except ValueError as exc:
        errors.add(group, 'wireguard_interface', str(exc))

    hub = _network_value(errors, hostvars, 'wireguard_hub', None)
    if hub in (None, ''):
        if topology in HUB_TOPOLOGIES:
            errors.add(group, 'wireguard_hub', 'required for the %s topology: the inventory name of the %s'
                       % (topology, 'VPS' if topology == 'full_tunnel' else 'bastion'))
    elif hub not in hostvars:
        errors.add(group, 'wireguard_hub', '%r is not a host of the group %s' % (hub, group))
    else:
        net.hub = hub

    for host in sorted(hostvars):
        hv = hostvars[host]
        net.hosts[host] = parse_host(errors, host, hv, has_ipv6=hv.get('__wireguard_has_ipv6'))

    externals = _network_value(errors, hostvars, 'wireguard_external_peers', [])
    try:
        externals = to_list(externals)
    except ValueError as exc:
        errors.add(group, 'wireguard_external_peers', str(exc))
        externals = []
    for i, ext in enumerate(externals):
        if not isinstance(ext, dict) or not isinstance(ext.get('name'), str) or not ext.get('name'):
            errors.add(group, 'wireguard_external_peers[%d]' % i, 'each entry needs a name (and public_key, address)')
            continue
        name = ext['name']
        if name in hostvars or name in net.externals:
            errors.add(name, 'wireguard_external_peers', 'the name %r is already used by another peer' % name)
            continue
        net.externals[name] = parse_host(errors, name, ext, external=True)
    if net.externals and not net.hub and hub in (None, ''):
        errors.add(group, 'wireguard_external_peers', 'external peers attach to the hub: set wireguard_hub')

    _check_addresses(errors, net)
    _check_lans(errors, net)
    _index_owned(net)
    errors.raise_if_any()
    return net


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
