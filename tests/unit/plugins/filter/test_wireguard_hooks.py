# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import os
import sys

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.wireguard.plugins.filter import wireguard_hooks as f

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "module_utils"))
from hooks_cases import case  # noqa: E402


def test_registered():
    assert f.FilterModule().filters()["wireguard_hooks"] is f.wireguard_hooks


def test_passes_through_to_module_utils():
    res = f.wireguard_hooks(case("full_tunnel_hub"), "iptables", egress_interface="eth0", host="vps1")
    assert "iptables -w -t nat -A NETFLEET-%i-NAT -s 10.0.0.0/24 -o eth0 -j MASQUERADE" in res["post_up"]
    assert "guard_ruleset" not in res


def test_value_error_becomes_filter_error_naming_host():
    with pytest.raises(AnsibleFilterError, match="vps1: .*wireguard_egress_interface"):
        f.wireguard_hooks(case("full_tunnel_hub"), "iptables", host="vps1")


def test_hardening_adds_guard_ruleset():
    res = f.wireguard_hooks(case("bastion"), "nftables",
                            hardening={"ssh_sources": ["203.0.113.10"], "ssh_ports": [2222]})
    assert "ip saddr @ssh_ipv4 tcp dport 2222 accept" in res["guard_ruleset"]
    assert 'iifname "wg0" oifname "wg0" accept' in res["guard_ruleset"]


def test_hardening_must_be_a_dict():
    with pytest.raises(AnsibleFilterError, match="hardening must be a dict"):
        f.wireguard_hooks(case("bastion"), "nftables", hardening=["x"])
