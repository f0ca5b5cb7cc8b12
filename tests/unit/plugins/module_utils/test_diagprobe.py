# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_diagprobe: the parsers behind wireguard_diagnose_info, on real command output."""
from __future__ import annotations

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _diagprobe as probe


@pytest.mark.parametrize('prefix, avoid, expected', [
    ('10.0.1.0/24', [], '10.0.1.1'),
    ('10.100.0.2/32', [], '10.100.0.2'),
    ('10.0.0.0/31', [], '10.0.0.0'),
    ('0.0.0.0/0', [], '198.51.100.1'),
    ('::/0', [], '2001:db8::1'),
    ('fd00::/64', [], 'fd00::1'),
    # widened: the local /24 stays local, so the route is judged on the rest of the /23
    ('10.89.196.0/23', ['10.89.196.0/24'], '10.89.197.0'),
    ('10.89.196.0/23', ['10.89.197.0/24'], '10.89.196.1'),
    # split halves lie inside the local /24 and win over it: nothing to avoid, the first address stands
    ('192.168.50.0/25', ['192.168.50.0/24'], '192.168.50.1'),
])
def test_representative(prefix, avoid, expected):
    assert probe.representative(prefix, avoid) == expected


@pytest.mark.parametrize('text, expected', [
    ('10.89.198.1 dev wg0 src 10.89.199.1 uid 0 \\    cache ', {'dev': 'wg0', 'via': None, 'table': None, 'type': None}),
    ('198.51.100.1 from 10.89.199.2 via 10.89.192.254 dev eth1 \\    cache iif wg0 ',
     {'dev': 'eth1', 'via': '10.89.192.254', 'table': None, 'type': None}),
    ('198.51.100.1 dev wg0 table 51820 src 10.0.0.2 uid 0', {'dev': 'wg0', 'via': None, 'table': '51820', 'type': None}),
    ('unreachable 10.9.9.9 from 10.0.0.2 iif wg0', {'dev': None, 'via': None, 'table': None, 'type': 'unreachable'}),
    ('', {'dev': None, 'via': None, 'table': None, 'type': None}),
])
def test_parse_route_get(text, expected):
    assert probe.parse_route_get(text) == expected


def test_route_error_keeps_the_kernel_answer():
    assert probe.route_error('RTNETLINK answers: Invalid argument\n') == 'Invalid argument'
    assert probe.route_error('Error: any valid prefix is expected rather than "x".').startswith('Error: any valid')


@pytest.mark.parametrize('text, expected', [
    ('3 packets transmitted, 3 received, 0% packet loss, time 403ms', (3, 3)),
    ('3 packets transmitted, 0 received, 100% packet loss, time 2047ms', (3, 0)),
    ('ping: local error: message too long, mtu=1420\n3 packets transmitted, 0 received, +3 errors', (3, 0)),
    ('ping: sendmsg: Required key not available', (0, 0)),
])
def test_parse_ping(text, expected):
    assert probe.parse_ping(text) == expected


def test_ping_size_fills_the_mtu_exactly():
    assert probe.ping_size(1420, '10.0.0.1') == 1392 and probe.ping_size(1420, 'fd00::1') == 1372


LINK = ('[{"ifindex":5,"ifname":"wg0","flags":["POINTOPOINT","NOARP","UP","LOWER_UP"],"mtu":1420,'
        '"operstate":"UNKNOWN"}]')
ADDR = ('[{"ifname":"wg0","addr_info":[{"family":"inet","local":"10.89.199.254","prefixlen":24,"scope":"global"},'
        '{"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link"},'
        '{"family":"inet6","local":"fd00::1","prefixlen":64,"scope":"global"}]}]')


def test_parse_link():
    assert probe.parse_link(LINK, ADDR) == {'exists': True, 'up': True, 'mtu': 1420,
                                            'addresses': ['10.89.199.254/24', 'fd00::1/64']}
    assert probe.parse_link(LINK.replace('"UP",', ''), ADDR)['up'] is False
    assert probe.parse_link('', '')['exists'] is False
    assert probe.parse_link('not json', '')['exists'] is False


def test_connected_prefixes_leave_out_the_wireguard_interface():
    routes = ('[{"dst":"10.89.191.0/24","dev":"eth0"},{"dst":"10.89.196.0/23","dev":"wg0"},'
              '{"dst":"default","dev":"eth1"},{"dst":"10.89.197.0/24","dev":"eth2"}]')
    assert probe.connected_prefixes(routes, 'wg0') == ['10.89.191.0/24', '10.89.197.0/24']
