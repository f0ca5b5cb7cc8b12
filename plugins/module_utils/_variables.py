# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one table of every ``wireguard_*`` variable the collection reads.

``VARIABLES`` drives validation (``_validate`` loops over it, so a variable cannot skip its
parser), the error messages (the variable names) and ``docs/variables.md``
(``variables_markdown()``). Each entry is a ``Var``: name, scope, documented type, parser,
default and meaning. Scopes:

* ``network``: group vars of the network; every host must see the same value.
* ``host``: host vars of a managed host.
* ``external``: fields of one entry of ``wireguard_external_peers`` (``name``, ``public_key``...).
* ``role``: settings of one role (``role`` names it); the defaults are those of
  ``roles/<role>/defaults/main.yml`` (a unit test keeps them equal).

Every parser takes the raw inventory value and returns the checked value or raises
``ValueError``. Strings that can reach a config line, a path, a unit file or a shell are matched
whole (``re.fullmatch``) against strict patterns. Pure module: stdlib only, no ``ansible.*``.
"""

from __future__ import annotations

import datetime
import difflib
import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Callable, Optional

from ._addr import (
    parse_interface_address,
    parse_network as parse_cidr,
    parse_port,
    parse_public_key,
    split_endpoint,
    validate_interface_name,
    is_hostname,
)

PREFIX = 'wireguard_'
TOPOLOGIES = ('full_tunnel', 'site_to_site', 'bastion', 'mesh')
TOPOLOGY_ALIASES = {'hub_and_spoke': 'bastion'}
OVERLAP_STRATEGIES = ('fail', 'split', 'widen')
DEFAULT_INTERFACE = 'wg0'
DEFAULT_PORT = 51820
DEFAULT_KEEPALIVE = 25
SCOPES = ('network', 'host', 'external', 'role')

# Inventory host names and external peer names: they become file names (<peer>.psk, render
# folders), config comments and message prefixes. No slash, no blank, no leading dot.
HOST_NAME_RE = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.:@+=-]{0,63}')
# C0, DEL, C1 controls and the bidirectional overrides/isolates/marks: refused at any depth.
UNSAFE_CHARS_RE = re.compile('[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]')
# Host-side paths: absolute, a strict character set (no blank, quote, $, `, %, ;, \\).
_PATH_RE = re.compile(r'/[A-Za-z0-9_.+@=,-]+(?:/[A-Za-z0-9_.+@=,-]+)*')
# Controller-side paths may be relative or start with ~/ (resolved on the controller).
_LOCAL_PATH_RE = re.compile(r'(?:~/|\./|/)?[A-Za-z0-9_.+@=,-]+(?:/[A-Za-z0-9_.+@=,-]+)*')
_PACKAGE_RE = re.compile(r'[A-Za-z0-9][A-Za-z0-9._+:~=-]{0,127}')

# wireguard_table names: what an rt_tables line can name and a shell word cannot abuse
_TABLE_NAME_RE = re.compile(r'[A-Za-z][A-Za-z0-9_-]{0,31}')
_KERNEL_TABLE_NAMES = ('local', 'default', 'unspec')
# wireguard_hooks: the wg-quick hooks a user may add, in the order wg-quick runs them
HOOK_STAGES = ('pre_up', 'post_up', 'pre_down', 'post_down')
HOOK_LINE_MAX = 1000
HOOK_LINES_MAX = 32

_TRUE = ('true', 'yes', 'on', '1')
_FALSE = ('false', 'no', 'off', '0')


# --------------------------------------------------------------------------- text safety

def char_problem(text):
    """``None``, or a description of the first control/bidi character of ``text``."""
    found = UNSAFE_CHARS_RE.search(text)
    if found is None:
        return None
    return 'contains the %s character U+%04X at position %d' % (
        'control' if found.group() < '\u0100' else 'bidirectional-formatting', ord(found.group()), found.start())


def unsafe_text(value, path=''):
    """``(path, problem)`` for the first control/bidi character anywhere in ``value`` (strings,
    list items, dict keys and values), else None. ``path`` is like ``[2].name``."""
    if isinstance(value, str):
        problem = char_problem(value)
        return (path, problem) if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            label = '%s.%s' % (path, key) if isinstance(key, str) and not char_problem(key) else '%s[%r]' % (path, key)
            if isinstance(key, str) and char_problem(key):
                return (label, 'has a key that ' + char_problem(key))
            found = unsafe_text(item, label)
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        # fast path for long lists of plain strings (10,000 LANs): one scan of the joined text
        if all(isinstance(item, str) for item in value) and not UNSAFE_CHARS_RE.search(''.join(value)):
            return None
        for index, item in enumerate(value):
            found = unsafe_text(item, '%s[%d]' % (path, index))
            if found:
                return found
    return None


def validate_host_name(value):
    """An inventory host name or external peer name (one rule for both); returns it."""
    if not isinstance(value, str) or not HOST_NAME_RE.fullmatch(value):
        raise ValueError('%r is not a usable peer name: 1-64 characters of A-Z a-z 0-9 _ . : @ + = -, not starting '
                         'with . : @ + = or - (it becomes a file name and a config comment); rename it' % (value,))
    return value


def shown(name):
    """A name as it may appear in a message: itself when valid, else its repr (escaped)."""
    return name if isinstance(name, str) and HOST_NAME_RE.fullmatch(name) else repr(name)


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
    """A list; a single string counts as a one-item list, a comma-separated string is refused."""
    if value is None:
        return []
    if isinstance(value, str):
        if ',' in value:
            raise ValueError('%r is one comma-separated string: write a YAML list, one item per entry, e.g. [%s]'
                             % (value, ', '.join(p.strip() for p in value.split(',') if p.strip())))
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ValueError('%r is not a list' % (value,))


def to_int(value, low, high, what):
    if isinstance(value, bool):
        raise ValueError('%r is not %s' % (value, what))
    if isinstance(value, str) and re.fullmatch(r'-?[0-9]{1,9}', value.strip()):
        value = int(value.strip())
    if not isinstance(value, int) or not low <= value <= high:
        raise ValueError('%r is not %s (%d-%d)' % (value, what, low, high))
    return value


class ItemErrors(ValueError):
    """Several problems of one variable (one per bad list item)."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__('; '.join(problems))


