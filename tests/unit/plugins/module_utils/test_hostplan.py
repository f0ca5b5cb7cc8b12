# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-host decisions (_hostplan.decide): what a host needs and what of it differs from its facts."""
from __future__ import annotations

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _hostplan as hp
from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import build_plan

NET = {
    'vps': {'wireguard_topology': 'full_tunnel', 'wireguard_hub': 'vps', 'wireguard_address': '10.0.0.1/24',
            'wireguard_endpoint': '203.0.113.1'},
    'laptop': {'wireguard_topology': 'full_tunnel', 'wireguard_hub': 'vps', 'wireguard_address': '10.0.0.2/24'},
}
PLAN = build_plan(NET)
KEY = 'YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE='


def facts(**over):
    base = {
        'os_family': 'Debian', 'pkg_mgr': 'apt', 'packages': ['wireguard-tools', 'wireguard-go', 'nftables'],
        'systemd': True, 'kernel_wireguard': False,
        'commands': {'nft': '/usr/sbin/nft', 'iptables': '/usr/sbin/iptables', 'resolvconf': None},
        'routes': {'ipv4_default': ['eth1'], 'ipv6_default': [], 'ipv6_ra': []},
        'sysctls': {'net.ipv4.ip_forward': '0'}, 'firewall': {'nft_tables': [], 'iptables_chains': []},
        'files': {}, 'public_keys': {'/etc/wireguard/wg0.key': KEY},
    }
    base.update(over)
    return base


def with_files(decisions_or_files):
    return facts(files=decisions_or_files)


def present(content, mode):
    return {'exists': True, 'type': 'file', 'mode': mode, 'uid': 0, 'gid': 0, 'checksum': hp.sha1(content)}


def test_backend_and_egress_come_from_facts_and_are_named():
    d = hp.decide('vps', PLAN['vps'], facts())
    assert (d['firewall']['backend'], d['firewall']['egress']) == ('nftables', 'eth1')
    assert d['basis'] == ['firewall backend: nftables (detected: nft is installed)',
                          'egress interface: eth1 (detected: default route)']
    no_nft = facts(commands={'nft': None, 'iptables': '/usr/sbin/iptables', 'resolvconf': None})
    d = hp.decide('vps', PLAN['vps'], no_nft)
    assert d['firewall']['backend'] == 'iptables'
    assert any('-o eth1 -j MASQUERADE' in line for line in d['firewall']['post_up'])


def test_render_without_facts_states_its_assumptions():
    d = hp.decide('vps', PLAN['vps'])
    assert all('ASSUMED' in line for line in d['basis'])
    d = hp.decide('vps', PLAN['vps'], settings={'wireguard_firewall_backend': 'iptables'})
    assert d['basis'][0] == 'firewall backend: iptables (wireguard_firewall_backend)'
    assert hp.decide('laptop', PLAN['laptop'])['basis'] == []        # no rules: nothing to assume


def test_inventory_egress_wins_over_the_default_route():
    plan = build_plan(dict(NET, vps=dict(NET['vps'], wireguard_egress_interface='ens3')))
    d = hp.decide('vps', plan['vps'], facts())
    assert (d['firewall']['egress'], d['firewall']['egress_source']) == ('ens3', 'wireguard_egress_interface')


def test_hub_without_default_route_fails_naming_host_and_variable():
    no_route = facts(routes={'ipv4_default': [], 'ipv6_default': [], 'ipv6_ra': []})
    with pytest.raises(ValueError, match='^vps: wireguard_egress_interface: '):
        hp.decide('vps', PLAN['vps'], no_route)


