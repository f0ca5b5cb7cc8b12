# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine's plans for the three reference inventories, turned into hook lines.

Checks the contract between the topology engine (``routing`` block) and ``_hooks``: the plan the
engine really produces yields the rules the reference layouts need, with both backends.
"""
from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.netfleet.wireguard.plugins.module_utils import _hooks as h
from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import build_plan

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


def plan_of(name, **extra):
    base = os.path.join(REPO, "inventories", name)
    with open(os.path.join(base, "hosts.yml"), encoding="utf-8") as handle:
        hosts = yaml.safe_load(handle)["all"]["children"]["wireguard"]["hosts"]
    with open(os.path.join(base, "group_vars", "wireguard.yml"), encoding="utf-8") as handle:
        group_vars = yaml.safe_load(handle)
    hostvars = {host: dict(group_vars, **(hv or {})) for host, hv in hosts.items()}
    for host, more in extra.items():
        hostvars[host].update(more)
    return build_plan(hostvars)


def up(plan, host, backend="iptables", egress="eth0"):
    res = h.build_hooks(plan[host], backend, egress_interface=egress, host=host)
    if backend == "iptables":
        return [line.replace("%i", "wg0") for line in res["post_up"]]
    return res["nft_ruleset"] or ""


def test_full_tunnel_hub_and_client():
    plan = plan_of("full_tunnel")
    hub = up(plan, "vps")
    assert "iptables -w -t nat -A NETFLEET-wg0-NAT -s 10.0.0.0/24 -o eth0 -j MASQUERADE" in hub
    assert "iptables -w -A NETFLEET-wg0-FWD -i wg0 -o eth0 -j ACCEPT" in hub
    assert ("iptables -w -A NETFLEET-wg0-FWD -i eth0 -o wg0 -m conntrack --ctstate RELATED,ESTABLISHED "
            "-j ACCEPT") in hub
    assert 'oifname "eth0" ip saddr 10.0.0.0/24 counter masquerade' in up(plan, "vps", "nftables")
    assert up(plan, "laptop") == [] and up(plan, "laptop", "nftables") == ""


def test_full_tunnel_hub_needs_an_egress():
    plan = plan_of("full_tunnel", vps={"wireguard_egress_interface": None})
    with pytest.raises(ValueError, match="^vps: .*wireguard_egress_interface"):
        h.build_hooks(plan["vps"], "iptables", host="vps")
    # the role resolves the default-route interface and passes it in
    assert h.build_hooks(plan["vps"], "iptables", egress_interface="ens4", host="vps")["post_up"]


def test_full_tunnel_hub_egress_from_inventory():
    plan = plan_of("full_tunnel", vps={"wireguard_egress_interface": "ens3"})
    hub = up(plan, "vps", egress=None)
    assert "iptables -w -t nat -A NETFLEET-wg0-NAT -s 10.0.0.0/24 -o ens3 -j MASQUERADE" in hub


def test_site_to_site_reference_masquerades_remote_lan():
    # the reference inventory sets wireguard_site_nat (LAN hosts have no route back)
    plan = plan_of("site_to_site")
    # no egress interface needed: the rules match the own LAN's prefix, not an interface
    hq, remote = up(plan, "hq", egress=None), up(plan, "remote", egress=None)
    assert "iptables -w -t nat -A NETFLEET-wg0-NAT -s 10.0.2.0/24 -d 10.0.1.0/24 -j MASQUERADE" in hq
    assert "iptables -w -t nat -A NETFLEET-wg0-NAT -s 10.0.1.0/24 -d 10.0.2.0/24 -j MASQUERADE" in remote
    assert "iptables -w -A NETFLEET-wg0-FWD -d 10.0.1.0/24 -i wg0 -j ACCEPT" in hq
    assert not any("-s 10.0.1.0/24" in line for line in hq if "MASQUERADE" in line)
    assert not any(" -o " in line for line in hq + remote if "MASQUERADE" in line)
    nft = up(plan, "hq", "nftables", egress=None)
    assert "ip saddr 10.0.2.0/24 ip daddr 10.0.1.0/24 counter masquerade" in nft
    assert "oifname" not in nft.split("chain postrouting")[1]


def test_site_to_site_routed_without_nat():
    plan = plan_of("site_to_site", hq={"wireguard_site_nat": False}, remote={"wireguard_site_nat": False})
    hq, remote = up(plan, "hq"), up(plan, "remote")
    assert "iptables -w -A NETFLEET-wg0-FWD -d 10.0.1.0/24 -i wg0 -j ACCEPT" in hq
    assert "iptables -w -A NETFLEET-wg0-FWD -s 10.0.2.0/24 -o wg0 -j ACCEPT" in remote
    assert not any("MASQUERADE" in line for line in hq + remote)
    assert "masquerade" not in up(plan, "hq", "nftables")


def test_bastion_relays():
    plan = plan_of("bastion")
    assert "iptables -w -A NETFLEET-wg0-FWD -i wg0 -o wg0 -j ACCEPT" in up(plan, "bastion")
    assert not any("MASQUERADE" in line for line in up(plan, "bastion"))
    for gw, lan in (("hq", "10.0.1.0/24"), ("remote", "10.0.2.0/24")):
        assert "iptables -w -A NETFLEET-wg0-FWD -d %s -i wg0 -j ACCEPT" % lan in up(plan, gw)
