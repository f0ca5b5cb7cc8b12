# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Site to site: two gateways join 10.0.1.0/24 (HQ) and 10.0.2.0/24 (remote office).

Expected from the engine's rules for this topology and the scenario's host variables:

- each gateway has the other as its only peer, holding exactly the other side's tunnel /32 and
  LAN, with the other's public endpoint, and forwards between its LAN and the tunnel;
- s2s-hq-gw routes without NAT (wireguard_site_nat off): its LAN host sees the remote office's
  hosts with their real addresses. Its rules are the nftables table (backend detected) and its
  wg0 has MTU 1380 (wireguard_mtu);
- s2s-rm-gw has wireguard_site_nat: what the other site (its LAN or the tunnel) sends into the
  remote LAN leaves with the gateway's LAN address 10.0.2.254, matched by the LAN prefix although
  the gateway's default route is its WAN card (prepare.yml). Its rules are iptables chains
  (wireguard_firewall_backend: iptables) and the collection loads no nftables table there;
- no plan asks for a loose rp_filter (no overlap strategy), so the office's strict setting
  (prepare.yml) stays, and forwarding is on although the office's own sysctl.d file turns it off.

- s2s-rm-gw routes by itself (wireguard_table: off, wireguard_hooks): wg-quick adds no route to wg0, the
  gateway's own PostUp adds the one to the HQ LAN (proto static) after the collection's rules; without
  that route nothing of the HQ LAN goes into the tunnel. A hook value smuggling a second line is refused
  by the plan, naming each host and the variable, before any host changes.

The last test restarts both gateways and checks that all of it comes back by itself.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

GW = {
    's2s-hq-gw': {'tunnel': '10.100.0.1', 'wan': '10.89.141.11', 'lan': '10.0.1.0/24', 'lan_addr': '10.0.1.254',
                  'lan_host': '10.0.1.50'},
    's2s-rm-gw': {'tunnel': '10.100.0.2', 'wan': '10.89.141.12', 'lan': '10.0.2.0/24', 'lan_addr': '10.0.2.254',
                  'lan_host': '10.0.2.50'},
}
OTHER_GW = {'s2s-hq-gw': 's2s-rm-gw', 's2s-rm-gw': 's2s-hq-gw'}
LAN_HOST = {'s2s-hq-host': '10.0.1.50', 's2s-rm-host': '10.0.2.50'}
OTHER_HOST = {'s2s-hq-host': 's2s-rm-host', 's2s-rm-host': 's2s-hq-host'}
ROUTED_GW, NAT_GW = 's2s-hq-gw', 's2s-rm-gw'
WG_MTU = {'s2s-hq-gw': 1380}         # s2s-rm-gw: unset, wg-quick's default (WAN MTU - 80)

# (client, service address, source the service sees): into the HQ LAN the real address arrives
# (routed); into the remote LAN the site-NAT gateway's LAN address, from the other LAN and from
# the other gateway's tunnel address alike (the plan masquerades both toward 10.0.2.0/24).
SEEN = [
    ('s2s-rm-host', '10.0.1.50', '10.0.2.50'),
    ('s2s-hq-host', '10.0.2.50', '10.0.2.254'),
    ('s2s-hq-gw', '10.0.2.50', '10.0.2.254'),
]

# The site-NAT gateway's iptables rules, exactly: forward accepts both ways between tunnel and LAN,
# masquerade matched by source and LAN prefix with no output interface (not the default route's).
IPT_RULES = {
    ('filter', 'FORWARD'): ['-A FORWARD -j NETFLEET-wg0-FWD'],
    ('filter', 'NETFLEET-wg0-FWD'): ['-N NETFLEET-wg0-FWD',
                                     '-A NETFLEET-wg0-FWD -d 10.0.2.0/24 -i wg0 -j ACCEPT',
                                     '-A NETFLEET-wg0-FWD -s 10.0.2.0/24 -o wg0 -j ACCEPT'],
    ('nat', 'POSTROUTING'): ['-A POSTROUTING -j NETFLEET-wg0-NAT'],
    ('nat', 'NETFLEET-wg0-NAT'): ['-N NETFLEET-wg0-NAT',
                                  '-A NETFLEET-wg0-NAT -s 10.0.1.0/24 -d 10.0.2.0/24 -j MASQUERADE',
                                  '-A NETFLEET-wg0-NAT -s 10.100.0.0/24 -d 10.0.2.0/24 -j MASQUERADE'],
}
# The routed gateway's nftables forward accepts (its table has no NAT chain)
NFT_FORWARD = ['iifname "wg0" ip daddr 10.0.1.0/24 counter', 'oifname "wg0" ip saddr 10.0.1.0/24 counter']