def test_site_nat_gateway_needs_no_egress_interface():
    # matched by the own LAN's prefix: neither a default route nor wireguard_egress_interface is needed
    common = {'wireguard_topology': 'site_to_site', 'wireguard_site_nat': True}
    plan = build_plan({
        'hq': dict(common, wireguard_address='10.100.0.1/24', wireguard_endpoint='192.0.2.1',
                   wireguard_lan_subnets=['10.0.1.0/24']),
        'br': dict(common, wireguard_address='10.100.0.2/24', wireguard_endpoint='192.0.2.2',
                   wireguard_lan_subnets=['10.0.2.0/24'])})
    no_route = facts(routes={'ipv4_default': [], 'ipv6_default': [], 'ipv6_ra': []},
                     commands={'nft': None, 'iptables': '/usr/sbin/iptables', 'resolvconf': None})
    d = hp.decide('hq', plan['hq'], no_route)
    assert d['firewall']['egress'] is None and d['basis'] == ['firewall backend: iptables (detected: nft is not installed)']
    assert 'iptables -w -t nat -A NETFLEET-%i-NAT -s 10.0.2.0/24 -d 10.0.1.0/24 -j MASQUERADE' in d['firewall']['post_up']


def test_nft_file_written_only_when_it_differs_and_reloaded_only_when_loaded():
    d = hp.decide('vps', PLAN['vps'], facts())
    fw = d['firewall']
    assert fw['write_nft'] and not fw['reload_nft'] and fw['nft_dir_missing'] and fw['pending']
    same = with_files({fw['nft_path']: present(fw['nft_ruleset'], '0600'), '/etc/wireguard': {'exists': True}})
    fw_same = hp.decide('vps', PLAN['vps'], same)['firewall']
    assert not fw_same['write_nft'] and not fw_same['pending']
    wrong_mode = with_files({fw['nft_path']: present(fw['nft_ruleset'], '0644')})
    wrong_mode['firewall'] = {'nft_tables': ['inet netfleet_wg_wg0'], 'iptables_chains': []}
    fw2 = hp.decide('vps', PLAN['vps'], wrong_mode)['firewall']
    assert fw2['write_nft'] and fw2['reload_nft']


def test_stale_objects_of_the_other_backend_are_cleaned_only_when_loaded():
    loaded = facts(firewall={'nft_tables': [], 'iptables_chains': ['ipv4 nat NETFLEET-wg0-NAT']})
    cleanup = hp.decide('vps', PLAN['vps'], loaded)['firewall']['cleanup']
    assert len(cleanup) == 1 and 'NETFLEET-wg0-NAT' in cleanup[0]
    assert hp.decide('vps', PLAN['vps'], facts())['firewall']['cleanup'] == []


def test_client_without_rules_removes_a_left_over_rules_file():
    d = hp.decide('laptop', PLAN['laptop'], with_files({'/etc/wireguard/wg0.nft': {'exists': True}}))
    assert d['firewall']['remove_nft'] and not d['firewall']['post_up'] and d['firewall']['package'] == []


@pytest.mark.parametrize('running,write,apply', [
    ({'net.ipv4.ip_forward': '0'}, True, ['net.ipv4.ip_forward=1']),
    ({'net.ipv4.ip_forward': '1'}, True, []),
])
def test_forwarding_sysctls(running, write, apply):
    d = hp.decide('vps', PLAN['vps'], facts(sysctls=running))
    assert d['forwarding']['sysctls'] == [['net.ipv4.ip_forward', '1']]
    assert d['forwarding']['write_file'] is write and d['forwarding']['apply'] == apply and d['forwarding']['pending']
    assert d['forwarding']['content'].endswith('net.ipv4.ip_forward = 1\n')
    ok = facts(sysctls=running, files={d['forwarding']['file']: present(d['forwarding']['content'], '0644')})
    assert not hp.decide('vps', PLAN['vps'], ok)['forwarding']['write_file']
    settled = facts(sysctls={'net.ipv4.ip_forward': '1'}, files={d['forwarding']['file']: present(d['forwarding']['content'], '0644')})
    assert not hp.decide('vps', PLAN['vps'], settled)['forwarding']['pending']


def test_a_client_removes_the_sysctl_file_it_no_longer_needs():
    d = hp.decide('laptop', PLAN['laptop'], with_files({hp._paths.SYSCTL_FILE: {'exists': True}}))
    assert d['forwarding']['content'] is None and d['forwarding']['remove_file'] and d['forwarding']['apply'] == []


