#!/usr/bin/python
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wireguard_diagnose_info
short_description: Read what a WireGuard fault diagnosis needs from a host, changing nothing
version_added: 0.3.0
description:
  - Collects, read-only, the raw state C(playbooks/diagnose.yml) compares with the plan - the interface
    (exists, up, MTU, addresses), C(wg show <interface> dump) before and after the probes (peers by public
    key, handshakes, transfer; the private key is dropped while parsing and never returned), the kernel's
    route for a representative address of each given prefix (C(ip route get)), the forwarding decision
    for relayed paths (C(ip route get <destination> from <source> iif <interface>), which applies
    forwarding and rp_filter), the forwarding and rp_filter settings, the collection's loaded NAT and
    forward rules (nftables table or iptables chains of the interface), the default-route devices, whether
    the endpoint names resolve, and a small and a Don't-Fragment ping at the interface MTU to each given
    tunnel address.
  - The only packets it sends are those pings (three of each size per address); they also make WireGuard
    complete a handshake with peers that were idle.
  - Judging the data is not done here; see the C(netfleet.wireguard.wireguard_diagnose) action.
author:
  - netfleet engineers (@netfleet)
requirements:
  - iproute2 (C(ip) with JSON output), wireguard-tools and iputils C(ping) on the managed host
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  interface:
    description: Name of the WireGuard interface, for example V(wg0).
    type: str
    required: true
  prefixes:
    description: AllowedIPs prefixes to ask the kernel about (one representative address each).
    type: list
    elements: str
    default: []
  relay_paths:
    description:
      - Forwarded paths to look up as if a packet from C(source) arrived on the interface for C(destination).
    type: list
    elements: dict
    default: []
  pings:
    description: Tunnel addresses to ping, small and at the interface MTU with Don't Fragment set.
    type: list
    elements: str
    default: []
  names:
    description: Endpoint host names to resolve on the host.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Needs root (C(wg show), the firewall listings); run the task with C(become=true).
seealso:
  - module: netfleet.wireguard.wireguard_status_info
  - module: netfleet.wireguard.wireguard_diagnose
"""

EXAMPLES = r"""
- name: Read wg0 with one prefix, one relayed path, one ping and one endpoint name
  netfleet.wireguard.wireguard_diagnose_info:
    interface: wg0
    prefixes: [10.0.12.0/24]
    relay_paths: [{source: 10.0.11.1, destination: 10.0.12.1}]
    pings: [10.100.0.2]
    names: [vpn.example.org]
  become: true
  register: raw
"""

RETURN = r"""
link:
  description: The interface - C(exists), C(up), C(mtu), C(addresses) (global ones, C(address/prefixlen)).
  type: dict
  returned: always
wg_before:
  description: Running state before the pings (C(up), C(interface), C(peers)) as M(netfleet.wireguard.wireguard_status_info).
  type: dict
  returned: always
wg_after:
  description: The same after the pings.
  type: dict
  returned: always