# ------------------------------------------------------------------------------- checks

def check_peers(node, name):
    other = OTHER_GW[name]
    key = node(other).public_key()
    allowed = node(name).wg('allowed-ips')
    assert list(allowed) == [key]
    assert sorted(allowed[key]) == sorted([GW[other]['lan'], GW[other]['tunnel'] + '/32'])
    assert node(name).wg('endpoints')[key] == [GW[other]['wan'] + ':51820']


def check_kernel_settings(n):
    # 1 although the office's 10-office-baseline.conf says 0: the collection's sysctl.d file wins
    assert n.out('sysctl -n net.ipv4.ip_forward').strip() == '1'
    # the plan does not ask for loose mode (loose_rp_filter false), so the office's strict 1 stays
    assert n.out('sysctl -n net.ipv4.conf.all.rp_filter').strip() == '1'
    assert n.out('sysctl -n net.ipv4.conf.default.rp_filter').strip() == '1'


def check_firewall(n, name):
    """The gateway's rules come from its backend only: iptables chains or the nftables table."""
    tables = n.out('nft list tables').split('\n')
    chains = {}
    for table, chain in IPT_RULES:
        res = n.run('iptables -w -t %s -S %s', table, chain)
        lines = res.stdout.splitlines() if res.rc == 0 else []
        chains[(table, chain)] = [line for line in lines if 'NETFLEET' in line]
    if name == NAT_GW:
        assert chains == IPT_RULES
        assert not [t for t in tables if 'netfleet' in t], tables
    else:
        assert 'table inet netfleet_wg_wg0' in tables
        ruleset = n.out('nft list table inet netfleet_wg_wg0')
        for rule in NFT_FORWARD:
            assert rule in ruleset
        assert 'masquerade' not in ruleset and 'postrouting' not in ruleset   # routed, not NATed
        assert all(lines == [] for lines in chains.values()), chains


def wg_mtu(n):
    words = n.out('ip -o link show wg0').split()
    return int(words[words.index('mtu') + 1])


# wg0's IPv4 routes (`ip -4 route show dev wg0`): the kernel's tunnel prefix, and the peer's AllowedIPs,
# added by wg-quick (Table auto) or, on the gateway with Table off, only the one its own PostUp adds
# (wg-quick adds none for the peer's tunnel /32: the kernel's prefix already covers it)
WG0_ROUTES = {
    ROUTED_GW: ['10.0.2.0/24 scope link', '10.100.0.0/24 proto kernel scope link src 10.100.0.1'],
    NAT_GW: ['10.0.1.0/24 proto static scope link', '10.100.0.0/24 proto kernel scope link src 10.100.0.2'],
}
# the Table-off gateway's own commands (molecule.yml), in file order
USER_HOOKS = [('PostUp', 'ip -4 route add 10.0.1.0/24 dev %i proto static'),
              ('PostUp', 'touch /run/netfleet-hooks-%i.up'),
              ('PreDown', 'ip -4 route del 10.0.1.0/24 dev %i proto static || true'),
              ('PostDown', 'rm -f /run/netfleet-hooks-%i.up')]
MARKER = '/run/netfleet-hooks-wg0.up'


def check_routes(n, name):
    assert sorted(line.strip() for line in n.out('ip -4 route show dev wg0').splitlines()) == WG0_ROUTES[name]
    if name == NAT_GW:
        assert n.run('test -e %s', MARKER).rc == 0


def check_mtu(n, name):
    if name in WG_MTU:
        assert wg_mtu(n) == WG_MTU[name]
    else:
        wan_dev = n.route_dev(GW[OTHER_GW[name]]['wan'])
        assert wg_mtu(n) == int(n.out('cat /sys/class/net/%s/mtu', wan_dev)) - 80


# -------------------------------------------------------------------------------- tests

