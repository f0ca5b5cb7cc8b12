# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Day-2 key operations under continuous pings: rotate the hub's private key, fail a rotation on
purpose, rotate one pair's preshared key, retire a client.

Pings run at 10/s (`ping -i 0.1`); a loss is a gap in the icmp_seq numbers answered, never a
timing. The figures are printed and appended to .cache/logs/rotate-live-pings.txt. The tests run in
file order and each leaves the network converged.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

import yaml

import lab_node
from lab_node import REPO, molecule_inventory

HUB, C1, C2, C3 = 'rotate-hub', 'rotate-c1', 'rotate-c2', 'rotate-c3'
TUNNEL = {HUB: '100.64.211.1', C1: '100.64.211.2', C2: '100.64.211.3', C3: '100.64.211.4'}
HUB_WAN = '10.89.211.10'
PSK_DIR = '/etc/wireguard/wg0.psk.d'
# generous: a rotation should cost about one handshake round trip (a packet or two at 10/s); a
# loaded shared machine may add some; a broken rotation loses everything until the timeout (30 s)
ROTATION_LOSS_BOUND = 20


def playbook(name, *options, ok=True):
    """playbooks/<name> with the command-line options; (exit status, output)."""
    proc = lab_node.playbook(name, options=options, timeout=900)
    out = proc.stdout + proc.stderr
    if ok:
        assert proc.returncode == 0, out[-5000:]
    return proc.returncode, out


def changed_counts(out):
    """{host: changed} from the PLAY RECAP (colour codes removed: Molecule forces colour)."""
    plain = re.sub(r'\x1b\[[0-9;]*m', '', out)
    return {m.group(1): int(m.group(2)) for m in re.finditer(r'^(\S+)\s*: ok=\d+\s+changed=(\d+)', plain, re.M)}


def registry():
    path = Path(molecule_inventory()).parent / '.wireguard_public_keys.yml'
    return yaml.safe_load(path.read_text())['wg0']


def ifindex(node, name):
    return node(name).out('cat /sys/class/net/wg0/ifindex').strip()


def udp_sockets(node, name):
    """Inodes of the sockets on the interface's listen port: wireguard-go opens new ones whenever the
    port is set (as `wg syncconf` does), and packets of every tunnel are lost meanwhile."""
    port = node(name).out('wg show wg0 listen-port').strip()
    return sorted(re.findall(r'\bino:(\d+)', node(name).out("ss -H -uane 'sport = :%s'" % port)))


def fingerprint(text):
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def running_psk(node, name, peer_key):
    """Fingerprint of the preshared key ``name`` runs for ``peer_key`` (the key itself is never shown)."""
    for line in node(name).out('wg show wg0 preshared-keys').splitlines():
        key, psk = line.split('\t')
        if key == peer_key:
            return fingerprint(psk)
    return None


class Pings:
    """Continuous pings at 10/s from some containers while something else happens."""

    def __init__(self, node, what, pairs):
        self.node, self.what, self.pairs, self.lost = node, what, pairs, {}

    def __enter__(self):
        for source, target in self.pairs:
            self.node(source).run("sh -c 'ping -n -O -i 0.1 -w 900 %s > /tmp/live-ping.log 2>&1 &'", target)
        time.sleep(2)
        return self

    def __exit__(self, *exc):
        time.sleep(1)
        lines = []
        for source, target in self.pairs:
            n = self.node(source)
            n.run('pkill -INT -x ping')
            time.sleep(0.3)
            log = n.out('cat /tmp/live-ping.log')
            sent, self.lost[source] = lab_node.ping_gaps(log, 20)
            lines.append('%s: %s -> %s: %d pings at 10/s, %d lost (icmp_seq gaps)'
                         % (self.what, source, target, sent, self.lost[source]))
        print('\n' + '\n'.join(lines))
        os.makedirs(REPO / '.cache' / 'logs', exist_ok=True)
        with open(REPO / '.cache' / 'logs' / 'rotate-live-pings.txt', 'a', encoding='utf-8') as out:
            out.write('\n'.join(lines) + '\n')


def test_every_client_reaches_the_hub_and_each_other(node):
    for client in (C1, C2, C3):
        assert node(client).ping(TUNNEL[HUB]), client
    assert node(C1).ping(TUNNEL[C2]), 'client to client through the hub'


def test_hub_key_rotation_costs_about_one_handshake(node):
    old = node(HUB).public_key()
    before = {name: ifindex(node, name) for name in (HUB, C1, C2)}
    psks = {c: running_psk(node, c, old) for c in (C1, C2)}
    with Pings(node, 'hub key rotation', [(C1, TUNNEL[HUB]), (C2, TUNNEL[C1])]) as pings:
        dummy, out = playbook('rotate.yml', '-vvv', '-e', 'wireguard_rotate_hosts=%s' % HUB)
    new = node(HUB).public_key()
    assert new != old
    assert all(lost <= ROTATION_LOSS_BOUND for lost in pings.lost.values()), pings.lost
    # the key file, the wg-quick file, the running interface and the registry agree
    key_file = node(HUB).host.file('/etc/wireguard/wg0.key')
    assert key_file.mode == 0o600 and key_file.user == 'root'
    private = key_file.content_string.strip()
    assert private not in out, 'private key in -vvv output'
    assert node(HUB).out('grep -c "^PrivateKey = %s$" /etc/wireguard/wg0.conf' % private) == '1'
    assert not node(HUB).host.file('/etc/wireguard/wg0.key.next').exists
    assert registry()[HUB] == new
    for client in (C1, C2, C3):
        assert list(node(client).wg('allowed-ips')) == [new], client
        assert node(client).out('grep -c "^PublicKey = %s$" /etc/wireguard/wg0.conf' % new) == '1'
        assert old not in node(client).out('cat /etc/wireguard/wg0.conf')
    # live: no interface was recreated, the pairs keep their preshared keys
    assert {name: ifindex(node, name) for name in (HUB, C1, C2)} == before
    assert {c: running_psk(node, c, new) for c in (C1, C2)} == psks


