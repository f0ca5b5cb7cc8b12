# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network picture (DOT from the plan): roles, NAT-ed hosts, LANs, devices, pair labels, relayed pairs."""

from __future__ import annotations

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _picture
from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import build_plan

from wgkeys import private_key, public_key


def mesh():
    common = {'wireguard_topology': 'mesh', 'wireguard_hub': 'hub'}
    return build_plan({
        'hub': dict(common, wireguard_address='10.70.0.1/24', wireguard_endpoint='198.51.100.1'),
        'pub': dict(common, wireguard_address='10.70.0.2/24', wireguard_endpoint='198.51.100.2'),
        'na': dict(common, wireguard_address='10.70.0.3/24', wireguard_behind_nat=True),
        'nb': dict(common, wireguard_address='10.70.0.4/24', wireguard_lan_subnets=['192.168.4.0/24']),
    })


def test_mesh_picture():
    dot = _picture.network_dot(mesh(), 'lab')
    assert dot.startswith('graph wg0 {')
    assert 'label="wg0: mesh network of the group lab (netfleet.wireguard)"' in dot
    assert '\thub [label="hub\\nrelay · 10.70.0.1/24\\nendpoint 198.51.100.1:51820" fillcolor=lightblue ' \
           'shape=doubleoctagon style=filled]' in dot
    assert '\tna [label="na\\nmember · 10.70.0.3/24\\nno endpoint" fillcolor=white shape=ellipse ' \
           'style="filled,dashed"]' in dot
    assert '\tnb -- "lan 192.168.4.0/24" [arrowhead=none style=dotted]' in dot
    assert '\thub -- nb [label="hub → nb: 10.70.0.4/32, 192.168.4.0/24\\nnb → hub: 10.70.0.1/32, 10.70.0.3/32"' in dot
    # the NAT <-> NAT pair has no direct entry: drawn as relayed, once
    assert dot.count('na -- nb') == 1 and 'na -- nb [label="relayed via hub" color=grey' in dot


def test_picture_is_deterministic():
    assert _picture.network_dot(mesh()) == _picture.network_dot(mesh())


def test_devices_and_hub_topology():
    common = {'wireguard_topology': 'full_tunnel', 'wireguard_hub': 'vps',
              'wireguard_external_peers': [{'name': 'phone', 'public_key': public_key(private_key(7)),
                                            'address': '10.0.0.10'}]}
    plan = build_plan({'vps': dict(common, wireguard_address='10.0.0.1/24', wireguard_endpoint='203.0.113.1'),
                       'laptop': dict(common, wireguard_address='10.0.0.2/24')})
    dot = _picture.network_dot(plan)
    assert '\tphone [label="phone\\ndevice · 10.0.0.10/32" shape=component style=dashed]' in dot
    assert 'laptop → vps: 0.0.0.0/0, ::/0' in dot
    assert 'relayed' not in dot          # clients of a hub reach each other through it: not drawn


@pytest.mark.parametrize('count,expected', [
    (1, '10.0.0.0/32'), (3, '10.0.0.0/32, 10.0.0.1/32, 10.0.0.2/32'),
    (5, '10.0.0.0/32, 10.0.0.1/32, 10.0.0.2/32 (+2 more)')])
def test_summary_keeps_labels_short(count, expected):
    assert _picture.summary(['10.0.0.%d/32' % i for i in range(count)]) == expected


def test_svg_from_the_dot_binary():
    image = _picture.svg(_picture.network_dot(mesh()))
    assert image.lstrip().startswith('<?xml') and '<svg' in image and 'relayed via hub' in image


def test_empty_plan_is_refused():
    with pytest.raises(ValueError):
        _picture.network_dot({})
