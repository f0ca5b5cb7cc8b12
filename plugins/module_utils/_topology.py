# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Topology engine: from inventory variables to every host's WireGuard peers.

``build_plan(hostvars, group)`` validates the network (``_validate.parse_network``), decides
for every managed host which peers it has and, per peer, the exact AllowedIPs, Endpoint and
PersistentKeepalive, then checks the result and returns the plan described in
docs/architecture.md (a dict keyed by inventory hostname). All problems are collected and
raised together as ``PlanError`` (a ``ValueError``), one ``host: variable: problem`` per line.

AllowedIPs is routing policy: on a host, the peer whose AllowedIPs holds a destination carries
the packet there, and a packet arriving from a peer is dropped unless its source is inside that
peer's AllowedIPs. So for every peer entry the engine lists exactly the prefixes that live
behind that peer:

* full_tunnel: clients route ``0.0.0.0/0`` and ``::/0`` (both, so IPv6 cannot bypass the
  tunnel; without IPv6 in the tunnel it is dropped instead of leaking) to the hub; split-tunnel
  clients (``wireguard_full_tunnel: false``) route the tunnel network plus
  ``wireguard_extra_allowed_ips``. The hub holds each client as its tunnel /32 (/128) plus its LANs.
* bastion: spokes peer only with the bastion. Their bastion entry holds the bastion's own
  prefixes plus every other spoke's tunnel address and LANs, aggregated exactly (never wider:
  a spoke's own LAN is never routed back into the tunnel).
* site_to_site and mesh: every pair directly, each entry holding the other side's tunnel
  address and LANs. A pair where neither side has an Endpoint cannot handshake: it goes through
  the relay ``wireguard_hub`` (the relay entry of a host without Endpoint then carries the
  prefixes of all other hosts without Endpoint), or it is an error.

Local overlaps (the split-route problem): when a remote prefix is the same as, or inside, a LAN or
local subnet of the host, its route would capture local traffic. ``wireguard_overlap_strategy``
decides per host: ``fail`` (default, explained error), ``split`` (an equal prefix becomes its two
halves; they are more specific than the on-link route, so traffic to the LOCAL network then goes
into the tunnel too: local hosts are no longer reached directly, whatever the seed documents say)
or ``widen`` (the prefix becomes the supernet one bit shorter than the local one, so the local
route stays more specific and local; the rest of the widened range is routed into the tunnel).
Both set ``loose_rp_filter`` and leave a note in the plan saying exactly that.

Performance: prefixes are integer tuples; per-host checks use sorted scans and bisection, and a
plain peer entry shares the precomputed prefix strings of its peer, so a 1,000-host mesh (about
one million peer entries) or a 10,000-client hub is computed in seconds.
"""

from __future__ import annotations

import gc
import typing

from ._addr import (
    collapse_keys,
    exclude_keys,
    is_default_route,
    key_contains,
    key_contains_ip,
    key_end,
    key_overlaps,
    key_str,
    split_key,
    widen_key,
)
from . import _policy
from ._devices import profile_entry, settle, today_utc
from ._retire import split_retired
from ._validate import Errors, HUB_TOPOLOGIES, PlanError, owned_overlapping, parse_network, problem_line

__all__ = ['build_plan', 'PlanError', 'DEFAULT_ROUTE_KEYS', 'PlanEntry', 'PlanPeer', 'PlanRouting', 'PlanHooks', 'Masquerade']


# The plan's types (docs/architecture.md, "The plan"). Plain dicts at run time, because the plan
# travels through Ansible variables; these TypedDicts name every key and its type, and a unit test
# holds every computed entry to them.
class PlanPeer(typing.TypedDict):
    name: str
    public_key: typing.Optional[str]
    allowed_ips: typing.List[str]
    endpoint: typing.Optional[str]
    persistent_keepalive: typing.Optional[int]
    preshared_key: bool


class Masquerade(typing.TypedDict):
    family: str
    source: str
    destination: typing.Optional[str]        # set: matched by this prefix, no interface (site NAT)
    egress_interface: typing.Optional[str]   # no destination and None: the default-route interface


class PlanRouting(typing.TypedDict):
    forward_ipv4: bool
    forward_ipv6: bool
    relay: bool
    masquerade: typing.List[Masquerade]
    forward_to_egress: bool
    lan_subnets: typing.List[str]
    loose_rp_filter: bool


class PlanHooks(typing.TypedDict):
    """``wireguard_hooks``: the user's own commands per wg-quick stage (``_render.hook_lines`` orders them)."""
    pre_up: typing.List[str]
    post_up: typing.List[str]
    pre_down: typing.List[str]
    post_down: typing.List[str]