def test_site_after_the_rotation_has_nothing_to_change():
    dummy, out = playbook('site.yml')
    counts = changed_counts(out)
    assert len(counts) == 4 and set(counts.values()) == {0}, (counts, out[-3000:])


def test_a_failed_rotation_leaves_the_old_key_working(node):
    """rotate-c2 drops the hub's packets: no handshake on the new key there, so the hub and rotate-c1,
    which had already moved, go back to the old key."""
    old = node(HUB).public_key()
    node(C2).out('nft add table inet rotatetest; nft add chain inet rotatetest in "{ type filter hook input '
                 'priority -400; }"; nft add rule inet rotatetest in ip saddr %s udp sport 51820 drop' % HUB_WAN)
    try:
        rc, out = playbook('rotate.yml', '-e', 'wireguard_rotate_hosts=%s' % HUB, '-e', 'wireguard_rotate_timeout=6',
                           ok=False)
    finally:
        node(C2).run('nft delete table inet rotatetest')
    assert rc != 0 and 'the old key is in place again' in out, out[-3000:]
    assert node(HUB).public_key() == old and registry()[HUB] == old
    assert not node(HUB).host.file('/etc/wireguard/wg0.key.next').exists
    private = node(HUB).out('cat /etc/wireguard/wg0.key').strip()
    assert node(HUB).out('grep -c "^PrivateKey = %s$" /etc/wireguard/wg0.conf' % private) == '1'
    for client in (C1, C2, C3):
        assert list(node(client).wg('allowed-ips')) == [old], client
        assert node(client).out('grep -c "^PublicKey = %s$" /etc/wireguard/wg0.conf' % old) == '1'
        assert node(client).ping(TUNNEL[HUB], seconds=20), client


def test_preshared_key_rotation_of_one_pair(node):
    hub_key = node(HUB).public_key()
    c1_key, c2_key = node(C1).public_key(), node(C2).public_key()
    before = {C1: running_psk(node, HUB, c1_key), C2: running_psk(node, HUB, c2_key)}
    with Pings(node, 'preshared key rotation hub-c1', [(C1, TUNNEL[HUB])]) as pings:
        playbook('rotate.yml', '-e', 'wireguard_rotate_preshared_hosts=%s,%s' % (HUB, C1))
    assert pings.lost[C1] <= ROTATION_LOSS_BOUND, pings.lost
    after = running_psk(node, HUB, c1_key)
    assert after != before[C1] and after == running_psk(node, C1, hub_key)
    assert fingerprint(node(HUB).out('cat %s/%s.psk' % (PSK_DIR, C1)).strip()) == after
    assert running_psk(node, HUB, c2_key) == before[C2], 'the other pair kept its key'
    # a new handshake needs the new key on both sides
    node(C1).out("bash -c 'wg set wg0 peer %s remove && wg syncconf wg0 <(wg-quick strip wg0)'" % hub_key)
    assert node(C1).ping(TUNNEL[HUB], seconds=20)
    assert int(node(C1).wg('latest-handshakes')[hub_key][0]) > 0


def test_retiring_a_client_keeps_the_other_tunnels_whole(node):
    c3_key = node(C3).public_key()
    hub_index = ifindex(node, HUB)
    host_vars = Path(molecule_inventory()).parent / 'host_vars' / C3
    text = host_vars.read_text()
    if 'wireguard_state' not in text:
        host_vars.write_text(text.rstrip('\n') + '\nwireguard_state: absent\n')
    hub_sockets = udp_sockets(node, HUB)
    with Pings(node, 'retire rotate-c3', [(C1, TUNNEL[HUB]), (C2, TUNNEL[C1])]) as pings:
        playbook('site.yml')
    # the hub drops the peer live (wg set ... remove); nothing else of its interface is touched
    assert set(pings.lost.values()) == {0}, pings.lost
    assert ifindex(node, HUB) == hub_index
    assert udp_sockets(node, HUB) == hub_sockets, 'the hub re-opened its UDP socket'
    assert hub_sockets, 'no socket found on the listen port'
    assert c3_key not in node(HUB).wg('allowed-ips')
    assert node(HUB).run('ls %s/%s.psk', PSK_DIR, C3).rc != 0
    assert C3 not in registry()
    c3 = node(C3)
    assert c3.run('ip link show wg0').rc != 0
    for path in ('/etc/wireguard/wg0.conf', '/etc/wireguard/wg0.key', PSK_DIR, '/etc/sysctl.d/90-netfleet-wireguard.conf'):
        assert not c3.host.file(path).exists, path
    assert c3.run('systemctl is-enabled wg-quick@wg0').stdout.strip() != 'enabled'
    assert 'netfleet' not in c3.out('nft list tables')


def test_a_second_site_run_after_retiring_changes_nothing():
    dummy, out = playbook('site.yml')
    counts = changed_counts(out)
    assert len(counts) == 4 and set(counts.values()) == {0}, (counts, out[-3000:])


def test_review_copies_equal_the_deployed_files(node, tmp_path):
    """render.yml with the hosts' facts writes what the members run, byte for byte (secrets aside);
    the retired host has nothing rendered."""
    from lab_node import render_with_host_facts, review_differences
    out = render_with_host_facts(tmp_path / 'render')
    assert review_differences(node, [HUB, C1, C2], out) == []
    assert not (out / C3).exists()
