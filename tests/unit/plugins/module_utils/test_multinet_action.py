# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""render.yml with several networks: every interface of every host, checked together, one sysctl union;
a network removed from a host removes only its files; other playbooks refuse a host in two networks."""
from __future__ import annotations

import json
import os

from playbook_runner import ansible_playbook, render

HOSTS = """
all:
  vars:
    wireguard_network_groups: [vpn_laptops, vpn_sites]
  children:
    vpn_laptops:
      vars: {wireguard_topology: full_tunnel, wireguard_interface: wg0, wireguard_hub: vps}
      hosts:
        vps:
          wireguard_endpoint: 203.0.113.1
          wireguard_networks:
            vpn_laptops: {wireguard_address: 10.0.0.1/24}
            %(vps_sites)s
        laptop: {wireguard_address: 10.0.0.2/24}
    vpn_sites:
      vars: {wireguard_topology: site_to_site, wireguard_interface: wg1, wireguard_listen_port: %(port)s,
             wireguard_site_nat: true}
      hosts:
        %(vps_member)s
        office: {wireguard_address: 10.100.0.2/24, wireguard_endpoint: 198.51.100.9,
                 wireguard_lan_subnets: [10.0.2.0/24]}
        branch: {wireguard_address: 10.100.0.3/24, wireguard_endpoint: 198.51.100.10,
                 wireguard_lan_subnets: [10.0.3.0/24]}
"""
VPS_SITES = 'vpn_sites: {wireguard_address: 10.100.0.1/24, wireguard_lan_subnets: [10.0.1.0/24]}'


def inventory(tmp_path, with_vps=True, port=51821):
    inv = tmp_path / 'inv'
    inv.mkdir(exist_ok=True)
    (inv / 'hosts.yml').write_text(HOSTS % {'vps_sites': VPS_SITES if with_vps else '', 'port': port,
                                            'vps_member': 'vps: {}' if with_vps else ''})
    return str(inv)


def files(out):
    return sorted(os.path.relpath(os.path.join(d, f), out) for d, _s, names in os.walk(out) for f in names
                  if not f.startswith('.') and not f.endswith('.svg'))


def test_every_interface_of_every_host_is_rendered_and_a_removed_network_leaves_only_its_part(tmp_path):
    out = str(tmp_path / 'out')
    proc = render(inventory(tmp_path), out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert files(out) == sorted([
        'branch/90-netfleet-wireguard.conf', 'branch/wg1.conf', 'branch/wg1.nft', 'laptop/wg0.conf',
        'office/90-netfleet-wireguard.conf', 'office/wg1.conf', 'office/wg1.nft',
        'vps/90-netfleet-wireguard.conf', 'vps/wg0.conf', 'vps/wg0.nft', 'vps/wg1.conf', 'vps/wg1.nft',
        'wg0-network.dot', 'wg1-network.dot'])
    wg0, wg1 = (open(os.path.join(out, 'vps', name)).read() for name in ('wg0.conf', 'wg1.conf'))
    assert 'Address = 10.0.0.1/24' in wg0 and 'ListenPort = 51820' in wg0 and 'AllowedIPs = 10.0.0.2/32' in wg0
    assert 'Address = 10.100.0.1/24' in wg1 and 'ListenPort = 51821' in wg1 and 'AllowedIPs = 10.0.2.0/24, 10.100.0.2/32' in wg1
    assert 'Endpoint = 203.0.113.1:51821' in open(os.path.join(out, 'office', 'wg1.conf')).read()
    assert 'masquerade' in open(os.path.join(out, 'vps', 'wg0.nft')).read()
    sysctl_before = open(os.path.join(out, 'vps', '90-netfleet-wireguard.conf')).read()
    assert 'net.ipv4.ip_forward = 1' in sysctl_before
    again = render(inventory(tmp_path), out)
    assert again.returncode == 0 and 'changed=0' in again.stdout
    # vps leaves the site network: its wg1 files go, wg0 and the sysctl file (still needed by wg0) stay
    gone = render(inventory(tmp_path, with_vps=False), out)
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert [f for f in files(out) if f.startswith('vps/')] == ['vps/90-netfleet-wireguard.conf', 'vps/wg0.conf',
                                                               'vps/wg0.nft']
    assert open(os.path.join(out, 'vps', 'wg0.conf')).read() == wg0


def test_clashes_are_refused_before_anything_is_written(tmp_path):
    out = tmp_path / 'out'
    proc = render(inventory(tmp_path, port=51820), str(out))
    assert proc.returncode != 0
    assert ('vps: wireguard_listen_port: 51820 is used by the networks vpn_laptops and vpn_sites'
            in proc.stdout + proc.stderr)
    assert not out.exists()


PLAN_ONE = """
- hosts: localhost
  gather_facts: false
  tasks:
    - netfleet.wireguard.wireguard_plan:
        group: vpn_sites
      register: sites
    - ansible.builtin.copy:
        content: "{{ sites | to_json }}"
        dest: "{{ out }}"
        mode: "0644"
"""


def plan_of_sites(tmp_path, inv):
    playbook, out = tmp_path / 'plan.yml', tmp_path / 'plan.json'
    playbook.write_text(PLAN_ONE)
    proc = ansible_playbook(inv, playbook, '-e', 'out=%s' % out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text())


def test_site_yml_plans_its_network_with_the_others_and_the_forwarding_union(tmp_path):
    result = plan_of_sites(tmp_path, inventory(tmp_path))
    assert sorted(result['plan']) == ['branch', 'office', 'vps'] and result['plan']['vps']['interface'] == 'wg1'
    assert sorted(result['forwarding_entries']) == ['vps']
    assert [entry['interface'] for entry in result['forwarding_entries']['vps']] == ['wg0', 'wg1']


def test_leaving_one_network_retires_only_its_interface_and_files(tmp_path):
    inv = inventory(tmp_path)
    hosts = os.path.join(inv, 'hosts.yml')
    with open(hosts, encoding='utf-8') as handle:
        text = handle.read().replace(VPS_SITES, 'vpn_sites: {wireguard_state: absent}')
    with open(hosts, 'w', encoding='utf-8') as handle:
        handle.write(text)
    result = plan_of_sites(tmp_path, inv)
    retired = result['retired']['vps']
    assert retired['interface'] == 'wg1' and retired['nft_tables'] == ['netfleet_wg_wg1']
    assert retired['paths']['conf'] == '/etc/wireguard/wg1.conf'
    assert not {'sysctl_file', 'guard_ruleset', 'guard_unit', 'guard_enabled_link'} & set(retired['paths'])
    assert 'vps' not in result['plan']