@pytest.mark.parametrize('name', GW)
def test_interface_up_and_enabled_at_boot(node, name):
    n = node(name)
    assert n.run('ip link show wg0').rc == 0
    assert n.run('systemctl is-enabled wg-quick@wg0').stdout.strip() == 'enabled'


@pytest.mark.parametrize('name', GW)
def test_gateway_peers_only_with_the_other_site(node, name):
    check_peers(node, name)


@pytest.mark.parametrize('name', GW)
def test_gateway_forwards_and_keeps_the_office_rp_filter(node, name):
    check_kernel_settings(node(name))


@pytest.mark.parametrize('name', GW)
def test_only_the_remote_lan_goes_into_the_tunnel(node, name):
    n = node(name)
    other = GW[OTHER_GW[name]]
    assert n.route_dev(other['lan_host']) == 'wg0'
    assert n.route_dev(other['tunnel']) == 'wg0'
    # the tunnel's own packets and everything else stay out of it: the default route is the WAN
    # card (prepare.yml), not the LAN card, which is what the site-NAT proof needs
    wan_dev = n.route_dev(other['wan'])
    assert wan_dev not in ('wg0', '')
    assert n.route_dev('198.51.100.7') == wan_dev
    assert n.route_dev(GW[name]['lan_host']) not in ('wg0', wan_dev)


@pytest.mark.parametrize('src', LAN_HOST)
def test_lan_hosts_reach_each_other(node, src):
    assert node(src).ping(LAN_HOST[OTHER_HOST[src]])


@pytest.mark.parametrize('src,service,seen', SEEN)
def test_routed_into_hq_nated_into_the_site_nat_lan(node, src, service, seen):
    # The service on the far LAN reports the source it saw.
    assert node(src).whoami(service) == seen


def test_site_nat_needs_no_route_back_on_the_lan(node):
    """Without its route to the HQ LAN, the remote LAN host still answers HQ: the reply goes to
    the gateway's own LAN address, which is on its link (the point of wireguard_site_nat)."""
    host = node('s2s-rm-host')
    host.out('ip route del 10.0.1.0/24')
    try:
        assert host.route_dev('10.0.1.50') == ''
        assert node('s2s-hq-host').whoami('10.0.2.50') == '10.0.2.254'
    finally:
        host.out('ip route replace 10.0.1.0/24 via 10.0.2.254')


@pytest.mark.parametrize('name', GW)
def test_rules_of_the_chosen_backend_only(node, name):
    check_firewall(node(name), name)


@pytest.mark.parametrize('name', GW)
def test_interface_mtu(node, name):
    check_mtu(node(name), name)


def test_mtu_limits_what_leaves_by_the_tunnel(node):
    # 1352 bytes of ICMP payload + 28 of headers = 1380: passes unfragmented; one byte more is
    # refused by the sender's own interface
    gw = node(ROUTED_GW)
    peer = GW[OTHER_GW[ROUTED_GW]]['tunnel']
    assert gw.retry('ping -n -c 1 -W 1 -M do -s 1352 %s', peer).rc == 0
    res = gw.run('ping -n -c 1 -W 1 -M do -s 1353 %s', peer)
    assert res.rc != 0 and 'message too long, mtu=1380' in res.stdout + res.stderr


@pytest.mark.parametrize('name', GW)
def test_wg0_routes_come_from_wg_quick_or_from_the_users_own_hook(node, name):
    check_routes(node(name), name)


def test_the_users_hooks_run_after_the_collections_rules(node):
    conf = node(NAT_GW).out('cat /etc/wireguard/wg0.conf').splitlines()
    hooks = [tuple(line.split(' = ', 1)) for line in conf
             if line.split(' = ')[0] in ('PreUp', 'PostUp', 'PreDown', 'PostDown')]
    ours = [hook for hook in hooks if 'NETFLEET-%i-' in hook[1]]
    post_up = [hook for hook in ours if hook[0] == 'PostUp']
    post_down = [hook for hook in ours if hook[0] == 'PostDown']
    assert post_up and post_down and len(ours) + len(USER_HOOKS) == len(hooks)
    # first the collection's PostUp, then the user's commands, then the collection's PostDown
    assert hooks == post_up + USER_HOOKS + post_down
    assert [line for line in conf if line.lower().startswith(('table', 'saveconfig'))] == ['Table = off']


