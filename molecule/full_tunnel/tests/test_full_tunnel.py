# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Full tunnel: behaviour of the VPS and its clients after `playbooks/site.yml`.

Expected from the engine's rules for this topology: each client has one peer (the VPS) holding
0.0.0.0/0 and ::/0, the VPS holds each client's /32 and forwards wg0 -> wg0, so clients reach
each other only through the VPS (relayed, not NATed), and everything else a client sends leaves
the VPS with the VPS's own address.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

VPS = 'ft-vps'
CLIENTS = {'ft-client1': '10.0.0.2', 'ft-client2': '10.0.0.3'}
VPS_TUNNEL = '10.0.0.1'
VPS_WAN = '10.89.131.10'
VPS_UPSTREAM = '10.89.132.10'        # the VPS's address on the internet host's network
INTERNET = '10.89.132.30'            # runs the "who am I" service on TCP 8080
INTERNET_NAME = 'ft-internet'
V6_SOMEWHERE = '2001:db8::1'


@pytest.mark.parametrize('name', [VPS, *CLIENTS])
def test_interface_up_and_enabled_at_boot(node, name):
    n = node(name)
    assert n.run('ip link show wg0').rc == 0
    assert n.run('systemctl is-enabled wg-quick@wg0').stdout.strip() == 'enabled'


def test_vps_knows_every_client_by_its_tunnel_address(node):
    allowed = node(VPS).wg('allowed-ips')
    by_key = {node(c).public_key(): ip for c, ip in CLIENTS.items()}
    assert set(by_key) <= set(allowed)      # the other peers are the devices (test_devices.py)
    assert len(allowed) == len(by_key) + 2
    for key, ip in by_key.items():
        assert allowed[key] == [ip + '/32']


@pytest.mark.parametrize('name', CLIENTS)
def test_client_sends_everything_to_the_vps(node, name):
    n = node(name)
    allowed = n.wg('allowed-ips')
    assert list(allowed) == [node(VPS).public_key()]
    assert sorted(allowed[node(VPS).public_key()]) == ['0.0.0.0/0', '::/0']
    assert n.wg('endpoints')[node(VPS).public_key()] == [VPS_WAN + ':51820']


@pytest.mark.parametrize('name', CLIENTS)
def test_client_reaches_vps(node, name):
    assert node(name).ping(VPS_TUNNEL)


@pytest.mark.parametrize('src,dst', [('ft-client1', 'ft-client2'), ('ft-client2', 'ft-client1')])
def test_clients_reach_each_other_through_the_vps(node, src, dst):
    # The client has no peer but the VPS: this ping is relayed by the hub.
    assert node(src).ping(CLIENTS[dst])


@pytest.mark.parametrize('name', CLIENTS)
def test_internet_traffic_is_routed_into_the_tunnel(node, name):
    # The client has a default route out of its own network (prepare.yml); the tunnel must win.
    assert node(name).route_dev(INTERNET) == 'wg0'


@pytest.mark.parametrize('name', CLIENTS)
def test_internet_sees_the_vps_address(node, name):
    # The internet host has no route to the clients' networks (see the isolation test): an
    # answer comes back only if the VPS rewrote the source to its own address.
    assert node(name).whoami(INTERNET) == VPS_UPSTREAM


def test_internet_host_cannot_reach_clients_directly(node):
    inet = node(INTERNET_NAME)
    assert inet.route_dev(VPS_WAN) == ''
    for tunnel_ip in CLIENTS.values():
        assert inet.route_dev(tunnel_ip) == ''


@pytest.mark.parametrize('name', CLIENTS)
def test_ipv6_does_not_leak(node, name):
    n = node(name)
    # precondition: without the tunnel, IPv6 would leave through the client's own network
    assert 'via fd00:131::fe' in n.out('ip -6 route show default')
    dev = n.route_dev(V6_SOMEWHERE, '-6')
    assert dev in ('wg0', ''), 'IPv6 to the internet goes out of %s, not the tunnel' % dev


# --- hardened VPS (wireguard_firewall_harden: true) -------------------------------------------

def test_vps_loads_the_hardened_ruleset_and_keeps_it_at_boot(node):
    vps = node(VPS)
    ruleset = vps.out('nft list table inet netfleet_guard')
    assert 'policy drop' in ruleset
    assert 'udp dport 51820 accept' in ruleset
    assert vps.out('systemctl is-enabled netfleet-wireguard-guard.service').strip() == 'enabled'
    assert vps.run('systemctl is-active netfleet-wireguard-guard-rollback.timer').stdout.strip() != 'active'


def test_hardened_vps_hides_its_services_from_the_internet(node):
    # the same service answers through the tunnel (tunnel input is allowed), so a silence from
    # the internet side is the firewall's doing, not a dead service
    assert node('ft-client1').whoami(VPS_TUNNEL) == CLIENTS['ft-client1']
    res = node(INTERNET_NAME).run('nc -n -w 3 %s 8080 </dev/null', VPS_UPSTREAM)
    assert res.stdout.strip() == '', 'the internet host reached TCP 8080 on the hardened VPS'


def test_rollback_timer_opens_the_host_when_nothing_disarms_it(node):
    """Last test of the file: it removes the hardened ruleset, then puts it back."""
    vps = node(VPS)
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
    inventory = os.environ.get('MOLECULE_INVENTORY_FILE')
    assert inventory, 'run through molecule verify (MOLECULE_INVENTORY_FILE is not set)'
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(repo, '.cache', 'collections'),
               ANSIBLE_CONFIG=os.path.join(repo, 'ansible.cfg'))
    playbook = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    armed = subprocess.run([playbook, '-i', inventory, os.path.join(repo, 'molecule', 'full_tunnel', 'rollback.yml')],
                           cwd=repo, env=env, capture_output=True, text=True, check=False)
    assert armed.returncode == 0, armed.stdout + armed.stderr
    try:
        gone = vps.retry('nft list table inet netfleet_guard', ok=lambda res: res.rc != 0)
        assert gone.rc != 0, 'the rollback timer did not remove the hardened table'
        assert vps.run('systemctl is-enabled netfleet-wireguard-guard.service').stdout.strip() == 'disabled'
        # the host is open again: the internet host now reaches the service the ruleset hid
        assert node(INTERNET_NAME).whoami(VPS_UPSTREAM) == INTERNET
    finally:
        vps.run('systemctl enable --now netfleet-wireguard-guard.service')
        vps.run('systemctl restart netfleet-wireguard-guard.service')
    assert vps.run('nft list table inet netfleet_guard').rc == 0


def test_review_copies_equal_the_deployed_files(node, tmp_path):
    """render.yml with the hosts' facts writes what site.yml deployed, byte for byte (secrets aside)."""
    from lab_node import render_with_host_facts, review_differences
    out = render_with_host_facts(tmp_path / 'render')
    assert review_differences(node, [VPS] + list(CLIENTS), out) == []
