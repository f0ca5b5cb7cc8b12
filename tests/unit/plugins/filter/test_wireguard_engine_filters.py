# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine filters are thin wrappers: same results as the module_utils, Ansible errors on bad input."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.wireguard.plugins.filter import wireguard_conf as conf_mod
from ansible_collections.netfleet.wireguard.plugins.filter import wireguard_topology as topo_mod
from ansible_collections.netfleet.wireguard.plugins.filter import wireguard_validate as validate_mod
from ansible_collections.netfleet.wireguard.plugins.module_utils._wgconf import parse

NET = {
    'vps': {'wireguard_topology': 'full_tunnel', 'wireguard_hub': 'vps', 'wireguard_address': '10.0.0.1/24',
            'wireguard_endpoint': '203.0.113.1'},
    'laptop': {'wireguard_topology': 'full_tunnel', 'wireguard_hub': 'vps', 'wireguard_address': '10.0.0.2/24'},
}
KEY = 'YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE='


def test_filters_are_registered():
    assert 'wireguard_topology' in topo_mod.FilterModule().filters()
    assert 'wireguard_validate' in validate_mod.FilterModule().filters()
    assert 'wireguard_conf' in conf_mod.FilterModule().filters()


def test_topology_filter():
    plan = topo_mod.wireguard_topology(NET)
    assert plan['laptop']['peers'][0]['allowed_ips'] == ['0.0.0.0/0', '::/0']
    assert plan['vps']['peers'][0]['allowed_ips'] == ['10.0.0.2/32']


def test_topology_filter_errors():
    bad = dict(NET, laptop=dict(NET['laptop'], wireguard_address='10.0.9.2/24'))
    with pytest.raises(AnsibleFilterError, match='laptop: wireguard_address: .* not inside the tunnel network'):
        topo_mod.wireguard_topology(bad)
    with pytest.raises(AnsibleFilterError):
        topo_mod.wireguard_topology(['not', 'a', 'dict'])


def test_validate_filter():
    assert validate_mod.wireguard_validate(NET) == []
    bad = dict(NET, laptop=dict(NET['laptop'], wireguard_listen_port=0))
    assert validate_mod.wireguard_validate(bad) == ["laptop: wireguard_listen_port: 0 is not a UDP port (1-65535)"]


def test_conf_filter_renders_without_secrets():
    plan = topo_mod.wireguard_topology(NET)
    text = conf_mod.wireguard_conf(plan['laptop'], host='laptop', public_keys={'vps': KEY})
    parsed = parse(text)
    assert parsed.peers[0].name == 'vps'
    assert parsed.peers[0].public_key == KEY
    assert parsed.peers[0].endpoint == '203.0.113.1:51820'
    assert 'PrivateKey' not in parsed.interface
    missing = conf_mod.wireguard_conf(plan['vps'], host='vps')
    assert 'PublicKey = <unknown: public key of laptop' in missing
    with pytest.raises(AnsibleFilterError, match='vps: .*no public key known for peer laptop'):
        conf_mod.wireguard_conf(plan['vps'], host='vps', strict=True)
    with pytest.raises(AnsibleFilterError):
        conf_mod.wireguard_conf('nope', host='x')
