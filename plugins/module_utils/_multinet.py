# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host in several WireGuard networks: one inventory group per network, planned together.

Each network is an inventory group listed in ``wireguard_network_groups``, with its network-wide
variables in that group's vars (read for that network only: the other network groups' vars are
left out, see the plan action). A host in several of them gives what differs per network under
``wireguard_networks: {<group>: {<host variable>: value}}``; its plain host vars apply to every
network it is in. Each network is planned by ``build_plan`` as before; this module lays the
per-network values over the host's vars, refuses what two networks of one host cannot share
(interface, listen port, tunnel networks, routed prefixes) and computes what the host needs once
for all its networks (forwarding: the union).
"""

from __future__ import annotations

import ipaddress

from ._variables import BY_NAME, validate_host_name

NETWORKS_VAR = "wireguard_networks"
GROUPS_VAR = "wireguard_network_groups"
# playbooks/site.yml has one play per network: a longer list would leave networks undeployed
MAX_NETWORKS = 3


def network_groups(value, default_group):
    """The list of network groups (``wireguard_network_groups``), or ``[default_group]`` when unset."""
    if value is None or value == []:
        return [default_group]
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValueError("controller: %s: must be a list of inventory group names, got %r" % (GROUPS_VAR, value))
    names = []
    for item in value:
        try:
            name = validate_host_name(item)
        except ValueError as exc:
            raise ValueError("controller: %s: %s" % (GROUPS_VAR, exc)) from None
        if name in names:
            raise ValueError("controller: %s: %s is listed twice" % (GROUPS_VAR, name))
        names.append(name)
    if len(names) > MAX_NETWORKS:
        raise ValueError("controller: %s: %d networks listed; site.yml deploys at most %d (one play each)"
                         % (GROUPS_VAR, len(names), MAX_NETWORKS))
    return names


def memberships(groups, members):
    """host -> the network groups it is in, in the order of ``groups`` (``members``: group -> hosts)."""
    out = {}
    for group in groups:
        for host in members.get(group) or ():
            out.setdefault(host, []).append(group)
    return out


def network_values(host, group, values, member_of):
    """``(values for the network group, errors)``: the host's ``wireguard_networks[group]`` laid over its
    vars, ``wireguard_networks`` itself removed. Only host-scope variables may be given per network, and
    only for network groups the host is in."""
    out = {key: value for key, value in values.items() if key != NETWORKS_VAR}
    per_network = values.get(NETWORKS_VAR)
    if per_network is None:
        return out, []
    if not isinstance(per_network, dict):
        return out, ["%s: %s: must map a network group to its host variables, got %s"
                     % (host, NETWORKS_VAR, type(per_network).__name__)]
    errors = []
    for name, overrides in per_network.items():
        where = "%s: %s.%s" % (host, NETWORKS_VAR, name)
        if name not in member_of:
            errors.append("%s: the host is not in the network group %s (it is in: %s)"
                          % (where, name, ", ".join(member_of) or "none"))
        elif not isinstance(overrides, dict):
            errors.append("%s: must map host variables to values, got %s" % (where, type(overrides).__name__))
        else:
            errors += ["%s.%s: %s" % (where, key, _not_per_network(key)) for key in overrides
                       if _not_per_network(key)]
    if errors:
        return out, errors
    out.update(per_network.get(group) or {})
    return out, []


def _not_per_network(key):
    """Why ``key`` cannot be given per network ('' when it can)."""
    var = BY_NAME.get(key)
    if var is None:
        return "not a variable of this collection"
    if var.scope != "host":
        return "a %s variable: set it in the network group's vars, not per host and network" % var.scope
    return ""


# ------------------------------------------------------------------------------ clashes

def host_entries(plans):
    """host -> [(group, plan entry)] over every network (``plans``: group -> plan), groups in order."""
    out = {}
    for group, plan in plans.items():
        for host, entry in plan.items():
            out.setdefault(host, []).append((group, entry))
    return out


def clashes(plans):
    """Every problem of hosts in several networks, one ``host: variable: problem`` line each.

    Two networks of one host must not share the interface name, the listen port or overlapping
    tunnel networks, and a prefix may be routed (AllowedIPs) by one interface only; a default route
    (/0) on one interface beside more specific prefixes on another is allowed (the longest prefix wins).
    """
    errors = []
    for host, entries in sorted(host_entries(plans).items()):
        if len(entries) < 2:
            continue
        errors += _same(host, entries, "wireguard_interface", lambda e: [e["interface"]])
        errors += _same(host, entries, "wireguard_listen_port",
                        lambda e: [] if e.get("listen_port") is None else [e["listen_port"]])
        errors += _overlapping(host, entries)
    return errors


def _same(host, entries, variable, values_of):
    seen, errors = {}, []
    for group, entry in entries:
        for value in values_of(entry):
            if value in seen:
                errors.append("%s: %s: %s is used by the networks %s and %s; each network of a host needs its own"
                              % (host, variable, value, seen[value], group))
            else:
                seen[value] = group
    return errors


TUNNEL = "tunnel network"


def _routed(entry):
    """(prefix, where it comes from) of everything ``entry``'s interface routes: its tunnel networks and
    its peers' AllowedIPs outside them (those inside are checked with their tunnel network)."""
    tunnels = [ipaddress.ip_network(prefix) for prefix in entry.get("tunnel_networks") or []]
    return [(prefix, TUNNEL) for prefix in entry.get("tunnel_networks") or []] + [
        (prefix, "AllowedIPs of peer %s" % peer["name"]) for peer in entry.get("peers") or []
        for prefix in peer.get("allowed_ips") or [] if not _inside(ipaddress.ip_network(prefix), tunnels)]


