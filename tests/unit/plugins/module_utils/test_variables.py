# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The table of variables: it matches the roles' defaults, generates docs/variables.md, covers every
wireguard_* variable the roles read, and drives role-setting validation and unknown-variable checks."""
from __future__ import annotations

import copy
import os
import re

import pytest
import yaml

from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import PlanError, build_plan
from ansible_collections.netfleet.wireguard.plugins.module_utils._validate import (
    VARIABLES,
    parse_role_settings,
    role_defaults,
    validate_host_name,
    variables_markdown,
)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
ROLES = sorted(d for d in os.listdir(os.path.join(REPO, 'roles')) if d.startswith('wireguard_'))
# roles with settings of their own (wireguard_common has none: it only computes the shared facts)
ROLES_WITH_DEFAULTS = [r for r in ROLES if os.path.exists(os.path.join(REPO, 'roles', r, 'defaults', 'main.yml'))]
BASE = {
    'hub': {'wireguard_topology': 'bastion', 'wireguard_hub': 'hub', 'wireguard_address': '10.100.0.254/24',
            'wireguard_endpoint': '203.0.113.99'},
    'spoke': {'wireguard_topology': 'bastion', 'wireguard_hub': 'hub', 'wireguard_address': '10.100.0.1/24'},
}


def errors_of(hv, **kw):
    with pytest.raises(PlanError) as err:
        build_plan(hv, **kw)
    return err.value.errors


def test_a_role_without_defaults_has_no_settings_in_the_table():
    for role in sorted(set(ROLES) - set(ROLES_WITH_DEFAULTS)):
        assert role_defaults(role) == {}, role


@pytest.mark.parametrize('role', ROLES_WITH_DEFAULTS)
def test_table_defaults_equal_each_roles_defaults_file(role):
    with open(os.path.join(REPO, 'roles', role, 'defaults', 'main.yml'), encoding='utf-8') as handle:
        defaults = yaml.safe_load(handle) or {}
    assert role_defaults(role) == defaults


def test_docs_variables_md_is_generated_from_the_table():
    with open(os.path.join(REPO, 'docs', 'variables.md'), encoding='utf-8') as handle:
        assert handle.read() == variables_markdown(), 'regenerate docs/variables.md (command in its header)'


def test_every_variable_the_roles_and_plugins_document_is_in_the_table():
    names = {var.name for var in VARIABLES if var.scope != 'external'}
    found = set()
    for role in ROLES:
        with open(os.path.join(REPO, 'roles', role, 'meta', 'argument_specs.yml'), encoding='utf-8') as handle:
            found |= set(yaml.safe_load(handle)['argument_specs']['main']['options'])
    with open(os.path.join(REPO, 'docs', 'architecture.md'), encoding='utf-8') as handle:
        found |= set(re.findall(r'^\| `(wireguard_[a-z_]+)` \|', handle.read(), re.M))
    found |= {'wireguard_network_group', 'wireguard_key_registry', 'wireguard_render_dir'}
    assert found - names == set()


def test_table_is_well_formed():
    seen = set()
    for var in VARIABLES:
        assert var.scope in ('network', 'host', 'external', 'role')
        assert (var.scope == 'role') == (var.role is not None) and var.meaning
        assert (var.scope, var.name) not in seen
        seen.add((var.scope, var.name))
        if var.scope != 'external':
            assert var.name.startswith('wireguard_')
        if var.default is not None:
            var.parser(var.default)      # every default passes its own parser


def test_parse_role_settings_defaults_and_errors():
    settings = parse_role_settings({'wireguard_firewall_ssh_port': '2222'}, 'h1')
    assert settings['wireguard_firewall_ssh_port'] == 2222
    assert settings['wireguard_firewall_guard_path'] == '/etc/netfleet/wireguard-guard.nft'
    assert settings['wireguard_keys_private_key_path'] == ''
    assert settings['wireguard_install_userspace'] == 'auto'
    with pytest.raises(PlanError) as err:
        parse_role_settings({'wireguard_firewall_backend': 'pf', 'wireguard_firewall_nft_path': '/etc/x/../y',
                             'wireguard_keys_preshared_key_dir': 'relative/dir',
                             'wireguard_firewall_ssh_sources': ['10.0.0.0/8', 'me'],
                             'wireguard_install_extra_packages': ['vim; reboot']}, 'h1')
    prefixes = sorted(e.split(': ')[1] for e in err.value.errors)
    assert prefixes == ['wireguard_firewall_backend', 'wireguard_firewall_nft_path', 'wireguard_firewall_ssh_sources',
                        'wireguard_install_extra_packages', 'wireguard_keys_preshared_key_dir']
    assert all(e.startswith('h1: ') for e in err.value.errors)


def test_role_settings_are_validated_by_the_plan_too():
    hv = copy.deepcopy(BASE)
    hv['spoke']['wireguard_firewall_guard_path'] = '/etc/netfleet/guard.nft; reboot'
    assert [e.split(': ')[:2] for e in errors_of(hv)] == [['spoke', 'wireguard_firewall_guard_path']]


@pytest.mark.parametrize('name, suggested', [
    ('wireguard_lan_subnet', 'wireguard_lan_subnets'),
    ('wireguard_endpiont', 'wireguard_endpoint'),
    ('wireguard_firewall_backed', 'wireguard_firewall_backend'),
])
def test_unknown_variable_gets_a_suggestion(name, suggested):
    hv = copy.deepcopy(BASE)
    hv['spoke'][name] = 'x'
    errors = errors_of(hv)
    assert len(errors) == 1 and errors[0].startswith('spoke: %s: ' % name)
    assert '(did you mean %s?)' % suggested in errors[0]


def test_unknown_variables_can_be_relaxed_to_warnings():
    hv = copy.deepcopy(BASE)
    for h in hv.values():
        h['wireguard_unknown_variables'] = 'warn'
    hv['spoke']['wireguard_lan_subnet'] = ['10.0.9.0/24']
    warnings = []
    assert build_plan(hv, warnings=warnings)
    assert [w for w in warnings if w.startswith('spoke: wireguard_lan_subnet: ')]


def test_misspelled_required_variable_says_what_was_found():
    hv = copy.deepcopy(BASE)
    hv['spoke']['wireguard_adress'] = hv['spoke'].pop('wireguard_address')
    errors = errors_of(hv)
    line = [e for e in errors if e.startswith('spoke: wireguard_address: required')]
    assert line and 'found wireguard_adress instead' in line[0]


def test_misspelled_group_variable_says_what_was_found():
    hv = copy.deepcopy(BASE)
    for h in hv.values():
        h['wireguard_topolgy'] = h.pop('wireguard_topology')
    errors = errors_of(hv)
    assert any(e.startswith('wireguard: wireguard_topology: required') and 'found wireguard_topolgy instead' in e
               for e in errors), errors
    assert any(e.startswith('hub: wireguard_topolgy: ') and 'did you mean wireguard_topology?' in e for e in errors)


def test_comma_separated_string_where_a_list_is_expected():
    hv = copy.deepcopy(BASE)
    hv['spoke']['wireguard_lan_subnets'] = '10.0.1.0/24, 10.0.2.0/24'
    errors = errors_of(hv)
    assert len(errors) == 1 and errors[0].startswith('spoke: wireguard_lan_subnets: ')
    assert 'write a YAML list' in errors[0] and 'prefix length' not in errors[0]


def test_endpoint_port_other_than_listen_port_is_a_warning():
    hv = copy.deepcopy(BASE)
    hv['hub']['wireguard_endpoint'] = '203.0.113.99:4500'
    warnings = []
    plan = build_plan(hv, warnings=warnings)
    assert plan['spoke']['peers'][0]['endpoint'] == '203.0.113.99:4500'
    assert warnings == ['hub: wireguard_endpoint: port 4500 differs from wireguard_listen_port 51820: fine behind a '
                        'port forward, otherwise peers cannot reach this host']
    hv['hub']['wireguard_listen_port'] = 4500
    warnings = []
    build_plan(hv, warnings=warnings)
    assert warnings == []


@pytest.mark.parametrize('name, ok', [
    ('vps1', True), ('host.example.org', True), ('10.0.0.1', True), ('fd00::1', True), ('_x', True),
    ('a' * 64, True), ('a' * 65, False), ('../../x', False), ('.hidden', False), ('-x', False), ('a b', False),
    ('a/b', False), ('x\n', False), ('', False), (None, False), ('a\u202eb', False),
])
def test_validate_host_name(name, ok):
    if ok:
        assert validate_host_name(name) == name
    else:
        with pytest.raises(ValueError):
            validate_host_name(name)
