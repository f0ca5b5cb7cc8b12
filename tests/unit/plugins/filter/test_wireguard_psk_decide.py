# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_psk_decide is a thin wrapper over _psk.decide; on a real plan from the topology engine."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.wireguard.plugins.filter import wireguard_psk_decide as mod
from ansible_collections.netfleet.wireguard.plugins.filter.wireguard_topology import wireguard_topology

PHONE = [{'name': 'phone', 'public_key': 'YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=', 'address': '10.0.0.50/32'}]
GROUP = {'wireguard_topology': 'bastion', 'wireguard_hub': 'hub', 'wireguard_external_peers': PHONE}
NET = {
    'hub': dict(GROUP, wireguard_address='10.0.0.1/24', wireguard_endpoint='203.0.113.1', wireguard_preshared_keys=True),
    'spoke': dict(GROUP, wireguard_address='10.0.0.2/24'),
    'other': dict(GROUP, wireguard_address='10.0.0.3/24'),
}


def test_registered():
    assert mod.FilterModule().filters()['wireguard_psk_decide'] is mod.wireguard_psk_decide


def test_on_a_plan_of_the_topology_engine():
    plan = wireguard_topology(NET)
    status = {'hub': {'other': None, 'spoke': 'f' * 64}, 'other': {'hub': None}, 'spoke': {'hub': None}}
    out = mod.wireguard_psk_decide(status, plan, ['hub', 'other', 'spoke'])
    # the external phone never gets a PSK; hub sorts first for other, spoke lacks the hub's key
    assert out['hosts']['hub'] == {'send': ['other', 'spoke'], 'regenerate': [], 'receive': []}
    assert out['hosts']['other']['receive'] == ['hub'] and out['hosts']['spoke']['receive'] == ['hub']
    assert out['errors'] == {}


def test_limit_error_names_host_peer_and_variable():
    plan = wireguard_topology(NET)
    out = mod.wireguard_psk_decide({'spoke': {'hub': None}}, plan, ['spoke'])
    assert out['errors']['spoke'][0].startswith('spoke: wireguard_preshared_keys: the pair hub-spoke')


@pytest.mark.parametrize('status,plan', [([], {}), ({}, None)])
def test_bad_input(status, plan):
    with pytest.raises(AnsibleFilterError):
        mod.wireguard_psk_decide(status, plan, [])


def test_missing_status_is_an_ansible_error():
    plan = wireguard_topology(NET)
    with pytest.raises(AnsibleFilterError, match='no preshared key status'):
        mod.wireguard_psk_decide({}, plan, ['hub', 'spoke'])
