# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address helpers of the topology engine: parsing and prefix arithmetic.

Pure stdlib. Every parser raises ``ValueError`` with a message that can be
prefixed with ``host: variable:`` by the caller.

Prefixes are handled internally as *keys*: ``(version, first_address_int,
prefix_length)`` tuples. They sort in address order, compare fast and make the
overlap scans O(P log P).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re

INTERFACE_NAME_RE = re.compile(r'^[a-zA-Z0-9_=+.-]{1,15}$')
_HOSTNAME_LABEL_RE = re.compile(r'^(?!-)[a-zA-Z0-9-]{1,63}(?<!-)$')

_BITS = {4: 32, 6: 128}
_NET_CLS = {4: ipaddress.IPv4Network, 6: ipaddress.IPv6Network}

DEFAULT_ROUTES = ('0.0.0.0/0', '::/0')


def parse_network(value):
    """Parse a CIDR prefix; host bits must be clear (``10.0.2.0/24``, not ``10.0.2.1/24``)."""
    if not isinstance(value, str):
        raise ValueError('%r is not a string in CIDR notation' % (value,))
    text = value.strip()
    if '/' not in text:
        raise ValueError('%r has no prefix length (write it in CIDR notation, e.g. 10.0.2.0/24)' % (value,))
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        if 'has host bits set' in str(exc):
            try:
                fixed = ipaddress.ip_network(text, strict=False)
            except ValueError:
                fixed = None
            raise ValueError('%r has host bits set (did you mean %s?)' % (value, fixed)) from None
        raise ValueError('%r is not a valid CIDR prefix' % (value,)) from None


def parse_interface_address(value):
    """Parse a tunnel address with prefix (``10.0.0.2/24``); the prefix defines the tunnel network."""
    if not isinstance(value, str):
        raise ValueError('%r is not a string like 10.0.0.2/24' % (value,))
    text = value.strip()
    if '/' not in text:
        raise ValueError('%r has no prefix length (write e.g. 10.0.0.2/24: the prefix defines the tunnel network)' % (value,))
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError:
        raise ValueError('%r is not a valid address with prefix' % (value,)) from None
    net = iface.network
    if iface.version == 4 and net.prefixlen <= 30:
        if iface.ip == net.network_address:
            raise ValueError('%r is the network address of %s, not a host address' % (value, net))
        if iface.ip == net.broadcast_address:
            raise ValueError('%r is the broadcast address of %s, not a host address' % (value, net))
    if iface.version == 6 and net.prefixlen <= 126 and iface.ip == net.network_address:
        raise ValueError('%r is the subnet-router anycast address of %s, not a host address' % (value, net))
    return iface


def parse_port(value):
    """UDP port 1..65535 (ints or digit strings)."""
    if isinstance(value, bool):
        raise ValueError('%r is not a port number' % (value,))
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 1 <= value <= 65535:
        raise ValueError('%r is not a UDP port (1-65535)' % (value,))
    return value


def is_hostname(text):
    if not text or len(text) > 253:
        return False
    labels = text.rstrip('.').split('.')
    return all(_HOSTNAME_LABEL_RE.match(label) for label in labels)