def list_of(item_parser):
    """Parser of a list whose items are each checked by ``item_parser``; every bad item is reported."""
    def parse(value):
        out, problems = [], []
        for item in to_list(value):
            try:
                out.append(item_parser(item))
            except ValueError as exc:
                problems.append(str(exc))
        if problems:
            raise ItemErrors(problems)
        return out
    return parse


def one_of(*choices):
    def parse(value):
        if not isinstance(value, str) or value not in choices:
            raise ValueError('%r is not one of %s' % (value, ', '.join(repr(c) if not c else c for c in choices)))
        return value
    return parse


def int_between(low, high, what):
    return lambda value: to_int(value, low, high, what)


def host_names(value):
    """Host names as ``-e`` gives them (one comma-separated string) or as a YAML list; ``all`` stays ``all``."""
    if value == 'all':
        return value
    items = [part.strip() for part in value.split(',')] if isinstance(value, str) else to_list(value)
    return [validate_host_name(item) for item in items if item != '']


def topology(value):
    value = TOPOLOGY_ALIASES.get(value, value) if isinstance(value, str) else value
    if value not in TOPOLOGIES:
        raise ValueError('unknown topology %r (one of %s, or hub_and_spoke)' % (value, ', '.join(TOPOLOGIES)))
    return value


def interface_address(value):
    return parse_interface_address(value)


def external_address(value):
    """External peers may give a bare address: it is their /32 (/128)."""
    if isinstance(value, str) and '/' not in value:
        value = value + ('/128' if ':' in value else '/32')
    return parse_interface_address(value)


def endpoint(value):
    return split_endpoint(value)


def dns_entry(value):
    """A DNS server address (IPv4/IPv6, no zone id) or a DNS search domain."""
    if isinstance(value, str) and '%' not in value:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            if is_hostname(value):
                return value
    raise ValueError('%r is not a DNS server address or search domain' % (value,))


def ssh_source(value):
    """An address or prefix (host bits allowed) for the hardened firewall's SSH set."""
    if isinstance(value, str) and '%' not in value and re.fullmatch(r'[0-9A-Fa-f.:/]+', value):
        try:
            return str(ipaddress.ip_network(value, strict=False))
        except ValueError:
            pass
    raise ValueError('%r is not an IPv4/IPv6 address or prefix' % (value,))


def host_path(value):
    """A path on the managed host: absolute, strict characters, no ``.``/``..`` component, no ``//``,
    no trailing ``/``. It reaches PostUp lines, unit files and shell commands."""
    if not isinstance(value, str) or not _PATH_RE.fullmatch(value) or any(p in ('.', '..') for p in value.split('/')):
        raise ValueError('%r is not a usable path: absolute, characters A-Z a-z 0-9 _ . + @ = , - between single '
                         'slashes, no "." or ".." component, no trailing "/"' % (value,))
    return value


def optional_host_path(value):
    """Empty means "the default path" (documented per variable)."""
    return value if value == '' else host_path(value)


