# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Diagnosis of a running WireGuard network against its plan (pure logic, no ansible imports).

``probes`` says what to ask a host (module ``wireguard_diagnose_info``), ``judge`` compares what the
host answered with the host's plan entry and decisions (``_hostplan.decide``, the rules ``_hooks.py``
computes), one verdict per check, and ``report`` orders every problem of the network in the order an
operator would look for it (the seeds' fast diagnosis: handshake and transfer, the kernel's route,
AllowedIPs, forwarding/NAT and the return path, then MTU and DNS) and renders a table per host.

A verdict is a dict: ``host``, ``check``, ``peer`` (None for the host itself), ``subject``,
``status`` (``ok``, ``fail``, ``warn`` or ``skip``), ``found``, ``expected``, ``cause``, ``fix``.
"""

from __future__ import annotations

import ipaddress
import re

from . import _diagprobe, _hooks, _hostplan
from ._addr import split_endpoint
from ._wgconf import normalise_prefix

# the seeds' order of likelihood: problems are reported in this order
CHECKS = ("host", "interface", "handshake", "transfer", "route", "allowed_ips", "forwarding", "rules", "rp_filter",
          "relay", "mtu", "endpoint_dns")
DEFAULT_MAX_AGE = 180
_IPT_APPEND = re.compile(r"^(ip6?tables) -w (?:-t (\w+) )?-A (\S+) (.*)$")
_IPT_JUMP = re.compile(r"^(ip6?tables) -w (?:-t (\w+) )?-C (\S+) -j (\S+) ")
_NFT_NOISE = re.compile(r"\bcounter( packets \d+ bytes \d+)?|\bcomment \"[^\"]*\"")


def verdict(host, check, status, peer=None, subject=None, found=None, expected=None, cause=None, fix=None):
    return {"host": host, "check": check, "peer": peer, "subject": subject, "status": status, "found": found,
            "expected": expected, "cause": cause, "fix": fix}


def _bare(address):
    return address.split("/", 1)[0]


def _tunnel_addresses(plan, name):
    """The tunnel addresses of a host of the network (none for a device)."""
    return [_bare(a) for a in (plan.get(name) or {}).get("addresses") or []]


def _version(address):
    return ipaddress.ip_address(_bare(address)).version


# --------------------------------------------------------------------------------- what to ask

def key_names(network, interface):
    """{public key: name} of every host and device the network knows a key for."""
    names = dict(((network.get("registry") or {}).get(interface) or {}))
    names.update(network.get("public_keys_pinned") or {})
    for entry in (network.get("plan") or {}).values():
        for peer in entry.get("peers") or []:
            if peer.get("public_key"):
                names[peer["name"]] = peer["public_key"]
    return {key: name for name, key in names.items() if key}


def _endpoint_name(endpoint):
    if not endpoint:
        return None
    host, _port, address = split_endpoint(endpoint)
    return None if address is not None else host


def _own_sources(entry):
    """Addresses that stand for what lives behind a host: its tunnel addresses and one per LAN."""
    out = [_bare(a) for a in entry.get("addresses") or []]
    out += [_diagprobe.representative(lan) for lan in (entry.get("routing") or {}).get("lan_subnets") or []]
    return out


def relay_paths(host, plan):
    """Forwarded paths a relay must pass: from what lives behind each peer host to the next peer host's
    tunnel address (``to: peer``), and to anywhere (``to: egress``) when it forwards to the internet."""
    entry = plan[host]
    routing = entry.get("routing") or {}
    if not routing.get("relay") and not routing.get("forward_to_egress"):
        return []
    hosts = [p["name"] for p in entry.get("peers") or [] if p["name"] in plan]
    paths = []
    for idx, name in enumerate(hosts):
        targets = []
        if routing.get("relay") and len(hosts) > 1:
            other = hosts[(idx + 1) % len(hosts)]
            targets += [(_bare(a), "peer") for a in plan[other].get("addresses") or []]
        if routing.get("forward_to_egress"):
            targets += [(address, "egress") for address in _diagprobe.DEFAULT_REPRESENTATIVE.values()]
        for source in _own_sources(plan[name]):
            for destination, kind in targets:
                if _version(source) == _version(destination):
                    paths.append({"peer": name, "source": source, "destination": destination, "to": kind})
    return paths


def probes(host, plan):
    """Arguments of the ``wireguard_diagnose_info`` call for ``host`` (``relay_paths`` carry what the
    verdict needs; the module reads only ``source`` and ``destination``)."""
    entry = plan[host]
    prefixes, pings, names = [], [], []
    for peer in entry.get("peers") or []:
        prefixes += [p for p in peer.get("allowed_ips") or [] if p not in prefixes]
        if peer["name"] in plan:
            pings += _tunnel_addresses(plan, peer["name"])
        name = _endpoint_name(peer.get("endpoint"))
        if name and name not in names:
            names.append(name)
    return {"interface": entry["interface"], "prefixes": prefixes, "pings": pings, "names": names,
            "relay_paths": relay_paths(host, plan)}


def host_decisions(host, entry, state, settings):
    """``_hostplan.decide`` with what the diagnosis read (nft installed, default routes, sysctls)."""
    facts = {"commands": {"nft": "/usr/sbin/nft" if (state.get("firewall") or {}).get("nft") else None},
             "routes": {"ipv4_default": (state.get("default_routes") or {}).get("ipv4") or [],
                        "ipv6_default": (state.get("default_routes") or {}).get("ipv6") or []},
             "sysctls": state.get("sysctls") or {}}
    return _hostplan.decide(host, entry, facts, settings, render_only=True)


# ------------------------------------------------------------------------------- the checks

def _peer_keys(entry, names):
    """{public key: name} of the host's planned peers whose key is known."""
    planned = {p["name"] for p in entry.get("peers") or []}
    return {key: name for key, name in names.items() if name in planned}


