# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_retire and the plan: a host with wireguard_state absent leaves the network."""
from __future__ import annotations

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils._retire import split_retired
from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import PlanError, build_plan


def network(**states):
    hv = {
        "hub": {"wireguard_topology": "bastion", "wireguard_hub": "hub", "wireguard_address": "10.0.0.1/24",
                "wireguard_endpoint": "198.51.100.1"},
        "c1": {"wireguard_topology": "bastion", "wireguard_hub": "hub", "wireguard_address": "10.0.0.2/24"},
        "c2": {"wireguard_topology": "bastion", "wireguard_hub": "hub", "wireguard_address": "10.0.0.3/24"},
    }
    for host, state in states.items():
        hv[host]["wireguard_state"] = state
    return hv


def test_retired_client_leaves_every_peer_list():
    retired = []
    plan = build_plan(network(c2="absent"), retired=retired)
    assert retired == ["c2"] and sorted(plan) == ["c1", "hub"]
    assert [p["name"] for p in plan["hub"]["peers"]] == ["c1"]


def test_retired_host_variables_are_not_validated():
    hv = network(c2="absent")
    hv["c2"]["wireguard_address"] = "not an address"
    assert sorted(build_plan(hv)) == ["c1", "hub"]


def test_present_is_the_default_and_a_bad_state_names_host_and_variable():
    assert sorted(build_plan(network(c1="present"))) == ["c1", "c2", "hub"]
    with pytest.raises(PlanError, match="c1: wireguard_state: 'gone' is not one of present, absent"):
        build_plan(network(c1="gone"))


def test_the_hub_cannot_be_retired_under_its_clients():
    with pytest.raises(PlanError, match="hub: wireguard_state: absent: this host is wireguard_hub"):
        build_plan(network(hub="absent"))


def test_retiring_every_host_retires_the_network():
    retired, devices = [], {}
    assert build_plan(network(hub="absent", c1="absent", c2="absent"), retired=retired, devices=devices) == {}
    assert retired == ["c1", "c2", "hub"] and devices == {"states": {}, "profiles": {}}


def test_split_keeps_members_untouched():
    hv = network(c1="absent")
    members, retired = split_retired(hv)
    assert retired == ["c1"] and members == {"hub": hv["hub"], "c2": hv["c2"]}