class PlanEntry(typing.TypedDict):
    interface: str
    topology: str
    role: str
    addresses: typing.List[str]
    tunnel_networks: typing.List[str]
    listen_port: typing.Optional[int]
    dns: typing.List[str]
    mtu: typing.Optional[int]
    table: typing.Optional[str]
    hooks: typing.Optional[PlanHooks]
    routing: PlanRouting
    notes: typing.List[str]
    peers: typing.List[PlanPeer]


DEFAULT_ROUTE_KEYS = ((4, 0, 0), (6, 0, 0))
FAMILY = {4: 'ipv4', 6: 'ipv6'}


class View:
    """A synthesised peer entry: the peer's own prefixes plus/minus what the topology adds.

    Plain entries (exactly the peer's own prefixes) are not wrapped: the peer's HostSpec is used
    directly, which keeps a 1,000-host mesh cheap.
    """

    __slots__ = ('peer', 'extra', 'relay', 'relay_exclude', 'removed', 'widened', 'raw', '_final')

    def __init__(self, peer):
        self.peer = peer
        self.extra = []          # [(key, label)] added prefixes (default routes, extras, tunnel nets)
        self.relay = None        # name of an aggregated relay set this entry carries
        self.relay_exclude = []  # keys removed from that set (the host's own prefixes)
        self.removed = set()     # keys taken out by an overlap strategy
        self.widened = []        # keys added by the widen strategy (merged with the rest)
        self.raw = []            # keys added by the split strategy (never re-aggregated)
        self._final = None

    def final_keys(self, relay_sets):
        if self._final is None:
            base = [k for k, _v in self.peer.owned if k not in self.removed]
            base += [k for k, _l in self.extra if k not in self.removed]
            if self.relay is not None:
                base += exclude_keys(relay_sets[self.relay], list(self.relay_exclude) + sorted(self.removed))
            keys = collapse_keys(base + self.widened)
            if self.raw:
                keys = sorted(set(keys) | set(self.raw))
            self._final = keys
        return self._final


def _as_view(item):
    return item if isinstance(item, View) else View(item)


