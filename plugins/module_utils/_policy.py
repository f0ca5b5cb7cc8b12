# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access policy (``wireguard_policy``): who may reach what through the tunnel.

Pure logic (stdlib only), no Ansible imports; bad input raises ``ValueError``.

* ``parse`` checks the shape of the variable (every string matched whole).
* ``apply`` resolves it against the computed plan: each host that forwards (hub, bastion, relay,
  site gateway) gets an ``access`` block in its plan entry (resolved prefixes, protocol, ports) that
  ``_hooks`` turns into drop/accept rules for traffic forwarded to or from the tunnel and for traffic
  arriving from the tunnel for the host itself. It also checks the rules against the routing and
  evaluates the policy tests; problems are ``host: wireguard_policy...: problem`` lines.
* ``trace`` is the evaluator: it follows a packet along the plan's AllowedIPs, hop by hop, applying
  the rules where a host enforces them, and checks the way back (return traffic is established).

Semantics: rules are read top down, the first rule matching source, destination, protocol and
port decides (``allow``/``deny``), else ``default``. A policy whose default is ``allow`` and
which has no ``deny`` rule changes nothing (no rule is written anywhere).
"""
from __future__ import annotations

import ipaddress
import re

from ._addr import key_str
from ._variables import ItemErrors, to_list

ACTIONS = ('allow', 'deny')
PROTOCOLS = ('tcp', 'udp', 'icmp')
_NAME_RE = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.:@+=-]{0,63}')
_RULE_NAME_RE = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}')
_PORT_RE = re.compile(r'([0-9]{1,5})(?:-([0-9]{1,5}))?')
_CIDR_RE = re.compile(r'[0-9A-Fa-f.:]+/[0-9]{1,3}')
_IP_RE = re.compile(r'[0-9A-Fa-f.:]+')
_RULE_FIELDS = ('name', 'action', 'from', 'to', 'proto', 'ports')
_TEST_FIELDS = ('name', 'from', 'to', 'proto', 'port', 'expect')
_ANY = 'any'
FAMILIES = {4: 'ipv4', 6: 'ipv6'}
VAR = 'wireguard_policy'


# ----------------------------------------------------------------------------- parsing

def _endpoint(value, what):
    """``any``, ``group:NAME``, ``lan:NAME``, a prefix ``a.b.c.d/len`` or a host/device name."""
    if not isinstance(value, str):
        raise ValueError('%s: %r is not a name, group:NAME, lan:NAME, a prefix or any' % (what, value))
    if value == _ANY:
        return ('any', None)
    for kind in ('group', 'lan'):
        if value.startswith(kind + ':') and _NAME_RE.fullmatch(value[len(kind) + 1:]):
            return (kind, value[len(kind) + 1:])
    if _CIDR_RE.fullmatch(value):
        try:
            return ('prefix', str(ipaddress.ip_network(value, strict=False)))
        except ValueError:
            pass
    elif _NAME_RE.fullmatch(value) and not _is_address(value):
        return ('name', value)
    raise ValueError('%s: %r is not a host or device name, group:NAME, lan:NAME, a prefix (a.b.c.d/len) or any'
                     % (what, value))


def _is_address(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _endpoints(value, what):
    items = to_list(value)
    if not items:
        raise ValueError('%s: at least one source/destination is needed' % what)
    return [_endpoint(item, what) for item in items]


def _ports(value, what):
    out = []
    for item in to_list(value):
        text = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
        found = _PORT_RE.fullmatch(text) if isinstance(text, str) else None
        low, high = (int(found.group(1)), int(found.group(2) or found.group(1))) if found else (0, 0)
        if not found or not 1 <= low <= high <= 65535:
            raise ValueError('%s: %r is not a port (1-65535) or a range low-high' % (what, item))
        out.append((low, high))
    return sorted(set(out))


def _choice(value, choices, what, default=None):
    if value is None and default is not None:
        return default
    if value not in choices:
        raise ValueError('%s: %r is not one of %s' % (what, value, ', '.join(choices)))
    return value


def _fields(item, known, what):
    if not isinstance(item, dict):
        raise ValueError('%s: each entry is a dict with %s' % (what, ', '.join(known)))
    unknown = sorted(str(k) for k in item if k not in known)
    if unknown:
        raise ValueError('%s: unknown field(s) %s (fields: %s)' % (what, ', '.join(unknown), ', '.join(known)))


def _name(item, index, kind):
    name = item.get('name')
    if name is None:
        return '%s[%d]' % (kind, index)
    if not isinstance(name, str) or not _RULE_NAME_RE.fullmatch(name):
        raise ValueError('%s[%d].name: %r is not a usable name (1-64 of A-Z a-z 0-9 _ . -)' % (kind, index, name))
    return '%s[%s]' % (kind, name)


def _rule(item, index):
    _fields(item, _RULE_FIELDS, 'rules[%d]' % index)
    label = _name(item, index, 'rules')
    proto = item.get('proto')
    if proto is not None:
        _choice(proto, PROTOCOLS, label + '.proto')
    ports = _ports(item['ports'], label + '.ports') if item.get('ports') not in (None, []) else None
    if ports and proto not in ('tcp', 'udp'):
        raise ValueError('%s.ports: never matches: ports need proto tcp or udp (proto is %s)' % (label, proto or 'unset'))
    return {'label': label, 'action': _choice(item.get('action'), ACTIONS, label + '.action', 'allow'),
            'from': _endpoints(item.get('from'), label + '.from'), 'to': _endpoints(item.get('to'), label + '.to'),
            'proto': proto, 'ports': ports}


def _test_endpoint(value, what):
    """A test names one host/device, or one address (a LAN host, an address beyond the network)."""
    if isinstance(value, str) and _IP_RE.fullmatch(value):
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            pass
    if isinstance(value, str) and _NAME_RE.fullmatch(value):
        return value
    raise ValueError('%s: %r is not a host or device name or an address' % (what, value))


def _test(item, index):
    _fields(item, _TEST_FIELDS, 'tests[%d]' % index)
    label = _name(item, index, 'tests')
    port = item.get('port')
    proto = _choice(item.get('proto'), PROTOCOLS, label + '.proto', 'icmp' if port is None else 'tcp')
    if port is not None:
        port = _ports([port], label + '.port')[0]
        if port[0] != port[1] or proto == 'icmp':
            raise ValueError('%s.port: one port, with proto tcp or udp' % label)
        port = port[0]
    return {'label': label, 'from': _test_endpoint(item.get('from'), label + '.from'),
            'to': _test_endpoint(item.get('to'), label + '.to'), 'proto': proto, 'port': port,
            'expect': _choice(item.get('expect'), ACTIONS, label + '.expect')}


def _each(items, parse, problems):
    out, seen = [], set()
    for index, item in enumerate(items):
        try:
            parsed = parse(item, index)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if parsed['label'] in seen:
            problems.append('%s: the name is used twice' % parsed['label'])
        seen.add(parsed['label'])
        out.append(parsed)
    return out


def parse(value):
    """Shape of ``wireguard_policy``: ``{default, groups, rules, tests}``; names are resolved by ``apply``."""
    if not isinstance(value, dict):
        raise ValueError('%r is not a dict with default, groups, rules, tests' % (value,))
    problems = []
    unknown = sorted(str(k) for k in value if k not in ('default', 'groups', 'rules', 'tests'))
    if unknown:
        problems.append('unknown key(s) %s (keys: default, groups, rules, tests)' % ', '.join(unknown))
    default = value.get('default', 'allow')
    if default not in ACTIONS:
        problems.append('default: %r is not allow or deny' % (default,))
    groups = {}
    raw_groups = value.get('groups') or {}
    if not isinstance(raw_groups, dict):
        problems.append('groups: %r is not a dict of group name -> list of host/device names' % (raw_groups,))
        raw_groups = {}
    for group, members in raw_groups.items():
        if not isinstance(group, str) or not _NAME_RE.fullmatch(group):
            problems.append('groups: %r is not a usable group name' % (group,))
            continue
        try:
            groups[group] = [_endpoint(m, 'groups.%s' % group) for m in to_list(members)]
        except ValueError as exc:
            problems.append(str(exc))
    lists = {}
    for kind in ('rules', 'tests'):
        lists[kind] = value.get(kind) or []
        if not isinstance(lists[kind], list):
            problems.append('%s: %r is not a list' % (kind, lists[kind]))
            lists[kind] = []
    rules = _each(lists['rules'], _rule, problems)
    tests = _each(lists['tests'], _test, problems)
    if problems:
        raise ItemErrors(problems)
    return {'default': default, 'groups': groups, 'rules': rules, 'tests': tests}


def changes_anything(policy):
    """False for a policy that allows everything (default allow, no deny rule): nothing is enforced."""
    return bool(policy) and (policy['default'] == 'deny' or any(r['action'] == 'deny' for r in policy['rules']))


# ----------------------------------------------------------------------------- the network model

def _nets(texts):
    return [ipaddress.ip_network(t) for t in texts]


class Network:
    """What the evaluator needs of a computed plan: who owns which address, who routes what to whom."""

    def __init__(self, net, plan, profiles):
        self.plan = plan
        self.hub = net.hub
        self.addresses = {}     # node -> [host networks]
        self.lans = {}          # node -> [LAN networks]
        self.routes = {}        # node -> [(network, peer)] from its AllowedIPs
        self.accepts = {}       # node -> {peer: [networks]}: sources it accepts from each peer
        for name, spec in net.all_peers().items():
            self.addresses[name] = _nets(key_str(k) for k in spec.host_keys)
            self.lans[name] = _nets(key_str(k) for k in spec.lan_keys)
        for name, entry in list(plan.items()) + list((profiles or {}).items()):
            pairs = [(n, peer['name']) for peer in entry['peers'] for n in _nets(peer['allowed_ips'])]
            self.routes[name] = sorted(pairs, key=lambda item: -item[0].prefixlen)
            self.accepts[name] = {}
            for network, peer in pairs:
                self.accepts[name].setdefault(peer, []).append(network)

    def owner(self, address):
        """``(node, 'address' | 'lan')`` owning ``address``, else ``(None, None)``."""
        for kind, table in (('address', self.addresses), ('lan', self.lans)):
            for node, networks in table.items():
                if any(address in n for n in networks):
                    return node, kind
        return None, None

    def next_hop(self, node, address):
        for network, peer in self.routes.get(node, ()):
            if address.version == network.version and address in network:
                return peer
        return None

    def routing(self, node):
        return (self.plan.get(node) or {}).get('routing') or {}

    def forwards(self, node, address):
        if node not in self.plan:
            return True      # a device routing its own LAN: the device forwards, we cannot see it
        routing = self.routing(node)
        return bool(routing.get('forward_ipv4' if address.version == 4 else 'forward_ipv6'))


# ----------------------------------------------------------------------------- rule decisions

def _matches(rule, src, dst, proto, port):
    for side, address in (('from', src), ('to', dst)):
        networks = rule[side]
        if networks is not None and not any(address.version == n.version and address in n for n in networks):
            return False
    if rule['proto'] is not None and rule['proto'] != proto:
        return False
    return rule['ports'] is None or (port is not None and any(lo <= port <= hi for lo, hi in rule['ports']))


def decide(access, src, dst, proto, port):
    """``(action, label)`` of the first matching rule, else ``(default, 'default')``."""
    for rule in access['rules']:
        if _matches(rule, src, dst, proto, port):
            return rule['action'], rule['label']
    return access['default'], 'default'


class Trace:
    """Outcome of one packet: ``allowed``, the hosts it crossed, who decided and why."""

    def __init__(self):
        self.hops = []
        self.allowed = False
        self.decided_by = None       # (host, label) of the rule that dropped or last accepted it
        self.reason = ''

    def stop(self, reason, allowed=False):
        self.reason, self.allowed = reason, allowed
        return self


def trace(model, access, src, dst, proto='icmp', port=None, stateful=False):
    """Follow a packet from ``src`` to ``dst`` along the AllowedIPs; ``access``: host -> access block.

    A host with an access block applies the rules where its chains do: to what it forwards into or
    out of the tunnel, and to what reaches the host itself through the tunnel (not from its LAN).
    ``stateful``: the packet is return traffic of an accepted connection (rules do not apply).
    """
    result = Trace()
    origin, kind = model.owner(src)
    if origin is None:
        return result.stop('%s belongs to no peer or LAN of the network' % src)
    node, entered = origin, ('lan' if kind == 'lan' else 'self')
    result.hops.append(origin)
    for _step in range(len(model.routes) + 2):
        owner, owned = model.owner(dst)
        local = owner == node
        hop = None if local else model.next_hop(node, dst)
        beyond = hop is None and not local and owner is None and bool(model.routing(node).get('forward_to_egress'))
        forwarded = entered != 'self' and not (local and owned == 'address')
        if forwarded and (hop is not None or local or beyond) and not model.forwards(node, dst):
            return result.stop('%s does not forward %s' % (node, FAMILIES[dst.version]))
        crosses = entered == 'tunnel' or (entered == 'lan' and hop is not None)
        if crosses and node in access and not stateful and (hop is not None or local or beyond):
            action, label = decide(access[node], src, dst, proto, port)
            result.decided_by = (node, label)
            if action == 'deny':
                return result.stop('dropped on %s by %s' % (node, label))
        if local or beyond:
            return result.stop('delivered', allowed=True)
        if hop is None:
            return result.stop('%s has no route through the tunnel to %s' % (node, dst))
        if hop in model.accepts and not any(src.version == n.version and src in n
                                            for n in model.accepts[hop].get(node, ())):
            return result.stop('%s drops it: %s is not in the AllowedIPs of its peer %s' % (hop, src, node))
        result.hops.append(hop)
        node, entered = hop, 'tunnel'
    return result.stop('routing loop')


def connect(model, access, src, dst, proto='icmp', port=None):
    """A connection works when the packet gets there and the answer gets back (as established traffic)."""
    forth = trace(model, access, src, dst, proto, port)
    if not forth.allowed or model.owner(dst)[0] is None:
        return forth
    back = trace(model, access, dst, src, proto, None, stateful=True)
    if not back.allowed:
        forth.allowed = False
        forth.reason = 'the reply cannot come back: ' + back.reason
    return forth


# ----------------------------------------------------------------------------- resolving names

class _Resolver:
    def __init__(self, model, policy, inactive, problems, warnings):
        self.model, self.policy, self.inactive = model, policy, inactive or {}
        self.problems, self.warnings = problems, warnings

    def networks(self, endpoint, where, depth=0):
        """Networks of one endpoint (None = any); unknown names are reported, inactive devices warned."""
        kind, value = endpoint
        if kind == 'any':
            return None
        if kind == 'prefix':
            return [ipaddress.ip_network(value)]
        if kind == 'group':
            if value not in self.policy['groups'] or depth:
                self.problems.append((where, 'group:%s is not a group of wireguard_policy.groups%s'
                                      % (value, ' (groups do not nest)' if depth else '')))
                return []
            out = []
            for member in self.policy['groups'][value]:
                out.extend(self.networks(member, '%s (group:%s)' % (where, value), depth + 1) or [])
            return out
        if value in self.inactive:
            self.warnings.append((where, '%s is a %s device: it matches nothing until it is active'
                                  % (value, self.inactive[value])))
            return []
        if value not in self.model.addresses:
            self.problems.append((where, '%r is not a host of the network nor a device of '
                                  'wireguard_external_peers' % value))
            return []
        if kind == 'lan':
            if not self.model.lans[value]:
                self.problems.append((where, 'lan:%s: %s has no LAN (wireguard_lan_subnets / lan_subnets)'
                                      % (value, value)))
            return list(self.model.lans[value])
        return list(self.model.addresses[value])

    def side(self, endpoints, where):
        out = []
        for endpoint in endpoints:
            networks = self.networks(endpoint, where)
            if networks is None:
                return None
            out.extend(n for n in networks if n not in out)
        return out

    def samples(self, endpoints, prefixes=False):
        """One address per named host, device or LAN of a rule side, and per prefix with ``prefixes``
        (for the routing checks)."""
        out = []
        for kind, value in endpoints:
            if kind == 'prefix' and prefixes:
                network = ipaddress.ip_network(value)
                out.append((value, next(network.hosts(), network.network_address)))
            members = self.policy['groups'].get(value, []) if kind == 'group' else [(kind, value)]
            for member_kind, member in members:
                if member_kind == 'name' and member in self.model.addresses:
                    out += [(member, n.network_address) for n in self.model.addresses[member][:1]]
                elif member_kind == 'lan' and member in self.model.lans:
                    out += [('lan:' + member, next(n.hosts(), n.network_address)) for n in self.model.lans[member][:1]]
        return out


def _side_covers(outer, inner):
    """Every address of ``inner`` is in ``outer`` (None = any)."""
    if outer is None:
        return True
    return inner is not None and all(any(n.version == o.version and n.subnet_of(o) for o in outer) for n in inner)


def _covers(outer, inner):
    """``outer`` matches every packet ``inner`` matches (so ``inner`` below it never decides)."""
    if not (_side_covers(outer['from'], inner['from']) and _side_covers(outer['to'], inner['to'])):
        return False
    if outer['proto'] is not None and outer['proto'] != inner['proto']:
        return False
    if outer['ports'] is None:
        return True
    return inner['ports'] is not None and all(any(lo <= a and b <= hi for lo, hi in outer['ports'])
                                              for a, b in inner['ports'])


def _families(rule):
    sides = [{n.version for n in rule[side]} for side in ('from', 'to') if rule[side] is not None]
    common = {4, 6}
    for side in sides:
        common &= side
    return common


def _resolve_rules(resolver, rules):
    out = []
    for rule in rules:
        where = '%s.%s' % (VAR, rule['label'])
        resolved = dict(rule, named={side: rule[side] for side in ('from', 'to')},
                        **{side: resolver.side(rule[side], '%s.%s' % (where, side)) for side in ('from', 'to')})
        if any(resolved[side] == [] for side in ('from', 'to')):
            resolver.warnings.append((where, 'matches nothing (a side resolves to no address)'))
        elif not _families(resolved):
            resolver.problems.append((where, 'never matches: its sources and destinations share no address family'))
        else:
            for earlier in out:
                if _covers(earlier, resolved):
                    resolver.warnings.append((where, 'never matches: %s above it matches everything it does'
                                              % earlier['label']))
                    break
        out.append(resolved)
    return out


# ----------------------------------------------------------------------------- checks against the routing

def _pair_text(proto, port):
    return proto + ('/%d' % port if port is not None else '')


def _check_rules(resolver, rules, access):
    """Allow rules the routing cannot carry are errors; deny rules no host on the path enforces, warnings."""
    model = resolver.model
    for rule in rules:
        where = '%s.%s' % (VAR, rule['label'])
        pairs = [(a, b) for a in resolver.samples(rule['named']['from']) for b in resolver.samples(rule['named']['to'], prefixes=True)
                 if a[0] != b[0] and a[1].version == b[1].version]
        port = rule['ports'][0][0] if rule['ports'] else None
        proto = rule['proto'] or 'icmp'
        paths = {pair: connect(model, {}, pair[0][1], pair[1][1], proto, port) for pair in pairs}
        if rule['action'] == 'allow':
            broken = [(pair, res) for pair, res in paths.items() if not res.allowed]
            if broken and len(broken) == len(paths):
                (src, dst), res = broken[0]
                resolver.problems.append((where, 'allows %s -> %s, but the routing (AllowedIPs) gives no path: %s'
                                          % (src[0], dst[0], res.reason)))
            for (src, dst), res in broken if len(broken) < len(paths) else []:
                resolver.warnings.append((where, 'allows %s -> %s, which the routing does not carry: %s'
                                          % (src[0], dst[0], res.reason)))
            continue
        for (src, dst), res in paths.items():
            crossed = [hop for hop in res.hops[1:] if hop in access] + (
                [res.hops[0]] if res.hops and model.owner(src[1])[1] == 'lan' and res.hops[0] in access else [])
            if res.allowed and not crossed:
                resolver.warnings.append((where, 'denies %s -> %s, but no host on its path (%s) enforces the '
                                          'policy: only hosts that forward do' % (src[0], dst[0], ' -> '.join(res.hops))))


def _test_address(model, value, other_version=None):
    if value in model.addresses:
        candidates = model.addresses[value]
        chosen = [n for n in candidates if other_version in (None, n.version)] or candidates
        return chosen[0].network_address if chosen else None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _run_tests(model, tests, access, problems):
    for test in tests:
        where = '%s.%s' % (VAR, test['label'])
        src = _test_address(model, test['from'])
        dst = _test_address(model, test['to'], src.version if src is not None else None)
        for value, address in ((test['from'], src), (test['to'], dst)):
            if address is None:
                problems.append((where, '%r is not a host of the network nor a device of wireguard_external_peers'
                                 % value))
        if src is None or dst is None:
            continue
        res = connect(model, access, src, dst, test['proto'], test['port'])
        got = 'allow' if res.allowed else 'deny'
        if got != test['expect']:
            host, label = res.decided_by or (res.hops[0] if res.hops else test['from'], 'default')
            rule = '%s.%s' % (VAR, label) if label != 'default' else 'the default'
            why = res.reason if not res.allowed else 'accepted on %s by %s' % (host, rule)
            problems.append((where, 'expected %s, but %s -> %s %s is %s: %s (path %s)' % (
                test['expect'], test['from'], test['to'], _pair_text(test['proto'], test['port']),
                'allowed' if res.allowed else 'denied', why, ' -> '.join(res.hops)), host))


# ----------------------------------------------------------------------------- entry point

def _serial(rule):
    def side(networks):
        if networks is None:
            return None
        return {FAMILIES[v]: [str(n) for n in networks if n.version == v] for v in (4, 6)}
    return {'label': rule['label'], 'action': rule['action'], 'from': side(rule['from']), 'to': side(rule['to']),
            'proto': rule['proto'], 'ports': [list(p) for p in rule['ports']] if rule['ports'] else None}


def apply(net, plan, policy, profiles=None, inactive=None):
    """Resolve ``policy`` (``parse`` output) against ``plan``; add ``access`` to the entries of the hosts
    that enforce it; return ``(problems, warnings)`` as ``(host, variable, text)`` triples."""
    if not policy:
        return [], []
    model = Network(net, plan, profiles)
    raw_problems, raw_warnings = [], []
    resolver = _Resolver(model, policy, inactive, raw_problems, raw_warnings)
    rules = _resolve_rules(resolver, policy['rules'])
    enforce = changes_anything(policy)
    access = {}
    if enforce:
        block = {'default': policy['default'], 'rules': [r for r in rules if _families(r)]}
        access = {name: block for name, entry in plan.items()
                  if (entry.get('routing') or {}).get('forward_ipv4') or (entry.get('routing') or {}).get('forward_ipv6')}
        if not access:
            raw_warnings.append((VAR, 'no host of the network forwards (no hub, relay or gateway): nothing enforces '
                                 'the policy'))
    if not raw_problems:
        _check_rules(resolver, rules, access)
        _run_tests(model, policy['tests'], access, raw_problems)
    for name, block in access.items():
        plan[name] = dict(plan[name], access={'default': block['default'], 'rules': [_serial(r) for r in block['rules']]})
    group = net.group
    return ([_line(group, item) for item in raw_problems], [_line(group, item) for item in raw_warnings])


def _line(group, item):
    if len(item) == 3:
        where, text, host = item
        return (host, where, text)
    where, text = item
    return (group, where, text)
