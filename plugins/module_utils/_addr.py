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

import ipaddress
import re

from ._paths import valid_interface

from ._wgkey import decode_key

# Every pattern here is used with fullmatch: '$' also matches before a trailing newline.
_HOSTNAME_LABEL_RE = re.compile(r'(?!-)[a-zA-Z0-9-]{1,63}(?<!-)')
# what an endpoint may consist of at all: a name, an IPv4 address or [IPv6], and :port
_ENDPOINT_CHARS_RE = re.compile(r'[A-Za-z0-9.:\[\]-]+')

_BITS = {4: 32, 6: 128}
_NET_CLS = {4: ipaddress.IPv4Network, 6: ipaddress.IPv6Network}

DEFAULT_ROUTES = ('0.0.0.0/0', '::/0')


def _v4_int(text):
    """Fast strict dotted-quad parser; None when ``text`` is not one (caller falls back to ipaddress)."""
    parts = text.split('.')
    if len(parts) != 4:
        return None
    num = 0
    for part in parts:
        if not part.isascii() or not part.isdigit() or len(part) > 3 or (len(part) > 1 and part[0] == '0'):
            return None
        val = int(part)
        if val > 255:
            return None
        num = (num << 8) | val
    return num


def _split_cidr(value, example):
    if not isinstance(value, str):
        raise ValueError('%r is not a string like %s' % (value, example))
    text = value.strip()
    addr, sep, plen_text = text.partition('/')
    if not sep:
        raise ValueError('%r has no prefix length (write it in CIDR notation, e.g. %s)' % (value, example))
    if not plen_text.isascii() or not plen_text.isdigit() or (len(plen_text) > 1 and plen_text[0] == '0'):
        raise ValueError('%r: %r is not a prefix length' % (value, plen_text))
    plen = int(plen_text)
    num = _v4_int(addr)
    if num is not None:
        version = 4
    elif ':' in addr and _v6_int(addr) is not None:
        version, num = 6, _v6_int(addr)
    else:
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            raise ValueError('%r: %r is not an IPv4 or IPv6 address' % (value, addr)) from None
        version, num = ip.version, int(ip)
    if plen > _BITS[version]:
        raise ValueError('%r: prefix length /%d is too long for IPv%d' % (value, plen, version))
    return version, num, plen


def _mask(version, plen):
    bits = _BITS[version]
    return ((1 << bits) - 1) ^ ((1 << (bits - plen)) - 1)


def parse_network(value):
    """Parse a CIDR prefix into a key; host bits must be clear (``10.0.2.0/24``, not ``10.0.2.1/24``)."""
    version, num, plen = _split_cidr(value, '10.0.2.0/24')
    net = num & _mask(version, plen)
    if net != num:
        raise ValueError('%r has host bits set (did you mean %s?)' % (value, key_str((version, net, plen))))
    return (version, net, plen)


def parse_interface_address(value):
    """Parse a tunnel address with prefix (``10.0.0.2/24``) into ``(version, address_int, prefixlen)``;
    the prefix defines the tunnel network."""
    version, num, plen = _split_cidr(value, '10.0.0.2/24 (the prefix defines the tunnel network)')
    bits = _BITS[version]
    net = num & _mask(version, plen)
    last = net + (1 << (bits - plen)) - 1
    if version == 4 and plen <= 30:
        if num == net:
            raise ValueError('%r is the network address of %s, not a host address' % (value, key_str((4, net, plen))))
        if num == last:
            raise ValueError('%r is the broadcast address of %s, not a host address' % (value, key_str((4, net, plen))))
    if version == 6 and plen <= 126 and num == net:
        raise ValueError('%r is the subnet-router anycast address of %s, not a host address'
                         % (value, key_str((6, net, plen))))
    return version, num, plen


def _v6_str(num):
    """RFC 5952 text of an IPv6 integer (same as ``str(IPv6Address)``, several times faster)."""
    groups = [(num >> shift) & 0xFFFF for shift in range(112, -1, -16)]
    best_start, best_len, run_start = -1, 0, -1
    for i, group in enumerate(groups + [1]):
        if group == 0 and i < 8:
            if run_start < 0:
                run_start = i
        elif run_start >= 0:
            if i - run_start > best_len:
                best_start, best_len = run_start, i - run_start
            run_start = -1
    if num >> 32 == 0xFFFF and best_start == 0 and best_len == 5:
        return str(ipaddress.IPv6Address(num))   # IPv4-mapped: let ipaddress format it
    if best_len < 2:
        return ':'.join('%x' % g for g in groups)
    head = ':'.join('%x' % g for g in groups[:best_start])
    tail = ':'.join('%x' % g for g in groups[best_start + best_len:])
    return head + '::' + tail


_V6_CHARS_RE = re.compile(r'[0-9a-fA-F:]+')