class _Builder:
    def __init__(self, net):
        self.net = net
        self.errors = Errors()
        self.topology = net.topology
        self.hosts = net.hosts
        self.peers = net.all_peers()
        self.hub = net.hub
        self.views = {}            # host -> list[HostSpec | View]
        self.relay_sets = {}       # name -> collapsed keys
        self.relay_scope = {}      # name -> set of member names
        self.loose_rp = set()
        self.notes = {}            # host -> human-readable notes on decisions (rendered as comments)
        self.egress_users = []          # specs whose traffic the hub sends out of its egress
        self.beyond = {}                # key -> whether it lies beyond the network (_beyond)
        self.has_synthetic = set()      # hosts whose view holds synthesised entries
        self.tunnel_families = {k[0] for k in net.tunnel_keys}

    # ------------------------------------------------------------------ helpers
    def _relay_set(self, name, members):
        if name not in self.relay_sets:
            keys = []
            for spec in members:
                keys.extend(k for k, _v in spec.owned)
            self.relay_sets[name] = collapse_keys(keys)
            self.relay_scope[name] = {spec.name for spec in members}
        return name

    def _leaves_network(self, keys):
        """Whether a prefix sent to the hub lies beyond the network (neither inside a tunnel network
        nor inside a member's own prefixes): the hub then forwards it out of its egress, so it must
        accept and masquerade that traffic, split tunnel or not (a default route is the extreme case)."""
        return any(self._beyond(key) for key in keys)

    def _beyond(self, key):
        # cached: 10,000 clients often send the same extra prefix, which may cover many owned ones
        if key not in self.beyond:
            self.beyond[key] = is_default_route(key) or not (
                any(key_contains(t, key) for t in self.net.tunnel_keys)
                or any(key_contains(k, key) for k, _o, _v in owned_overlapping(self.net, key)))
        return self.beyond[key]

    def _device_egress(self, spec, full_default):
        """A device's profile (full, or split with extras beyond the network) goes out of the hub's egress."""
        full = spec.full_tunnel if spec.full_tunnel is not None else full_default
        if full or self._leaves_network(spec.extra_keys):
            self.egress_users.append(spec)

    def _add_client_extras(self, spec, view, full_default):
        """Full-tunnel default routes and extra prefixes a host sends to its hub."""
        full = spec.full_tunnel if spec.full_tunnel is not None else full_default
        if full:
            view.extra.extend((k, 'wireguard_full_tunnel') for k in DEFAULT_ROUTE_KEYS)
        view.extra.extend((k, 'wireguard_extra_allowed_ips') for k in spec.extra_keys)
        keys = {k for k, _l in view.extra}
        has4, has6 = DEFAULT_ROUTE_KEYS[0] in keys, DEFAULT_ROUTE_KEYS[1] in keys
        if self._leaves_network(keys):
            self.egress_users.append(spec)
        if has4 != has6 and spec.has_ipv6 is not False:
            missing, present = ('::/0', '0.0.0.0/0') if has4 else ('0.0.0.0/0', '::/0')
            self.errors.add(spec.name, 'wireguard_extra_allowed_ips',
                            'routes %s but not %s: that family would bypass the tunnel (leak); add %s '
                            '(dropped, not leaked, when the tunnel lacks that family) or set wireguard_full_tunnel: true'
                            % (present, missing, missing))
        return full

    # ------------------------------------------------------------------ peers per topology
    def _hub_topology(self):
        hub = self.hosts[self.hub]
        others = [self.peers[n] for n in sorted(self.peers) if n != self.hub]
        self.views[self.hub] = list(others)
        full_default = self.topology == 'full_tunnel'
        if self.topology == 'bastion':
            self._relay_set('spokes', others)
        for spec in others:
            if spec.external:
                self._device_egress(spec, full_default)
                if spec.endpoint is None and hub.endpoint is None:
                    self.errors.add(spec.name, 'wireguard_external_peers', 'neither this peer nor the hub %s has an endpoint'
                                    % self.hub)
                continue
            view = View(hub)
            full = self._add_client_extras(spec, view, full_default)
            if self.topology == 'full_tunnel' and not full:
                view.extra.extend((k, 'wireguard_address') for k in self.net.tunnel_keys)
            if self.topology == 'bastion':
                view.relay = 'spokes'
                view.relay_exclude = [k for k, _v in spec.owned]
            self.views[spec.name] = [view]
            self.has_synthetic.add(spec.name)
            if spec.endpoint is None and hub.endpoint is None:
                self.errors.add(spec.name, 'wireguard_endpoint',
                                'neither this host nor the hub %s has wireguard_endpoint: no side can start the handshake'
                                % self.hub)

    def _pair_topology(self):
        names = sorted(self.hosts)
        with_ep = [self.hosts[n] for n in names if self.hosts[n].endpoint is not None]
        without = [self.hosts[n] for n in names if self.hosts[n].endpoint is None]
        relay = self.hosts[self.hub] if self.hub else None
        if relay is not None and relay.endpoint is None and (without or self.net.externals):
            self.errors.add(self.hub, 'wireguard_hub', 'the relay %s has no wireguard_endpoint, so hosts without one '
                            'cannot reach it' % self.hub)
        externals = [self.net.externals[n] for n in sorted(self.net.externals)]
        for spec in externals:
            self._device_egress(spec, False)
        if relay is not None:
            self._relay_set('unreachable', [s for s in without if s is not relay] + externals)
            if externals:
                self._relay_set('external', externals)
        elif len(without) >= 2:
            for spec in without:
                others = [s.name for s in without if s is not spec]
                shown = ', '.join(others[:8]) + (', ... (%d more)' % (len(others) - 8) if len(others) > 8 else '')
                self.errors.add(spec.name, 'wireguard_endpoint',
                                'not set, and %s %s none either: no side of those pairs can start the handshake; '
                                'give one side an endpoint or set wireguard_hub to a relay with an endpoint'
                                % (shown, 'has' if len(others) == 1 else 'have'))
        for name in names:
            spec = self.hosts[name]
            if spec.endpoint is not None:
                peers = [self.hosts[n] for n in names if n != name]
            else:
                peers = [s for s in with_ep if s is not spec]
            if relay is not None and spec is not relay:
                idx = next(i for i, p in enumerate(peers) if p is relay) if relay.endpoint is not None or spec.endpoint is not None else None
                if idx is not None:
                    view = View(relay)
                    self._add_client_extras(spec, view, False)
                    if spec.endpoint is None:
                        view.relay = 'unreachable'
                        view.relay_exclude = [k for k, _v in spec.owned]
                    elif externals:
                        view.relay = 'external'
                    if view.extra or view.relay is not None:
                        peers[idx] = view
                        self.has_synthetic.add(name)
            elif spec.full_tunnel or spec.extra_keys:
                var = 'wireguard_full_tunnel' if spec.full_tunnel else 'wireguard_extra_allowed_ips'
                self.errors.add(name, var, 'needs wireguard_hub (a relay with an endpoint) in the %s topology: '
                                'these prefixes are sent to the hub' % self.topology
                                if relay is None else 'has no meaning on the relay itself')
            if spec is relay:
                peers = peers + externals
            self.views[name] = peers

    # ------------------------------------------------------------------ overlap with local networks
    def _reachable_owner(self, name, owner):
        """Where ``owner``'s prefixes sit in ``name``'s view: (index, is_relay) or None."""
        for idx, item in enumerate(self.views[name]):
            peer = item.peer if isinstance(item, View) else item
            if peer.name == owner:
                return idx, False
            if isinstance(item, View) and item.relay is not None and owner in self.relay_scope[item.relay]:
                return idx, True
        return None

    def _view_indexes(self, name):
        if name not in self.has_synthetic:
            return []
        return [i for i, item in enumerate(self.views[name]) if item.__class__ is View]

    def _local_overlaps(self, name):
        spec = self.hosts[name]
        locals_ = [(k, 'wireguard_lan_subnets') for k in spec.lan_keys] + \
                  [(k, 'wireguard_local_subnets') for k in spec.local_keys]
        if not locals_:
            return
        views = self.views[name]
        conflicts = []   # (view index, key, owner, var, local key, local var)
        for lkey, lvar in locals_:
            for key, owner, var in owned_overlapping(self.net, lkey):
                if owner == name or key[2] < lkey[2]:
                    continue   # own prefix, or a wider remote route: the local one stays more specific
                where = self._reachable_owner(name, owner)
                if where is not None:
                    conflicts.append((where[0], key, owner, var, lkey, lvar))
            for idx in self._view_indexes(name):
                item = views[idx]
                if item.extra:
                    for key, label in item.extra:
                        if not is_default_route(key) and key_overlaps(key, lkey) and key[2] >= lkey[2]:
                            conflicts.append((idx, key, name, label, lkey, lvar))
        if not conflicts:
            return
        strategy = spec.overlap_strategy
        for idx, key, owner, var, lkey, lvar in sorted(conflicts):
            peer = views[idx].peer if isinstance(views[idx], View) else views[idx]
            what = '%s (%s of %s)' % (key_str(key), var, owner) if owner != name else '%s (%s)' % (key_str(key), var)
            if strategy == 'fail':
                self.errors.add(name, 'wireguard_overlap_strategy',
                                'remote prefix %s via peer %s overlaps %s %s of this host: the tunnel route would '
                                'capture local traffic; set wireguard_overlap_strategy to split or widen, or renumber'
                                % (what, peer.name, lvar, key_str(lkey)))
                continue
            view = _as_view(views[idx])
            views[idx] = view
            view._final = None
            self.has_synthetic.add(name)
            self.loose_rp.add(name)
            try:
                if strategy == 'split':
                    if key[2] == lkey[2]:
                        view.removed.add(key)
                        halves = split_key(key)
                        view.raw.extend(halves)
                        # The halves are MORE specific than the connected route of the local prefix, so
                        # they win for the local addresses too (the seed document claims otherwise).
                        note = ('%s split into %s: these routes are more specific than the local %s, so traffic '
                                'to the local network goes into the tunnel and local hosts are no longer reached '
                                'directly' % (what, ', '.join(key_str(k) for k in halves), key_str(lkey)))
                    else:
                        note = '%s kept: already more specific than the local %s' % (what, key_str(lkey))
                else:
                    view.removed.add(key)
                    wide = widen_key(key, lkey)
                    view.widened.append(wide)
                    note = ('%s widened to %s: the local %s stays local (its connected route is more specific), '
                            'the rest of %s goes into the tunnel' % (what, key_str(wide), key_str(lkey), key_str(wide)))
                self.notes.setdefault(name, []).append(
                    'wireguard_overlap_strategy=%s: %s (overlaps %s %s)' % (strategy, note, lvar, key_str(lkey)))
            except ValueError as exc:
                self.errors.add(name, 'wireguard_overlap_strategy', '%s: %s' % (what, exc))

    # ------------------------------------------------------------------ checks on the result
    def _global_owned_overlaps(self):
        """Two peers claiming the same or overlapping prefixes: a host routing to both (a hub, or a third
        mesh member) could send that traffic to only one of them. With two peers in total nobody sees
        both; that case is the local-overlap rule (seed: split-route hack)."""
        if len(self.peers) < 3:
            return
        index = self.net.owned_index
        best = None
        for entry in index:
            key = entry[0]
            if best is not None and best[0][0] == key[0] and key[1] <= key_end(best[0]):
                if best[1] != entry[1]:
                    if is_default_route(best[0]):
                        continue
                    self.errors.add(entry[1], entry[2], '%s overlaps %s (%s of %s): a host routing to both would send '
                                    'that traffic to only one of them' % (key_str(key), key_str(best[0]), best[2], best[1]))
                if key_end(key) <= key_end(best[0]):
                    continue
            best = entry

    @staticmethod
    def _label(item, key):
        """The variable a prefix of a synthesised entry comes from (for messages)."""
        for extra, label in item.extra:
            if key_contains(extra, key) or key_contains(key, extra):
                return label
        if key in item.widened or key in item.raw:
            return 'wireguard_overlap_strategy'
        return 'wireguard_lan_subnets'

    def _host_overlaps(self, name):
        items = []
        for item in self.views[name]:
            if isinstance(item, View):
                keys = item.final_keys(self.relay_sets)
                peer = item.peer.name
                items.extend((k, peer, item) for k in keys)
            else:
                items.extend((k, item.name, None) for k, _v in item.owned)
        items.sort(key=lambda entry: entry[0])
        best = None
        for key, peer, item in items:
            if best is not None and best[0][0] == key[0] and key[1] <= key_end(best[0]):
                if best[1] != peer and not (is_default_route(best[0]) and not is_default_route(key)):
                    culprit = item if item is not None else best[2]
                    label = self._label(culprit, key if item is not None else best[0]) if culprit is not None \
                        else 'wireguard_lan_subnets'
                    self.errors.add(name, label,
                                    '%s (peer %s) overlaps %s (peer %s) on this host: WireGuard would route the overlap '
                                    'to only one of them' % (key_str(key), peer, key_str(best[0]), best[1]))
                if key_end(key) <= key_end(best[0]) and not is_default_route(best[0]):
                    continue
            best = (key, peer, item)

    def _endpoint_loops(self):
        """An AllowedIPs prefix (other than a default route, which wg-quick's policy routing handles)
        holding the peer's own endpoint would send the encrypted packets into the tunnel itself."""
        for spec in self.peers.values():
            if spec.endpoint_ip is None:
                continue
            for key, var in spec.owned:
                if key_contains_ip(key, spec.endpoint_ip) and not is_default_route(key):
                    self.errors.add(spec.name, var, '%s contains this host\'s own endpoint %s: peers would route the '
                                    'tunnel\'s packets into the tunnel' % (key_str(key), spec.endpoint_ip))
        if self.hub and self.hosts[self.hub].endpoint_ip is not None:
            ip = self.hosts[self.hub].endpoint_ip
            probe = (ip.version, int(ip), ip.max_prefixlen)
            for scope in self.relay_scope.values():
                for key, owner, var in owned_overlapping(self.net, probe):
                    if owner in scope and key_contains_ip(key, ip) and not is_default_route(key):
                        self.errors.add(owner, var, '%s contains the endpoint %s of the hub %s: hosts relaying through '
                                        'the hub would route the tunnel\'s packets into the tunnel'
                                        % (key_str(key), ip, self.hub))
        for name in sorted(self.has_synthetic):
            for item in self.views[name]:
                if not isinstance(item, View) or item.peer.endpoint_ip is None:
                    continue
                ip = item.peer.endpoint_ip
                for key, label in item.extra:
                    if not is_default_route(key) and key_contains_ip(key, ip):
                        self.errors.add(name, label, '%s contains the endpoint %s of peer %s: the tunnel\'s own packets '
                                        'would be routed into the tunnel (only default routes are exempted by wg-quick)'
                                        % (key_str(key), ip, item.peer.name))
                for key in item.widened + item.raw:
                    if key_contains_ip(key, ip):
                        self.errors.add(name, 'wireguard_overlap_strategy', '%s contains the endpoint %s of peer %s'
                                        % (key_str(key), ip, item.peer.name))

    # ------------------------------------------------------------------ plan
    def _role(self, spec):
        if self.topology == 'full_tunnel':
            return 'hub' if spec.name == self.hub else 'client'
        if self.topology == 'bastion':
            return 'relay' if spec.name == self.hub else 'spoke'
        if spec.name == self.hub:
            return 'relay'
        return 'gateway' if self.topology == 'site_to_site' else 'member'

    def _site_nat(self, spec, peer_keys):
        """Masquerade of the other sites' traffic toward this gateway's own LANs, so LAN hosts need no
        route back. Matched by destination, not by interface: the LAN interface is not known here,
        and the default-route one is the WAN on a gateway with a separate LAN card."""
        remote = [k for k in peer_keys if not is_default_route(k) and not any(
            key_contains(t, k) for t in self.net.tunnel_keys)]
        sources = collapse_keys(remote + list(self.net.tunnel_keys))
        lans = collapse_keys(list(spec.lan_keys))
        return [{'family': FAMILY[src[0]], 'source': key_str(src), 'destination': key_str(lan),
                 'egress_interface': None}
                for src in sources for lan in lans if lan[0] == src[0]]

    def _routing(self, spec, peer_keys):
        fams = set(self.tunnel_families)
        is_hub = spec.name == self.hub
        forwards = bool(spec.lan_keys) or is_hub or self.topology == 'site_to_site'
        routed = set(fams) | {k[0] for k in spec.lan_keys}
        masq = []
        to_egress = False
        if is_hub and self.egress_users:
            to_egress = True
            sources = list(self.net.tunnel_keys)
            for user in self.egress_users:
                sources.extend(user.lan_keys)
            for key in collapse_keys(sources):
                if key[0] == 4 or 6 in fams:
                    masq.append({'family': FAMILY[key[0]], 'source': key_str(key), 'destination': None,
                                 'egress_interface': spec.egress_interface})
        if is_hub:
            # relayed LANs are forwarded too
            routed |= {k[0] for k in peer_keys if not is_default_route(k)}
        if spec.site_nat:
            masq.extend(self._site_nat(spec, peer_keys))
        return {
            'forward_ipv4': forwards and 4 in routed,
            'forward_ipv6': forwards and 6 in routed,
            # wg -> wg forwarding: the bastion / mesh relay, and the full-tunnel hub (clients reach each
            # other through it, as the reference setup's "accept everything from wg0" rule allows).
            'relay': is_hub,
            'masquerade': masq,
            'forward_to_egress': to_egress,
            'lan_subnets': [key_str(k) for k in sorted(spec.lan_keys)],
            # rp_filter only compares interfaces. Relayed traffic enters and leaves the same wg
            # interface and every source behind a peer is routed back into that interface, so strict
            # mode is fine on relays and gateways. It is not where an overlap strategy made the same
            # range reachable on two interfaces (the LAN and the tunnel): a reply or a local packet
            # then arrives on the interface the reverse lookup does not pick, and strict mode drops it.
            'loose_rp_filter': spec.name in self.loose_rp,
        }

    def _entries(self, spec, share):
        needs_ka = (spec.endpoint is None or spec.behind_nat) and spec.keepalive > 0
        ka = spec.keepalive if needs_ka else None
        psk = spec.psk
        out = []
        append = out.append
        all_keys = []
        want_keys = spec.site_nat or spec.name == self.hub
        shared = self._shared
        for item in self.views[spec.name]:
            if item.__class__ is View:
                peer = item.peer
                keys = item.final_keys(self.relay_sets)
                all_keys.extend(keys)
                append({
                    'name': peer.name,
                    'public_key': peer.public_key,
                    'allowed_ips': [key_str(k) for k in keys],
                    'endpoint': peer.endpoint,
                    'persistent_keepalive': ka if peer.endpoint is not None else None,
                    'preshared_key': peer.psk if peer.external else (psk or peer.psk),
                })
                continue
            peer = item
            if want_keys:
                all_keys.extend(k for k, _v in peer.owned)
            entry_ka = ka if peer.endpoint is not None else None
            # a device's preshared key is its own choice (clients.yml makes it); hosts pair up
            entry_psk = peer.psk if peer.external else (psk or peer.psk)
            if share:
                # read-only plans (rendering): one dict per distinct entry, shared by all hosts
                cache_key = (peer.name, entry_ka, entry_psk)
                entry = shared.get(cache_key)
                if entry is None:
                    entry = shared[cache_key] = {
                        'name': peer.name, 'public_key': peer.public_key, 'allowed_ips': peer.owned_strs,
                        'endpoint': peer.endpoint, 'persistent_keepalive': entry_ka, 'preshared_key': entry_psk}
                append(entry)
            else:
                append({
                    'name': peer.name,
                    'public_key': peer.public_key,
                    'allowed_ips': list(peer.owned_strs),
                    'endpoint': peer.endpoint,
                    'persistent_keepalive': entry_ka,
                    'preshared_key': entry_psk,
                })
        return out, all_keys

    def run(self, share=False):
        self._shared = {}
        if self.topology in HUB_TOPOLOGIES:
            self._hub_topology()
        else:
            self._pair_topology()
        self._global_owned_overlaps()
        for name in sorted(self.hosts):
            self._local_overlaps(name)
        if self.errors:
            raise PlanError(self.errors.lines)
        for name in sorted(self.has_synthetic):
            if len(self.views[name]) > 1:
                self._host_overlaps(name)
        self._endpoint_loops()
        self.errors.raise_if_any()
        plan = {}
        for name in sorted(self.hosts):
            spec = self.hosts[name]
            peers, peer_keys = self._entries(spec, share)
            # only hosts others can reach listen on a fixed port (the contract: endpoint or hub)
            listens = spec.endpoint is not None or spec.name == self.hub
            plan[name] = {
                'interface': self.net.interface,
                'topology': self.topology,
                'role': self._role(spec),
                'addresses': list(spec.address_strs),
                'tunnel_networks': [key_str(k) for k in self.net.tunnel_keys],
                'listen_port': spec.listen_port if listens else None,
                'dns': list(spec.dns),
                'mtu': spec.mtu,
                'table': spec.table,
                'hooks': spec.hooks,
                'routing': self._routing(spec, peer_keys),
                'notes': list(self.notes.get(name, [])),
                'peers': peers,
            }
        return plan