def controller_path(value):
    """A path on the controller: may be relative (``./x``, ``x``) or start with ``~/``; otherwise the
    host_path rules."""
    parts = value.split('/') if isinstance(value, str) else []
    if parts and parts[0] in ('~', '.', ''):
        parts = parts[1:]
    if not isinstance(value, str) or not _LOCAL_PATH_RE.fullmatch(value) or any(p in ('.', '..') for p in parts):
        raise ValueError('%r is not a usable path: characters A-Z a-z 0-9 _ . + @ = , - between single slashes '
                         '(absolute, ./relative or ~/...), no "." or ".." component, no trailing "/"' % (value,))
    return value


def package_name(value):
    if not isinstance(value, str) or not _PACKAGE_RE.fullmatch(value):
        raise ValueError('%r is not a package name' % (value,))
    return value


def public_key(value):
    return parse_public_key(value)


def userspace_mode(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, str) and value.lower() in ('auto', 'true', 'false', 'yes', 'no'):
        return {'yes': 'true', 'no': 'false'}.get(value.lower(), value.lower())
    raise ValueError('%r is not one of auto, true, false' % (value,))


def external_peers(value):
    """The list itself; each entry is parsed field by field against the ``external`` scope."""
    items = to_list(value) if not isinstance(value, str) else None
    if items is None:
        raise ValueError('%r is not a list of peers (each a dict with name, public_key, address)' % (value,))
    return items


def access_policy(value):
    """``wireguard_policy``: checked by ``_policy.parse`` (imported here, as _policy builds on this module)."""
    from ._policy import parse
    return parse(value)


def per_network(value):
    """``wireguard_networks``: checked (group membership, host variables only) by ``_multinet.network_values``."""
    if not isinstance(value, dict) or any(not isinstance(v, dict) for v in value.values()):
        raise ValueError('%r is not a mapping of network group -> {host variable: value}' % (value,))
    return value


def unknown_mode(value):
    return one_of('error', 'warn')(value)


def routing_table(value):
    """wg-quick's ``Table``: ``auto`` (its default: routes for AllowedIPs, policy routing for a /0),
    ``off`` (no routes: the user routes), a table number or a table name as ``rt_tables`` defines
    one; returns None for ``auto``. YAML reads an unquoted ``off`` as false: that is ``off`` too."""
    if value is False:
        return 'off'
    if isinstance(value, str) and value.lower() in ('auto', 'off'):
        return None if value.lower() == 'auto' else 'off'
    if isinstance(value, str) and _TABLE_NAME_RE.fullmatch(value):
        if value in _KERNEL_TABLE_NAMES:
            raise ValueError('%r is the kernel\'s %s table: routes of the tunnel do not belong there' % (value, value))
        return value
    if isinstance(value, str) and not re.fullmatch(r'[0-9]{1,10}', value):
        raise ValueError('%r is not auto, off, a routing table number (1-4294967295) or a table name (a letter, then '
                         'up to 31 of A-Z a-z 0-9 _ -)' % (value,))
    number = to_int(value, 1, 4294967295, 'auto, off or a routing table number')
    if number in (253, 255):
        raise ValueError('%d is the kernel\'s %s table: routes of the tunnel do not belong there'
                         % (number, 'default' if number == 253 else 'local'))
    return str(number)


# wg-quick cuts a line at "#" (comment) and trims blanks
_HOOK_CHAR = r'[\x20-\x22\x24-\x7e]'         # printable ASCII except "#"
_HOOK_EDGE = r'[\x21-\x22\x24-\x7e]'         # ... and not a blank
_HOOK_LINE_RE = re.compile(r'%s(?:%s{0,%d}%s)?' % (_HOOK_EDGE, _HOOK_CHAR, HOOK_LINE_MAX - 2, _HOOK_EDGE))
# a whole "PostUp = cmd" pasted as the command (the renderer writes the key itself)
_HOOK_KEY_RE = re.compile(r'(?i)(?:Pre|Post)(?:Up|Down)\s*=')


def hook_line(value):
    """One command of a wg-quick hook, as the renderer writes it after ``PostUp = ``: one line of
    printable ASCII without ``#`` (wg-quick would cut the rest as a comment), no blank at either end
    (wg-quick trims them), not itself a ``Key =`` line, at most ``HOOK_LINE_MAX`` characters."""
    if not isinstance(value, str) or not _HOOK_LINE_RE.fullmatch(value):
        raise ValueError('%r is not a hook command: one line of 1-%d printable ASCII characters without "#" (wg-quick '
                         'cuts a line there) and without blanks at either end; put longer or multi-line logic in a '
                         'script on the host and call it' % (value, HOOK_LINE_MAX))
    if _HOOK_KEY_RE.match(value):
        raise ValueError('%r starts like a wg-quick "Key =" line: give only the command, the collection writes '
                         '"PostUp = <command>"' % (value,))
    return value