routes:
  description: Per prefix - C(address) asked about, C(dev), C(via), C(table), C(type) and C(error) (the kernel's refusal).
  type: dict
  returned: always
relay_paths:
  description: Per relayed path - C(source), C(destination), C(dev) and C(error) (for example V(Invalid cross-device link)).
  type: list
  elements: dict
  returned: always
sysctls:
  description: Forwarding and rp_filter settings (C(net.ipv4.conf.<interface>.rp_filter) included), null when absent.
  type: dict
  returned: always
firewall:
  description:
    - C(nft) (nft installed), C(nft_table) (C(nft list table) of the interface table, null when not loaded),
      C(iptables) (C(<family> <table> <chain>) to C(iptables -S) text, null when the chain does not exist).
  type: dict
  returned: always
default_routes:
  description: Devices of the default routes, C(ipv4) and C(ipv6).
  type: dict
  returned: always
resolved:
  description: Per endpoint name - C(addresses) it resolves to and C(error).
  type: dict
  returned: always
pings:
  description: Per address - C(size) (payload at the MTU), C(small) and C(mtu) as C([sent, received]).
  type: dict
  returned: always
"""

import socket
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netfleet.wireguard.plugins.module_utils import _diagprobe as probe
from ansible_collections.netfleet.wireguard.plugins.module_utils import _hostfacts as hf
from ansible_collections.netfleet.wireguard.plugins.module_utils import _wgstatus as wgstatus
from ansible_collections.netfleet.wireguard.plugins.module_utils._hooks import iptables_chain, nft_table_name
from ansible_collections.netfleet.wireguard.plugins.module_utils._paths import valid_interface

ABSENT_ERRORS = ("No such device", "Protocol not supported", "No such file or directory")


def _run(module, argv):
    return module.run_command(argv, check_rc=False)


def _wg(module, wg, interface):
    rc, out, err = _run(module, [wg, "show", interface, "dump"])
    if rc != 0:
        if any(text in (err or "") for text in ABSENT_ERRORS):
            return wgstatus.down({})
        module.fail_json(msg="wg show %s dump failed (rc %d)" % (interface, rc))
    try:
        return wgstatus.status(out, {}, time.time())
    except ValueError as exc:
        module.fail_json(msg="cannot read the output of wg show %s dump: %s" % (interface, exc))


def _route(module, ip, address, extra=()):
    rc, out, err = _run(module, [ip, "-o", "route", "get", address] + list(extra))
    found = probe.parse_route_get(out) if rc == 0 else probe.parse_route_get("")
    found["error"] = None if rc == 0 else probe.route_error(err or out)
    return found


def _sysctls(interface):
    keys = ["net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding", "net.ipv4.conf.all.rp_filter",
            "net.ipv4.conf.default.rp_filter", "net.ipv4.conf.%s.rp_filter" % interface.replace(".", "/")]
    out = {}
    for key in keys:
        try:
            with open(hf.sysctl_path(key)) as handle:
                out[key] = handle.read().strip()
        except OSError:
            out[key] = None
    return out


def _firewall(module, interface):
    nft = module.get_bin_path("nft")
    out = {"nft": bool(nft), "nft_table": None, "iptables": {}}
    if nft:
        rc, text, _err = _run(module, [nft, "list", "table", "inet", nft_table_name(interface)])
        out["nft_table"] = text if rc == 0 else None
    for family, name in (("ipv4", "iptables"), ("ipv6", "ip6tables")):
        cmd = module.get_bin_path(name)
        if not cmd:
            continue
        for table, parent, kind in (("filter", "FORWARD", "FWD"), ("nat", "POSTROUTING", "NAT")):
            for chain in (parent, iptables_chain(interface, kind).replace("%i", interface)):
                rc, text, _err = _run(module, [cmd, "-w", "-t", table, "-S", chain])
                out["iptables"]["%s %s %s" % (family, table, chain)] = text if rc == 0 else None
    return out


def _resolve(name):
    try:
        infos = socket.getaddrinfo(name, None, 0, socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError) as exc:
        return {"addresses": [], "error": str(exc)}
    return {"addresses": sorted({info[4][0] for info in infos}), "error": None}


def _ping(module, ping, interface, address, size):
    argv = [ping, "-n", "-c", "3", "-i", "0.2", "-W", "2", "-M", "do", "-s", str(size), "-I", interface, address]
    _rc, out, _err = _run(module, argv)
    return list(probe.parse_ping(out))


def _pings(module, interface, addresses, mtu):
    ping = module.get_bin_path("ping")
    out = {}
    for address in addresses:
        size = probe.ping_size(mtu or 1420, address)
        small = _ping(module, ping, interface, address, 56) if ping else [0, 0]
        big = _ping(module, ping, interface, address, size) if ping and mtu else [0, 0]
        out[address] = {"size": size, "small": small, "mtu": big}
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            interface=dict(type="str", required=True),
            prefixes=dict(type="list", elements="str", default=[]),
            relay_paths=dict(type="list", elements="dict", default=[]),
            pings=dict(type="list", elements="str", default=[]),
            names=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    interface = params["interface"]
    if not valid_interface(interface):
        module.fail_json(msg="interface: %r is not a valid interface name" % (interface,))
    ip = module.get_bin_path("ip", required=True)
    wg = module.get_bin_path("wg", required=True)
    _rc, link_json, _err = _run(module, [ip, "-j", "link", "show", "dev", interface])
    _rc, addr_json, _err = _run(module, [ip, "-j", "addr", "show", "dev", interface])
    link = probe.parse_link(link_json, addr_json)
    _rc, connected, _err = _run(module, [ip, "-j", "route", "show", "table", "main", "scope", "link"])
    _rc, connected6, _err = _run(module, [ip, "-6", "-j", "route", "show", "table", "main"])
    avoid = probe.connected_prefixes(connected, interface) + probe.connected_prefixes(connected6, interface)
    wg_before = _wg(module, wg, interface)
    pings = _pings(module, interface, params["pings"], link["mtu"]) if link["up"] else {}
    routes = {}
    for prefix in params["prefixes"]:
        address = probe.representative(prefix, avoid)
        routes[prefix] = dict(_route(module, ip, address), address=address)
    relay = [dict(_route(module, ip, str(path.get("destination")), ["from", str(path.get("source")), "iif", interface]),
                  source=path.get("source"), destination=path.get("destination")) for path in params["relay_paths"]]
    module.exit_json(
        changed=False, link=link, wg_before=wg_before, wg_after=_wg(module, wg, interface), routes=routes,
        relay_paths=relay, sysctls=_sysctls(interface), firewall=_firewall(module, interface),
        default_routes={"ipv4": hf.route_devices(_run(module, [ip, "-4", "-j", "route", "show", "default"])[1]),
                        "ipv6": hf.route_devices(_run(module, [ip, "-6", "-j", "route", "show", "default"])[1])},
        resolved={name: _resolve(name) for name in params["names"]}, pings=pings)


if __name__ == "__main__":
    main()
