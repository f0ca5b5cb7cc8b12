# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import re

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _hooks as h

from hooks_cases import case, entry

BACKENDS = ("iptables", "nftables")

# Truth table: for each seed topology, what the generated rules must and must not do.
# Each marker is checked against the iptables lines (with %i expanded to wg0) or the nft ruleset.
EXPECT = {
    "full_tunnel_hub": {
        "iptables": {
            "present": ["iptables -w -A NETFLEET-wg0-FWD -i wg0 -o eth0 -j ACCEPT",
                        "iptables -w -A NETFLEET-wg0-FWD -i eth0 -o wg0 -m conntrack "
                        "--ctstate RELATED,ESTABLISHED -j ACCEPT",
                        "iptables -w -A NETFLEET-wg0-FWD -i wg0 -o wg0 -j ACCEPT",
                        "iptables -w -t nat -A NETFLEET-wg0-NAT -s 10.0.0.0/24 -o eth0 -j MASQUERADE"],
            "absent": ["ip6tables"],
        },
        "nftables": {
            "present": ['iifname "wg0" oifname "eth0" counter accept',
                        'iifname "eth0" oifname "wg0" ct state established,related counter accept',
                        'oifname "eth0" ip saddr 10.0.0.0/24 counter masquerade',
                        "meta nfproto ipv4"],
            "absent": ["ip6 saddr"],
        },
    },
    "full_tunnel_hub_dual": {
        "iptables": {
            "present": ["ip6tables -w -t nat -A NETFLEET-wg0-NAT -s fd00:0:0:1::/64 -o eth0 -j MASQUERADE",
                        "ip6tables -w -A NETFLEET-wg0-FWD -i wg0 -o eth0 -j ACCEPT",
                        "iptables -w -t nat -A NETFLEET-wg0-NAT -s 10.0.0.0/24 -o eth0 -j MASQUERADE"],
            "absent": ["-i wg0 -o wg0"],
        },
        "nftables": {
            "present": ['oifname "eth0" ip6 saddr fd00:0:0:1::/64 counter masquerade',
                        'oifname "eth0" ip saddr 10.0.0.0/24 counter masquerade'],
            "absent": ["meta nfproto"],
        },
    },
    "full_tunnel_client": {"iptables": {"present": [], "absent": []},
                           "nftables": {"present": [], "absent": []}},
    "mesh_member": {"iptables": {"present": [], "absent": []},
                    "nftables": {"present": [], "absent": []}},
    "site_gateway": {
        "iptables": {
            "present": ["iptables -w -A NETFLEET-wg0-FWD -d 10.0.1.0/24 -i wg0 -j ACCEPT",
                        "iptables -w -A NETFLEET-wg0-FWD -s 10.0.1.0/24 -o wg0 -j ACCEPT"],
            "absent": ["MASQUERADE", "-t nat", "eth0", "ip6tables"],
        },
        "nftables": {
            "present": ['iifname "wg0" ip daddr 10.0.1.0/24 counter accept',
                        'oifname "wg0" ip saddr 10.0.1.0/24 counter accept'],
            "absent": ["masquerade", "postrouting", "eth0"],
        },
    },
    # matched by the own LAN's prefix: the egress (default-route) interface may be the WAN
    "site_gateway_nat": {
        "iptables": {
            "present": ["iptables -w -t nat -A NETFLEET-wg0-NAT -s 10.0.2.0/24 -d 10.0.1.0/24 -j MASQUERADE",
                        "iptables -w -A NETFLEET-wg0-FWD -d 10.0.1.0/24 -i wg0 -j ACCEPT"],
            "absent": ["10.0.0.0", "ip6tables", "eth0"],
        },
        "nftables": {
            "present": ["\tip saddr 10.0.2.0/24 ip daddr 10.0.1.0/24 counter masquerade"],
            "absent": ["ip6 saddr", "eth0"],
        },
    },
    "bastion": {
        "iptables": {
            "present": ["iptables -w -A NETFLEET-wg0-FWD -i wg0 -o wg0 -j ACCEPT"],
            "absent": ["MASQUERADE", "-t nat", "eth0", "ip6tables"],
        },
        "nftables": {
            "present": ['meta nfproto ipv4 iifname "wg0" oifname "wg0" counter accept'],
            "absent": ["masquerade", "eth0"],
        },
    },
}

ROUTES = {"full_tunnel_hub", "full_tunnel_hub_dual", "site_gateway", "site_gateway_nat", "bastion"}