def _enforce_policy(net, plan, profiles, states, warnings):
    """``wireguard_policy`` resolved against the plan (``access`` blocks); its problems and failed tests
    fail the plan like any other inventory problem."""
    if not net.policy:
        return
    inactive = {name: info['state'] for name, info in (states or {}).items() if info['state'] != 'active'}
    problems, notes = _policy.apply(net, plan, net.policy, profiles, inactive)
    if warnings is not None:
        warnings.extend(problem_line(*note) for note in notes)
    if problems:
        raise PlanError([problem_line(*problem) for problem in problems])


def build_plan(hostvars, group='wireguard', share=False, warnings=None, devices=None, retired=None):
    """Validate the network and compute every managed host's plan entry.

    :param hostvars: inventory hostname -> dict of that host's ``wireguard_*`` variables.
    :param group: name of the network's inventory group (used in messages).
    :param share: return a read-only plan in which identical peer entries (same peer, keepalive
        and PSK flag) are one shared dict; much faster for large meshes. Do not modify it.
    :param warnings: optional list that receives ``host: variable: text`` lines about values that
        are accepted but doubtful (nothing is printed).
    :param devices: optional dict with ``keys`` (device -> public key from the registry, for
        ``key_mode: controller``), ``revoked`` (device -> date) and ``today`` (UTC date, default
        today). External peers that are not active (``_devices.settle``) are left out of the plan;
        the dict receives ``states`` (device -> state) and ``profiles`` (active device -> its plan entry).
    :param retired: optional list that receives the hosts with ``wireguard_state: absent``; they are
        left out of the network (``_retire.split_retired``). Every host retired gives an empty plan.
    :returns: dict hostname -> plan entry (see docs/architecture.md).
    :raises PlanError: (a ValueError) listing every problem, one ``host: variable: problem`` line each.
    """
    # A large network allocates millions of small containers that all stay alive: the cyclic
    # garbage collector would rescan them again and again (quadratic); nothing here makes cycles.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        hostvars, gone = split_retired(hostvars)
        if retired is not None:
            retired.extend(gone)
        if gone and not hostvars:
            if devices is not None:
                devices.update(states={}, profiles={})
            return {}
        net = parse_network(hostvars, group, warnings=warnings)
        ctx = devices if devices is not None else {}
        states = settle(net, ctx.get('keys') or {}, ctx.get('revoked') or {}, ctx.get('today') or today_utc(), warnings)
        plan = _Builder(net).run(share)
        profiles = {name: profile_entry(net, spec, net.client_dns) for name, spec in net.externals.items()
                    if devices is not None or net.policy}
        _enforce_policy(net, plan, profiles, states, warnings)
        if devices is not None:
            devices['states'] = states
            devices['profiles'] = profiles
        return plan
    finally:
        if was_enabled:
            gc.enable()
