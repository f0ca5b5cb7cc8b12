# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tools/lab/report.py: the ping matrix waits for late tunnels, then fails on an unreachable pair.

The lab itself (podman) is not run here: ``probe`` gets a fake clock and fake pings, and ``main``
runs against a fake fleet (inventory and ``podman exec`` answers replaced).
"""
from __future__ import annotations

import importlib.util
import os
import sys
import types

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
_SPEC = importlib.util.spec_from_file_location('lab_report', os.path.join(REPO, 'tools', 'lab', 'report.py'))
report = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(report)


class Clock:
    """Fake time: sleeping and each round of pings (1 s) move it forward."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def pings(clock, answers_from):
    """A check answering each pair from the round number given in ``answers_from`` (None: never)."""
    rounds = []

    def check(pending):
        rounds.append(list(pending))
        clock.now += 1
        return {pair: answers_from.get(pair) is not None and len(rounds) >= answers_from[pair] for pair in pending}
    return check, rounds


def run_probe(answers_from, budget=30.0, pause=2.0):
    clock = Clock()
    check, rounds = pings(clock, answers_from)
    result, made = report.probe(list(answers_from), check, budget=budget, pause=pause,
                                clock=lambda: clock.now, sleep=clock.sleep)
    return result, made, rounds, clock


def test_every_pair_answering_at_once_is_one_round_without_waiting():
    result, made, _rounds, clock = run_probe({('a', '10.0.0.2'): 1, ('b', '10.0.0.1'): 1})
    assert result == {('a', '10.0.0.2'): True, ('b', '10.0.0.1'): True}
    assert made == 1 and clock.sleeps == []
    assert report.exit_status(result, []) == 0


def test_a_late_handshake_is_retried_alone_and_then_trusted():
    # the first probe right after deployment fails (handshake not done yet), the third answers
    late, ok = ('laptop', '10.89.203.30'), ('laptop', '10.0.0.1')
    result, made, rounds, clock = run_probe({ok: 1, late: 3})
    assert result == {ok: True, late: True} and made == 3
    assert rounds == [[ok, late], [late], [late]]        # only the silent pair is pinged again
    assert clock.sleeps == [2.0, 2.0]
    assert report.exit_status(result, []) == 0


def test_a_pair_that_never_answers_fails_within_the_budget_and_is_named():
    dead, ok = ('laptop', '10.89.203.30'), ('vps', '10.0.0.2')
    result, made, _rounds, clock = run_probe({dead: None, ok: 1})
    assert result == {dead: False, ok: True}
    assert 5 <= made <= 15 and clock.now <= 30.0          # retried a few times, bounded by the budget
    assert report.exit_status(result, []) == 1
    assert report.unreachable(result, {'10.89.203.30': 'internet'}) == ['unreachable: laptop -> internet 10.89.203.30']


def test_a_missing_interface_fails_even_when_every_ping_answered():
    assert report.exit_status({('a', '10.0.0.2'): True}, ['b']) == 1
    assert report.exit_status({}, []) == 0


INVENTORY = {
    '_meta': {'hostvars': {
        'vps': {'ansible_host': 'c-vps', 'wireguard_address': '10.0.0.1/24', 'wireguard_topology': 'full_tunnel',
                'lab_probes': [{'name': 'internet', 'address': '10.89.203.30'}]},
        'laptop': {'ansible_host': 'c-laptop', 'wireguard_address': '10.0.0.2/24'},
    }},
    'all': {'children': ['ungrouped', 'wireguard']},
    'wireguard': {'hosts': ['vps', 'laptop']},
}


def fake_fleet(monkeypatch, reachable_after):
    """``podman exec`` answers of a two-host fleet; a ping answers from its ``reachable_after``-th try."""
    tries = {}

    def pexec(container, *argv, timeout=30):
        if argv[:2] == ('wg', 'show'):
            return 0, {'public-key': 'key-%s\n' % container, 'listen-port': '51820\n'}.get(argv[3], '')
        pair = (container, argv[-1])
        tries[pair] = tries.get(pair, 0) + 1
        wanted = reachable_after.get(pair, 1)
        return (0 if wanted is not None and tries[pair] >= wanted else 1), ''
    monkeypatch.setattr(report, 'load_inventory', lambda inventory, tool: INVENTORY)
    monkeypatch.setattr(report, 'pexec', pexec)
    clock = Clock()
    monkeypatch.setattr(report, 'time', types.SimpleNamespace(monotonic=lambda: clock.now, sleep=clock.sleep,
                                                              time=lambda: clock.now))
    monkeypatch.setattr(sys, 'argv', ['report.py', 'inventories/lab/full_tunnel/hosts.yml'])
    return tries


@pytest.mark.parametrize('after, status', [(2, 0), (None, 1)])
def test_main_retries_then_exits_non_zero_naming_the_unreachable_pair(monkeypatch, capsys, after, status):
    tries = fake_fleet(monkeypatch, {('c-laptop', '10.89.203.30'): after})
    assert report.main() == status
    out, err = capsys.readouterr()
    assert tries[('c-laptop', '10.89.203.30')] >= 2 and tries[('c-laptop', '10.0.0.1')] == 1
    if status:
        assert 'report: unreachable: laptop -> internet 10.89.203.30' in err
        assert '3/4 reachable' in out
    else:
        assert err == '' and '4/4 reachable' in out