def test_ipv6_forwarding_keeps_router_advertisements_first():
    net = {h: dict(v, wireguard_address=[v['wireguard_address'], 'fd00::%d/64' % (i + 1)])
           for i, (h, v) in enumerate(sorted(NET.items()))}
    plan = build_plan(net)
    routes = {'ipv4_default': ['eth0'], 'ipv6_default': ['eth0'], 'ipv6_ra': ['eth0.5']}
    d = hp.decide('vps', plan['vps'], facts(routes=routes))
    keys = [k for k, _v in d['forwarding']['sysctls']]
    assert keys[0] == 'net.ipv6.conf.eth0/5.accept_ra' and keys.index('net.ipv6.conf.all.forwarding') > 0


@pytest.mark.parametrize('file_info,public,pinned,rotate,create', [
    ({'exists': True, 'mode': '0600', 'uid': 0, 'gid': 0}, KEY, None, False, False),
    ({'exists': True, 'mode': '0644', 'uid': 0, 'gid': 0}, KEY, None, False, True),
    ({'exists': False}, None, None, False, True),
    ({'exists': True, 'mode': '0600', 'uid': 0, 'gid': 0}, KEY, None, True, True),
    ({'exists': True, 'mode': '0600', 'uid': 0, 'gid': 0}, KEY, KEY, False, False),
])
def test_key_pair_created_only_when_needed(file_info, public, pinned, rotate, create):
    f = facts(files={'/etc/wireguard/wg0.key': file_info}, public_keys={'/etc/wireguard/wg0.key': public})
    d = hp.decide('laptop', PLAN['laptop'], f, settings={'wireguard_keys_rotate': rotate}, pinned_public_key=pinned)
    assert d['key_pair']['create'] is create
    assert d['key_pair']['public_key'] == (pinned or public)


def test_hardening_over_ssh_without_sources_is_refused_before_anything_changes():
    with pytest.raises(ValueError, match='^vps: wireguard_firewall_ssh_sources: '):
        hp.decide('vps', PLAN['vps'], facts(), settings={'wireguard_firewall_harden': True}, connection='ssh')
    d = hp.decide('vps', PLAN['vps'], facts(), settings={'wireguard_firewall_harden': True}, connection='ssh',
                  ssh_connection='192.0.2.7 50000 203.0.113.1 2222')
    harden = d['harden']
    assert harden['state'] == 'present' and harden['load'] and harden['write_unit']
    assert '192.0.2.7' in harden['ruleset'] and '2222' in harden['ruleset']
    assert 'ExecStart=/usr/sbin/nft -f /etc/netfleet/wireguard-guard.nft' in harden['unit']


def test_hardening_needs_systemd():
    with pytest.raises(ValueError, match='^vps: wireguard_firewall_harden: needs systemd'):
        hp.decide('vps', PLAN['vps'], facts(systemd=False), settings={'wireguard_firewall_harden': True},
                  connection='containers.podman.podman')


def test_a_hardened_posture_no_longer_wanted_is_removed():
    f = facts(files={hp._paths.GUARD_UNIT: {'exists': True}},
              firewall={'nft_tables': ['inet netfleet_guard'], 'iptables_chains': []})
    harden = hp.decide('vps', PLAN['vps'], f)['harden']
    assert harden['state'] == 'absent' and harden['remove_files'] == [hp._paths.GUARD_UNIT] and harden['table_loaded']
    assert hp.decide('vps', PLAN['vps'], facts())['harden'] is None


def test_roles_missing_names_the_role_with_pending_work():
    d = hp.decide('vps', PLAN['vps'], facts(packages=[]))
    missing = hp.roles_missing(d, ['netfleet.wireguard.wireguard_common', 'netfleet.wireguard.wireguard_interface'])
    expected = ['netfleet.wireguard.wireguard_%s' % r for r in ('install', 'forwarding', 'firewall')]
    assert [m.split(' ')[0] for m in missing] == expected
    all_roles = ['netfleet.wireguard.wireguard_%s' % r for r in ('install', 'keys', 'forwarding', 'firewall', 'interface')]
    assert hp.roles_missing(d, all_roles) == []


