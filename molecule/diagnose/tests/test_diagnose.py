# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""diagnose.yml: all green on the healthy relay fleet, then one fault at a time, each named for the
right host and peer, with a non-zero exit; every fault is undone before the next one.

The faults are the ones the seeds list as the usual suspects: the relay's NAT rule deleted, forwarding
turned off on the relay, a strict rp_filter on the relay (whose plan asks for loose: HQ's LAN is
reachable there both locally and through the tunnel), a peer's AllowedIPs replaced by hand with
`wg set`, and the relay's WireGuard UDP port blocked.
"""

from __future__ import annotations

import json

import pytest
from lab_node import playbook

RELAY = 'diagnose-relay'
HQ = 'diagnose-hq'
RM = 'diagnose-rm'
HQ_LAN_SOURCE = '10.89.197.1'         # stands for HQ's LAN in the relay's forwarding lookups
RM_LAN = '10.89.198.0/24'
NFT_TABLE = 'inet netfleet_wg_wg0'


def diagnose(tmp_path):
    """Run playbooks/diagnose.yml; (exit code, JSON report, output)."""
    path = tmp_path / 'report.json'
    proc = playbook('diagnose.yml', 'wireguard_diagnose_report=%s' % path)
    assert path.exists(), (proc.stdout + proc.stderr)[-4000:]
    return proc.returncode, json.loads(path.read_text()), proc.stdout


def named(report):
    """(check, host, peer) of every problem."""
    return {(p['check'], p['host'], p['peer']) for p in report['problems']}


def test_healthy_fleet_is_all_green(tmp_path):
    rc, report, out = diagnose(tmp_path)
    assert rc == 0, out[-4000:]
    assert report['ok'] and report['problems'] == [] and 'no problem found' in out
    checks = {(v['host'], v['check']) for host in report['hosts'].values() for v in host if v['status'] == 'ok'}
    # every kind of check really ran somewhere, and the relay's forwarding paths were looked up
    for check in ('interface', 'handshake', 'transfer', 'route', 'allowed_ips', 'forwarding', 'rules',
                  'rp_filter', 'relay', 'mtu', 'endpoint_dns'):
        assert any(c == check for _h, c in checks), check
    assert (RELAY, 'relay') in checks and (RELAY, 'rules') in checks
    # the tables are printed
    assert 'VERDICT' in out and RELAY in out


def _relay_key(node):
    return node(RELAY).public_key()


FAULTS = {
    'nat_rule_deleted': dict(
        host=RELAY,
        brk="nft delete rule %s postrouting handle $(nft -a list chain %s postrouting "
            "| sed -n 's/.* masquerade # handle \\([0-9]*\\)$/\\1/p')" % (NFT_TABLE, NFT_TABLE),
        restore='nft -f /etc/wireguard/wg0.nft',
        expect={('rules', RELAY, None)}, hosts={RELAY}, words='NAT rule'),
    'forwarding_off': dict(
        host=RELAY, brk='sysctl -qw net.ipv4.ip_forward=0', restore='sysctl -qw net.ipv4.ip_forward=1',
        expect={('forwarding', RELAY, None), ('relay', RELAY, HQ), ('relay', RELAY, RM)}, hosts={RELAY},
        words='ip_forward is 0'),
    'strict_rp_filter_on_the_relay': dict(
        host=RELAY, brk='sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.wg0.rp_filter=1',
        restore='sysctl -qw net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.wg0.rp_filter=2',
        expect={('rp_filter', RELAY, None), ('relay', RELAY, HQ)}, hosts={RELAY}, words='strict reverse-path'),
    'allowed_ips_replaced_with_wg_set': dict(
        host=HQ, brk='wg set wg0 peer {relay} allowed-ips 10.89.199.254/32',
        restore='wg set wg0 peer {relay} allowed-ips {allowed}',
        expect={('allowed_ips', HQ, RELAY), ('route', HQ, RELAY)}, hosts={HQ}, words='AllowedIPs differ'),
    'udp_port_blocked_on_the_relay': dict(
        host=RELAY,
        brk="nft add table inet diagnose_block && nft add chain inet diagnose_block input "
            "'{{ type filter hook input priority -10; }}' && nft add rule inet diagnose_block input udp dport 51820 drop",
        restore='nft delete table inet diagnose_block',
        expect={('transfer', RELAY, None), ('transfer', HQ, RELAY), ('transfer', RM, RELAY)},
        # handshakes older than the threshold would be listed first (the session of an earlier run may be older)
        first={('transfer', RELAY, None), ('handshake', HQ, RELAY), ('handshake', RM, RELAY),
               ('handshake', RELAY, HQ), ('handshake', RELAY, RM)},
        hosts={RELAY, HQ, RM}, words='UDP port is blocked'),
}


@pytest.mark.parametrize('fault', FAULTS)
def test_a_fault_is_named_for_the_right_host_and_peer(node, tmp_path, fault):
    spec = FAULTS[fault]
    relay_key = _relay_key(node)
    allowed = ','.join(node(HQ).wg('allowed-ips')[relay_key])
    target = node(spec['host'])
    target.out(spec['brk'].format(relay=relay_key))
    try:
        rc, report, out = diagnose(tmp_path)
    finally:
        target.out(spec['restore'].format(relay=relay_key, allowed=allowed))
    assert rc != 0 and not report['ok'], out[-4000:]
    assert spec['expect'] <= named(report), sorted(named(report))
    # nothing else is blamed, and the first problem in the list is one of this fault's
    assert {p['host'] for p in report['problems']} <= spec['hosts'], sorted(named(report))
    first = report['problems'][0]
    assert (first['check'], first['host'], first['peer']) in spec.get('first', spec['expect']), first
    assert any(spec['words'] in p['cause'] for p in report['problems']), report['problem_lines']
    assert all(p['cause'] and p['fix'] for p in report['problems'])
    if fault == 'strict_rp_filter_on_the_relay':
        # only HQ's LAN (reachable on the relay both locally and through wg0) is dropped, not the remote's
        relayed = [p for p in report['problems'] if p['check'] == 'relay']
        assert relayed and all(p['peer'] == HQ and p['subject'].startswith(HQ_LAN_SOURCE) for p in relayed)
    if fault == 'allowed_ips_replaced_with_wg_set':
        routes = {p['subject'] for p in report['problems'] if p['check'] == 'route'}
        assert RM_LAN in routes
