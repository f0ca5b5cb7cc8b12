# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access policy: default deny on a full_tunnel hub, proven with traffic both ways.

Every pair the rules allow passes a ping and a TCP connection to port 8080 (the far side sees the
client's tunnel address: routed, not NATed); every other pair is dropped by the hub, although the
target is up (the admin client reaches it). A rule added to the inventory is applied live: a
continuous ping on an allowed pair (10 per second) loses no packet while the hub's table is
replaced, and the rule is gone again when the inventory no longer has it.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
import yaml

from lab_node import ping_gaps, playbook

HUB, C1, C2, C3 = 'pol-hub', 'pol-c1', 'pol-c2', 'pol-c3'
TUNNEL = {HUB: '100.64.181.1', C1: '100.64.181.2', C2: '100.64.181.3', C3: '100.64.181.4'}
LAN_HOST = '10.89.182.10'
SCENARIO = Path(__file__).resolve().parents[1]
REPO = SCENARIO.parents[1]

ALLOWED = [(C1, TUNNEL[HUB]), (C1, TUNNEL[C2]), (C1, TUNNEL[C3]), (C1, LAN_HOST),
           (C2, TUNNEL[C3]), (C2, LAN_HOST), (C3, LAN_HOST)]
# (source, target, what is dropped): the target answers the admin client, so only the policy stops it
DENIED = [(C3, TUNNEL[C2], 'ping tcp'), (C3, TUNNEL[C1], 'ping tcp'), (C2, TUNNEL[C1], 'ping tcp'),
          (C2, TUNNEL[HUB], 'ping tcp'), (C3, TUNNEL[HUB], 'ping tcp')]


def reaches_tcp(node, src, dst, seconds=3):
    return node(src).whoami(dst, seconds=seconds)


@pytest.mark.parametrize('src,dst', ALLOWED)
def test_allowed_pair_passes_ping_and_tcp(node, src, dst):
    assert node(src).ping(dst)
    assert node(src).whoami(dst) == TUNNEL[src]


@pytest.mark.parametrize('src,dst,what', DENIED)
def test_denied_pair_is_dropped(node, src, dst, what):
    assert node(C1).ping(dst) and node(C1).whoami(dst) == TUNNEL[C1]     # the target is up
    assert node(src).route_dev(dst) == 'wg0'                               # and routed into the tunnel
    if 'ping' in what:
        assert not node(src).ping(dst, seconds=2)
    if 'tcp' in what:
        assert reaches_tcp(node, src, dst) == ''


def test_replies_of_an_allowed_connection_pass_the_other_way(node):
    """c1 -> c3 is allowed, c3 -> c1 is not: c3's answers still reach c1 (established)."""
    assert node(C1).whoami(TUNNEL[C3]) == TUNNEL[C1]
    assert reaches_tcp(node, C3, TUNNEL[C1]) == ''


def test_the_hub_counts_the_drops_of_its_default(node):
    table = node(HUB).out('nft list table inet netfleet_wg_wg0')
    drops = re.findall(r'counter packets (\d+) bytes \d+ drop comment "default deny"', table)
    assert len(drops) == 2 and sum(int(n) for n in drops) > 0, table
    assert 'comment "rules[c2-web-on-c3]"' in table


# ------------------------------------------------------------------ a rule changed live

def site_playbook(*options):
    """playbooks/site.yml against the scenario's hosts; the finished process."""
    proc = playbook('site.yml', options=options)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc


class LivePing:
    """``ping -i 0.1`` from c2 to c3 (an allowed pair) while the policy changes; losses are icmp_seq gaps."""

    def __init__(self, node, what):
        self.client, self.what = node(C2), what

    def __enter__(self):
        self.pid = self.client.out("sh -c 'ping -n -i 0.1 -w 600 %s > /tmp/live-ping.log 2>&1 & echo $!'",
                                   TUNNEL[C3]).strip()
        time.sleep(1)
        return self

    def __exit__(self, *exc):
        self.client.run('kill -INT %s', self.pid)
        time.sleep(0.5)
        log = self.client.out('cat /tmp/live-ping.log')
        self.sent, self.lost = ping_gaps(log, 30)
        os.makedirs(REPO / '.cache' / 'logs', exist_ok=True)
        with open(REPO / '.cache' / 'logs' / 'policy-live-pings.txt', 'a', encoding='utf-8') as out:
            out.write('%s: %d pings at 10/s on pol-c2 -> pol-c3, %d lost\n' % (self.what, self.sent, self.lost))


def changed_policy(tmp_path):
    """The scenario's policy plus a rule letting c3 use c2's TCP service (c3 -> c2 ping stays denied)."""
    config = yaml.safe_load((SCENARIO / 'molecule.yml').read_text(encoding='utf-8'))
    policy = config['provisioner']['inventory']['group_vars']['wireguard']['wireguard_policy']
    policy['rules'].append({'name': 'c3-web-on-c2', 'from': C3, 'to': C2, 'proto': 'tcp', 'ports': [8080]})
    path = tmp_path / 'policy.json'
    path.write_text(json.dumps({'wireguard_policy': policy}), encoding='utf-8')
    return path


def test_a_rule_change_is_applied_live_and_removed_exactly(node, tmp_path):
    assert node(C2).ping(TUNNEL[C3]) and reaches_tcp(node, C3, TUNNEL[C2]) == ''
    with LivePing(node, 'rule added') as added:
        # the policy only changes the hub's plan: the run is limited to it (faster, as a user would do)
        run = site_playbook('--limit', HUB, '-e', '@%s' % changed_policy(tmp_path))
    assert 'Replace the rules of the running interface' in run.stdout
    assert added.lost == 0
    assert node(C3).whoami(TUNNEL[C2]) == TUNNEL[C3]
    assert not node(C3).ping(TUNNEL[C2], seconds=2)
    with LivePing(node, 'rule removed') as removed:
        site_playbook('--limit', HUB)
    assert removed.lost == 0
    assert reaches_tcp(node, C3, TUNNEL[C2]) == ''
    assert 'c3-web-on-c2' not in node(HUB).out('nft list table inet netfleet_wg_wg0')


def test_review_copies_equal_the_deployed_files(node, tmp_path):
    """render.yml with the hosts' facts writes what site.yml deployed, byte for byte (secrets aside)."""
    from lab_node import render_with_host_facts, review_differences
    out = render_with_host_facts(tmp_path / 'render')
    assert review_differences(node, [HUB, C1, C2, C3], out) == []