def parse_endpoint(value, default_port):
    """Parse ``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address.

    Returns ``(formatted, ip_or_None)`` where formatted is ``host:port`` (IPv6 in brackets)
    and ip is the ``ipaddress`` object when the host is a literal address.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError('%r is not an address or name with optional :port' % (value,))
    text = value.strip()
    port = None
    if text.startswith('['):
        close = text.find(']')
        if close < 0:
            raise ValueError('%r: missing "]" after the IPv6 address' % (value,))
        host, rest = text[1:close], text[close + 1:]
        if rest:
            if not rest.startswith(':'):
                raise ValueError('%r: expected ":port" after "]"' % (value,))
            port = rest[1:]
        try:
            ip = ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError('%r: %r is not an IPv6 address' % (value, host)) from None
    elif text.count(':') > 1:
        try:
            ip = ipaddress.IPv6Address(text)
        except ValueError:
            raise ValueError('%r is not a valid IPv6 address (write [address]:port to give a port)' % (value,)) from None
        host = text
    else:
        host, sep, port_text = text.partition(':')
        if sep:
            port = port_text
        try:
            ip = ipaddress.IPv4Address(host)
        except ValueError:
            ip = None
            if host.replace('.', '').isdigit() or not is_hostname(host):
                raise ValueError('%r: %r is neither an IP address nor a valid DNS name' % (value, host)) from None
    if port is None:
        port = default_port
    else:
        try:
            port = parse_port(port)
        except ValueError:
            raise ValueError('%r: the port is not a UDP port (1-65535)' % (value,)) from None
    if ip is not None:
        host = str(ip)
    formatted = '[%s]:%d' % (host, port) if ip is not None and ip.version == 6 else '%s:%d' % (host, port)
    return formatted, ip


def parse_public_key(value):
    """A WireGuard key is exactly 32 bytes, written in standard base64 (44 characters)."""
    if not isinstance(value, str):
        raise ValueError('%r is not a base64 string' % (value,))
    text = value.strip()
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError('%r is not valid base64' % (value,)) from None
    if len(raw) != 32 or len(text) != 44:
        raise ValueError('%r decodes to %d bytes, a WireGuard key has 32' % (value, len(raw)))
    return text


def validate_interface_name(value):
    if not isinstance(value, str) or not INTERFACE_NAME_RE.match(value):
        raise ValueError('%r is not a valid interface name (1-15 characters of a-z A-Z 0-9 _ = + . -)' % (value,))
    return value


# --------------------------------------------------------------------------- keys

def net_key(net):
    """``ipaddress`` network -> sortable key ``(version, first_int, prefixlen)``."""
    return (net.version, int(net.network_address), net.prefixlen)


def key_net(key):
    version, start, plen = key
    return _NET_CLS[version]((start, plen))


def key_end(key):
    version, start, plen = key
    return start + (1 << (_BITS[version] - plen)) - 1


def key_contains(outer, inner):
    """True when prefix ``outer`` contains (or equals) ``inner``."""
    if outer[0] != inner[0] or outer[2] > inner[2]:
        return False
    return outer[1] <= inner[1] and key_end(inner) <= key_end(outer)


def key_overlaps(a, b):
    if a[0] != b[0]:
        return False
    return a[1] <= key_end(b) and b[1] <= key_end(a)


def key_contains_ip(key, ip):
    return key[0] == ip.version and key[1] <= int(ip) <= key_end(key)


def is_default_route(key):
    return key[2] == 0


_STR_CACHE = {}


def key_str(key):
    """String form of a key, memoised (a 1,000-host mesh formats the same prefixes 999 times)."""
    text = _STR_CACHE.get(key)
    if text is None:
        if len(_STR_CACHE) > 500000:
            _STR_CACHE.clear()
        text = str(key_net(key))
        _STR_CACHE[key] = text
    return text


def split_key(key):
    """The two halves of a prefix (seed approach 1 of the split-route hack)."""
    version, start, plen = key
    if plen >= _BITS[version]:
        raise ValueError('%s is a single address and cannot be split' % key_str(key))
    half = 1 << (_BITS[version] - plen - 1)
    return [(version, start, plen + 1), (version, start + half, plen + 1)]


def widen_key(key, local_key):
    """The supernet of ``key`` one bit shorter than ``local_key`` (seed approach 2), so that the
    local, more specific route keeps the local traffic."""
    version, start, plen = key
    new_plen = min(plen, local_key[2]) - 1
    if new_plen < 1:
        raise ValueError('%s cannot be widened around %s without becoming a default route'
                         % (key_str(key), key_str(local_key)))
    mask = ((1 << _BITS[version]) - 1) ^ ((1 << (_BITS[version] - new_plen)) - 1)
    return (version, start & mask, new_plen)


def collapse_keys(keys):
    """Exact aggregation (``ipaddress.collapse_addresses``), returned as sorted keys."""
    out = []
    for version in (4, 6):
        nets = [key_net(k) for k in keys if k[0] == version]
        if nets:
            out.extend(net_key(n) for n in ipaddress.collapse_addresses(nets))
    out.sort()
    return out


def exclude_keys(collapsed, remove):
    """``collapsed`` (sorted, disjoint, maximally aggregated keys) minus the prefixes in ``remove``.

    Each removed prefix must lie inside one element of ``collapsed`` or outside all of them.
    The result is again the canonical aggregation: the pieces ``address_exclude`` leaves are
    siblings of prefixes inside the replaced element, so they cannot merge with its neighbours.
    Cost: O(len(remove) * (log n + pieces)) plus one list splice per removed prefix.
    """
    import bisect

    result = list(collapsed)
    for rem in sorted(remove):
        # disjoint and sorted: only the last element starting at or before rem can contain it
        idx = bisect.bisect_right(result, (rem[0], rem[1], 255)) - 1
        if idx < 0 or not key_contains(result[idx], rem):
            continue
        outer = result[idx]
        if outer == rem:
            pieces = []
        else:
            pieces = sorted(net_key(n) for n in key_net(outer).address_exclude(key_net(rem)))
        result[idx:idx + 1] = pieces
    return result