def _running_by_name(state, keys, when="wg_after"):
    return {keys[p["public_key"]]: p for p in (state.get(when) or {}).get("peers") or [] if p["public_key"] in keys}


def check_interface(host, entry, state, public_key=None):
    link, wg = state.get("link") or {}, state.get("wg_after") or {}
    iface = entry["interface"]
    fix = "systemctl status wg-quick@%s; journalctl -u wg-quick@%s; re-run site.yml" % (iface, iface)
    if not link.get("exists") or not wg.get("up"):
        return [verdict(host, "interface", "fail", subject=iface, found="absent", expected="up",
                        cause="the WireGuard interface is not running (wg-quick@%s stopped or failed)" % iface, fix=fix)]
    if not link.get("up"):
        return [verdict(host, "interface", "fail", subject=iface, found="down", expected="up",
                        cause="the interface exists but is administratively down", fix="ip link set %s up" % iface)]
    found = {"addresses": sorted(link.get("addresses") or []), "listen_port": (wg.get("interface") or {}).get("listen_port"),
             "mtu": link.get("mtu")}
    expected = {"addresses": sorted(entry.get("addresses") or []), "listen_port": entry.get("listen_port")}
    problems = []
    if not set(expected["addresses"]) <= set(found["addresses"]):
        problems.append("addresses %s, the plan says %s" % (", ".join(found["addresses"]) or "none",
                                                            ", ".join(expected["addresses"])))
    if expected["listen_port"] is not None and found["listen_port"] != expected["listen_port"]:
        problems.append("listens on UDP %s, the plan says %s" % (found["listen_port"], expected["listen_port"]))
    if entry.get("mtu") and found["mtu"] != entry["mtu"]:
        problems.append("MTU %s, the plan says %s" % (found["mtu"], entry["mtu"]))
    if public_key and (wg.get("interface") or {}).get("public_key") != public_key:
        problems.append("its public key is not the one its peers were given (registry)")
    if problems:
        return [verdict(host, "interface", "fail", subject=iface, found=found, expected=expected,
                        cause="the running interface differs from the plan: " + "; ".join(problems),
                        fix="re-run site.yml for this host (it restarts the interface with the planned settings)")]
    return [verdict(host, "interface", "ok", subject=iface, found=found, expected=expected)]


def check_handshakes(host, plan, state, keys, max_age):
    """Per running planned peer: a handshake no older than ``max_age`` seconds (peers that are hosts of
    the network were just pinged, so an idle tunnel has renewed it; devices may be offline: warn)."""
    out = []
    planned = {p["name"]: p for p in plan[host].get("peers") or []}
    for name, peer in sorted(_running_by_name(state, keys).items()):
        age = peer.get("handshake_age")
        status = "ok" if age is not None and age <= max_age else ("fail" if name in plan else "warn")
        found = "never" if age is None else "%d s ago" % age
        cause = fix = None
        if status != "ok":
            port = planned[name].get("endpoint") or "its endpoint (it connects to this host)"
            cause = ("no recent handshake with %s: UDP between the hosts does not get through - the peer's WireGuard "
                     "port is blocked by a firewall or security group, the endpoint is wrong or unreachable, the peer "
                     "is down, or its key differs" % name)
            fix = ("check UDP to %s is allowed on both sides (and on %s's firewall), compare `wg show` keys, see the "
                   "peer's own verdicts" % (port, name))
        out.append(verdict(host, "handshake", status, peer=name, found=found, expected="<= %d s" % max_age,
                           cause=cause, fix=fix))
    return out


