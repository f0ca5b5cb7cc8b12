# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A full-tunnel hub whose firewall ufw manages (deny incoming, deny routed).

Expected: the collection detects ufw and adds, through ufw and tagged "netfleet-wireguard wg0",
the WireGuard port, the tunnel's input and the route from wg0 to the egress; the masquerade stays
in the wg-quick hooks. The client reaches the internet host through the hub and the internet host
sees the hub's address; a service the user did not open stays closed from the WAN; the user's own
ufw rule stays. Forcing the nftables backend removes exactly the tagged rules, and then ufw's
deny routed drops the client's traffic again (our own table's accepts do not override it).
That test runs last: it leaves the hub without the collection's ufw rules.
"""

from __future__ import annotations

import pytest
from lab_node import playbook

HUB = 'ufw-hub'
CLIENT = 'ufw-client'
HUB_WAN = '10.89.231.10'
HUB_TUNNEL = '100.64.231.1'
HUB_UPSTREAM = '10.89.232.10'      # the hub's address on the internet host's network
INTERNET = '10.89.232.30'          # "who am I" on TCP 8080; reached only through the hub
CLOSED_PORT = 9090                 # a service on the hub the user did not open in ufw
TAG = "comment 'netfleet-wireguard wg0'"


def ufw_added(node):
    return [line[4:] for line in node(HUB).out('ufw show added').splitlines() if line.startswith('ufw ')]


def tcp_open(node, name, address, port):
    return node(name).run('nc -z -n -w 3 %s %s', address, str(port)).rc == 0


def test_ufw_stays_active_with_the_users_defaults(node):
    status = node(HUB).out('ufw status verbose')
    assert 'Status: active' in status
    assert 'deny (incoming)' in status and 'deny (routed)' in status


def test_collection_rules_are_tagged_and_the_users_rule_stays(node):
    added = ufw_added(node)
    assert "allow 22/tcp comment 'the user rule'" in added
    tagged = sorted(rule for rule in added if rule.endswith(TAG))
    egress = node(HUB).route_dev(INTERNET)
    assert tagged == sorted(['allow 51820/udp ' + TAG, 'allow in on wg0 ' + TAG,
                             'route allow in on wg0 out on %s %s' % (egress, TAG),
                             'route allow in on wg0 out on wg0 ' + TAG])


def test_nat_stays_in_the_wg_quick_table(node):
    ruleset = node(HUB).out('nft list table inet netfleet_wg_wg0')
    assert 'masquerade' in ruleset and '100.64.231.0/24' in ruleset


def test_client_handshakes_through_the_ufw_port(node):
    assert node(CLIENT).ping(HUB_TUNNEL)


def test_internet_host_is_reached_and_sees_the_hub_address(node):
    assert node(CLIENT).route_dev(INTERNET) == 'wg0'
    assert node(CLIENT).whoami(INTERNET) == HUB_UPSTREAM


def test_service_the_user_did_not_open_stays_closed_from_the_wan(node):
    client = node(CLIENT)
    assert client.route_dev(HUB_WAN) != 'wg0'          # precondition: the WAN address is not tunnelled
    assert not tcp_open(node, CLIENT, HUB_WAN, CLOSED_PORT)
    # the service does listen: through the tunnel (wg0 input allowed) it answers
    assert tcp_open(node, CLIENT, HUB_TUNNEL, CLOSED_PORT)


@pytest.mark.parametrize('name', [HUB, CLIENT])
def test_interface_up_and_enabled_at_boot(node, name):
    assert node(name).out('systemctl is-enabled wg-quick@wg0').strip() == 'enabled'


# last: it leaves the hub without the collection's ufw rules (the scenario is destroyed next)
def test_forced_nftables_removes_only_the_tagged_rules_and_ufw_drops_the_route(node):
    assert node(CLIENT).whoami(INTERNET) == HUB_UPSTREAM        # precondition: routed through ufw
    proc = playbook('site.yml', 'wireguard_firewall_backend=nftables', options=['--limit', HUB])
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    added = ufw_added(node)
    assert [rule for rule in added if 'netfleet-wireguard' in rule] == []
    assert "allow 22/tcp comment 'the user rule'" in added
    # the masquerade and our own table's forward accepts are still there, but ufw's deny routed drops it
    assert 'masquerade' in node(HUB).out('nft list table inet netfleet_wg_wg0')
    assert node(CLIENT).whoami(INTERNET, seconds=4) == ''
