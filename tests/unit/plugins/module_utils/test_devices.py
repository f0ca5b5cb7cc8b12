# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Devices Ansible does not manage: states, profiles (by the one renderer), key pairs, revocations."""

from __future__ import annotations

import datetime
import subprocess

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _devices as dev
from ansible_collections.netfleet.wireguard.plugins.module_utils._render import render_conf
from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import PlanError, build_plan

from wgkeys import private_key, public_key


def key(seed):
    return public_key(private_key(seed))


TODAY = datetime.date(2026, 12, 3)


def network(*externals, topology='full_tunnel', hub_lans=('192.168.50.0/24',), **net_vars):
    common = dict({'wireguard_topology': topology, 'wireguard_hub': 'vps',
                   'wireguard_external_peers': list(externals)}, **net_vars)
    return {
        'vps': dict(common, wireguard_address='10.0.0.1/24', wireguard_endpoint='203.0.113.1',
                    wireguard_lan_subnets=list(hub_lans)),
        'gw': dict(common, wireguard_address='10.0.0.2/24', wireguard_lan_subnets=['10.20.0.0/24'],
                   wireguard_full_tunnel=False),
    }


def phone(**fields):
    return dict({'name': 'phone', 'public_key': key(7), 'address': '10.0.0.10'}, **fields)


def plan_with(hostvars, **ctx):
    devices = dict({'today': TODAY}, **ctx)
    warnings = []
    plan = build_plan(hostvars, devices=devices, warnings=warnings)
    return plan, devices, warnings


# ------------------------------------------------------------------ states

@pytest.mark.parametrize('fields,keys,revoked,state', [
    ({}, {}, {}, 'active'),
    ({'expires': '2026-12-04'}, {}, {}, 'active'),
    ({'expires': '2026-12-03'}, {}, {}, 'expired'),          # on the day itself
    ({'expires': datetime.date(2020, 1, 1)}, {}, {}, 'expired'),  # YAML made it a date
    ({}, {}, {'phone': '2026-11-30'}, 'revoked'),
    ({'expires': '2020-01-01'}, {}, {'phone': '2026-11-30'}, 'revoked'),
    ({'key_mode': 'controller', 'public_key': None}, {}, {}, 'pending'),
    ({'key_mode': 'controller', 'public_key': None}, {'phone': key(9)}, {}, 'active'),
])
def test_device_state_truth_table(fields, keys, revoked, state):
    fields = {k: v for k, v in phone(**fields).items() if v is not None}
    plan, devices, warnings = plan_with(network(fields), keys=keys, revoked=revoked)
    assert devices['states']['phone']['state'] == state
    on_hub = [p['name'] for p in plan['vps']['peers']]
    assert ('phone' in on_hub) == (state == 'active')
    assert ('phone' in devices['profiles']) == (state == 'active')
    assert bool(warnings) == (state != 'active')
    if warnings:
        assert warnings[0].startswith('phone: wireguard_external_peers[phone]')


def test_controller_key_from_the_registry_reaches_the_hub():
    plan, devices = plan_with(network(phone(key_mode='controller', public_key=None)), keys={'phone': key(9)})[:2]
    peer = next(p for p in plan['vps']['peers'] if p['name'] == 'phone')
    assert peer['public_key'] == key(9) and peer['allowed_ips'] == ['10.0.0.10/32']
    assert devices['states']['phone']['public_key'] == key(9)


@pytest.mark.parametrize('fields,problem', [
    ({'public_key': None}, 'public_key: required with key_mode device'),
    ({'key_mode': 'controller'}, 'public_key: not allowed with key_mode controller'),
    ({'key_mode': 'phone'}, "key_mode: 'phone' is not one of device, controller"),
    ({'expires': '2027-02-30'}, "expires: '2027-02-30' is not a date written YYYY-MM-DD"),
    ({'expires': '1 Jan 2027'}, 'is not a date'),
    ({'address': '10.0.0.2'}, 'duplicate tunnel address'),
    ({'address': '192.168.50.7'}, '192.168.50.7'),
    ({'persistent_keepalive': 70000}, 'persistent_keepalive'),
    ({'extra_allowed_ips': ['10.9.0.1/24']}, 'host bits set'),
    ({'dns': ['not a server!']}, 'not a DNS server address'),
    ({'private_key': key(3)}, "private key must stay on the device"),
])
def test_bad_device_fields_fail_before_anything_changes(fields, problem):
    fields = {k: v for k, v in phone(**fields).items() if v is not None}
    with pytest.raises(PlanError) as exc:
        plan_with(network(fields))
    assert problem in str(exc.value)
    assert 'phone' in str(exc.value)


