# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Full tunnel: behaviour of the VPS and its clients after `playbooks/site.yml`.

Expected from the engine's rules for this topology: each client has one peer (the VPS) holding
0.0.0.0/0 and ::/0, the VPS holds each client's /32 and /128 (the tunnel is dual-stack) and forwards
wg0 -> wg0, so clients reach each other only through the VPS (relayed, not NATed), and everything
else a client sends leaves the VPS with the VPS's own address (NAT for IPv4, NAT66 for IPv6).
ft-client2 sets wireguard_dns: it resolves names through a DNS server on the VPS's tunnel address.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

VPS = 'ft-vps'
CLIENTS = {'ft-client1': '10.0.0.2', 'ft-client2': '10.0.0.3'}
CLIENTS6 = {'ft-client1': 'fd00:0:0:1::2', 'ft-client2': 'fd00:0:0:1::3'}
VPS_TUNNEL = '10.0.0.1'
VPS_TUNNEL6 = 'fd00:0:0:1::1'
VPS_WAN = '10.89.131.10'
VPS_UPSTREAM = '10.89.132.10'        # the VPS's address on the internet host's network
VPS_UPSTREAM6 = 'fd00:89:132::10'
INTERNET = '10.89.132.30'            # runs the "who am I" service on TCP 8080 (IPv4 and IPv6)
INTERNET6 = 'fd00:89:132::30'
INTERNET_NAME = 'ft-internet'
V6_SOMEWHERE = '2001:db8::1'
DNS_CLIENT = 'ft-client2'            # wireguard_dns: [10.0.0.1]
DNS_NAME = 'internet.lab'            # known only to the DNS server on the VPS's tunnel address


def route(n, address, family='-4'):
    """`ip route get` as {'dev': ..., 'src': ..., ...} (the words that come in pairs)."""
    words = n.out('ip %s -o route get %s', family, address).split()
    return {key: words[i + 1] for i, key in enumerate(words[:-1]) if key in ('dev', 'src', 'via', 'table')}


def nameservers(n):
    return re.findall(r'^nameserver\s+(\S+)', n.out('cat /etc/resolv.conf'), re.M)


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
    for name, ip in CLIENTS.items():
        assert sorted(allowed[node(name).public_key()]) == sorted([ip + '/32', CLIENTS6[name] + '/128'])


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
def test_client_reaches_vps_over_ipv6(node, name):
    assert node(name).ping(VPS_TUNNEL6, family=6)


@pytest.mark.parametrize('src,dst', [('ft-client1', 'ft-client2'), ('ft-client2', 'ft-client1')])
def test_clients_reach_each_other_over_ipv6_through_the_vps(node, src, dst):
    # relayed by the hub's IPv6 forwarding (the client's only peer is the VPS)
    assert node(src).ping(CLIENTS6[dst], family=6)


def test_vps_forwards_and_masquerades_ipv6(node):
    vps = node(VPS)
    assert vps.out('sysctl -n net.ipv6.conf.all.forwarding').strip() == '1'
    assert vps.out('sysctl -n net.ipv4.ip_forward').strip() == '1'
    # NAT66 of the tunnel's IPv6 network out of the upstream interface (the IPv4 default route's)
    upstream = vps.route_dev(INTERNET)
    assert vps.route_dev(INTERNET6, '-6') == upstream
    rules = vps.out('nft list ruleset')
    assert re.search(r'oifname "%s" ip6 saddr fd00:0:0:1::/64 .*masquerade' % upstream, rules), rules


@pytest.mark.parametrize('name', CLIENTS)
def test_internet_traffic_is_routed_into_the_tunnel(node, name):
    # The client has a default route out of its own network (prepare.yml); the tunnel must win.
    assert node(name).route_dev(INTERNET) == 'wg0'


@pytest.mark.parametrize('name', CLIENTS)
def test_internet_sees_the_vps_address(node, name):
    # The internet host has no route to the clients' networks (see the isolation test): an
    # answer comes back only if the VPS rewrote the source to its own address.
    assert node(name).whoami(INTERNET) == VPS_UPSTREAM


@pytest.mark.parametrize('name', CLIENTS)
def test_internet_sees_the_vps_ipv6_address(node, name):
    # NAT66: the internet host has no IPv6 route to the tunnel network (isolation test below),
    # so the answer comes back only if the VPS rewrote the source to its own upstream IPv6 address.
    assert node(name).whoami(INTERNET6) == VPS_UPSTREAM6


def test_internet_host_cannot_reach_clients_directly(node):
    inet = node(INTERNET_NAME)
    assert inet.route_dev(VPS_WAN) == ''
    for tunnel_ip in CLIENTS.values():
        assert inet.route_dev(tunnel_ip) == ''
    for tunnel_ip in CLIENTS6.values():
        assert inet.route_dev(tunnel_ip, '-6') == ''


@pytest.mark.parametrize('name', CLIENTS)
def test_ipv6_does_not_leak(node, name):
    n = node(name)
    # precondition: without the tunnel, IPv6 would leave through the client's own network
    assert 'via fd00:131::fe' in n.out('ip -6 route show default')
    # with IPv6 in the tunnel the IPv6 default goes into it, sourced from the tunnel address (not
    # the client's own fd00:131:: one), for an address of the internet host and for any other
    for target in (INTERNET6, V6_SOMEWHERE):
        chosen = route(n, target, '-6')
        assert chosen.get('dev') == 'wg0', 'IPv6 to %s goes out of %s, not the tunnel' % (target, chosen)
        assert chosen.get('src') == CLIENTS6[name], chosen
    # by traffic: the internet host answers (its only way back is the VPS's NAT66, see above)
    assert n.ping(INTERNET6, family=6)


# --- DNS through the tunnel (ft-client2: wireguard_dns) -----------------------------------------

def test_tunnel_dns_server_listens_only_on_the_tunnel_address(node):
    sockets = node(VPS).out('ss -Hnlu sport = :53').split()
    assert VPS_TUNNEL + ':53' in sockets
    assert not [s for s in sockets if s.endswith(':53') and s != VPS_TUNNEL + ':53'], sockets


def test_dns_client_resolves_through_the_tunnel_dns_server(node):
    n = node(DNS_CLIENT)
    # wg-quick handed the DNS server to resolvconf (openresolv, exclusive): the only nameserver
    assert nameservers(n) == [VPS_TUNNEL]
    assert n.route_dev(VPS_TUNNEL) == 'wg0'
    res = n.retry('getent hosts %s', DNS_NAME)
    assert res.rc == 0, res.stderr
    assert res.stdout.split()[:2] == [INTERNET, DNS_NAME]
    # an answer from that server, not from anywhere else: the server says NXDOMAIN for other names
    assert n.run('getent hosts nowhere.lab').rc == 2


def test_client_without_dns_setting_keeps_its_own_resolver(node):
    n = node('ft-client1')
    assert VPS_TUNNEL not in nameservers(n)
    # (its own resolver is not reachable in the lab: bounded, the answer is "no" either way)
    assert n.run('timeout 8 getent hosts %s', DNS_NAME).rc != 0


def test_dns_setting_lasts_only_while_the_tunnel_is_up(node):
    n = node(DNS_CLIENT)
    try:
        n.out('systemctl stop wg-quick@wg0')
        assert VPS_TUNNEL not in nameservers(n)
        assert n.run('timeout 8 getent hosts %s', DNS_NAME).rc != 0
    finally:
        n.run('systemctl start wg-quick@wg0')
    assert nameservers(n) == [VPS_TUNNEL]
    assert n.retry('getent hosts %s', DNS_NAME).rc == 0


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