def expand(lines, interface="wg0"):
    return [line.replace("%i", interface) for line in lines]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("topology", sorted(EXPECT))
def test_truth_table(topology, backend):
    res = h.build_hooks(case(topology), backend, egress_interface="eth0")
    assert res["backend"] == backend
    if topology not in ROUTES:
        assert res["post_up"] == [] and res["post_down"] == []
        assert res["nft_ruleset"] is None and res["nft_path"] is None
        return
    assert res["post_up"] and res["post_down"]
    if backend == "iptables":
        text = "\n".join(expand(res["post_up"]))
        assert res["nft_ruleset"] is None
    else:
        text = res["nft_ruleset"]
        assert res["post_up"] == ["nft -f /etc/wireguard/wg0.nft"]
        assert res["post_down"] == ["nft 'table inet netfleet_wg_wg0; delete table inet netfleet_wg_wg0'"]
    for marker in EXPECT[topology][backend]["present"]:
        assert marker in text, marker
    for marker in EXPECT[topology][backend]["absent"]:
        assert marker not in text, marker


@pytest.mark.parametrize("topology", sorted(ROUTES))
def test_iptables_post_down_undoes_post_up(topology):
    res = h.build_hooks(case(topology), "iptables", egress_interface="eth0")
    up, down = res["post_up"], res["post_down"]
    created = []
    for line in up:
        m = re.match(r"^(ip6?tables) -w (-t nat |)-N (\S+) 2>/dev/null \|\| \1 -w \2-F \3$", line)
        if m:
            created.append((m.group(1), m.group(2) or "", m.group(3)))
    assert created, up
    jumps = [line for line in up if " -j NETFLEET-%i-" in line and " -C " in line]
    # every jump is guarded by -C so a repeated PostUp never duplicates it
    assert len(jumps) == len(created)
    for ipt, table, chain in created:
        parent = "POSTROUTING" if table else "FORWARD"
        assert "while %s -w %s-D %s -j %s 2>/dev/null; do :; done" % (ipt, table, parent, chain) in down
        assert "%s -w %s-X %s 2>/dev/null || true" % (ipt, table, chain) in down
        flush = down.index("%s -w %s-F %s 2>/dev/null || true" % (ipt, table, chain))
        delete = down.index("%s -w %s-X %s 2>/dev/null || true" % (ipt, table, chain))
        unjump = down.index("while %s -w %s-D %s -j %s 2>/dev/null; do :; done" % (ipt, table, parent, chain))
        assert unjump < flush < delete
    # PostDown tears chains down in the reverse order of their creation
    order_down = []
    for line in down:
        m = re.match(r"^(ip6?tables) -w (-t nat )?-X (\S+)", line)
        if m:
            order_down.append((m.group(1), m.group(2) or "", m.group(3)))
    assert order_down == list(reversed(created))
    # nothing in PostDown refers to rule contents (addresses, interfaces other than chains)
    assert not any(re.search(r"MASQUERADE|ACCEPT|-s |-d |-o |-i ", line) for line in down)


@pytest.mark.parametrize("topology", sorted(ROUTES))
def test_rules_do_not_depend_on_egress_for_teardown(topology):
    a = h.build_hooks(case(topology), "iptables", egress_interface="eth0")
    b = h.build_hooks(case(topology), "iptables", egress_interface="ens3")
    assert a["post_down"] == b["post_down"]
    n1 = h.build_hooks(case(topology), "nftables", egress_interface="eth0")
    n2 = h.build_hooks(case(topology), "nftables", egress_interface="ens3")
    assert n1["post_down"] == n2["post_down"] and n1["post_up"] == n2["post_up"]


def test_nft_ruleset_is_an_atomic_replace():
    text = h.build_hooks(case("full_tunnel_hub"), "nftables", egress_interface="eth0")["nft_ruleset"]
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines[:3] == ["table inet netfleet_wg_wg0", "delete table inet netfleet_wg_wg0",
                         "table inet netfleet_wg_wg0 {"]
    assert "type nat hook postrouting priority srcnat; policy accept;" in text
    assert "type filter hook forward priority filter; policy accept;" in text
    assert text.endswith("}\n")


def test_nft_bastion_has_no_nat_chain():
    text = h.build_hooks(case("bastion"), "nftables")["nft_ruleset"]
    assert "chain postrouting" not in text and "chain forward" in text


def test_egress_not_needed_where_not_used():
    # bastion, routed gateway and site NAT (matched by destination) never need an egress interface
    for name in ("bastion", "site_gateway", "site_gateway_nat", "mesh_member"):
        for backend in BACKENDS:
            h.build_hooks(case(name), backend)