def test_with_table_off_only_the_hook_route_leads_into_the_tunnel(node):
    """Without the route its PostUp adds, the Table-off gateway sends the HQ LAN's traffic to its default
    route (the WAN), not into wg0; a restart of wg0 runs the hooks again and brings the route back."""
    gw, lan_host = node(NAT_GW), node('s2s-rm-host')
    assert gw.route_dev('10.0.1.50') == 'wg0' and lan_host.ping('10.0.1.50')
    gw.out('ip -4 route del 10.0.1.0/24 dev wg0 proto static')
    try:
        assert gw.route_dev('10.0.1.50') == gw.route_dev(GW[ROUTED_GW]['wan'])
        assert gw.run('ping -n -c 2 -W 1 10.0.1.50').rc != 0
        assert lan_host.run('ping -n -c 2 -W 1 10.0.1.50').rc != 0
        # the down commands run (the PreDown's "|| true" covers the route already gone), then the PostDown's
        gw.out('systemctl stop wg-quick@wg0')
        assert gw.run('test -e %s', MARKER).rc == 1
    finally:
        gw.out('systemctl start wg-quick@wg0')
    check_routes(gw, NAT_GW)
    assert lan_host.ping('10.0.1.50') and node('s2s-hq-host').whoami('10.0.2.50') == '10.0.2.254'


def test_a_hook_smuggling_a_second_line_is_refused_before_any_host_changes(node):
    from lab_node import playbook
    files = {name: node(name).out('sha256sum /etc/wireguard/wg0.conf') for name in GW}
    hostile = {'wireguard_hooks': {'post_up': ['true\nPostUp = touch /tmp/netfleet-smuggled']}}
    proc = playbook('site.yml', json.dumps(hostile), timeout=300)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    for name in GW:
        assert '%s: wireguard_hooks.post_up[0]: contains the control character U+000A' % name in text, text[-3000:]
        assert node(name).out('sha256sum /etc/wireguard/wg0.conf') == files[name]
        assert node(name).run('test -e /tmp/netfleet-smuggled').rc == 1
    assert 'changed=0' in text and 'changed=1' not in text


def test_review_copies_equal_the_deployed_files(node, tmp_path):
    """render.yml with the hosts' facts writes what site.yml deployed, byte for byte (secrets aside)."""
    from lab_node import render_with_host_facts, review_differences
    out = render_with_host_facts(tmp_path / 'render')
    assert review_differences(node, list(GW), out) == []


# ------------------------------------------------------------------- last: reboot the gateways

def wait_for(n, command, ok, seconds):
    """Run command until ok(result) or seconds pass; return the last result."""
    deadline = time.monotonic() + seconds
    while True:
        res = n.run(command)
        if ok(res) or time.monotonic() > deadline:
            return res
        time.sleep(1)


def test_everything_comes_back_after_the_gateways_reboot(node):
    """Last test (it disturbs the fleet, and leaves it working): both gateway containers are
    restarted; systemd alone must bring back forwarding, the rp_filter the plan wants, wg0 with
    its MTU and peers, each backend's rules, and traffic both ways with the same sources."""
    res = subprocess.run(['podman', 'restart', *GW], capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    for name in GW:
        n = node(name)
        booted = wait_for(n, 'systemctl is-system-running',
                          lambda r: r.stdout.strip() in ('running', 'degraded'), 180)
        assert booted.stdout.strip() in ('running', 'degraded'), booted.stdout + booted.stderr
        assert wait_for(n, 'wg show wg0', lambda r: r.rc == 0, 60).rc == 0
        # wg0 by its own unit, the settings by systemd-sysctl, the office's uplink by prepare.yml's unit
        units = 'wg-quick@wg0 systemd-sysctl office-uplink'
        assert n.run('systemctl is-active %s' % units).stdout.split() == ['active'] * 3
        check_kernel_settings(n)
        check_mtu(n, name)
        check_routes(n, name)
        check_peers(node, name)
        check_firewall(n, name)
    # traffic: the first packets also make the new handshake
    for src, service, seen in SEEN:
        got = wait_for(node(src), 'nc -n -w 3 %s 8080 </dev/null' % service,
                       lambda r: r.rc == 0 and r.stdout.strip() != '', 60)
        assert got.stdout.strip() == seen, (src, service)
    for src in LAN_HOST:
        assert node(src).ping(LAN_HOST[OTHER_HOST[src]])