def _v6_int(text):
    """Fast IPv6 parser for plain hex forms; None when unsure (caller falls back to ipaddress)."""
    if not _V6_CHARS_RE.fullmatch(text) or text.count('::') > 1:
        return None
    if '::' in text:
        left, right = text.split('::')
        lparts = left.split(':') if left else []
        rparts = right.split(':') if right else []
        if len(lparts) + len(rparts) > 7:
            return None
        parts = lparts + ['0'] * (8 - len(lparts) - len(rparts)) + rparts
    else:
        parts = text.split(':')
        if len(parts) != 8:
            return None
    for part in parts:
        if not 1 <= len(part) <= 4:
            return None
    return int(''.join([part.zfill(4) for part in parts]), 16)


def ip_str(version, num):
    if version == 4:
        return '%d.%d.%d.%d' % (num >> 24, (num >> 16) & 255, (num >> 8) & 255, num & 255)
    return _v6_str(num)


def interface_str(addr):
    return '%s/%d' % (ip_str(addr[0], addr[1]), addr[2])


def network_of(addr):
    """Key of the network an interface address ``(version, int, plen)`` sits in."""
    return (addr[0], addr[1] & _mask(addr[0], addr[2]), addr[2])


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
    """A DNS name by label rules (letters, digits, inner hyphens, 1-63 per label), not all digits."""
    if not isinstance(text, str) or not text or len(text) > 253:
        return False
    labels = text[:-1].split('.') if text.endswith('.') else text.split('.')
    return all(_HOSTNAME_LABEL_RE.fullmatch(label) for label in labels) and not text.replace('.', '').isdigit()


def split_endpoint(value):
    """Check ``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address.

    Returns ``(host, port_or_None, ip_or_None)``; ip is the ``ipaddress`` object when the host is
    a literal address. IPv6 zone ids (``fe80::1%eth0``) are refused: they name an interface of
    one machine, and ``%`` is how a value smuggles text past the address parser.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError('%r is not an address or name with optional :port' % (value,))
    text = value.strip()
    if '%' in text:
        raise ValueError('%r: IPv6 zone ids (%%...) are not allowed: an endpoint must be a global address or a DNS name'
                         % (value,))
    if not _ENDPOINT_CHARS_RE.fullmatch(text):
        raise ValueError('%r is neither an IP address nor a valid DNS name (an endpoint is a name, an IPv4 address '
                         'or [IPv6 address], optionally with :port)' % (value,))
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
            if not is_hostname(host):
                raise ValueError('%r: %r is neither an IP address nor a valid DNS name' % (value, host)) from None
    if port is not None:
        try:
            port = parse_port(port)
        except ValueError:
            raise ValueError('%r: the port is not a UDP port (1-65535)' % (value,)) from None
    return (str(ip) if ip is not None else host), port, ip


def format_endpoint(host, port, ip):
    return '[%s]:%d' % (host, port) if ip is not None and ip.version == 6 else '%s:%d' % (host, port)


def parse_endpoint(value, default_port):
    """Parse an endpoint (see ``split_endpoint``); returns ``(formatted, ip_or_None)`` where formatted
    is ``host:port`` (IPv6 in brackets), ``default_port`` when the value gives none."""
    host, port, ip = split_endpoint(value)
    return format_endpoint(host, default_port if port is None else port, ip), ip


def parse_public_key(value):
    """A WireGuard public key in the canonical form ``wg`` accepts (44 characters of base64, padding
    bits zero); matched exactly, no surrounding blanks."""
    decode_key(value, what='the public key')
    return value


def validate_interface_name(value):
    """Linux interface name: 1-15 of a-z A-Z 0-9 _ = + . -, and neither ``.`` nor ``..`` (a path)."""
    if not valid_interface(value):
        raise ValueError('%r is not a valid interface name (1-15 characters of a-z A-Z 0-9 _ = + . -, '
                         'not "." or "..")' % (value,))
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
        text = '%s/%d' % (ip_str(key[0], key[1]), key[2])
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
    """Exact aggregation (same result as ``ipaddress.collapse_addresses``) on sorted keys:
    drop prefixes contained in another, merge sibling halves. O(n log n)."""
    out = []
    for key in sorted(set(keys)):
        if out and out[-1][0] == key[0] and key[1] <= key_end(out[-1]):
            continue
        out.append(key)
        while len(out) >= 2:
            a, b = out[-2], out[-1]
            if a[0] != b[0] or a[2] != b[2] or a[2] == 0:
                break
            size = 1 << (_BITS[a[0]] - a[2])
            if a[1] % (size << 1) or b[1] != a[1] + size:
                break
            out[-2:] = [(a[0], a[1], a[2] - 1)]
    return out


def exclude_one(outer, inner):
    """``outer`` minus ``inner`` (inner inside outer) as sorted keys, like ``address_exclude``:
    walking down from outer, the half that does not hold inner is kept at each level."""
    version, start, plen = outer
    bits = _BITS[version]
    target_start, target_plen = inner[1], inner[2]
    pieces = []
    while plen < target_plen:
        plen += 1
        half = 1 << (bits - plen)
        if target_start >= start + half:
            pieces.append((version, start, plen))
            start += half
        else:
            pieces.append((version, start + half, plen))
    pieces.sort()
    return pieces


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
            pieces = exclude_one(outer, rem)
        result[idx:idx + 1] = pieces
    return result
