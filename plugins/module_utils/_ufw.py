# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hosts whose firewall is already managed by ufw or firewalld (pure, no ansible import).

With ufw active, its default policies drop what a WireGuard host needs (the listen port, the
tunnel's input, routed traffic) whatever our own nftables table or iptables chains accept: a drop
in any base chain is final. So the collection adds ufw rules through the ``ufw`` command, each
with the comment ``netfleet-wireguard <interface>``, and compares them with ``ufw show added``
(the rules exactly as ufw prints them): missing ones are added, tagged ones no longer wanted are
deleted, the user's own rules are never touched.

NAT stays in the wg-quick hooks (the nftables table or iptables chains of ``_hooks``): ufw has no
NAT command, and its filter never looks at the nat hooks, so the masquerade rule works beside it
once ufw routes the traffic (measured in ``molecule/ufw``); it comes and goes with the interface.

firewalld is only detected: the host plan refuses a host where it runs unless the user forces a
backend with ``wireguard_firewall_backend``.
"""

from __future__ import annotations

from . import _hooks

TAG = "netfleet-wireguard"
BACKEND = "ufw"


def comment(interface):
    """The comment every ufw rule of the collection for ``interface`` carries."""
    return "%s %s" % (TAG, _hooks.check_ifname(interface, "interface"))


def _suffix(interface):
    return " comment '%s'" % comment(interface)


def _addr(cidr):
    """A prefix as ufw prints it: a single address without its /32 or /128."""
    if cidr.endswith("/32") and ":" not in cidr:
        return cidr[:-3]
    if cidr.endswith("/128"):
        return cidr[:-4]
    return cidr


def _route_rule(rule):
    words = ["route", "allow"]
    if rule["iif"]:
        words += ["in", "on", rule["iif"]]
    if rule["oif"]:
        words += ["out", "on", rule["oif"]]
    if rule["saddr"]:
        words += ["from", _addr(rule["saddr"])]
    if rule["daddr"]:
        words += ["to", _addr(rule["daddr"])]
    return " ".join(words)


def wanted_rules(entry, egress_interface=None, allow_tunnel_input=True, host=None):
    """The ufw rules (as ``ufw show added`` prints them, without ``ufw ``) the plan entry needs.

    The listen port (UDP) when the host has one; everything arriving on the tunnel for the host
    itself when ``allow_tunnel_input``; one ``route allow`` per forward rule of ``_hooks.policy``
    (ufw's own before-rules accept established and related traffic, so those rules are left out).
    An interface-only rule covers both families, as ufw applies it to IPv4 and IPv6.
    """
    pol = _hooks.policy(entry, egress_interface, host=host)
    suffix = _suffix(pol["interface"])
    rules = []
    port = entry.get("listen_port")
    if port is not None:
        rules.append("allow %d/udp" % int(port))
    if allow_tunnel_input:
        rules.append("allow in on %s" % pol["interface"])
    for rule in pol["forward"]:
        if not rule["established"]:
            rules.append(_route_rule(rule))
    return [text + suffix for text in dict.fromkeys(rules)]


def tagged(added, interface):
    """The rules of ``added`` (``ufw show added`` lines) that carry ``interface``'s tag, in order."""
    suffix = _suffix(interface)
    return [line for line in added or [] if line.endswith(suffix)]


def add_argv(rule):
    """argv (after the ufw binary) adding ``rule``; the comment is one argument."""
    text, _sep, note = rule.rpartition(" comment ")
    return text.split() + ["comment", note.strip("'")]


def delete_argv(rule):
    """argv (after the ufw binary) deleting ``rule``: ufw matches it without the comment."""
    words = rule.rpartition(" comment ")[0].split()
    if words[0] == "route":
        return ["route", "delete"] + words[1:]
    return ["delete"] + words


def decide(wanted, status, interface):
    """What to add and delete so the tagged rules of ``interface`` are exactly ``wanted``.

    ``status``: the host fact ``firewall.ufw`` (``{"active", "added"}``).
    """
    present = tagged((status or {}).get("added"), interface)
    add = [rule for rule in wanted if rule not in present]
    delete = [rule for rule in present if rule not in wanted]
    return {"managed": False, "rules": list(wanted), "add": add, "delete": delete,
            "add_argv": [add_argv(rule) for rule in add], "delete_argv": [delete_argv(rule) for rule in delete],
            "pending": bool(add or delete)}


def removal(status, interface):
    """The deletions that take every rule of ``interface`` away (no longer routing, retired host)."""
    present = tagged((status or {}).get("added"), interface)
    if not present:
        return None
    return decide([], status, interface)


def managed_by(facts):
    """``"ufw"``, ``"firewalld"`` or None: the firewall manager running on the host (facts ``firewall``)."""
    fw = (facts or {}).get("firewall") or {}
    if (fw.get("ufw") or {}).get("active"):
        return "ufw"
    if fw.get("firewalld_running"):
        return "firewalld"
    return None


def manager(host, facts, forced, harden=False):
    """``"ufw"`` when the collection adds ufw rules on the host, else None.

    ``forced``: ``wireguard_firewall_backend`` (empty = detect). Raises ValueError naming the host and
    the variable for firewalld running without a forced backend, for ``ufw`` forced on a host where it
    is not active, and for the hardened posture combined with ufw (two default-drop firewalls).
    """
    running = managed_by(facts)
    if forced == BACKEND:
        if facts is not None and running != BACKEND:
            raise ValueError("%s: wireguard_firewall_backend: ufw, but ufw is not active on the host (ufw status); "
                             "enable ufw first, or set nftables or iptables" % host)
        chosen = BACKEND
    elif forced:
        return None
    elif running == "firewalld":
        raise ValueError("%s: wireguard_firewall_backend: firewalld is running on the host and this collection does "
                         "not manage firewalld (its zones would drop the WireGuard port and the forwarded traffic); "
                         "set wireguard_firewall_backend to nftables or iptables to add the collection's own rules "
                         "beside firewalld, and open the port and forwarding in firewalld yourself" % host)
    else:
        chosen = running
    if chosen == BACKEND and harden:
        raise ValueError("%s: wireguard_firewall_harden: ufw manages this host's firewall; the hardened posture "
                         "would be a second default-drop firewall beside it. Use ufw's own defaults (deny incoming "
                         "and routed), or set wireguard_firewall_backend to nftables or iptables" % host)
    return chosen


def decision(host, entry, facts, settings, egress_interface):
    """The ufw part of the host plan: rules to add and delete, None when there is nothing of ufw."""
    chosen = manager(host, facts, settings["wireguard_firewall_backend"], settings["wireguard_firewall_harden"])
    status = ((facts or {}).get("firewall") or {}).get("ufw")
    interface = entry["interface"]
    if chosen == BACKEND:
        wanted = wanted_rules(entry, egress_interface, bool(settings["wireguard_firewall_allow_tunnel_input"]), host)
        out = dict(decide(wanted, status, interface), managed=True)
        out["pending"] = out["pending"] and facts is not None
    else:
        out = removal(status, interface)
    if out:
        out["bin"] = ((facts or {}).get("commands") or {}).get("ufw") or "/usr/sbin/ufw"
    return out