def test_two_devices_on_one_address_are_refused():
    with pytest.raises(PlanError, match='duplicate tunnel address'):
        plan_with(network(phone(), phone(name='tablet', public_key=key(8))))


# ------------------------------------------------------------------ profiles

def profile(devices, name='phone', private=None):
    return dev.with_private_key(render_conf(name, devices['profiles'][name], {'vps': key(1)}, strict=True), private)


@pytest.mark.parametrize('fields,allowed', [
    ({}, '0.0.0.0/0, ::/0'),
    ({'default_route_halves': True}, '0.0.0.0/1, 128.0.0.0/1, ::/1, 8000::/1'),
    ({'full_tunnel': False}, '10.0.0.0/24, 10.20.0.0/24, 192.168.50.0/24'),
    ({'full_tunnel': False, 'extra_allowed_ips': ['198.51.100.0/24']},
     '10.0.0.0/24, 10.20.0.0/24, 192.168.50.0/24, 198.51.100.0/24'),
    ({'full_tunnel': False, 'lan_subnets': ['10.20.1.0/24']}, '10.0.0.0/24, 10.20.0.0/24, 192.168.50.0/24'),
])
def test_profile_allowed_ips(fields, allowed):
    devices = plan_with(network(phone(**fields)))[1]
    assert 'AllowedIPs = %s\n' % allowed in profile(devices)


def test_split_profile_in_a_bastion_network_reaches_every_spoke_lan():
    devices = plan_with(network(phone(full_tunnel=False), topology='bastion'))[1]
    assert 'AllowedIPs = 10.0.0.0/24, 10.20.0.0/24, 192.168.50.0/24\n' in profile(devices)


def test_bastion_devices_default_to_split():
    devices = plan_with(network(phone(), topology='bastion'))[1]
    assert '0.0.0.0/0' not in profile(devices)


def test_profile_text_whole():
    hostvars = network(phone(dns=['10.0.0.1', 'lan'], mtu=1380), wireguard_client_dns=['9.9.9.9'])
    devices = plan_with(hostvars)[1]
    assert profile(devices, private=key(5)) == (
        '# phone: profile for the wg0 network (full_tunnel), made by netfleet.wireguard from the inventory.\n'
        '# Import it on the device (this file or its QR code); with a PrivateKey line it is a secret.\n'
        '[Interface]\n'
        'PrivateKey = %s\n'
        'Address = 10.0.0.10/32\n'
        'MTU = 1380\n'
        'DNS = 10.0.0.1, lan\n'
        '\n'
        '# vps\n'
        '[Peer]\n'
        'PublicKey = %s\n'
        'Endpoint = 203.0.113.1:51820\n'
        'AllowedIPs = 0.0.0.0/0, ::/0\n'
        'PersistentKeepalive = 25\n' % (key(5), key(1)))


@pytest.mark.parametrize('fields,net_vars,dns_line', [
    ({}, {}, None),
    ({}, {'wireguard_client_dns': ['9.9.9.9']}, 'DNS = 9.9.9.9'),
    ({'dns': []}, {'wireguard_client_dns': ['9.9.9.9']}, None),     # the device's own (empty) list wins
    ({'dns': ['1.1.1.1']}, {'wireguard_client_dns': ['9.9.9.9']}, 'DNS = 1.1.1.1'),
])
def test_profile_dns(fields, net_vars, dns_line):
    devices = plan_with(network(phone(**fields), **net_vars))[1]
    lines = [line for line in profile(devices).splitlines() if line.startswith('DNS')]
    assert lines == ([dns_line] if dns_line else [])


def test_device_mode_profile_marks_the_place_of_the_key_and_holds_none():
    devices = plan_with(network(phone()))[1]
    text = profile(devices)
    assert dev.PRIVATE_KEY_MARK in text and dev.profile_key(text) is None


def test_keepalive_zero_writes_none():
    devices = plan_with(network(phone(persistent_keepalive=0)))[1]
    assert 'PersistentKeepalive' not in profile(devices)


def test_full_profile_devices_make_the_hub_masquerade():
    plan = plan_with(network(phone()))[0]
    assert plan['vps']['routing']['masquerade']


def test_mesh_relay_carries_devices():
    hostvars = network(phone(full_tunnel=False), topology='mesh')
    plan, devices = plan_with(hostvars)[:2]
    assert 'phone' in [p['name'] for p in plan['vps']['peers']]
    relay_view = next(p for p in plan['gw']['peers'] if p['name'] == 'vps')
    assert '10.0.0.10/32' in relay_view['allowed_ips']
    assert devices['profiles']['phone']['peers'][0]['name'] == 'vps'


