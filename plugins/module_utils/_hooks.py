# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Firewall/NAT hook lines for wg-quick, computed from a host's plan entry.

Pure logic (stdlib + netaddr), no Ansible imports; bad input raises ``ValueError``.

Design
------
Every rule this module produces lives in containers named after the WireGuard interface, so that
tearing down never depends on the rule contents (a changed egress interface or subnet can never
leave a stale rule behind when the interface is restarted with the new configuration):

* ``iptables`` backend: per family, a filter chain ``NETFLEET-<if>-FWD`` jumped to from the top
  of ``FORWARD`` and a nat chain ``NETFLEET-<if>-NAT`` jumped to from ``POSTROUTING``.
  PostUp creates (or flushes) the chain, fills it and adds the jump only when it is missing;
  PostDown removes every jump, flushes and deletes the chain. Repeated up/down never duplicates.
* ``nftables`` backend: one table ``inet netfleet_wg_<if>`` described in a rules file that the
  firewall role writes. The file begins with ``table``/``delete table`` so loading it is an
  atomic replace (idempotent, and usable to update the rules of a running interface);
  PostDown deletes the table with ``table X; delete table X``, which succeeds whether or not the
  table exists.

The plan's ``routing`` block says what the host does (see docs/architecture.md):
``forward_ipv4``/``forward_ipv6`` (families forwarded), ``relay`` (wg -> wg), ``forward_to_egress``
(wg -> egress plus established/related back), ``lan_subnets`` (routed LANs: wg <-> LAN both
ways) and ``masquerade`` (source NAT entries).
"""
from __future__ import annotations


import re

from . import _paths

try:
    import netaddr
except ImportError:  # pragma: no cover - netaddr is a documented requirement
    netaddr = None

BACKENDS = ("iptables", "nftables")
FAMILIES = ("ipv4", "ipv6")
_IPT = {"ipv4": "iptables", "ipv6": "ip6tables"}
_IPT_PARENT = {"FWD": "FORWARD", "POL": "FORWARD", "IN": "INPUT"}
ACCESS_KINDS = ("POL", "IN")
_NFT_ADDR = {"ipv4": "ip", "ipv6": "ip6"}
_FWD_FIELDS = ("family", "iif", "oif", "saddr", "daddr", "established")
_ROUTING_BOOLS = ("forward_ipv4", "forward_ipv6", "relay", "forward_to_egress", "loose_rp_filter")
GUARD_TABLE = "netfleet_guard"


# ------------------------------------------------------------------------------------ helpers

def _need_netaddr():
    if netaddr is None:  # pragma: no cover
        raise ValueError("the Python library netaddr is required on the controller")


def check_ifname(name, what):
    """Return ``name`` when it is a usable interface name, else raise ValueError naming ``what``."""
    if not _paths.valid_interface(name):
        raise ValueError("%s: %r is not a valid interface name (1-15 of a-z A-Z 0-9 _ = + . -)"
                         % (what, name))
    return name


def _network(value, what):
    """Parse an IPv4/IPv6 prefix; return (family, normalised CIDR string)."""
    _need_netaddr()
    if not isinstance(value, str):
        raise ValueError("%s: %r is not an address or prefix string" % (what, value))
    try:
        net = netaddr.IPNetwork(value.strip())
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        raise ValueError("%s: %r is not a valid address or prefix (%s)" % (what, value, exc))
    return ("ipv4" if net.version == 4 else "ipv6"), str(net.cidr)


def _address(value, what):
    """Parse an address or prefix for a source match; return (family, text), hosts without /len."""
    family, cidr = _network(value, what)
    net = netaddr.IPNetwork(cidr)
    if net.prefixlen == (32 if family == "ipv4" else 128):
        return family, str(net.ip)
    return family, cidr


def nft_table_name(interface):
    """nftables table for an interface: ``netfleet_wg_`` + name, non-identifier chars hex-escaped."""
    check_ifname(interface, "interface")
    safe = "".join(c if (c.isalnum() or c == "_") else "_%02x" % ord(c) for c in interface)
    return "netfleet_wg_" + safe


def iptables_chain(interface, kind):
    """Chain name used for ``kind`` (``FWD`` or ``NAT``); ``%i`` is left for wg-quick to expand."""
    return "NETFLEET-%%i-%s" % kind


def default_nft_path(interface):
    check_ifname(interface, "interface")
    return _paths.nft_rules(interface)


# ------------------------------------------------------------------------------- the policy

def _bool(routing, key, host):
    value = routing.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValueError("%splan routing.%s must be a boolean, got %r" % (host, key, value))
    return value


def policy(entry, egress_interface=None, host=None):
    """Turn a plan entry into an abstract rule set.

    Returns ``{"interface", "families", "forward": [rule...], "nat": [rule...]}`` where a forward
    rule is ``{"family", "iif", "oif", "saddr", "daddr", "established"}`` (None = any) and a nat
    rule is ``{"family", "source", "oif", "destination"}`` (``oif`` None: a plan entry with a
    destination and no egress interface, matched by addresses only).
    """
    where = "%s: " % host if host else ""
    if not isinstance(entry, dict):
        raise ValueError("%splan entry must be a dict, got %s" % (where, type(entry).__name__))
    interface = check_ifname(entry.get("interface", "wg0"), where + "plan interface")
    routing = entry.get("routing") or {}
    if not isinstance(routing, dict):
        raise ValueError("%splan routing must be a dict, got %r" % (where, routing))
    flags = {key: _bool(routing, key, where) for key in _ROUTING_BOOLS}
    if egress_interface in ("", None):
        egress_interface = None
    else:
        check_ifname(egress_interface, where + "wireguard_egress_interface")
        if egress_interface == interface:
            raise ValueError("%swireguard_egress_interface must not be the WireGuard interface %s"
                             % (where, interface))

    families = [f for f in FAMILIES if flags["forward_" + f]]

    masq = routing.get("masquerade") or []
    if not isinstance(masq, list):
        raise ValueError("%splan routing.masquerade must be a list, got %r" % (where, masq))
    if egress_interface is None:
        # no egress resolved by the caller: the plan's own (wireguard_egress_interface) if any
        planned = [m.get("egress_interface") for m in masq if isinstance(m, dict) and m.get("egress_interface")]
        if planned:
            egress_interface = check_ifname(planned[0], where + "plan routing.masquerade egress_interface")

    lans = routing.get("lan_subnets") or []
    if not isinstance(lans, list):
        raise ValueError("%splan routing.lan_subnets must be a list, got %r" % (where, lans))
    lan_nets = [_network(lan, where + "plan routing.lan_subnets") for lan in lans]

    def need_egress(why):
        if egress_interface is None:
            raise ValueError("%s%s needs an egress interface: set wireguard_egress_interface "
                             "(none was given and no default route was found)" % (where, why))
        return egress_interface

    # rules keyed by their fields: first occurrence wins, insertion order kept, O(1) per rule
    # (a list scan made a gateway with 10,000 LANs quadratic)
    forward = {}

    def add_fwd(**rule):
        full = {"family": None, "iif": None, "oif": None, "saddr": None, "daddr": None,
                "established": False}
        full.update(rule)
        key = tuple(full[field] for field in _FWD_FIELDS)
        if key not in forward:
            forward[key] = full

    for family in families:
        if flags["forward_to_egress"]:
            egress = need_egress("forward_to_egress")
            add_fwd(family=family, iif=interface, oif=egress)
            add_fwd(family=family, iif=egress, oif=interface, established=True)
        if flags["relay"]:
            add_fwd(family=family, iif=interface, oif=interface)
        for lan_family, lan in lan_nets:
            if lan_family == family:
                add_fwd(family=family, iif=interface, daddr=lan)
                add_fwd(family=family, oif=interface, saddr=lan)

    nat = []
    seen_nat = set()
    for idx, item in enumerate(masq):
        what = "%splan routing.masquerade[%d]" % (where, idx)
        if not isinstance(item, dict):
            raise ValueError("%s must be a dict, got %r" % (what, item))
        family = item.get("family")
        if family not in FAMILIES:
            raise ValueError("%s.family must be ipv4 or ipv6, got %r" % (what, family))
        src_family, source = _network(item.get("source"), what + ".source")
        if src_family != family:
            raise ValueError("%s.source %s is not an %s prefix" % (what, source, family))
        destination = item.get("destination")
        if destination not in (None, ""):
            dst_family, destination = _network(destination, what + ".destination")
            if dst_family != family:
                raise ValueError("%s.destination %s is not an %s prefix" % (what, destination, family))
        else:
            destination = None
        oif = item.get("egress_interface")
        if oif not in (None, ""):
            check_ifname(oif, what + ".egress_interface")
        elif destination is None:
            oif = need_egress(what)
        else:
            oif = None   # the destination says where it goes (site NAT: the LAN, whatever its interface)
        rule = {"family": family, "source": source, "oif": oif, "destination": destination}
        key = (family, source, oif, destination)
        if key not in seen_nat:
            seen_nat.add(key)
            nat.append(rule)

    return {"interface": interface, "families": families, "forward": list(forward.values()), "nat": nat,
            "access": _access(entry.get("access"), where)}


# ------------------------------------------------------------------------- access policy

_ACCESS_PROTOS = ("tcp", "udp", "icmp")
_ACCESS_LABEL_RE = re.compile(r"rules\[[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\]")
_ICMP = {"ipv4": "icmp", "ipv6": "ipv6-icmp"}


def _access_side(value, what):
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - set(FAMILIES):
        raise ValueError("%s must be null or a dict of ipv4/ipv6 prefix lists, got %r" % (what, value))
    out = {}
    for family in FAMILIES:
        items = value.get(family) or []
        if not isinstance(items, list):
            raise ValueError("%s.%s must be a list of prefixes, got %r" % (what, family, items))
        nets = [_network(item, what) for item in items]
        if any(found != family for found, _text in nets):
            raise ValueError("%s.%s holds a prefix of the other family" % (what, family))
        # an nft set refuses overlapping elements: the widest prefixes only
        merged = netaddr.cidr_merge([text for _family, text in nets])
        out[family] = [str(n.ip) if n.size == 1 else str(n.cidr) for n in merged]
    return out


def _access(block, where):
    """The plan's ``access`` block (``_policy.apply``) checked again: only known words, prefixes and ports
    reach a rule line."""
    if block is None:
        return None
    what = where + "plan access"
    if not isinstance(block, dict) or block.get("default") not in ("allow", "deny"):
        raise ValueError("%s must be a dict with default allow or deny, got %r" % (what, block))
    rules = []
    for index, rule in enumerate(block.get("rules") or []):
        label = "%s.rules[%d]" % (what, index)
        if not isinstance(rule, dict) or rule.get("action") not in ("allow", "deny"):
            raise ValueError("%s must be a dict with action allow or deny, got %r" % (label, rule))
        if not isinstance(rule.get("label"), str) or not _ACCESS_LABEL_RE.fullmatch(rule["label"]):
            raise ValueError("%s.label %r is not rules[NAME]" % (label, rule.get("label")))
        if rule.get("proto") not in (None,) + _ACCESS_PROTOS:
            raise ValueError("%s.proto must be tcp, udp, icmp or null, got %r" % (label, rule.get("proto")))
        ports = rule.get("ports")
        if ports is not None:
            ports = [tuple(p) for p in ports if isinstance(p, (list, tuple)) and len(p) == 2]
            if len(ports) != len(rule["ports"]) or not ports or rule.get("proto") not in ("tcp", "udp") or any(
                    isinstance(v, bool) or not isinstance(v, int) for p in ports for v in p) or any(
                    not 1 <= lo <= hi <= 65535 for lo, hi in ports):
                raise ValueError("%s.ports must be [low, high] pairs (1-65535) with proto tcp or udp, got %r"
                                 % (label, rule["ports"]))
        rules.append({"label": rule["label"], "action": rule["action"], "proto": rule.get("proto"), "ports": ports,
                      "from": _access_side(rule.get("from"), label + ".from"),
                      "to": _access_side(rule.get("to"), label + ".to")})
    return {"default": block["default"], "rules": rules}


def _access_families(rule):
    """Families a rule applies to; None when neither side names addresses (any family)."""
    sides = [rule[side] for side in ("from", "to") if rule[side] is not None]
    if not sides:
        return [None]
    return [f for f in FAMILIES if all(side[f] for side in sides)]


def _nft_access_rule(rule, family):
    parts = []
    for side, key in (("from", "saddr"), ("to", "daddr")):
        if rule[side] is not None:
            parts.append("%s %s { %s }" % (_NFT_ADDR[family], key, ", ".join(rule[side][family])))
    if rule["ports"]:
        parts.append("%s dport { %s }" % (rule["proto"], ", ".join(
            str(lo) if lo == hi else "%d-%d" % (lo, hi) for lo, hi in rule["ports"])))
    elif rule["proto"] == "icmp":
        parts.append("meta l4proto %s" % (_ICMP[family] if family else "{ icmp, ipv6-icmp }"))
    elif rule["proto"]:
        parts.append("meta l4proto %s" % rule["proto"])
    verdict = "accept" if rule["action"] == "allow" else "drop"
    return " ".join(parts + ["counter", verdict, 'comment "%s"' % rule["label"]])


def nft_access_chains(pol):
    """Chains ``policy_forward`` and ``policy_input`` of the interface table (empty without a policy).

    They only drop: an accept here ends this chain, every other chain still sees the packet."""
    access, interface = pol["access"], pol["interface"]
    if not access:
        return []
    rules = ["\t" + _nft_access_rule(rule, family) for rule in access["rules"] for family in _access_families(rule)]
    if access["default"] == "deny":
        rules.append('\tcounter drop comment "default deny"')
    head = ["\t# wireguard_policy: first matching rule decides; replies of accepted connections pass",
            "\ttype filter hook %s priority filter; policy accept;"]
    forward = ["chain policy_forward {", head[0], head[1] % "forward",
               '\tiifname != "%s" oifname != "%s" accept' % (interface, interface),
               "\tct state established,related accept"] + rules + ["}"]
    inbound = ["chain policy_input {", head[0], head[1] % "input", '\tiifname != "%s" accept' % interface,
               "\tct state established,related accept"] + rules + ["}"]
    return [forward, inbound]


def _ipt_port_chunks(ports):
    """multiport takes 15 ports, a range counting as two."""
    chunk, used = [], 0
    for lo, hi in ports:
        cost = 1 if lo == hi else 2
        if used + cost > 15:
            yield chunk
            chunk, used = [], 0
        chunk.append(str(lo) if lo == hi else "%d:%d" % (lo, hi))
        used += cost
    if chunk:
        yield chunk


def _ipt_access_rules(rule, family):
    match = []
    for side, flag in (("from", "-s"), ("to", "-d")):
        if rule[side] is not None:
            match += [flag, ",".join(rule[side][family])]
    proto = _ICMP[family] if rule["proto"] == "icmp" else rule["proto"]
    if proto:
        match += ["-p", proto]
    verdict = ["-j", "RETURN" if rule["action"] == "allow" else "DROP"]
    if not rule["ports"]:
        return [match + verdict]
    return [match + ["-m", "multiport", "--dports", ",".join(chunk)] + verdict for chunk in _ipt_port_chunks(rule["ports"])]


def _ipt_access_blocks(pol, family, ipt):
    """(table, chain, parent, how, lines) of the policy chains of one family, for ``_iptables_hooks``."""
    access = pol["access"]
    if not access:
        return []
    rules = [r for rule in access["rules"] for fam in _access_families(rule) if fam in (None, family)
             for r in _ipt_access_rules(rule, family)]
    if access["default"] == "deny":
        rules.append(["-j", "DROP"])
    blocks = []
    for kind, parent, skip in (("POL", "FORWARD", ["!", "-i", "%i", "!", "-o", "%i"]), ("IN", "INPUT", ["!", "-i", "%i"])):
        chain = iptables_chain(pol["interface"], kind)
        head = [skip + ["-j", "RETURN"], ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "RETURN"]]
        lines = ["%s -A %s %s" % (ipt, chain, " ".join(r)) for r in head + rules]
        blocks.append(("", chain, parent, "-I", lines))
    return blocks


# ----------------------------------------------------------------------------- iptables

def _ipt_match(rule, interface):
    def name(ifname):
        return "%i" if ifname == interface else ifname

    # the order iptables -S prints, so generated rules can be grepped from its output
    parts = []
    if rule.get("saddr"):
        parts += ["-s", rule["saddr"]]
    if rule.get("daddr"):
        parts += ["-d", rule["daddr"]]
    if rule.get("iif"):
        parts += ["-i", name(rule["iif"])]
    if rule.get("oif"):
        parts += ["-o", name(rule["oif"])]
    if rule.get("established"):
        parts += ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"]
    return parts


def _iptables_hooks(pol):
    """PostUp/PostDown lines; PostDown undoes PostUp in reverse order."""
    interface = pol["interface"]
    up, down = [], []
    fwd_chain = iptables_chain(interface, "FWD")
    nat_chain = iptables_chain(interface, "NAT")
    for family in FAMILIES:
        ipt = _IPT[family] + " -w"
        blocks = []
        fwd = [r for r in pol["forward"] if r["family"] == family]
        if fwd:
            lines = ["%s -A %s %s -j ACCEPT" % (ipt, fwd_chain, " ".join(_ipt_match(r, interface)))
                     for r in fwd]
            # -I: our accepts must come before a trailing DROP/REJECT of another tool
            blocks.append(("", fwd_chain, "FORWARD", "-I", lines))
        nat = [r for r in pol["nat"] if r["family"] == family]
        if nat:
            lines = []
            for r in nat:
                match = ["-s", r["source"]]
                if r["destination"]:
                    match += ["-d", r["destination"]]
                if r["oif"]:
                    match += ["-o", "%i" if r["oif"] == interface else r["oif"]]
                lines.append("%s -t nat -A %s %s -j MASQUERADE" % (ipt, nat_chain, " ".join(match)))
            # -A: an administrator's own SNAT placed earlier keeps precedence
            blocks.append(("-t nat ", nat_chain, "POSTROUTING", "-A", lines))
        if family in pol["families"]:
            blocks.extend(_ipt_access_blocks(pol, family, ipt))
        family_down = []
        for table, chain, parent, how, lines in blocks:
            up.append("%s %s-N %s 2>/dev/null || %s %s-F %s" % (ipt, table, chain, ipt, table, chain))
            up.extend(lines)
            up.append("%s %s-C %s -j %s 2>/dev/null || %s %s%s %s -j %s"
                      % (ipt, table, parent, chain, ipt, table, how, parent, chain))
            family_down[:0] = [
                "while %s %s-D %s -j %s 2>/dev/null; do :; done" % (ipt, table, parent, chain),
                "%s %s-F %s 2>/dev/null || true" % (ipt, table, chain),
                "%s %s-X %s 2>/dev/null || true" % (ipt, table, chain),
            ]
        down[:0] = family_down
    return up, down


def iptables_objects(interface, families=FAMILIES, kinds=("FWD", "NAT")):
    """Names of the chains iptables_teardown removes, as ``<family> <table> <chain>``, same order."""
    check_ifname(interface, "interface")
    return ["%s %s %s" % (family, "nat" if kind == "NAT" else "filter", iptables_chain(interface, kind).replace("%i", interface))
            for family in families for kind in kinds]


def iptables_teardown(interface, families=FAMILIES, kinds=("FWD", "NAT")):
    """Shell snippets removing every chain this module may have created for ``interface``.

    Each snippet prints ``removed`` when it removed something (for ``changed_when``) and is safe
    to run when nothing is there. Chain names are literal here (no wg-quick ``%i``).
    """
    check_ifname(interface, "interface")
    out = []
    for family in families:
        ipt = _IPT[family] + " -w"
        for kind in kinds:
            table, parent = ("-t nat ", "POSTROUTING") if kind == "NAT" else ("", _IPT_PARENT[kind])
            chain = iptables_chain(interface, kind).replace("%i", interface)
            out.append(
                "if %s %s-S %s >/dev/null 2>&1; then "
                "while %s %s-D %s -j %s 2>/dev/null; do :; done; "
                "%s %s-F %s && %s %s-X %s && echo removed; fi"
                % (ipt, table, chain, ipt, table, parent, chain, ipt, table, chain, ipt, table, chain))
    return out


# ----------------------------------------------------------------------------- nftables

def _nft_match(rule, families):
    parts = []
    if rule["family"] and len(families) > 1:
        pass  # both families forwarded: an address match (if any) already pins the family
    elif rule["family"] and not (rule.get("saddr") or rule.get("daddr")):
        parts.append("meta nfproto %s" % rule["family"])
    if rule.get("iif"):
        parts.append('iifname "%s"' % rule["iif"])
    if rule.get("oif"):
        parts.append('oifname "%s"' % rule["oif"])
    if rule.get("saddr"):
        parts.append("%s saddr %s" % (_NFT_ADDR[rule["family"]], rule["saddr"]))
    if rule.get("daddr"):
        parts.append("%s daddr %s" % (_NFT_ADDR[rule["family"]], rule["daddr"]))
    if rule.get("established"):
        parts.append("ct state established,related")
    return parts


def nft_forward_rules(pol):
    """The forward accepts of a policy as nft rule strings (families merged where identical)."""
    rules = {}   # dict as an ordered set: first occurrence wins, linear in the number of rules
    for rule in pol["forward"]:
        text = " ".join(_nft_match(rule, pol["families"]) + ["accept"])
        rules.setdefault(text, None)
    return list(rules)


def nft_nat_rules(pol):
    rules = []
    for rule in pol["nat"]:
        addr = _NFT_ADDR[rule["family"]]
        parts = ['oifname "%s"' % rule["oif"]] if rule["oif"] else []
        parts.append("%s saddr %s" % (addr, rule["source"]))
        if rule["destination"]:
            parts.append("%s daddr %s" % (addr, rule["destination"]))
        rules.append(" ".join(parts + ["masquerade"]))
    return rules


def _replace_table(table, header, chains):
    lines = ["#!/usr/sbin/nft -f"] + ["# " + h for h in header] + [
        "",
        "# Declaring then deleting the table makes loading this file an atomic replace.",
        "table inet %s" % table,
        "delete table inet %s" % table,
        "",
        "table inet %s {" % table,
    ]
    first = True
    for chain in chains:
        if not first:
            lines.append("")
        first = False
        lines.extend("\t" + line if line else "" for line in chain)
    lines.append("}")
    return "\n".join(lines) + "\n"


def nft_ruleset(pol):
    """Rules file for the interface table, or None when there is nothing to install."""
    fwd = nft_forward_rules(pol)
    nat = nft_nat_rules(pol)
    access = nft_access_chains(pol)
    if not fwd and not nat and not access:
        return None
    interface = pol["interface"]
    chains = []
    if fwd:
        chains.append(["chain forward {",
                       "\t# accounting and intent: an accept here cannot override a drop in",
                       "\t# another table (see the firewall role README)",
                       "\ttype filter hook forward priority filter; policy accept;"]
                      + ["\t%s" % r.replace(" accept", " counter accept") for r in fwd] + ["}"])
    if nat:
        chains.append(["chain postrouting {",
                       "\ttype nat hook postrouting priority srcnat; policy accept;"]
                      + ["\t%s" % r.replace(" masquerade", " counter masquerade") for r in nat]
                      + ["}"])
    chains.extend(access)
    header = ["Managed by Ansible (netfleet.wireguard.wireguard_firewall): forwarding and NAT for %s." % interface,
              "Loaded by PostUp of %s, removed by its PostDown." % _paths.conf(interface)]
    return _replace_table(nft_table_name(interface), header, chains)


def nft_teardown(interface):
    """Command deleting the interface table; succeeds whether or not the table exists."""
    table = nft_table_name(interface)
    return "nft 'table inet %s; delete table inet %s'" % (table, table)


# ---------------------------------------------------------------------------- entry point

def build_hooks(entry, backend, egress_interface=None, nft_path=None, host=None):
    """wg-quick hook lines for one host.

    Returns ``{"post_up", "post_down", "backend", "nft_path", "nft_ruleset", "nft_table",
    "cleanup", "cleanup_objects"}``. ``nft_ruleset`` is the file content to write at ``nft_path`` (nftables backend
    with rules only, else None). ``cleanup`` lists shell snippets that remove what this module
    installs for the interface with the *other* backend, or with either backend when the host
    needs no rules; each prints ``removed`` when it changed something. ``cleanup_objects`` names,
    in the same order, the object each snippet removes (``<family> <table> <chain>`` for iptables,
    ``inet <table>`` for nftables), so a caller that knows what is loaded runs only the needed ones.
    ``access_cleanup``/``access_cleanup_objects``: the same for the iptables chains of ``wireguard_policy``
    (``NETFLEET-<if>-POL``/``-IN``) this configuration does not use.
    """
    where = "%s: " % host if host else ""
    if backend not in BACKENDS:
        raise ValueError("%swireguard_firewall_backend must be one of %s, got %r"
                         % (where, ", ".join(BACKENDS), backend))
    pol = policy(entry, egress_interface, host=host)
    interface = pol["interface"]
    table = nft_table_name(interface)
    result = {"post_up": [], "post_down": [], "backend": backend, "nft_path": None,
              "nft_ruleset": None, "nft_table": table, "cleanup": [], "cleanup_objects": []}
    has_rules = bool(pol["forward"] or pol["nat"] or pol["access"])
    # the policy chains of the iptables backend, where this configuration does not use them
    enforced = pol["families"] if backend == "iptables" and pol["access"] else []
    unused = [f for f in FAMILIES if f not in enforced]
    result["access_cleanup"] = iptables_teardown(interface, unused, ACCESS_KINDS)
    result["access_cleanup_objects"] = iptables_objects(interface, unused, ACCESS_KINDS)
    ipt_cleanup = iptables_teardown(interface)
    ipt_objects = iptables_objects(interface)
    nft_object = "inet %s" % table
    nft_cleanup = ("if nft list table inet %s >/dev/null 2>&1; then %s && echo removed; fi"
                   % (table, nft_teardown(interface)))
    if not has_rules:
        result["cleanup"] = ipt_cleanup + [nft_cleanup]
        result["cleanup_objects"] = ipt_objects + [nft_object]
        return result
    if backend == "iptables":
        result["post_up"], result["post_down"] = _iptables_hooks(pol)
        # chains of a family/kind this plan no longer uses, and the nftables table
        used = {(r["family"], "FWD") for r in pol["forward"]} | {(r["family"], "NAT") for r in pol["nat"]}
        stale, stale_objects = [], []
        for family in FAMILIES:
            for kind in ("FWD", "NAT"):
                if (family, kind) not in used:
                    stale.extend(iptables_teardown(interface, (family,), (kind,)))
                    stale_objects.extend(iptables_objects(interface, (family,), (kind,)))
        result["cleanup"] = stale + [nft_cleanup]
        result["cleanup_objects"] = stale_objects + [nft_object]
        return result
    path = nft_path or default_nft_path(interface)
    if not isinstance(path, str) or not path.startswith("/") or any(c.isspace() or c in "'\"\\;$`" for c in path):
        raise ValueError("%swireguard_firewall_nft_path must be an absolute path without blanks or "
                         "shell characters, got %r" % (where, path))
    result["nft_path"] = path
    result["nft_ruleset"] = nft_ruleset(pol)
    result["post_up"] = ["nft -f %s" % path]
    result["post_down"] = [nft_teardown(interface)]
    result["cleanup"] = ipt_cleanup
    result["cleanup_objects"] = ipt_objects
    return result


# ---------------------------------------------------------------------- hardened posture

def _ports(values, what):
    out = []
    for value in values or []:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
            raise ValueError("%s: %r is not a port number (1-65535)" % (what, value))
        if value not in out:
            out.append(value)
    return out


def _set_elements(values):
    return ", ".join(values)


def hardened_ruleset(entry, egress_interface=None, ssh_sources=(), ssh_ports=(22,),
                     allow_tunnel_input=True, tcp_ports=(), udp_ports=(), host=None):
    """Persistent default-drop ruleset (table ``inet netfleet_guard``) for the host.

    Input: loopback, established/related, essential ICMP/ICMPv6 (echo rate-limited), DHCPv6
    replies, the WireGuard listen port, SSH only from ``ssh_sources`` on ``ssh_ports``, optional
    extra TCP/UDP ports, and (``allow_tunnel_input``) anything arriving through the tunnel.
    Forward: established/related plus exactly the accepts the topology needs (same as the hooks).
    """
    where = "%s: " % host if host else ""
    pol = policy(entry, egress_interface, host=host)
    interface = pol["interface"]
    listen_port = entry.get("listen_port")
    if listen_port is not None:
        listen_port = _ports([listen_port], where + "plan listen_port")[0]
    ssh_ports = _ports(ssh_ports, where + "wireguard_firewall_ssh_port")
    if not ssh_ports:
        raise ValueError("%swireguard_firewall_ssh_port: at least one SSH port is needed" % where)
    tcp_ports = _ports(tcp_ports, where + "wireguard_firewall_allowed_tcp_ports")
    udp_ports = _ports(udp_ports, where + "wireguard_firewall_allowed_udp_ports")
    if not isinstance(ssh_sources, (list, tuple)):
        raise ValueError("%swireguard_firewall_ssh_sources must be a list, got %r" % (where, ssh_sources))
    sources = {"ipv4": [], "ipv6": []}
    for value in ssh_sources:
        family, text = _address(value, where + "wireguard_firewall_ssh_sources")
        if text not in sources[family]:
            sources[family].append(text)
    # interval sets refuse overlapping elements: keep only the widest prefixes
    for family in FAMILIES:
        nets = netaddr.cidr_merge(sources[family]) if sources[family] else []
        sources[family] = [str(n.ip) if n.size == 1 else str(n.cidr) for n in nets]

    ssh = "tcp dport %s" % (ssh_ports[0] if len(ssh_ports) == 1
                            else "{ %s }" % ", ".join(str(p) for p in ssh_ports))
    sets, input_rules = [], [
        'iif "lo" accept',
        "ct state established,related accept",
        "ct state invalid drop",
        "meta l4proto icmp icmp type { destination-unreachable, time-exceeded, parameter-problem } accept",
        "meta l4proto icmp icmp type echo-request limit rate 20/second burst 50 packets accept",
        "meta l4proto ipv6-icmp icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, "
        "parameter-problem, nd-router-solicit, nd-router-advert, nd-neighbor-solicit, "
        "nd-neighbor-advert, mld-listener-query } accept",
        "meta l4proto ipv6-icmp icmpv6 type echo-request limit rate 20/second burst 50 packets accept",
        "ip6 saddr fe80::/10 udp dport 546 accept",
    ]
    if listen_port is not None:
        input_rules.append("udp dport %d accept" % listen_port)
    for family, name in (("ipv4", "ssh_ipv4"), ("ipv6", "ssh_ipv6")):
        if sources[family]:
            addr_type = "ipv4_addr" if family == "ipv4" else "ipv6_addr"
            sets.append(["set %s {" % name, "\ttype %s" % addr_type, "\tflags interval",
                         "\telements = { %s }" % _set_elements(sources[family]), "}"])
            input_rules.append("%s saddr @%s %s accept" % (_NFT_ADDR[family], name, ssh))
    if allow_tunnel_input:
        input_rules.append('iifname "%s" accept' % interface)
    if tcp_ports:
        input_rules.append("tcp dport { %s } accept" % ", ".join(str(p) for p in tcp_ports))
    if udp_ports:
        input_rules.append("udp dport { %s } accept" % ", ".join(str(p) for p in udp_ports))
    input_rules.append("counter comment \"dropped by policy\"")

    forward_rules = ["ct state established,related accept", "ct state invalid drop"]
    forward_rules += nft_forward_rules(pol)
    forward_rules.append("counter comment \"dropped by policy\"")

    chains = sets + [
        ["chain input {", "\ttype filter hook input priority filter; policy drop;"]
        + ["\t" + r for r in input_rules] + ["}"],
        ["chain forward {", "\ttype filter hook forward priority filter; policy drop;"]
        + ["\t" + r for r in forward_rules] + ["}"],
    ]
    header = ["Managed by Ansible (netfleet.wireguard.wireguard_firewall): hardened posture (default drop).",
              "Loaded by netfleet-wireguard-guard.service; other tables are left alone."]
    return _replace_table(GUARD_TABLE, header, chains)


def guard_teardown():
    return "nft 'table inet %s; delete table inet %s'" % (GUARD_TABLE, GUARD_TABLE)