def check_transfer(host, plan, state, keys):
    """Per pinged peer host: bytes came back from it while this host pinged it."""
    entry = plan[host]
    before = _running_by_name(state, keys, "wg_before")
    after = _running_by_name(state, keys, "wg_after")
    pings = state.get("pings") or {}
    out = []
    for name, peer in sorted(after.items()):
        plan_peer = next(p for p in entry.get("peers") or [] if p["name"] == name)
        addresses = _tunnel_addresses(plan, name)
        if not addresses:
            continue
        received = peer["transfer_rx"] - (before.get(name) or {}).get("transfer_rx", 0)
        sent = peer["transfer_tx"] - (before.get(name) or {}).get("transfer_tx", 0)
        answered = [a for a in addresses if ((pings.get(a) or {}).get("small") or [0, 0])[1] > 0]
        found = "%d B sent, %d B back during the probe; ping %s" % (
            sent, received, "answered" if answered else "unanswered")
        if received > 0 and answered:
            out.append(verdict(host, "transfer", "ok", peer=name, found=found))
            continue
        out.append(verdict(host, "transfer", "fail", peer=name, found=found, expected="replies from %s" % name,
                           cause=("packets to %s leave but nothing comes back: UDP is blocked on the way (a firewall "
                                  "on either host), or %s drops them (its AllowedIPs for this host do not hold the "
                                  "source)" % (name, name)),
                           fix="compare `wg show %s` on both hosts; allow UDP %s on both firewalls"
                           % (entry["interface"], plan_peer.get("endpoint") or "to this host's port")))
    return out


def _owner(address, prefixes_by_peer):
    """The peer whose prefix holds ``address`` most specifically (WireGuard's choice), or None."""
    ip = ipaddress.ip_address(address)
    best, best_len = None, -1
    for name in sorted(prefixes_by_peer):
        for prefix in prefixes_by_peer[name]:
            net = ipaddress.ip_network(prefix, strict=False)
            if ip.version == net.version and ip in net and net.prefixlen > best_len:
                best, best_len = name, net.prefixlen
    return best


def check_routes(host, entry, state, keys):
    """For a representative address of every planned AllowedIPs prefix: the kernel picks the interface
    and WireGuard the planned peer (for relayed prefixes: the hub or relay)."""
    iface = entry["interface"]
    planned = {p["name"]: p.get("allowed_ips") or [] for p in entry.get("peers") or []}
    running = {name: p.get("allowed_ips") or [] for name, p in _running_by_name(state, keys).items()}
    kernel_routes = entry.get("table") in (None, "", "auto")
    out = []
    for prefix, found in sorted((state.get("routes") or {}).items()):
        address = found.get("address")
        want_peer, got_peer = _owner(address, planned), _owner(address, running)
        text = "%s -> dev %s, peer %s" % (address, found.get("dev") or found.get("error") or "none", got_peer or "none")
        expected = "dev %s, peer %s" % (iface, want_peer)
        if kernel_routes and found.get("dev") != iface:
            out.append(verdict(host, "route", "fail", peer=want_peer, subject=prefix, found=text, expected=expected,
                               cause=("the kernel sends %s out of %s, not %s: the route for %s is missing or a more "
                                      "specific route or policy rule wins (another network manager, a hand-made route)"
                                      % (address, found.get("dev") or "nowhere", iface, prefix)),
                               fix="ip route get %s; ip route; ip rule - then re-run site.yml (it restores the "
                                   "routes of %s)" % (address, iface)))
        elif got_peer != want_peer:
            out.append(verdict(host, "route", "fail", peer=want_peer, subject=prefix, found=text, expected=expected,
                               cause=("WireGuard hands %s to %s, the plan to %s: the running AllowedIPs were changed "
                                      "outside Ansible or overlap" % (address, got_peer or "no peer", want_peer)),
                               fix="wg show %s allowed-ips; re-run site.yml (applied live)" % iface))
        else:
            out.append(verdict(host, "route", "ok", peer=want_peer, subject=prefix, found=text, expected=expected))
    return out


