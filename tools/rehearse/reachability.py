# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which tunnel address and LAN each host should reach, read from the computed plan (pure).

A ping from host S to address A travels like WireGuard and the kernel move it: S routes A to the
peer whose AllowedIPs hold it most specifically; that peer accepts the packet only when S's tunnel
address (the source) is inside the AllowedIPs it has for S, and only if one of the two knows the
other's endpoint (someone must start the handshake). The packet is delivered where A is the host's
own address or inside a LAN it routes; anywhere else the host must relay wg -> wg (``routing.relay``).
The reply makes the same journey back from A's owner, with A as the source. A pair is intended when
both ways get through; otherwise the first obstacle is the reason.
"""
from __future__ import annotations

import ipaddress
import typing


class Target(typing.NamedTuple):
    label: str        # column heading: the host, or "<gateway> LAN" (LAN1, LAN2, ... when it has several)
    address: str      # what is pinged
    owner: str        # host whose address it is, or the gateway of the LAN
    kind: str         # "tunnel" or "lan"
    prefix: str       # the LAN (the tunnel address itself for a tunnel target)


class Verdict(typing.NamedTuple):
    intended: bool
    path: typing.Tuple[str, ...]   # hosts the ping crosses (there and back when intended)
    reason: str                    # why not ("" when intended)


def targets(plan, lans=()):
    """Every tunnel address of every host, then one address per mirrored LAN (``{gateway, prefix, address}``)."""
    out = [Target(host, str(ipaddress.ip_interface(a).ip), host, 'tunnel', str(ipaddress.ip_interface(a).ip))
           for host in sorted(plan) for a in plan[host]['addresses']]
    for lan in lans:
        same = [other for other in lans if other['gateway'] == lan['gateway']]
        label = '%s LAN' % lan['gateway'] + ('%d' % (same.index(lan) + 1) if len(same) > 1 else '')
        out.append(Target(label, lan['address'], lan['gateway'], 'lan', lan['prefix']))
    return out


def _route(entry, address):
    """The peer entry whose AllowedIPs hold ``address`` most specifically (None: no route into the tunnel)."""
    best, best_len = None, -1
    for peer in entry['peers']:
        for prefix in peer['allowed_ips']:
            net = ipaddress.ip_network(prefix)
            if net.version == address.version and address in net and net.prefixlen > best_len:
                best, best_len = peer, net.prefixlen
    return best


def _peer_entry(entry, name):
    return next((p for p in entry['peers'] if p['name'] == name), None)


def _holds(prefixes, address):
    return any(address in ipaddress.ip_network(p) for p in prefixes if ipaddress.ip_network(p).version == address.version)


def _arrives(plan, host, address, start):
    """True when ``address`` is ``host``'s own tunnel address or inside a LAN it delivers to."""
    entry = plan[host]
    if any(ipaddress.ip_interface(a).ip == address for a in entry['addresses']):
        return True, ''
    if _holds(entry['routing']['lan_subnets'], address):
        forwards = entry['routing']['forward_ipv%d' % address.version]
        return forwards or host == start, '' if forwards or host == start else '%s does not forward IPv%d to its LAN' % (
            host, address.version)
    return False, ''


def walk(plan, start, destination, source):
    """Follow a packet from ``start`` to ``destination`` with source address ``source`` (ip objects).

    Returns ``(hosts crossed, reason)``; reason is "" when the packet arrives.
    """
    current, path = start, [start]
    for _hop in range(len(plan) + 1):
        done, why = _arrives(plan, current, destination, start)
        if done or why:
            return tuple(path), why
        entry = plan[current]
        peer = _route(entry, destination)
        if peer is None:
            return tuple(path), '%s has no peer whose AllowedIPs hold %s' % (current, destination)
        if current != start and not entry['routing']['relay']:
            return tuple(path), '%s would have to relay %s wg -> wg and does not' % (current, destination)
        name = peer['name']
        if name not in plan:
            return tuple(path), '%s routes %s to %s, which is not a host of the inventory' % (current, destination, name)
        back = _peer_entry(plan[name], current)
        if back is None:
            return tuple(path), '%s has no peer %s' % (name, current)
        if not _holds(back['allowed_ips'], source):
            return tuple(path), '%s drops %s from %s: not in the AllowedIPs it has for %s' % (name, source, current, current)
        if peer['endpoint'] is None and back['endpoint'] is None:
            return tuple(path), 'neither %s nor %s knows the other\'s endpoint' % (current, name)
        current = name
        path.append(current)
    return tuple(path), 'routing loop toward %s' % destination


def verdict(plan, source_host, target):
    """Whether the plan means ``source_host`` to reach ``target``, both ways."""
    address = ipaddress.ip_address(target.address)
    sources = [ipaddress.ip_interface(a).ip for a in plan[source_host]['addresses']]
    source = next((ip for ip in sources if ip.version == address.version), None)
    if source is None:
        return Verdict(False, (source_host,), '%s has no IPv%d tunnel address' % (source_host, address.version))
    there, why = walk(plan, source_host, address, source)
    if why:
        return Verdict(False, there, why)
    back, why = walk(plan, target.owner, source, address)
    if why:
        return Verdict(False, there + back[1:], 'reply: ' + why)
    return Verdict(True, there + back[1:], '')


def intended_matrix(plan, columns):
    """``{(host, address): Verdict}`` for every host and every target it does not own."""
    return {(host, t.address): verdict(plan, host, t) for host in sorted(plan) for t in columns if t.owner != host}