def test_paths_are_built_in_one_place_and_follow_the_settings():
    moved = {'wireguard_keys_private_key_path': '/srv/wg/k', 'wireguard_firewall_nft_path': '/srv/wg/rules.nft'}
    d = hp.decide('vps', PLAN['vps'], facts(), settings=moved)
    assert d['paths']['private_key'] == '/srv/wg/k' and d['key_pair']['path'] == '/srv/wg/k'
    assert d['firewall']['post_up'] == ['nft -f /srv/wg/rules.nft']
    args = hp.facts_module_args('wg0', hp.settings_with_defaults({'wireguard_firewall_nft_path': '/srv/wg/rules.nft'}))
    assert '/srv/wg/rules.nft' in args['paths'] and '/srv/wg' in args['paths']
    assert args['private_keys'] == ['/etc/wireguard/wg0.key']
    assert args['wireguard'] == {'interface': 'wg0', 'path': '/etc/wireguard/wg0.conf', 'private_key_path': '/etc/wireguard/wg0.key'}


def test_a_pinned_key_must_match_the_key_file():
    f = facts(files={'/etc/wireguard/wg0.key': {'exists': False}}, public_keys={'/etc/wireguard/wg0.key': None},
              key_problems={'/etc/wireguard/wg0.key': 'missing'})
    with pytest.raises(ValueError, match=r'^laptop: wireguard_public_key: .*/etc/wireguard/wg0.key does not match it \(missing\)'):
        hp.decide('laptop', PLAN['laptop'], f, pinned_public_key=KEY)
    other = facts(public_keys={'/etc/wireguard/wg0.key': 'YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmI='})
    with pytest.raises(ValueError, match='holds the key YmJi'):
        hp.decide('laptop', PLAN['laptop'], other, pinned_public_key=KEY)


def test_render_only_leaves_deployment_decisions_out():
    """render.yml with host facts: a hardened host renders without the SSH facts only a deployment has."""
    settings = {'wireguard_firewall_harden': True}
    d = hp.decide('vps', PLAN['vps'], facts(), settings=settings, connection='ssh', render_only=True)
    assert d['firewall']['backend'] == 'nftables' and 'harden' not in d and 'install' not in d
    with pytest.raises(ValueError, match='wireguard_firewall_ssh_sources'):
        hp.decide('vps', PLAN['vps'], facts(), settings=settings, connection='ssh')


IN_SYNC = {'exists': True, 'in_sync': True, 'key_current': True, 'private_key_lines': 1, 'preshared_key_lines': 0,
           'public_sha1': hp.sha1('TEXT\n')}


@pytest.mark.parametrize('state,content,key_changed,needed', [
    (IN_SYNC, 'TEXT\n', False, False),
    (IN_SYNC, 'OTHER\n', False, True),                                   # the rendered text changed
    (IN_SYNC, 'TEXT\n', True, True),                                     # a new key pair in this run
    (dict(IN_SYNC, in_sync=False), 'TEXT\n', False, True),               # running state drifted
    (dict(IN_SYNC, key_current=False), 'TEXT\n', False, True),           # file holds another key
    (dict(IN_SYNC, private_key_lines=2), 'TEXT\n', False, True),         # a second PrivateKey line
    (dict(IN_SYNC, preshared_key_lines=1), 'TEXT\n', False, True),       # PSK lines: only the host can judge
    (dict(IN_SYNC, exists=False, in_sync=False), 'TEXT\n', False, True),
    (None, 'TEXT\n', False, True),                                       # facts without the interface report
])
def test_apply_needed_truth_table(state, content, key_changed, needed):
    assert hp.apply_needed({'facts': {'wireguard': state}, 'preshared_keys': False}, content, key_changed) is needed


def test_apply_always_needed_when_the_plan_wants_preshared_keys():
    """Turning preshared keys on leaves the rendered text as it was (the lines are inserted on the host):
    only wireguard_apply can put them in, so it always runs for such hosts."""
    assert hp.apply_needed({'facts': {'wireguard': IN_SYNC}, 'preshared_keys': True}, 'TEXT\n') is True
    d = hp.decide('vps', build_plan(dict(NET, vps=dict(NET['vps'], wireguard_preshared_keys=True)))['vps'], facts())
    assert d['preshared_keys'] is True and hp.decide('vps', PLAN['vps'], facts())['preshared_keys'] is False
    assert d['install']['missing'] == ['python3-cryptography']      # sealing preshared keys needs it on the host