def check_allowed_ips(host, entry, state, keys):
    """The running peers and their AllowedIPs equal the plan (drift)."""
    iface = entry["interface"]
    running = _running_by_name(state, keys)
    fix = "re-run site.yml: it applies the planned peers and AllowedIPs live (no restart)"
    out = []
    for peer in entry.get("peers") or []:
        name, want = peer["name"], sorted(normalise_prefix(p) for p in peer.get("allowed_ips") or [])
        if name not in running:
            out.append(verdict(host, "allowed_ips", "fail", peer=name, found="not a peer of %s" % iface,
                               expected=", ".join(want), cause="the peer is missing on the host (removed by hand, or "
                               "its key changed without the peers being updated)", fix=fix))
            continue
        got = sorted(normalise_prefix(p) for p in running[name].get("allowed_ips") or [])
        if got == want:
            out.append(verdict(host, "allowed_ips", "ok", peer=name, found=", ".join(got)))
            continue
        missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
        out.append(verdict(host, "allowed_ips", "fail", peer=name, found=", ".join(got), expected=", ".join(want),
                           cause="AllowedIPs differ from the plan (missing: %s; not planned: %s): changed by hand "
                                 "(wg set) or a partial apply; traffic for the missing prefixes goes to no peer or "
                                 "the wrong one" % (", ".join(missing) or "none", ", ".join(extra) or "none"),
                           fix=fix))
    for key in sorted({p["public_key"] for p in (state.get("wg_after") or {}).get("peers") or []} - set(keys)):
        out.append(verdict(host, "allowed_ips", "fail", peer=key, found="running", expected="no such peer",
                           cause="a peer the plan does not have (added by hand, or a retired host)", fix=fix))
    return out


def check_forwarding(host, entry, state, decisions):
    """The forwarding settings the plan needs where the host routes for its peers."""
    running = state.get("sysctls") or {}
    wanted = [(k, v) for k, v in decisions["forwarding"]["sysctls"] if k.endswith("forwarding") or k.endswith("ip_forward")]
    if not wanted:
        return [verdict(host, "forwarding", "skip", found="the plan does not route through this host")]
    out = []
    for key, value in wanted:
        if running.get(key) == value:
            out.append(verdict(host, "forwarding", "ok", subject=key, found=running.get(key), expected=value))
            continue
        out.append(verdict(host, "forwarding", "fail", subject=key, found=running.get(key), expected=value,
                           cause="the host routes for its peers (%s) but %s is %s: every forwarded packet is dropped"
                                 % (entry.get("role"), key, running.get(key)),
                           fix="sysctl -w %s=%s; re-run site.yml (the forwarding role keeps it in %s)"
                               % (key, value, decisions["forwarding"]["file"])))
    return out


def nft_chains(text):
    """{chain: [rule, ...]} of an ``nft list table`` listing, counters and comments removed."""
    chains, current = {}, None
    for line in (text or "").splitlines():
        line = line.strip()
        if line.startswith("chain ") and line.endswith("{"):
            current = line.split()[1]
            chains[current] = []
        elif line == "}" or not line:
            continue
        elif current and not line.startswith(("type ", "policy ")):
            chains[current].append(" ".join(_NFT_NOISE.sub("", line).split()))
    return chains


def expected_rules(entry, decisions):
    """{object: [rule, ...]} the collection loads for the host, keyed like the module's listing
    (``nft forward``/``nft postrouting``, or ``<family> <table> <chain>`` for iptables)."""
    fw = decisions["firewall"]
    if fw["backend"] == "nftables":
        pol = _hooks.policy(entry, fw["egress"])
        out = {}
        if _hooks.nft_forward_rules(pol):
            out["nft forward"] = _hooks.nft_forward_rules(pol)
        if _hooks.nft_nat_rules(pol):
            out["nft postrouting"] = _hooks.nft_nat_rules(pol)
        return out
    out = {}
    iface = entry["interface"]
    for line in fw["post_up"]:
        line = line.replace("%i", iface)
        append, jump = _IPT_APPEND.match(line), _IPT_JUMP.match(line)
        match = append or jump
        if not match:
            continue
        family = "ipv4" if match.group(1) == "iptables" else "ipv6"
        where = "%s %s %s" % (family, match.group(2) or "filter", match.group(3))
        rule = "-A %s %s" % (match.group(3), match.group(4)) if append else "-A %s -j %s" % (match.group(3), match.group(4))
        out.setdefault(where, []).append(rule)
    return out


