# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host in two networks: multinet-vps is the full-tunnel hub of the laptop on wg0 and a gateway of
the site-to-site network with the office on wg1.

Expected: each interface has its own key, port and peers; the laptop reaches the internet host
through the VPS, which is the source that host sees (NAT on wg0's egress); a host of the VPS's LAN
reaches the office LAN host across wg1 with its own address (routed, no NAT); the VPS's one sysctl
file holds what both networks need. Then the VPS leaves the site network (`wireguard_state: absent`
under `wireguard_networks.vpn_sites`): wg1, its files and its rules table go, wg0, its table and the
sysctl file stay, a ping on wg0 running meanwhile loses nothing, and a second run changes nothing.
The last test changes the network: it runs last.
"""

from __future__ import annotations

import os
import re
import shutil
import time

import yaml

from lab_node import REPO, molecule_inventory, ping_gaps, playbook

VPS, LAPTOP, OFFICE = 'multinet-vps', 'multinet-laptop', 'multinet-office'
LAN_A, LAN_B = 'multinet-lana', 'multinet-lanb'
VPS_WG0 = '100.64.236.1'
VPS_UPSTREAM = '10.89.237.10'     # the VPS's address on the internet host's network
INTERNET = '10.89.237.30'         # "who am I" on TCP 8080; reached only through the VPS
LAN_A_HOST, LAN_B_HOST = '10.0.36.10', '10.0.37.10'
SYSCTL = '/etc/sysctl.d/90-netfleet-wireguard.conf'


def peers(node, name, interface):
    """{public key: allowed ips} of ``interface`` on ``name``."""
    table = {}
    for line in node(name).out('wg show %s allowed-ips', interface).splitlines():
        key, *values = line.split()
        table[key] = sorted(values)
    return table


def public_key(node, name, interface):
    return node(name).out('wg show %s public-key', interface).strip()


def nft_tables(node, name):
    return set(re.findall(r'table inet (\S+)', node(name).out('nft list tables')))


def test_each_network_has_its_own_interface_key_port_and_peers(node):
    vps = node(VPS)
    assert vps.out('wg show wg0 listen-port').strip() == '51820'
    assert vps.out('wg show wg1 listen-port').strip() == '51821'
    assert public_key(node, VPS, 'wg0') != public_key(node, VPS, 'wg1')
    assert peers(node, VPS, 'wg0') == {public_key(node, LAPTOP, 'wg0'): ['100.64.236.2/32']}
    assert peers(node, VPS, 'wg1') == {public_key(node, OFFICE, 'wg1'): ['10.0.37.0/24', '100.64.237.2/32']}
    assert peers(node, OFFICE, 'wg1') == {public_key(node, VPS, 'wg1'): ['10.0.36.0/24', '100.64.237.1/32']}
    assert {'netfleet_wg_wg0', 'netfleet_wg_wg1'} <= nft_tables(node, VPS)
    for interface in ('wg0', 'wg1'):
        assert vps.out('systemctl is-enabled wg-quick@%s', interface).strip() == 'enabled'


def test_laptop_reaches_the_internet_through_the_vps_which_is_the_source_seen(node):
    assert node(LAPTOP).route_dev(INTERNET) == 'wg0'
    assert node(LAPTOP).whoami(INTERNET) == VPS_UPSTREAM


def test_lan_to_lan_across_the_site_tunnel_keeps_the_source(node):
    assert node(VPS).route_dev(LAN_B_HOST) == 'wg1'
    assert node(LAN_A).whoami(LAN_B_HOST) == LAN_A_HOST


def test_the_one_sysctl_file_holds_what_both_networks_need(node):
    assert node(VPS).out('cat %s', SYSCTL).splitlines()[2:] == ['net.ipv4.ip_forward = 1']
    assert node(VPS).out('sysctl -n net.ipv4.ip_forward').strip() == '1'


def _inventory_without_the_site_network(tmp_path):
    """The scenario's inventory with the VPS leaving vpn_sites (``wireguard_state: absent`` there)."""
    source = os.path.dirname(molecule_inventory())
    target = tmp_path / 'inventory'
    shutil.copytree(source, str(target), symlinks=False)
    path = target / 'host_vars' / VPS
    data = yaml.safe_load(path.read_text())
    data['wireguard_networks']['vpn_sites'] = {'wireguard_state': 'absent'}
    path.write_text(yaml.safe_dump(data))
    return str(target)


def _site(inventory):
    env_inventory = os.environ.get('MOLECULE_INVENTORY_FILE')
    os.environ['MOLECULE_INVENTORY_FILE'] = os.path.join(inventory, os.path.basename(molecule_inventory()))
    try:
        proc = playbook('site.yml')
    finally:
        if env_inventory is None:
            os.environ.pop('MOLECULE_INVENTORY_FILE')
        else:
            os.environ['MOLECULE_INVENTORY_FILE'] = env_inventory
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc.stdout


def test_leaving_the_site_network_removes_only_wg1_while_wg0_loses_nothing(node, tmp_path):
    inventory = _inventory_without_the_site_network(tmp_path)
    laptop, vps = node(LAPTOP), node(VPS)
    laptop.run('rm -f /tmp/live-ping.log')
    laptop.run("sh -c 'ping -n -O -i 0.1 -w 600 %s > /tmp/live-ping.log 2>&1 &'", VPS_WG0)
    time.sleep(1)
    try:
        _site(inventory)
    finally:
        laptop.run('pkill -INT -x ping')
        time.sleep(1)
    sent, lost = ping_gaps(laptop.out('cat /tmp/live-ping.log'), 50)
    os.makedirs(os.path.join(str(REPO), '.cache', 'logs'), exist_ok=True)
    with open(os.path.join(str(REPO), '.cache', 'logs', 'multinet-live-pings.txt'), 'a', encoding='utf-8') as out:
        out.write('multinet-vps leaves vpn_sites: %d pings at 10/s multinet-laptop -> wg0 of the VPS, %d lost\n'
                  % (sent, lost))
    assert lost == 0, (sent, lost)
    assert vps.run('ip link show wg1').rc != 0
    for path in ('/etc/wireguard/wg1.conf', '/etc/wireguard/wg1.key', '/etc/wireguard/wg1.nft'):
        assert not vps.host.file(path).exists, path
    assert nft_tables(node, VPS) >= {'netfleet_wg_wg0'} and 'netfleet_wg_wg1' not in nft_tables(node, VPS)
    assert vps.out('cat %s', SYSCTL).splitlines()[2:] == ['net.ipv4.ip_forward = 1']
    assert peers(node, OFFICE, 'wg1') == {}
    # wg0 still carries the laptop to the internet; a second run changes nothing
    assert laptop.whoami(INTERNET) == VPS_UPSTREAM
    again = _site(inventory)
    assert re.findall(r'changed=(\d+)', again) and set(re.findall(r'changed=(\d+)', again)) == {'0'}, again[-3000:]