def user_hooks(value):
    """``wireguard_hooks``: {pre_up, post_up, pre_down, post_down: command or list of commands}; returns
    the four lists (empty where unset), or None when no command is given."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError('%r is not a dict of %s (each a command or a list of commands)' % (value, ', '.join(HOOK_STAGES)))
    unknown = [key for key in value if key not in HOOK_STAGES]
    if unknown:
        raise ValueError('unknown key %r (one of %s)%s'
                         % (unknown[0], ', '.join(HOOK_STAGES), suggestion(str(unknown[0]), HOOK_STAGES)))
    out, problems = {}, []
    for stage in HOOK_STAGES:
        lines = value.get(stage)
        lines = [] if lines is None else [lines] if isinstance(lines, str) else lines
        if not isinstance(lines, list) or len(lines) > HOOK_LINES_MAX:
            problems.append('%s: %r is not a command or a list of at most %d commands' % (stage, lines, HOOK_LINES_MAX))
            continue
        for index, line in enumerate(lines):
            try:
                hook_line(line)
            except ValueError as exc:
                problems.append('%s[%d]: %s' % (stage, index, exc))
        out[stage] = list(lines)
    if problems:
        raise ItemErrors(problems)
    return out if any(out.values()) else None


def expiry_date(value):
    """A calendar date ``YYYY-MM-DD`` (YAML may already have made it a date): the device is removed
    by the first run on or after that day (UTC)."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and re.fullmatch(r'[0-9]{4}-[0-9]{2}-[0-9]{2}', value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError('%r is not a date written YYYY-MM-DD' % (value,))


# --------------------------------------------------------------------------- the table

@dataclass(frozen=True)
class Var:
    name: str                      # variable name (external scope: field name inside a peer entry)
    scope: str                     # network | host | external | role
    type: str                      # documented type
    parser: Callable[[Any], Any]   # raw value -> checked value; raises ValueError
    default: Any = None            # raw default; None = unset
    meaning: str = ''
    role: Optional[str] = None     # role scope: the role whose defaults/main.yml defines it
    required: bool = False
    shown_default: Optional[str] = None   # documented default when it is not a literal value
    attr: Optional[str] = None     # HostSpec attribute that receives the parsed value


def _net(name, type_, parser, default, meaning, **kw):
    return Var(name, 'network', type_, parser, default, meaning, **kw)


def _host(name, type_, parser, default, meaning, **kw):
    return Var(name, 'host', type_, parser, default, meaning, **kw)


def _ext(name, type_, parser, default, meaning, **kw):
    return Var(name, 'external', type_, parser, default, meaning, **kw)


def _role(role, name, type_, parser, default, meaning, **kw):
    return Var(name, 'role', type_, parser, default, meaning, role=role, **kw)


_PREFIXES = list_of(parse_cidr)
_FW, _FWD, _INST, _IF, _KEYS, _MET = ('wireguard_firewall', 'wireguard_forwarding', 'wireguard_install',
                                      'wireguard_interface', 'wireguard_keys', 'wireguard_metrics')

