# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the generated hook lines for real, in a throwaway network namespace.

Proves that the lines are accepted by iptables/ip6tables/nft, that a repeated PostUp adds nothing,
that PostDown returns the firewall exactly to its previous state (administrator rules included),
that the cleanup snippets remove leftovers, and (three namespaces joined by veth pairs) that the
site-NAT rule translates traffic leaving by a LAN interface that is not the default route. Needs root, ``ip netns`` and the firewall tools;
each test skips with the reason when something is missing.
"""
from __future__ import annotations

import itertools
import os
import shutil
import subprocess

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _hooks as h

from hooks_cases import CASES, case

_COUNTER = itertools.count()
ROUTES = ["full_tunnel_hub", "full_tunnel_hub_dual", "site_gateway", "site_gateway_nat", "bastion"]

# wg-quick runs each hook as: hook="${hook//%i/$INTERFACE}"; (eval "$hook") under set -e
_WG_QUICK = 'set -e -o pipefail; hook="${HOOK//%i/$INTERFACE}"; (eval "$hook")'


def _missing(*tools):
    return [t for t in tools if shutil.which(t) is None]


def _skip_reason(backend):
    if os.geteuid() != 0:
        return "needs root to create a network namespace"
    tools = ["ip", "bash"] + (["iptables", "ip6tables"] if backend == "iptables" else ["nft"])
    missing = _missing(*tools)
    if missing:
        return "missing tools: %s (apt-get install --no-install-recommends iptables nftables)" % ", ".join(missing)
    return None


class Netns:
    def __init__(self):
        self.name = "h4t%d_%d" % (os.getpid(), next(_COUNTER))
        res = subprocess.run(["ip", "netns", "add", self.name], capture_output=True, text=True, check=False)
        if res.returncode:
            pytest.skip("cannot create a network namespace: %s" % res.stderr.strip())

    def sh(self, script, env=None, check=True):
        res = subprocess.run(["ip", "netns", "exec", self.name, "bash", "-c", script],
                             capture_output=True, text=True, check=False,
                             env=dict(os.environ, **(env or {})))
        if check and res.returncode:
            raise AssertionError("%s failed (%d): %s" % (script, res.returncode, res.stderr))
        return res

    def hook(self, line, interface="wg0"):
        return self.sh(_WG_QUICK, env={"HOOK": line, "INTERFACE": interface})

    def hooks(self, lines):
        for line in lines:
            self.hook(line)

    def iptables_state(self):
        return self.sh("iptables -w -S; iptables -w -t nat -S; ip6tables -w -S; ip6tables -w -t nat -S").stdout

    def nft_state(self):
        return self.sh("nft list ruleset").stdout

    def close(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, check=False)


@pytest.fixture
def netns_for(request):
    created = []

    def make(backend):
        reason = _skip_reason(backend)
        if reason:
            pytest.skip(reason)
        ns = Netns()
        created.append(ns)
        return ns

    yield make
    for ns in created:
        ns.close()


def _admin_rules(ns, backend):
    """Rules an administrator already has: they must survive our up/down untouched."""
    if backend == "iptables":
        ns.sh("iptables -w -A FORWARD -s 192.0.2.0/24 -j DROP; "
              "iptables -w -t nat -A POSTROUTING -s 192.0.2.0/24 -o eth9 -j SNAT --to-source 198.51.100.1; "
              "ip6tables -w -A FORWARD -s 2001:db8:9::/48 -j DROP")
    else:
        ns.sh("nft 'add table inet admin; add chain inet admin admfwd { type filter hook forward priority 10; }; "
              "add rule inet admin admfwd ip saddr 192.0.2.0/24 drop'")


@pytest.mark.parametrize("topology", ROUTES)
def test_iptables_up_down_cycle(netns_for, topology):
    ns = netns_for("iptables")
    _admin_rules(ns, "iptables")
    before = ns.iptables_state()
    res = h.build_hooks(case(topology), "iptables", egress_interface="eth0")
    ns.hooks(res["post_up"])
    up = ns.iptables_state()
    assert "-A NETFLEET-wg0-" in up
    # our jump comes first in FORWARD, the administrator's DROP is still there after it
    forward = [line for line in up.splitlines() if line.startswith("-A FORWARD")]
    if "-N NETFLEET-wg0-FWD" in up:
        assert forward[0] == "-A FORWARD -j NETFLEET-wg0-FWD"
    assert "-A FORWARD -s 192.0.2.0/24 -j DROP" in forward
    for line in res["post_up"]:
        if "MASQUERADE" in line or " -j ACCEPT" in line:
            rule = line.split(" -w ", 1)[1].replace("-t nat ", "").replace("%i", "wg0")
            assert rule in up, rule
    ns.hooks(res["post_up"])  # wg-quick up again (e.g. after a crash without PostDown)
    assert ns.iptables_state() == up
    ns.hooks(res["post_down"])
    assert ns.iptables_state() == before
    ns.hooks(res["post_down"])  # down twice: harmless
    assert ns.iptables_state() == before


@pytest.mark.parametrize("topology", ROUTES)
def test_nftables_up_down_cycle(netns_for, topology, tmp_path):
    ns = netns_for("nftables")
    _admin_rules(ns, "nftables")
    before = ns.nft_state()
    path = str(tmp_path / "wg0.nft")
    res = h.build_hooks(case(topology), "nftables", egress_interface="eth0", nft_path=path)
    with open(path, "w") as f:
        f.write(res["nft_ruleset"])
    ns.sh("nft -c -f %s" % path)
    ns.hooks(res["post_up"])
    up = ns.nft_state()
    assert "table inet netfleet_wg_wg0" in up and "table inet admin" in up
    for rule in h.nft_forward_rules(h.policy(case(topology), "eth0")):
        assert rule.replace(" accept", " counter packets 0 bytes 0 accept") in up, rule
    ns.hooks(res["post_up"])
    assert ns.nft_state() == up
    ns.hooks(res["post_down"])
    assert ns.nft_state() == before
    ns.hooks(res["post_down"])
    assert ns.nft_state() == before


def test_iptables_teardown_ignores_changed_contents(netns_for):
    """Rules written for egress eth0 are removed by the PostDown of a config that says ens3."""
    ns = netns_for("iptables")
    before = ns.iptables_state()
    old = h.build_hooks(case("full_tunnel_hub_dual"), "iptables", egress_interface="eth0")
    new = h.build_hooks(case("full_tunnel_hub_dual"), "iptables", egress_interface="ens3")
    ns.hooks(old["post_up"])
    ns.hooks(new["post_down"])
    assert ns.iptables_state() == before


def test_nft_reload_replaces_running_rules(netns_for, tmp_path):
    """Loading a changed file while the interface is up replaces the table, nothing accumulates."""
    ns = netns_for("nftables")
    path = str(tmp_path / "wg0.nft")
    old = h.build_hooks(case("full_tunnel_hub"), "nftables", egress_interface="eth0", nft_path=path)
    new = h.build_hooks(case("full_tunnel_hub"), "nftables", egress_interface="ens3", nft_path=path)
    with open(path, "w") as f:
        f.write(old["nft_ruleset"])
    ns.hooks(old["post_up"])
    with open(path, "w") as f:
        f.write(new["nft_ruleset"])
    ns.sh("nft -f %s" % path)
    state = ns.nft_state()
    assert '"ens3"' in state and '"eth0"' not in state


@pytest.mark.parametrize("topology", ["full_tunnel_hub_dual", "site_gateway"])
def test_cleanup_removes_other_backend_leftovers(netns_for, topology, tmp_path):
    ns = netns_for("iptables")
    if _missing("nft"):
        pytest.skip("missing tools: nft")
    before_ipt, before_nft = ns.iptables_state(), ns.nft_state()
    ipt = h.build_hooks(case(topology), "iptables", egress_interface="eth0")
    path = str(tmp_path / "wg0.nft")
    nft = h.build_hooks(case(topology), "nftables", egress_interface="eth0", nft_path=path)
    ns.hooks(ipt["post_up"])
    # switching to nftables: the cleanup removes the iptables chains and says so
    outputs = [ns.sh(snippet).stdout for snippet in nft["cleanup"]]
    assert "removed" in "".join(outputs)
    assert ns.iptables_state() == before_ipt
    assert all(ns.sh(snippet).stdout == "" for snippet in nft["cleanup"])
    # switching back: the nftables table is removed by the iptables configuration's cleanup
    with open(path, "w") as f:
        f.write(nft["nft_ruleset"])
    ns.hooks(nft["post_up"])
    outputs = [ns.sh(snippet).stdout for snippet in ipt["cleanup"]]
    assert outputs.count("removed\n") == 1
    assert "netfleet_wg_wg0" not in ns.nft_state()
    # a host that no longer routes: every snippet is a no-op on a clean namespace
    none = h.build_hooks(CASES["mesh_member"], "nftables")
    assert all(ns.sh(snippet).stdout == "" for snippet in none["cleanup"])
    assert "NETFLEET" not in ns.iptables_state() and "netfleet" not in ns.nft_state().replace(before_nft, "")


@pytest.mark.parametrize("topology", ["full_tunnel_hub_dual", "site_gateway", "bastion", "full_tunnel_client"])
def test_hardened_ruleset_loads_and_reloads(netns_for, topology, tmp_path):
    ns = netns_for("nftables")
    before = ns.nft_state()
    path = str(tmp_path / "guard.nft")
    text = h.hardened_ruleset(case(topology), egress_interface="eth0",
                              ssh_sources=["203.0.113.10", "10.0.0.0/24", "2001:db8::/64"],
                              tcp_ports=[443], udp_ports=[53])
    with open(path, "w") as f:
        f.write(text)
    ns.sh("nft -c -f %s" % path)
    ns.sh("nft -f %s" % path)
    state = ns.nft_state()
    assert "table inet netfleet_guard" in state and "policy drop" in state
    ns.sh("nft -f %s" % path)
    assert ns.nft_state() == state
    ns.sh(h.guard_teardown())
    assert ns.nft_state() == before
    ns.sh(h.guard_teardown())


# A site gateway whose default route is its WAN (wan0), with the LAN on its own card (lan0). The
# "tunnel" is a veth named wg0 (the rules only see names and addresses); the remote end holds the
# other site's LAN address 10.0.2.5. The LAN host has no route back to 10.0.2.0/24, so it can only
# answer a masqueraded ping (the reply then goes to the gateway's own LAN address).
_SITE_GW = """
ip link add wg0 type veth peer name r0 && ip link set r0 netns {remote}
ip link add lan0 type veth peer name l0 && ip link set l0 netns {lan}
ip link add wan0 type veth peer name wan1
ip addr add 10.100.0.1/24 dev wg0 && ip addr add 10.0.1.1/24 dev lan0 && ip addr add 192.0.2.1/24 dev wan0
for dev in lo wg0 lan0 wan0 wan1; do ip link set $dev up; done
ip route add default via 192.0.2.254 dev wan0
ip route add 10.0.2.0/24 via 10.100.0.2 dev wg0
echo 1 > /proc/sys/net/ipv4/ip_forward
"""
_SITE_REMOTE = """
ip addr add 10.100.0.2/24 dev r0 && ip addr add 10.0.2.5/32 dev r0
ip link set lo up && ip link set r0 up
ip route add 10.0.1.0/24 via 10.100.0.1 src 10.0.2.5
"""
_SITE_LAN = "ip addr add 10.0.1.10/24 dev l0 && ip link set lo up && ip link set l0 up"
_PING_LAN_HOST = "ping -c 1 -W 1 -I 10.0.2.5 10.0.1.10"


@pytest.mark.parametrize("backend", ["iptables", "nftables"])
def test_site_nat_translates_traffic_leaving_by_a_lan_that_is_not_the_default_route(netns_for, backend, tmp_path):
    gw, remote, lan = netns_for(backend), netns_for(backend), netns_for(backend)
    gw.sh(_SITE_GW.format(remote=remote.name, lan=lan.name))
    remote.sh(_SITE_REMOTE)
    lan.sh(_SITE_LAN)
    assert remote.sh(_PING_LAN_HOST, check=False).returncode != 0   # routed only: no way back
    # egress resolved as the role does (the default-route interface): the WAN, which must not matter
    path = str(tmp_path / "wg0.nft")
    res = h.build_hooks(case("site_gateway_nat"), backend, egress_interface="wan0", nft_path=path)
    if res["nft_ruleset"]:
        with open(path, "w") as f:
            f.write(res["nft_ruleset"])
    gw.hooks(res["post_up"])
    remote.sh(_PING_LAN_HOST)
    gw.hooks(res["post_down"])
    assert remote.sh(_PING_LAN_HOST, check=False).returncode != 0


# wireguard_policy on the same gateway: default deny, one remote host may ping the LAN host. The
# LAN host routes back through the gateway, so without the policy everything would pass.
_POLICY = {"default": "deny", "rules": [
    {"label": "rules[ping-lan]", "action": "allow", "proto": "icmp", "ports": None,
     "from": {"ipv4": ["10.0.2.5/32"], "ipv6": []}, "to": {"ipv4": ["10.0.1.10/32"], "ipv6": []}},
    {"label": "rules[ssh-gw]", "action": "allow", "proto": "tcp", "ports": [[22, 22]],
     "from": {"ipv4": ["10.100.0.2/32"], "ipv6": []}, "to": None}]}


@pytest.mark.parametrize("backend", ["iptables", "nftables"])
def test_policy_drops_what_no_rule_allows_and_lets_replies_back(netns_for, backend, tmp_path):
    gw, remote, lan = netns_for(backend), netns_for(backend), netns_for(backend)
    gw.sh(_SITE_GW.format(remote=remote.name, lan=lan.name))
    remote.sh(_SITE_REMOTE)
    lan.sh(_SITE_LAN + " && ip route add default via 10.0.1.1")
    from_lan = "ping -c 1 -W 1 10.0.2.5"
    from_tunnel_address = "ping -c 1 -W 1 -I 10.100.0.2 10.0.1.10"
    to_gateway = "ping -c 1 -W 1 10.100.0.1"
    for ns, command in ((remote, _PING_LAN_HOST), (lan, from_lan), (remote, from_tunnel_address), (remote, to_gateway)):
        ns.sh(command)                                              # routed: everything passes
    entry = dict(case("site_gateway"), access=_POLICY)
    path = str(tmp_path / "wg0.nft")
    res = h.build_hooks(entry, backend, egress_interface="wan0", nft_path=path)
    if res["nft_ruleset"]:
        with open(path, "w") as f:
            f.write(res["nft_ruleset"])
    gw.hooks(res["post_up"])
    remote.sh(_PING_LAN_HOST)                                       # allowed, and its replies come back
    assert lan.sh(from_lan, check=False).returncode != 0            # the LAN starts nothing
    assert remote.sh(from_tunnel_address, check=False).returncode != 0
    assert remote.sh(to_gateway, check=False).returncode != 0       # input from the tunnel: default deny
    gw.hooks(res["post_up"])                                        # up again: nothing doubles
    remote.sh(_PING_LAN_HOST)
    assert lan.sh(from_lan, check=False).returncode != 0
    gw.hooks(res["post_down"])
    for ns, command in ((remote, _PING_LAN_HOST), (lan, from_lan), (remote, from_tunnel_address), (remote, to_gateway)):
        ns.sh(command)


# every shape of rule on a dual-stack hub: both families, any/any, icmp, port ranges, many ports
_DUAL_POLICY = {"default": "deny", "rules": [
    {"label": "rules[v4-and-v6]", "action": "allow", "proto": "tcp", "ports": [[22, 22], [8000, 8100]],
     "from": {"ipv4": ["10.0.0.2/32"], "ipv6": ["fd00::2/128"]}, "to": {"ipv4": ["192.168.50.0/24"], "ipv6": ["fd00::/64"]}},
    {"label": "rules[ping-anything]", "action": "allow", "proto": "icmp", "ports": None, "from": None, "to": None},
    {"label": "rules[no-v6-dns]", "action": "deny", "proto": "udp", "ports": [[53, 53]], "from": None,
     "to": {"ipv4": [], "ipv6": ["fd00::1/128"]}},
    {"label": "rules[many]", "action": "allow", "proto": "udp", "ports": [[p, p] for p in range(2000, 2020)],
     "from": {"ipv4": ["10.0.0.0/24", "10.0.0.3/32"], "ipv6": []}, "to": None}]}


@pytest.mark.parametrize("backend", ["iptables", "nftables"])
def test_dual_stack_policy_lines_load_and_unload_cleanly(netns_for, backend, tmp_path):
    ns = netns_for(backend)
    before = ns.iptables_state() if backend == "iptables" else ns.nft_state()
    path = str(tmp_path / "wg0.nft")
    res = h.build_hooks(dict(case("full_tunnel_hub_dual"), access=_DUAL_POLICY), backend, egress_interface="eth0",
                        nft_path=path)
    if backend == "nftables":
        with open(path, "w") as f:
            f.write(res["nft_ruleset"])
        ns.sh("nft -c -f %s" % path)
    ns.hooks(res["post_up"])
    up = ns.iptables_state() if backend == "iptables" else ns.nft_state()
    if backend == "nftables":
        assert "ping-anything" in up and "no-v6-dns" in up and "fd00::2" in up
    else:
        assert "-A NETFLEET-wg0-POL -s fd00::2/128 -d fd00::/64 -p tcp -m multiport --dports 22,8000:8100 -j RETURN" in up
        assert "-A NETFLEET-wg0-IN -p ipv6-icmp -j RETURN" in up and "-A NETFLEET-wg0-IN -p icmp -j RETURN" in up
        assert "-A NETFLEET-wg0-POL -d fd00::1/128 -p udp -m multiport --dports 53 -j DROP" in up
    ns.hooks(res["post_up"])
    assert (ns.iptables_state() if backend == "iptables" else ns.nft_state()) == up
    ns.hooks(res["post_down"])
    assert (ns.iptables_state() if backend == "iptables" else ns.nft_state()) == before