@pytest.mark.parametrize("name", ["full_tunnel_hub", "site_gateway_nat"])
def test_missing_egress_is_a_clear_error(name):
    e = case(name)
    e["routing"]["masquerade"][0].pop("destination", None)   # matched by interface: needs one
    with pytest.raises(ValueError, match=r"^vps1: .*wireguard_egress_interface"):
        h.build_hooks(e, "iptables", host="vps1")


def test_plan_egress_wins_over_resolved():
    e = case("full_tunnel_hub")
    e["routing"]["masquerade"][0]["egress_interface"] = "ens5"
    text = "\n".join(h.build_hooks(e, "iptables", egress_interface="eth0")["post_up"])
    assert "-s 10.0.0.0/24 -o ens5 -j MASQUERADE" in text
    assert "-o eth0 -j MASQUERADE" not in text
    # the forward accept still uses the resolved egress
    assert "-i %i -o eth0 -j ACCEPT" in text


def test_masquerade_destination_is_matched_instead_of_an_interface():
    # site NAT: the LAN interface is unknown and the resolved egress is the WAN, so no -o / oifname
    e = case("site_gateway_nat")
    ipt = "\n".join(h.build_hooks(e, "iptables", egress_interface="eth1")["post_up"])
    assert "-s 10.0.2.0/24 -d 10.0.1.0/24 -j MASQUERADE" in ipt
    assert "-o eth1" not in ipt
    nft = h.build_hooks(e, "nftables", egress_interface="eth1")["nft_ruleset"]
    assert "\tip saddr 10.0.2.0/24 ip daddr 10.0.1.0/24 counter masquerade" in nft
    assert "eth1" not in nft
    # an entry naming its interface as well gets both matches
    e["routing"]["masquerade"][0]["egress_interface"] = "lan0"
    ipt = "\n".join(h.build_hooks(e, "iptables")["post_up"])
    assert "-s 10.0.2.0/24 -d 10.0.1.0/24 -o lan0 -j MASQUERADE" in ipt
    nft = h.build_hooks(e, "nftables")["nft_ruleset"]
    assert 'oifname "lan0" ip saddr 10.0.2.0/24 ip daddr 10.0.1.0/24 counter masquerade' in nft


def test_ipv6_lan_on_dual_stack_gateway():
    e = entry(forward_ipv4=True, forward_ipv6=True, lan_subnets=["10.0.1.0/24", "2001:db8:1::/64"])
    ipt = h.build_hooks(e, "iptables")["post_up"]
    assert "ip6tables -w -A NETFLEET-%i-FWD -d 2001:db8:1::/64 -i %i -j ACCEPT" in ipt
    assert "iptables -w -A NETFLEET-%i-FWD -d 10.0.1.0/24 -i %i -j ACCEPT" in ipt
    assert not any("ip6tables" in line and "10.0.1.0" in line for line in ipt)
    nft = h.build_hooks(e, "nftables")["nft_ruleset"]
    assert 'iifname "wg0" ip6 daddr 2001:db8:1::/64 counter accept' in nft


def test_lan_of_unforwarded_family_is_ignored():
    e = entry(forward_ipv4=True, lan_subnets=["10.0.1.0/24", "2001:db8:1::/64"])
    lines = h.build_hooks(e, "iptables")["post_up"]
    assert not any(line.startswith("ip6tables") for line in lines)


def test_prefix_normalised():
    e = entry(forward_ipv4=True, lan_subnets=["10.0.1.7/24"])
    assert "iptables -w -A NETFLEET-%i-FWD -d 10.0.1.0/24 -i %i -j ACCEPT" in h.build_hooks(e, "iptables")["post_up"]


def test_other_interface_name_and_nft_path():
    e = case("bastion")
    e["interface"] = "wg-site"
    res = h.build_hooks(e, "nftables", nft_path="/etc/netfleet/wg-site.nft")
    assert res["post_up"] == ["nft -f /etc/netfleet/wg-site.nft"]
    assert res["nft_table"] == "netfleet_wg_wg_2dsite"
    assert 'iifname "wg-site" oifname "wg-site"' in res["nft_ruleset"]
    assert h.nft_table_name("wg=1+x.y") == "netfleet_wg_wg_3d1_2bx_2ey"


