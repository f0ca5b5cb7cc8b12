# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parsers behind netfleet.wireguard.wireguard_diagnose_info (stdlib only, no ansible imports).

The module runs ``ip``, ``ping``, ``nft``/``iptables`` and reads ``/proc/sys``; these functions
turn their output into plain data. What the data means for the plan is judged on the controller
(``_diagnose.py``).
"""

from __future__ import annotations

import ipaddress
import json
import re

# documentation addresses stand for "anywhere" when the prefix is a default route
DEFAULT_REPRESENTATIVE = {4: "198.51.100.1", 6: "2001:db8::1"}
# ping header sizes: IPv4 20 + ICMP 8, IPv6 40 + ICMPv6 8
PING_OVERHEAD = {4: 28, 6: 48}
_PING_COUNTS = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")


def _candidates(net, avoid):
    """Host addresses of ``net`` worth trying: its first one, then those just around each avoided prefix."""
    first = net.network_address + (1 if net.num_addresses > 2 else 0)
    out = [first]
    for other in avoid:
        if other.version == net.version and other.subnet_of(net) and other != net:
            out += [other.network_address - 1, other.broadcast_address + 1]
    return [a for a in out if a in net and (net.num_addresses <= 2 or a not in (net.network_address, net.broadcast_address))]


def representative(prefix, avoid=()):
    """An address that stands for ``prefix`` in a route lookup, outside the ``avoid`` prefixes if one is.

    A default route is represented by a documentation address; a prefix partly covered by a local
    network (a widened LAN) by an address outside that network, since the local part rightly stays local.
    """
    net = ipaddress.ip_network(prefix, strict=False)
    if net.prefixlen == 0:
        return DEFAULT_REPRESENTATIVE[net.version]
    nets = [ipaddress.ip_network(a, strict=False) for a in avoid]
    candidates = _candidates(net, nets)
    for address in candidates:
        if not any(address in other for other in nets):
            return str(address)
    return str(candidates[0])


def parse_route_get(text):
    """``{"dev", "via", "table"}`` of one ``ip -o route get`` answer (None for what it does not say)."""
    words = (text or "").split()
    out = {"dev": None, "via": None, "table": None, "type": None}
    if words and words[0] in ("unreachable", "blackhole", "prohibit", "throw", "local", "broadcast"):
        out["type"] = words[0]
    for field in ("dev", "via", "table"):
        if field in words and words.index(field) + 1 < len(words):
            out[field] = words[words.index(field) + 1]
    return out


def route_error(stderr):
    """The kernel's refusal in ``RTNETLINK answers: ...`` (or the first line), '' for none."""
    text = " ".join((stderr or "").split())
    return text.split("RTNETLINK answers:", 1)[-1].strip()[:200]


def parse_ping(text):
    """(transmitted, received) from ping's summary line; (0, 0) when there is none."""
    match = _PING_COUNTS.search(text or "")
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def ping_size(mtu, address):
    """ICMP payload size that makes a packet of exactly ``mtu`` bytes to ``address``."""
    version = ipaddress.ip_address(address).version
    return max(0, int(mtu) - PING_OVERHEAD[version])


def _json_list(text):
    try:
        data = json.loads(text or "[]")
    except ValueError:
        return []
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def parse_link(link_json, addr_json):
    """``{"exists", "up", "mtu", "addresses"}`` from ``ip -j link show dev X`` and ``ip -j addr show dev X``."""
    links = _json_list(link_json)
    if not links:
        return {"exists": False, "up": False, "mtu": None, "addresses": []}
    link = links[0]
    addresses = []
    for item in _json_list(addr_json):
        for info in item.get("addr_info") or []:
            if info.get("family") in ("inet", "inet6") and info.get("scope") != "link" and info.get("local"):
                addresses.append("%s/%s" % (info["local"], info.get("prefixlen")))
    return {"exists": True, "up": "UP" in (link.get("flags") or []), "mtu": link.get("mtu"),
            "addresses": addresses}


def connected_prefixes(route_json, interface):
    """Prefixes of on-link routes (``ip -j route show table main scope link``) of devices other than ``interface``."""
    out = []
    for route in _json_list(route_json):
        dst, dev = route.get("dst"), route.get("dev")
        if not dst or dst == "default" or dev == interface:
            continue
        try:
            out.append(str(ipaddress.ip_network(dst, strict=False)))
        except ValueError:
            continue
    return out