# ------------------------------------------------------------------ keys

def test_generated_key_pair_matches_wg():
    private, public = dev.generate_key_pair()
    assert dev.public_key_of(private) == public
    derived = subprocess.run(['wg', 'pubkey'], input=private + '\n', capture_output=True, text=True, check=True)
    assert derived.stdout.strip() == public
    assert dev.generate_key_pair()[0] != private


def test_keys_of_a_profile():
    private = dev.generate_key_pair()[0]
    assert dev.profile_key('[Interface]\nPrivateKey = %s\n' % private) == private
    with pytest.raises(ValueError):
        dev.profile_key('[Interface]\nPrivateKey = broken\n')


def test_with_private_key_needs_an_interface_section():
    with pytest.raises(ValueError):
        dev.with_private_key('[Peer]\n', key(1))


# ------------------------------------------------------------------ revocation file

def test_revocation_file_round_trip(tmp_path):
    path = str(tmp_path / '.wireguard_revoked_devices.yml')
    assert dev.load_revoked(path) == {}
    assert dev.update_revoked(path, 'wg0', revoke=['phone'], today=TODAY)
    assert not dev.update_revoked(path, 'wg0', revoke=['phone'], today=datetime.date(2027, 1, 1))   # keeps the first date
    assert dev.load_revoked(path) == {'wg0': {'phone': '2026-12-03'}}
    assert open(path).read().startswith(dev.REVOKED_HEADER)
    assert dev.update_revoked(path, 'wg0', restore=['phone'])
    assert dev.load_revoked(path) == {}


def test_revocation_file_must_be_a_mapping(tmp_path):
    path = tmp_path / 'r.yml'
    path.write_text('- phone\n')
    with pytest.raises(ValueError, match='must map interface'):
        dev.load_revoked(str(path))


# ------------------------------------------------------------------ listing

def test_device_table():
    devices = [{'name': 'phone', 'state': 'active', 'profile': 'full', 'addresses': ['10.0.0.10/32'], 'expires': None},
               {'name': 'old', 'state': 'expired', 'profile': None, 'addresses': ['10.0.0.12/32'],
                'expires': '2020-01-01'}]
    peers = [{'name': 'phone', 'handshake_age': 75, 'transfer_rx': 2048, 'transfer_tx': 3 << 20}]
    lines = dev.device_table(devices, peers)
    assert lines[0].split()[:3] == ['device', 'state', 'profile']
    assert lines[1].split() == ['phone', 'active', 'full', '10.0.0.10/32', '-', '1', 'min', 'ago', '2.0', 'KiB',
                                '3.0', 'MiB']
    assert 'not on the hub' in lines[2] and '2020-01-01' in lines[2]


@pytest.mark.parametrize('topology', ['full_tunnel', 'bastion', 'mesh'])
@pytest.mark.parametrize('fields,egress', [
    ({'full_tunnel': True}, True),
    ({'full_tunnel': False}, False),
    ({'full_tunnel': False, 'extra_allowed_ips': ['198.51.100.0/24']}, True),   # beyond the network
    ({'full_tunnel': False, 'extra_allowed_ips': ['10.20.0.0/24']}, False),     # a member's LAN: routed
])
def test_devices_whose_profile_leaves_the_network_make_the_hub_nat(topology, fields, egress):
    hostvars = network(phone(**fields), topology=topology)
    if topology != 'full_tunnel':
        for host in hostvars.values():
            host.pop('wireguard_full_tunnel', None)
    plan = plan_with(hostvars)[0]
    routing = plan['vps']['routing']
    assert routing['forward_to_egress'] == egress
    assert bool(routing['masquerade']) == egress


def test_preshared_key_is_the_devices_choice_and_reaches_the_hub_entry():
    hostvars = network(phone(preshared_key=True), phone(name='tablet', public_key=key(8), address='10.0.0.11'))
    plan, devices = plan_with(hostvars)[:2]
    flags = {p['name']: p['preshared_key'] for p in plan['vps']['peers']}
    assert flags == {'gw': False, 'phone': True, 'tablet': False}
    assert devices['profiles']['phone']['peers'][0]['preshared_key'] is True
    text = dev.with_private_key(render_conf('phone', devices['profiles']['phone'], {'vps': key(1)}), key(5), key(6))
    assert text.index('PublicKey = %s' % key(1)) < text.index('PresharedKey = %s' % key(6)) < text.index('Endpoint')
    assert dev.profile_key(text, 'PresharedKey') == key(6)