def loaded_rules(state, backend, expected):
    """The same shape from what the host has loaded (only the objects ``expected`` names, plus our chains)."""
    fw = state.get("firewall") or {}
    if backend == "nftables":
        chains = nft_chains(fw.get("nft_table")) if fw.get("nft_table") is not None else {}
        return {"nft " + name: rules for name, rules in chains.items()}
    out = {}
    for where, text in (fw.get("iptables") or {}).items():
        if text is None:
            continue
        rules = [" ".join(line.split()) for line in text.splitlines() if line.startswith("-A ")]
        if where.split()[2].startswith("NETFLEET-"):
            out[where] = rules
        elif where in expected:
            # a parent chain: only our jumps matter, other tools' rules are theirs
            out[where] = [r for r in rules if r in expected[where]]
    return out


def _rules_fix(decisions, iface):
    fw = decisions["firewall"]
    if fw["backend"] == "nftables":
        return "nft -f %s (the rules file the interface's PostUp loads); a re-run of site.yml does not reload an " \
               "unchanged file" % fw["nft_path"]
    return "systemctl restart wg-quick@%s (its PostUp rebuilds the chains; tunnels pause for the restart)" % iface


def check_rules(host, entry, state, decisions):
    """The NAT and forward rules ``_hooks.py`` computes for the host are loaded, and nothing else in our objects."""
    expected = expected_rules(entry, decisions)
    backend = decisions["firewall"]["backend"]
    if not expected:
        return [verdict(host, "rules", "skip", found="the plan needs no NAT or forward rules on this host")]
    loaded = loaded_rules(state, backend, expected)
    out = []
    for where in sorted(set(expected) | set(loaded)):
        want, got = expected.get(where) or [], loaded.get(where) or []
        missing, extra = [r for r in want if r not in got], [r for r in got if r not in want]
        nat = "postrouting" in where or " nat " in where
        if not missing and not extra:
            out.append(verdict(host, "rules", "ok", subject=where, found="%d rules" % len(got)))
            continue
        if missing and nat:
            cause = ("the NAT rule %s is not loaded: packets from the tunnel leave with their tunnel source address "
                     "and the replies never come back" % "; ".join(missing))
        elif missing:
            cause = ("forward accept(s) %s not loaded: forwarded packets fall to the chain policy or another "
                     "table's drop" % "; ".join(missing))
        else:
            cause = "rules the plan does not have: %s (added by hand, or an old plan)" % "; ".join(extra)
        out.append(verdict(host, "rules", "fail", subject=where, found=got, expected=want,
                           cause=cause, fix=_rules_fix(decisions, entry["interface"])))
    return out