def _inside(net, tunnels):
    return any(net.version == tunnel.version and net.subnet_of(tunnel) for tunnel in tunnels)


def _overlapping(host, entries):
    """Errors for prefixes routed by two networks of ``host`` that overlap. The variable named is
    ``wireguard_address`` when a tunnel network is one of them, else the peers' AllowedIPs come from
    their addresses and LANs in that network (``wireguard_networks``)."""
    parsed = [(group, entry["interface"], ipaddress.ip_network(prefix), why)
              for group, entry in entries for prefix, why in _routed(entry)]
    errors = []
    for index, (group, interface, net, why) in enumerate(parsed):
        for other_group, other_interface, other, other_why in parsed[index + 1:]:
            if other_group == group or net.version != other.version or not net.overlaps(other):
                continue
            if net != other and 0 in (net.prefixlen, other.prefixlen):
                continue   # a default route beside specific prefixes: the longest prefix wins
            variable = "wireguard_address" if TUNNEL in (why, other_why) else NETWORKS_VAR
            errors.append("%s: %s: %s (%s on %s, network %s) overlaps %s (%s on %s, network %s): a prefix may be "
                          "routed by one interface of a host only" % (host, variable, net, why, interface, group,
                                                                      other, other_why, other_interface, other_group))
    return errors


# ------------------------------------------------------------------------------ what the host needs once

# what every network of a host shares: a host leaving one network but staying in another keeps them
SHARED_PATHS = ("sysctl_file", "guard_ruleset", "guard_unit", "guard_enabled_link")


def retired_in_one_network(retired, guard_table):
    """What ``wireguard_retire`` removes from a host that leaves one network (``wireguard_state: absent``
    under ``wireguard_networks.<group>``) but stays in another: that interface, its files and its rules
    table, not the shared sysctl.d file or hardened posture (the other network's play rewrites those)."""
    return dict(retired, paths={key: value for key, value in retired["paths"].items() if key not in SHARED_PATHS},
                nft_tables=[table for table in retired["nft_tables"] if table != guard_table])


def forwarding_entry(entries):
    """A plan entry whose ``routing`` asks for the kernel settings every one of ``entries`` (the host's
    plan entries over its networks) needs: the union, which the host's one sysctl.d file holds."""
    routings = [entry.get("routing") or {} for entry in entries]
    return {"routing": {key: any(bool(r.get(key)) for r in routings)
                        for key in ("forward_ipv4", "forward_ipv6", "loose_rp_filter")}}