VARIABLES = (
    # ----- network (group vars)
    _net('wireguard_topology', 'str', topology, None,
         '`full_tunnel`, `site_to_site`, `bastion` (alias `hub_and_spoke`), `mesh`', required=True),
    _net('wireguard_interface', 'str', validate_interface_name, DEFAULT_INTERFACE,
         'interface name: 1-15 of `a-z A-Z 0-9 _ = + . -`, not `.` or `..`'),
    _net('wireguard_hub', 'str', validate_host_name, None,
         'inventory name of the VPS / bastion; optional relay for mesh',
         shown_default='required for full_tunnel/bastion'),
    _net('wireguard_external_peers', 'list of dict', external_peers, [],
         'peers Ansible does not manage (phones); fields below; they attach to the hub'),
    _net('wireguard_client_dns', 'list', list_of(dns_entry), [],
         'DNS servers / search domains written into the client profiles of external peers (their own `dns` wins)'),
    _net('wireguard_client_dir', 'path', controller_path, None,
         '`playbooks/clients.yml`: controller folder of the device profiles and QR codes (0700; holds private '
         'keys of `key_mode: controller` devices)', shown_default='`<inventory dir>/wireguard-clients/<interface>`'),
    _net('wireguard_diagnose_report', 'path', controller_path, None,
         '`playbooks/diagnose.yml`: controller file the JSON report is written to',
         shown_default='`./wireguard-diagnose.json`'),
    _net('wireguard_diagnose_max_handshake_age', 'int', int_between(1, 86400, 'a number of seconds'), 180,
         '`playbooks/diagnose.yml`: oldest acceptable latest handshake with a peer, in seconds'),
    _net('wireguard_key_registry', 'path', controller_path, None,
         'controller-side public-key registry (public keys only, safe to commit)',
         shown_default='`<inventory dir>/.wireguard_public_keys.yml`'),
    _net('wireguard_network_group', 'str', validate_host_name, 'wireguard',
         'inventory group of the network (usually `-e`)'),
    _net('wireguard_network_groups', 'list', list_of(validate_host_name), [],
         'the inventory groups of several networks that hosts share (one network each, planned and validated '
         'together; see the README, "A host in several networks"); `site.yml` deploys up to three, one play each',
         shown_default='unset: one network, `wireguard_network_group`'),
    _net('wireguard_render_dir', 'path', controller_path, None,
         '`playbooks/render.yml`: folder the configs are written to', shown_default='`./render`'),
    _net('wireguard_render_host_facts', 'bool', to_bool, False,
         '`playbooks/render.yml`: read each host first (read-only) and render with what it reports, instead of '
         'taking the firewall backend and egress interface from the inventory or assuming them'),
    _net('wireguard_policy', 'dict', access_policy, None,
         'access policy through the tunnel: `default` (`allow`/`deny`), `groups`, `rules` (`name`, `action`, `from`, '
         '`to`, `proto` tcp/udp/icmp, `ports`), `tests` (`name`, `from`, `to`, `proto`, `port`, `expect`); enforced '
         'on the hosts that forward (hub, relay, gateways); see the README, "Access policy"',
         shown_default='unset: everything the routing carries is allowed'),
    _net('wireguard_plan_file', 'path', controller_path, None,
         '`playbooks/site.yml`: use this plan artifact (`plan.json` of `render.yml`) instead of computing the plan '
         'from the inventory this run sees (a slice); refused when stale', shown_default='unset: computed'),
    _net('wireguard_unknown_variables', 'str', unknown_mode, 'error',
         '`error` or `warn`: what an unknown `wireguard_*` variable (a typo) is'),
    _net('wireguard_rotate_hosts', 'str or list', host_names, [],
         '`playbooks/rotate.yml`: hosts whose private key is replaced (`all` = every host of the network)'),
    _net('wireguard_rotate_serial', 'int', int_between(1, 100000, 'a batch size'), 1,
         '`playbooks/rotate.yml`: hosts rotated at the same time (hosts of one batch must not be peers)'),
    _net('wireguard_rotate_timeout', 'int', int_between(3, 600, 'a number of seconds'), 30,
         '`playbooks/rotate.yml`: seconds to wait for the handshakes on the new key before the old one is put back'),
    _net('wireguard_rotate_preshared_hosts', 'str or list', host_names, [],
         '`playbooks/rotate.yml`: every preshared-key pair whose two hosts are listed gets a new key'),
    # ----- host vars
    _host('wireguard_networks', 'dict', per_network, None,
          'a host in several networks: its host variables per network group, e.g. '
          '`{vpn_sites: {wireguard_address: 10.100.0.1/24}}`; laid over its other host vars for that network '
          '(`wireguard_state: absent` there takes the host out of that network only)'),
    _host('wireguard_address', 'str or list', list_of(interface_address), None,
          'tunnel address(es) with prefix, e.g. `10.100.0.1/24`, `fd00::1/64`; the prefix defines the tunnel network',
          required=True),
    _host('wireguard_endpoint', 'str', endpoint, None,
          'public address or DNS name, optional `:port` (`[v6]:port`); no zone id; absent = not reachable from outside',
          shown_default='absent'),
    _host('wireguard_listen_port', 'int', parse_port, DEFAULT_PORT,
          'UDP port (only written for hosts that have an endpoint or are the hub)', attr='listen_port'),
    _host('wireguard_lan_subnets', 'list', _PREFIXES, [], 'LANs this host routes into the tunnel (gateways)',
          attr='lan_keys'),
    _host('wireguard_local_subnets', 'list', _PREFIXES, [],
          'networks the host sits on but does not route (café Wi-Fi): only used for overlap checks', attr='local_keys'),
    _host('wireguard_overlap_strategy', 'str', one_of(*OVERLAP_STRATEGIES), 'fail',
          '`fail`, `split`, `widen`: what to do when a remote prefix overlaps a local/LAN subnet of this host',
          attr='overlap_strategy'),
    _host('wireguard_full_tunnel', 'bool', to_bool, None, 'client sends everything (`0.0.0.0/0` and `::/0`) to the hub',
          shown_default='true for full_tunnel clients', attr='full_tunnel'),
    _host('wireguard_extra_allowed_ips', 'list', _PREFIXES, [], 'split-tunnel client: extra prefixes it routes to the hub '
          "(those beyond the network leave by the hub's egress, masqueraded)",
          attr='extra_keys'),
    _host('wireguard_behind_nat', 'bool', to_bool, False, 'host is behind NAT/CGNAT: sends keepalive toward peers it reaches',
          attr='behind_nat'),
    _host('wireguard_persistent_keepalive', 'int', int_between(0, 65535, 'a keepalive interval in seconds'),
          DEFAULT_KEEPALIVE, 'keepalive interval used where the engine decides one is needed', attr='keepalive'),
    _host('wireguard_egress_interface', 'str', validate_interface_name, None, "hub's public interface to NAT out of",
          shown_default='default-route interface (fact)', attr='egress_interface'),
    _host('wireguard_site_nat', 'bool', to_bool, False,
          "site_to_site: masquerade the other sites' traffic toward this gateway's LANs (matched by the LAN "
          'prefixes, not an interface) instead of routing it', attr='site_nat'),
    _host('wireguard_dns', 'list', list_of(dns_entry), [], 'DNS server addresses or search domains (clients)', attr='dns'),
    _host('wireguard_mtu', 'int', int_between(576, 65535, 'an MTU'), None, 'interface MTU', shown_default='unset',
          attr='mtu'),
    _host('wireguard_table', 'str', routing_table, 'auto',
          "wg-quick's `Table`: `auto`, `off` (no routes are added: you route yourself; a full tunnel then sends "
          'nothing into it), a routing table number (not 253 or 255) or a table name defined in the host\'s '
          '`/etc/iproute2/rt_tables` (not `local`, `default`, `unspec`); see the README, "Your own hooks and routes"',
          attr='table'),
    _host('wireguard_hooks', 'dict', user_hooks, None,
          'your own wg-quick hook commands: `pre_up`, `post_up`, `pre_down`, `post_down`, each a command or a list '
          "(one line each, printable ASCII, no `#`, at most 1000 characters, 32 per stage; `%i` is the interface); "
          "`post_up` runs after the collection's rules, `post_down` before their removal",
          shown_default='unset', attr='hooks'),
    _host('wireguard_public_key', 'str', public_key, None, 'only for hosts whose key is managed elsewhere',
          shown_default='from registry', attr='public_key'),
    _host('wireguard_preshared_keys', 'bool', to_bool, False,
          'a preshared key for every pair of this host with another managed host', attr='psk'),
    _host('wireguard_state', 'str', one_of('present', 'absent'), 'present',
          '`absent` retires the host: every peer drops it live, `site.yml` removes its interface, files and '
          'firewall objects, the key registry forgets it'),
    # ----- fields of one wireguard_external_peers entry
    _ext('name', 'str', validate_host_name, None, 'peer name (same rule as inventory host names)', required=True),
    _ext('key_mode', 'str', one_of('device', 'controller'), 'device',
         '`device`: the device makes its key, the inventory holds its `public_key`; `controller`: '
         '`playbooks/clients.yml` makes the pair and the private key lives only in the device profile', attr='key_mode'),
    _ext('public_key', 'str', public_key, None, "the device's public key (its private key stays on the device)",
         shown_default='required for `key_mode: device`', attr='public_key'),
    _ext('address', 'str or list', list_of(external_address), None, 'tunnel address(es); a bare address is its /32 (/128)',
         required=True),
    _ext('lan_subnets', 'list', _PREFIXES, [], 'LANs behind the peer', attr='lan_keys'),
    _ext('endpoint', 'str', endpoint, None, 'where the peer can be reached, as `wireguard_endpoint`',
         shown_default='absent'),
    _ext('listen_port', 'int', parse_port, DEFAULT_PORT, 'port of `endpoint` when it gives none', attr='listen_port'),
    _ext('full_tunnel', 'bool', to_bool, None, 'profile: the device sends everything to the hub; `false` = split '
         '(tunnel network, every LAN of the network, `extra_allowed_ips`)', shown_default='true in full_tunnel',
         attr='full_tunnel'),
    _ext('extra_allowed_ips', 'list', _PREFIXES, [], 'split profile: further prefixes the device sends to the hub',
         attr='extra_keys'),
    _ext('default_route_halves', 'bool', to_bool, False,
         'full profile written as `0.0.0.0/1, 128.0.0.0/1, ::/1, 8000::/1` (clients that treat a `/0` as a kill '
         'switch, e.g. Windows); not for Linux wg-quick, which then routes the endpoint into the tunnel',
         attr='default_route_halves'),
    _ext('dns', 'list', list_of(dns_entry), None, 'DNS of the profile', shown_default='`wireguard_client_dns`',
         attr='dns'),
    _ext('mtu', 'int', int_between(576, 65535, 'an MTU'), None, 'MTU of the profile', shown_default='unset',
         attr='mtu'),
    _ext('persistent_keepalive', 'int', int_between(0, 65535, 'a keepalive interval in seconds'), DEFAULT_KEEPALIVE,
         'keepalive of the profile toward the hub (devices roam behind NAT); 0 = off', attr='keepalive'),
    _ext('preshared_key', 'bool', to_bool, False,
         'a preshared key for the device and the hub: made by `playbooks/clients.yml`, written into the profile and '
         'sent sealed to the hub', attr='psk'),
    _ext('expires', 'date', expiry_date, None, '`YYYY-MM-DD`: the first run on or after that day (UTC) removes the '
         'device from the hub, live, and reports it expired', shown_default='never', attr='expires'),
    # ----- wireguard_firewall
    _role(_FW, 'wireguard_firewall_backend', 'str', one_of('', 'iptables', 'nftables', 'ufw'), '',
          'backend of the PostUp/PostDown rules; empty = `ufw` rules when ufw is active (refused when firewalld '
          'runs), else `nftables` when `nft` is installed, else `iptables`; `ufw`: ufw rules, NAT by the detected '
          'backend (README "Hosts that run ufw or firewalld")'),
    _role(_FW, 'wireguard_firewall_nft_path', 'path', optional_host_path, '',
          'nftables rules file PostUp loads; empty = `/etc/wireguard/<interface>.nft`'),
    _role(_FW, 'wireguard_firewall_install_packages', 'bool', to_bool, True,
          "install the backend's package when the host needs rules and lacks it"),
    _role(_FW, 'wireguard_firewall_harden', 'bool', to_bool, False, 'hardened posture (default-drop input and forward)'),
    _role(_FW, 'wireguard_firewall_ssh_sources', 'list', list_of(ssh_source), [],
          'addresses/prefixes allowed to reach SSH when hardened (the controller address is added)'),
    _role(_FW, 'wireguard_firewall_ssh_port', 'int', parse_port, 22, 'SSH port opened for the SSH sources'),
    _role(_FW, 'wireguard_firewall_allow_tunnel_input', 'bool', to_bool, True,
          'when hardened, accept everything reaching the host through the tunnel'),
    _role(_FW, 'wireguard_firewall_allowed_tcp_ports', 'list of int', list_of(parse_port), [],
          'when hardened, further TCP ports open to everyone'),
    _role(_FW, 'wireguard_firewall_allowed_udp_ports', 'list of int', list_of(parse_port), [],
          'when hardened, further UDP ports open to everyone'),
    _role(_FW, 'wireguard_firewall_guard_path', 'path', host_path, '/etc/netfleet/wireguard-guard.nft',
          'file of the hardened ruleset (loaded by netfleet-wireguard-guard.service)'),
    _role(_FW, 'wireguard_firewall_rollback_seconds', 'int', int_between(10, 86400, 'a number of seconds'), 90,
          'a changed hardened ruleset is undone after this many seconds unless Ansible can still connect'),
    # ----- wireguard_forwarding
    _role(_FWD, 'wireguard_forwarding_sysctl_file', 'path', host_path, '/etc/sysctl.d/90-netfleet-wireguard.conf',
          'the one sysctl.d file this role owns'),
    _role(_FWD, 'wireguard_forwarding_keep_ra', 'bool', to_bool, True,
          'keep router-advertised IPv6 default routes (accept_ra=2) when enabling IPv6 forwarding'),
    _role(_FWD, 'wireguard_forwarding_accept_ra_interfaces', 'list', list_of(validate_interface_name), [],
          'further interfaces to set accept_ra=2 on'),
    # ----- wireguard_install
    _role(_INST, 'wireguard_install_userspace', 'str', userspace_mode, 'auto',
          '`auto` (when the kernel has no module), `true`, `false`: install wireguard-go'),
    _role(_INST, 'wireguard_install_extra_packages', 'list', list_of(package_name), [],
          'extra packages installed with the WireGuard tools'),
    _role(_INST, 'wireguard_install_resolvconf', 'bool', to_bool, True,
          'install a resolvconf provider when the plan sets DNS and none exists'),
    # ----- wireguard_interface
    _role(_IF, 'wireguard_interface_service_manager', 'str', one_of('auto', 'systemd', 'wg-quick'), 'auto',
          'how the interface is started: `auto`, `systemd`, `wg-quick`'),
    # ----- wireguard_keys
    _role(_KEYS, 'wireguard_keys_private_key_path', 'path', optional_host_path, '',
          'private key file on each host; empty = `/etc/wireguard/<interface>.key`'),
    _role(_KEYS, 'wireguard_keys_rotate', 'bool', to_bool, False, 'rotate every key of the play once'),
    _role(_KEYS, 'wireguard_keys_preshared_key_dir', 'path', optional_host_path, '',
          'directory of the per-peer preshared key files; empty = `/etc/wireguard/<interface>.psk.d`'),
    _role(_KEYS, 'wireguard_keys_preshared_rotate', 'bool', to_bool, False,
          'replace the preshared key of every pair whose two hosts are in the play'),
    # ----- wireguard_metrics
    _role(_MET, 'wireguard_metrics_enabled', 'bool', to_bool, False,
          'per-peer metrics named by inventory names for node_exporter\'s textfile collector, written by a systemd '
          'timer; `false` removes the timer, its units and files again'),
    _role(_MET, 'wireguard_metrics_textfile_dir', 'path', host_path, '/var/lib/prometheus/node-exporter',
          "node_exporter's `--collector.textfile.directory`; the role creates it when missing"),
    _role(_MET, 'wireguard_metrics_interval', 'int', int_between(5, 3600, 'a number of seconds'), 30,
          'seconds between two runs of the collector'),
)