def _rp_value(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def check_rp_filter(host, entry, state):
    """Where the plan asks for loose reverse-path filtering, the kernel's effective value on the interface
    (the higher of ``all`` and the interface's own) is not strict."""
    iface = entry["interface"]
    sysctls = state.get("sysctls") or {}
    values = [_rp_value(sysctls.get("net.ipv4.conf.all.rp_filter")),
              _rp_value(sysctls.get("net.ipv4.conf.%s.rp_filter" % iface.replace(".", "/")))]
    effective = max([v for v in values if v is not None] or [0])
    found = "%d (all %s, %s %s)" % (effective, values[0], iface, values[1])
    if not (entry.get("routing") or {}).get("loose_rp_filter"):
        return [verdict(host, "rp_filter", "ok", subject=iface, found=found,
                        expected="any: every source behind a peer is routed back into %s" % iface)]
    if effective != 1:
        return [verdict(host, "rp_filter", "ok", subject=iface, found=found, expected="loose (2)")]
    return [verdict(host, "rp_filter", "fail", subject=iface, found=found, expected="loose (2)",
                    cause=("strict reverse-path filtering on %s: the plan made a range reachable both locally and through "
                           "the tunnel (%s), so packets from it arriving on %s fail the reverse-route check and are "
                           "dropped" % (iface, "; ".join(entry.get("notes") or []) or "overlap strategy", iface)),
                    fix="sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.%s.rp_filter=2; re-run site.yml "
                        "(the forwarding role keeps it)" % iface)]


def check_relay(host, plan, state, decisions):
    """Forwarded paths through a relay/hub: the kernel's input route (forwarding and rp_filter applied)."""
    iface = plan[host]["interface"]
    asked, found = relay_paths(host, plan), state.get("relay_paths") or []
    out = []
    for path, got in zip(asked, found):
        want = iface if path["to"] == "peer" else decisions["firewall"]["egress"]
        subject = "%s -> %s" % (path["source"], path["destination"])
        text = "dev %s" % got.get("dev") if got.get("dev") else (got.get("error") or "no route")
        if got.get("dev") == want:
            out.append(verdict(host, "relay", "ok", peer=path["peer"], subject=subject, found=text, expected="dev %s" % want))
            continue
        error = (got.get("error") or "").lower()
        if "invalid" in error:
            cause = ("the kernel refuses packets from %s (behind %s) arriving on %s: reverse-path filtering drops them"
                     % (path["source"], path["peer"], iface))
            fix = "sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.%s.rp_filter=2" % iface
        elif "unreachable" in error or "no route" in error:
            cause = ("the kernel does not forward packets from %s (behind %s) to %s: forwarding is off or there is "
                     "no route" % (path["source"], path["peer"], path["destination"]))
            fix = "sysctl net.ipv4.ip_forward net.ipv6.conf.all.forwarding; ip route get %s" % path["destination"]
        else:
            cause = "relayed packets from %s to %s would leave by %s, not %s" % (
                path["source"], path["destination"], got.get("dev"), want)
            fix = "ip route get %s from %s iif %s; ip route; ip rule" % (path["destination"], path["source"], iface)
        out.append(verdict(host, "relay", "fail", peer=path["peer"], subject=subject, found=text,
                           expected="dev %s" % want, cause=cause, fix=fix))
    return out


def check_mtu(host, plan, state):
    """A Don't-Fragment ping at the interface MTU reaches each peer host when small pings do."""
    entry = plan[host]
    owners = {a: p["name"] for p in entry.get("peers") or [] for a in _tunnel_addresses(plan, p["name"])}
    mtu = (state.get("link") or {}).get("mtu")
    out = []
    for address, result in sorted((state.get("pings") or {}).items()):
        small, big = result.get("small") or [0, 0], result.get("mtu") or [0, 0]
        found = "%d-byte DF ping: %d/%d answered (small: %d/%d)" % (mtu or 0, big[1], big[0], small[1], small[0])
        if small[1] == 0:
            out.append(verdict(host, "mtu", "skip", peer=owners.get(address), subject=address, found=found,
                               expected="small pings answered first (see transfer)"))
        elif big[1] > 0:
            out.append(verdict(host, "mtu", "ok", peer=owners.get(address), subject=address, found=found))
        else:
            out.append(verdict(host, "mtu", "fail", peer=owners.get(address), subject=address, found=found,
                               expected="answered", cause=("MTU black hole: small packets reach %s, %d-byte packets do "
                                                           "not - the path below the tunnel carries less than %s plus "
                                                           "the WireGuard overhead and the ICMP that would say so is "
                                                           "blocked" % (owners.get(address), mtu or 0, mtu)),
                               fix="set wireguard_mtu lower (for example 1380) on both sides, or let ICMP "
                                   "fragmentation-needed through"))
    return out


def check_endpoint_names(host, entry, state):
    """Every endpoint name the host's peers use resolves on the host."""
    users = {}
    for peer in entry.get("peers") or []:
        name = _endpoint_name(peer.get("endpoint"))
        if name:
            users.setdefault(name, peer["name"])
    out = []
    for name, result in sorted((state.get("resolved") or {}).items()):
        if result.get("addresses"):
            out.append(verdict(host, "endpoint_dns", "ok", peer=users.get(name), subject=name,
                               found=", ".join(result["addresses"])))
            continue
        out.append(verdict(host, "endpoint_dns", "fail", peer=users.get(name), subject=name,
                           found=result.get("error") or "no address", expected="resolves",
                           cause="the endpoint name does not resolve on the host: the tunnel cannot be set up again "
                                 "after a restart or an address change",
                           fix="getent ahosts %s; check the resolver is reachable outside the tunnel, or use an "
                               "address as wireguard_endpoint" % name))
    return out


def judge(host, plan, state, decisions, names, max_age=DEFAULT_MAX_AGE, public_key=None):
    """Every verdict for one host, in the order of CHECKS."""
    entry = plan[host]
    keys = _peer_keys(entry, names)
    out = check_interface(host, entry, state, public_key)
    if out[0]["status"] == "fail" and not (state.get("wg_after") or {}).get("up"):
        return out
    out += check_handshakes(host, plan, state, keys, max_age)
    out += check_transfer(host, plan, state, keys)
    out += check_routes(host, entry, state, keys)
    out += check_allowed_ips(host, entry, state, keys)
    out += check_forwarding(host, entry, state, decisions)
    out += check_rules(host, entry, state, decisions)
    out += check_rp_filter(host, entry, state)
    out += check_relay(host, plan, state, decisions)
    out += check_mtu(host, plan, state)
    out += check_endpoint_names(host, entry, state)
    return out


# ------------------------------------------------------------------------------- the report

def silent_hosts(verdicts):
    """Hosts that at least two peers get no answer from: the fault is most likely on that host."""
    by_peer = {}
    for v in verdicts:
        if v["check"] == "transfer" and v["peer"]:
            by_peer.setdefault(v["peer"], []).append(v)
    out = []
    for host, seen in sorted(by_peer.items()):
        failed = sorted(v["host"] for v in seen if v["status"] == "fail")
        if len(failed) >= 2 and len(failed) == len(seen):
            out.append(verdict(host, "transfer", "fail", subject="every peer", found="no answer to %s" % ", ".join(failed),
                               cause=("none of its peers gets an answer from %s: its WireGuard UDP port is blocked (host "
                                      "firewall, security group, port forward) or its interface is down" % host),
                               fix="on %s: wg show; nft list ruleset / iptables -S INPUT for its UDP port; check the "
                                   "provider's firewall" % host))
    return out


def _sort_key(v):
    return (CHECKS.index(v["check"]), v["subject"] != "every peer", v["host"], str(v["peer"] or ""), str(v["subject"] or ""))


def _text(value, width):
    if isinstance(value, dict):
        value = ", ".join("%s %s" % (k, ", ".join(map(str, v)) if isinstance(v, list) else v) for k, v in value.items())
    elif isinstance(value, list):
        value = "; ".join(map(str, value))
    text = "" if value is None else str(value)
    return text if len(text) <= width else text[:width - 3] + "..."


def table(host, verdicts):
    """One readable table of a host's verdicts."""
    rows = [("CHECK", "PEER", "SUBJECT", "VERDICT", "FOUND")]
    rows += [(v["check"], _text(v["peer"] or "-", 16), _text(v["subject"] or "-", 28), v["status"].upper(),
              _text(v["found"], 70)) for v in verdicts]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["%s" % host] + ["  " + "  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)).rstrip()
                             for row in rows]
    return "\n".join(lines)


def verdicts_of(host, result):
    """A host's verdicts from its registered ``wireguard_diagnose`` result (or a verdict list); a host that
    could not be read gets one failed verdict saying why."""
    if isinstance(result, list):
        return result
    result = result or {}
    if isinstance(result.get("verdicts"), list) and not result.get("failed"):
        return result["verdicts"]
    why = result.get("msg") or ("unreachable" if result.get("unreachable") else "no result (the play skipped it)")
    return [verdict(host, "host", "fail", found=why, expected="read",
                    cause="the host could not be diagnosed: %s" % why,
                    fix="check that Ansible reaches the host (ansible -m ping) and that WireGuard tools are installed")]


def report(results):
    """The network's report from ``{host: registered result or [verdict, ...]}``: tables, problems in order
    of likelihood, ``ok``."""
    results = {host: verdicts_of(host, result) for host, result in results.items()}
    every = [v for host in sorted(results) for v in results[host]]
    problems = sorted([v for v in every if v["status"] == "fail"] + silent_hosts(every), key=_sort_key)
    counts = {}
    for v in every:
        counts[v["status"]] = counts.get(v["status"], 0) + 1
    lines = ["%d. [%s] %s%s%s: %s. Fix: %s" % (
        i, v["check"], v["host"], ", peer %s" % v["peer"] if v["peer"] else "",
        " (%s)" % v["subject"] if v["subject"] else "", v["cause"], v["fix"]) for i, v in enumerate(problems, 1)]
    return {"ok": not problems, "counts": counts, "problems": problems, "problem_lines": lines,
            "tables": {host: table(host, results[host]) for host in sorted(results)}, "hosts": results}