def test_no_duplicate_rules():
    e = case("full_tunnel_hub")
    e["routing"]["masquerade"].append(dict(e["routing"]["masquerade"][0]))
    e["routing"]["lan_subnets"] = ["10.0.1.0/24", "10.0.1.0/24"]
    up = h.build_hooks(e, "iptables", egress_interface="eth0")["post_up"]
    assert len(up) == len(set(up))


@pytest.mark.parametrize("topology", sorted(EXPECT))
def test_cleanup_targets_only_what_is_unused(topology):
    ipt = h.build_hooks(case(topology), "iptables", egress_interface="eth0")
    nft = h.build_hooks(case(topology), "nftables", egress_interface="eth0")
    nft_cleanup = [c for c in ipt["cleanup"] if c.startswith("if nft ")]
    if topology not in ROUTES:
        # nothing needed: both backends are cleaned
        assert len(ipt["cleanup"]) == 5 and len(nft_cleanup) == 1
        return
    assert len(nft_cleanup) == 1  # iptables backend removes a leftover nftables table
    assert all("nft " not in c for c in nft["cleanup"]) and len(nft["cleanup"]) == 4
    used = "\n".join(ipt["post_up"]).replace("%i", "wg0")
    for snippet in ipt["cleanup"]:
        if snippet.startswith("if nft"):
            continue
        chain = re.search(r"-S (NETFLEET-\S+)", snippet).group(1)
        family = snippet.split()[1]
        assert "%s -w %s-N %s" % (family, "-t nat " if chain.endswith("NAT") else "", chain) not in used


@pytest.mark.parametrize("topology", sorted(EXPECT))
@pytest.mark.parametrize("backend", ["iptables", "nftables"])
def test_cleanup_objects_name_what_each_snippet_removes(topology, backend):
    hooks = h.build_hooks(case(topology), backend, egress_interface="eth0")
    assert len(hooks["cleanup_objects"]) == len(hooks["cleanup"])
    for snippet, obj in zip(hooks["cleanup"], hooks["cleanup_objects"]):
        if obj.startswith("inet "):
            assert "nft list table %s " % obj in snippet
            continue
        family, table, chain = obj.split()
        binary = "iptables" if family == "ipv4" else "ip6tables"
        assert snippet.startswith("if %s -w %s-S %s " % (binary, "-t nat " if table == "nat" else "", chain))


def test_cleanup_snippets_report_removal():
    for snippet in h.iptables_teardown("wg0"):
        assert snippet.startswith("if ") and snippet.endswith("echo removed; fi")
        assert "%i" not in snippet


@pytest.mark.parametrize("mutate,match", [
    (lambda e: e.update(interface="this-name-is-way-too-long"), "plan interface"),
    (lambda e: e.update(interface="wg 0"), "plan interface"),
    (lambda e: e.update(routing="yes"), "plan routing must be a dict"),
    (lambda e: e["routing"].update(forward_ipv4="yes"), "routing.forward_ipv4 must be a boolean"),
    (lambda e: e["routing"].update(relay=1), "routing.relay must be a boolean"),
    (lambda e: e["routing"].update(lan_subnets="10.0.1.0/24"), "lan_subnets must be a list"),
    (lambda e: e["routing"].update(lan_subnets=["10.0.300.0/24"]), "lan_subnets"),
    (lambda e: e["routing"].update(masquerade={"x": 1}), "masquerade must be a list"),
    (lambda e: e["routing"]["masquerade"][0].update(family="inet"), r"masquerade\[0\].family"),
    (lambda e: e["routing"]["masquerade"][0].update(source="fd00::/64"), "not an ipv4 prefix"),
    (lambda e: e["routing"]["masquerade"][0].update(source=None), r"masquerade\[0\].source"),
    (lambda e: e["routing"]["masquerade"][0].update(egress_interface="eth 0"), "egress_interface"),
    (lambda e: e["routing"]["masquerade"][0].update(destination="fd00::/8"), "destination"),
    (lambda e: e["routing"]["masquerade"].append("x"), r"masquerade\[1\] must be a dict"),
])
def test_bad_plan_is_rejected(mutate, match):
    e = case("full_tunnel_hub")
    mutate(e)
    with pytest.raises(ValueError, match=match):
        h.build_hooks(e, "iptables", egress_interface="eth0", host="vps1")