BY_NAME = {var.name: var for var in VARIABLES if var.scope != 'external'}
EXTERNAL_FIELDS = {var.name: var for var in VARIABLES if var.scope == 'external'}


def of_scope(scope):
    return tuple(var for var in VARIABLES if var.scope == scope)


def role_defaults(role_name):
    """``{variable: default}`` of one role's settings, as its defaults/main.yml sets them."""
    return {var.name: var.default for var in VARIABLES if var.scope == 'role' and var.role == role_name}


def closest(name, candidates):
    """The candidate ``name`` is most likely a misspelling of, or None."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return close[0] if close else None


def suggestion(name, candidates):
    """`` (did you mean X?)`` for a near miss of ``name`` among ``candidates``, else ''."""
    close = closest(name, candidates)
    return ' (did you mean %s?)' % close if close else ''


def unknown_names(values):
    """``wireguard_*`` keys of ``values`` that are not in the table, sorted."""
    return sorted(k for k in values if isinstance(k, str) and k.startswith(PREFIX) and k not in BY_NAME)


# --------------------------------------------------------------------------- documentation

def _cell(text):
    return str(text).replace('|', '\\|')


def _default_text(var):
    if var.shown_default is not None:
        return var.shown_default
    if var.required:
        return 'required'
    if var.default is None:
        return 'null'
    if var.default == '':
        return '`""`'
    if isinstance(var.default, bool):
        return '`%s`' % str(var.default).lower()
    return '`%s`' % (var.default,)


REGENERATE = ("python -c \"import sys; sys.path.insert(0, '.cache/collections'); "
              "from ansible_collections.netfleet.wireguard.plugins.module_utils._variables import variables_markdown; "
              "open('docs/variables.md', 'w').write(variables_markdown())\"")

_SECTIONS = (
    ('network', None, 'Network (group vars)',
     'Group vars of the network group (`wireguard` unless `wireguard_network_group` names another). '
     'Every host of the network must see the same value.'),
    ('host', None, 'Host vars', 'Per managed host.'),
    ('external', None, 'Fields of a `wireguard_external_peers` entry',
     'Any other field is an error; a private key field is refused: it must stay on the device.'),
)


def variables_markdown():
    """The text of docs/variables.md, generated from ``VARIABLES``."""
    lines = ['<!-- Generated from plugins/module_utils/_variables.py (VARIABLES); do not edit by hand.',
             '     Regenerate from the repository root (after the unit tests created .cache/collections):',
             '     ' + REGENERATE + ' -->',
             '# Variables',
             '',
             'Every `wireguard_*` variable the collection reads. The plan action validates all of them before any '
             'host is touched; a `wireguard_*` variable not listed here is reported with a "did you mean" '
             'suggestion (`wireguard_unknown_variables: warn` makes that a warning). Control characters and '
             'bidirectional-formatting characters are refused in every value, at any depth.']
    sections = list(_SECTIONS) + [('role', role, 'Role `netfleet.wireguard.%s`' % role, 'Defaults from `roles/%s/defaults/main.yml`.' % role)
                                  for role in sorted({v.role for v in VARIABLES if v.scope == 'role'})]
    for scope, role, title, intro in sections:
        lines += ['', '## ' + title, '', intro, '', '| variable | type | default | meaning |', '|---|---|---|---|']
        for var in VARIABLES:
            if var.scope == scope and var.role == role:
                lines.append('| `%s` | %s | %s | %s |' % (var.name, _cell(var.type), _cell(_default_text(var)), _cell(var.meaning)))
    return '\n'.join(lines) + '\n'
