# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_table: wg-quick's Table, validated, carried by the plan and rendered."""

from __future__ import annotations

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils._render import render_conf
from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import PlanError, build_plan
from ansible_collections.netfleet.wireguard.plugins.module_utils._variables import routing_table
from ansible_collections.netfleet.wireguard.plugins.module_utils._wgconf import parse as parse_config, route_table


@pytest.mark.parametrize('value,parsed', [
    ('auto', None), ('AUTO', None), ('off', 'off'), ('Off', 'off'), (False, 'off'), (1000, '1000'), ('51820', '51820'),
    (254, '254'), (4294967295, '4294967295'),
    # names as /etc/iproute2/rt_tables defines them (the host must define them)
    ('vpn', 'vpn'), ('main', 'main'), ('wg_routes-2', 'wg_routes-2'), ('T' + 'x' * 31, 'T' + 'x' * 31),
])
def test_accepted(value, parsed):
    assert routing_table(value) == parsed


@pytest.mark.parametrize('value', ['main; reboot', 'off\n', '', 0, -1, 253, 255, 4294967296, True, '1e3', 'local',
                                   'default', 'unspec', 'vpn routes', '2vpn', '_vpn', 'vpn\n', 'vpn\u202e', 'caf\u00e9',
                                   'T' + 'x' * 32, '$(reboot)', '-vpn', ['vpn'], None])
def test_refused(value):
    with pytest.raises(ValueError):
        routing_table(value)


def plan(**host_vars):
    common = {'wireguard_topology': 'site_to_site'}
    return build_plan({'a': dict(common, wireguard_address='10.9.0.1/24', wireguard_endpoint='192.0.2.1', **host_vars),
                       'b': dict(common, wireguard_address='10.9.0.2/24', wireguard_endpoint='192.0.2.2')})


@pytest.mark.parametrize('value,line,table', [('auto', None, 'main'), ('off', 'Table = off', None),
                                              (1000, 'Table = 1000', '1000'), ('vpn', 'Table = vpn', 'vpn')])
def test_rendered_and_understood_by_the_apply_parser(value, line, table):
    entry = plan(wireguard_table=value)['a']
    text = render_conf('a', entry, {'b': 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg='})
    assert [x for x in text.splitlines() if x.startswith('Table')] == ([line] if line else [])
    # wireguard_apply reconciles the peer routes in this table (none with off)
    assert route_table(parse_config(text)) == table


def test_bad_table_names_host_and_variable():
    with pytest.raises(PlanError, match=r"a: wireguard_table: 255 is the kernel's local table"):
        plan(wireguard_table=255)