@pytest.mark.parametrize("kwargs,match", [
    ({"backend": "ufw"}, "wireguard_firewall_backend"),
    ({"backend": "iptables", "egress_interface": "wg0"}, "must not be the WireGuard interface"),
    ({"backend": "iptables", "egress_interface": "e;th0"}, "wireguard_egress_interface"),
    ({"backend": "nftables", "egress_interface": "eth0", "nft_path": "relative.nft"}, "nft_path"),
    ({"backend": "nftables", "egress_interface": "eth0", "nft_path": "/tmp/a b.nft"}, "nft_path"),
    ({"backend": "nftables", "egress_interface": "eth0", "nft_path": "/tmp/$(x).nft"}, "nft_path"),
])
def test_bad_arguments_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        h.build_hooks(case("full_tunnel_hub"), **kwargs)


def test_entry_must_be_a_dict():
    with pytest.raises(ValueError, match="plan entry must be a dict"):
        h.build_hooks(["wg0"], "iptables")


def test_missing_routing_means_no_rules():
    assert h.build_hooks({"interface": "wg0"}, "iptables")["post_up"] == []


# ------------------------------------------------------------------ hardened posture

def guard(name="full_tunnel_hub", **kw):
    kw.setdefault("ssh_sources", ["203.0.113.10"])
    return h.hardened_ruleset(case(name), egress_interface="eth0", **kw)


def test_guard_default_drop_and_essentials():
    text = guard()
    assert "type filter hook input priority filter; policy drop;" in text
    assert "type filter hook forward priority filter; policy drop;" in text
    for rule in ('iif "lo" accept', "ct state established,related accept", "udp dport 51820 accept",
                 "ip saddr @ssh_ipv4 tcp dport 22 accept", "nd-neighbor-solicit", "packet-too-big",
                 'iifname "wg0" accept'):
        assert rule in text, rule
    # forward chain carries exactly the topology's accepts
    fwd = text.split("chain forward {")[1]
    assert 'iifname "wg0" oifname "eth0" accept' in fwd
    assert 'iifname "wg0" oifname "wg0" accept' in fwd
    assert "masquerade" not in text


def test_guard_site_gateway_forward_only_lan():
    fwd = guard("site_gateway").split("chain forward {")[1]
    assert 'iifname "wg0" ip daddr 10.0.1.0/24 accept' in fwd
    assert "eth0" not in fwd


def test_guard_no_listen_port_no_udp_hole():
    text = guard("full_tunnel_client")
    assert "udp dport 51820" not in text
    fwd = text.split("chain forward {")[1]
    assert "iifname" not in fwd


def test_guard_ssh_sources_merged_and_split_by_family():
    text = guard(ssh_sources=["10.0.0.0/24", "10.0.0.5", "10.0.0.5/32", "2001:db8::1/128",
                              "198.51.100.7"], ssh_ports=[22, 2222])
    assert "elements = { 10.0.0.0/24, 198.51.100.7 }" in text
    assert "elements = { 2001:db8::1 }" in text
    assert "ip6 saddr @ssh_ipv6 tcp dport { 22, 2222 } accept" in text


def test_guard_without_sources_opens_no_ssh():
    text = guard(ssh_sources=[])
    assert "tcp dport 22" not in text and "set ssh_" not in text


def test_guard_options():
    text = guard(allow_tunnel_input=False, tcp_ports=[443, 443], udp_ports=[53])
    assert 'iifname "wg0" accept' not in text
    assert "tcp dport { 443 } accept" in text and "udp dport { 53 } accept" in text


@pytest.mark.parametrize("kw,match", [
    ({"ssh_sources": ["example.org"]}, "wireguard_firewall_ssh_sources"),
    ({"ssh_sources": "10.0.0.1"}, "must be a list"),
    ({"ssh_ports": [0]}, "wireguard_firewall_ssh_port"),
    ({"ssh_ports": []}, "at least one SSH port"),
    ({"tcp_ports": ["80"]}, "allowed_tcp_ports"),
    ({"udp_ports": [True]}, "allowed_udp_ports"),
])
def test_guard_bad_input(kw, match):
    with pytest.raises(ValueError, match=match):
        guard(**kw)


def test_guard_bad_listen_port():
    e = case("bastion")
    e["listen_port"] = 70000
    with pytest.raises(ValueError, match="listen_port"):
        h.hardened_ruleset(e, ssh_sources=[])


def test_planned_egress_is_used_when_none_resolved():
    e = case("full_tunnel_hub")
    e["routing"]["masquerade"][0]["egress_interface"] = "ens5"
    up = h.build_hooks(e, "iptables")["post_up"]
    assert "iptables -w -A NETFLEET-%i-FWD -i %i -o ens5 -j ACCEPT" in up
