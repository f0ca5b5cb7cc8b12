# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The metrics collector the wireguard_metrics role installs (roles/.../files/netfleet_wireguard_metrics.py):
its output for a recorded `wg show all dump`, parsed with prometheus_client's text-format parser and
compared with the dump as the collection's own parser (_wgconf.parse_dump) reads it."""
from __future__ import annotations

import importlib.util
import json
import math
import os
import stat

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ansible_collections.netfleet.wireguard.plugins.module_utils._wgconf import parse_dump

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
COLLECTOR = os.path.join(REPO, 'roles', 'wireguard_metrics', 'files', 'netfleet_wireguard_metrics.py')
HUB, SPOKE, PHONE, STRAY, OTHER = ('H' * 43 + '=', 'S' * 42 + 'A=', 'P' * 42 + 'A=', 'X' * 42 + 'A=',
                                   'O' * 42 + 'A=')
PRIVATE = 'cHJpdmF0ZSBrZXkgdGhhdCBtdXN0IG5ldmVyIGFwcGVhcg=='
NOW = 1767225600
# `wg show all dump` of a hub with two interfaces: wg0 (spoke with traffic, a stray peer added by hand
# that never shook hands) and wg1 (another network, must not leak into wg0's metrics)
DUMP = '\n'.join('\t'.join(fields) for fields in [
    ('wg0', PRIVATE, HUB, '51820', 'off'),
    ('wg0', SPOKE, '(none)', '10.89.240.20:39871', '10.77.0.2/32', str(NOW - 42), '123456', '654321', 'off'),
    ('wg0', STRAY, '(none)', '(none)', '10.77.0.99/32', '0', '0', '0', 'off'),
    ('wg1', PRIVATE, OTHER, '51821', 'off'),
    ('wg1', SPOKE, '(none)', '(none)', '10.78.0.2/32', str(NOW - 7), '1', '2', '25'),
]) + '\n'
NAMES = {'host': 'hub', 'interface': 'wg0', 'peers': {
    SPOKE: {'name': 'spoke', 'expected_up': True},
    PHONE: {'name': 'phone', 'expected_up': False},
}}


@pytest.fixture(scope='module')
def collector():
    spec = importlib.util.spec_from_file_location('netfleet_wireguard_metrics', COLLECTOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def metrics_of(text):
    """{sample name: {(peer, public_key): value}} parsed by prometheus_client, plus the families' types."""
    values, types = {}, {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for sample in family.samples:
            values.setdefault(sample.name, {})[(sample.labels.get('peer'), sample.labels.get('public_key'))] = \
                sample.value
            assert sample.labels['interface'] == 'wg0'
    return values, types


def run(collector, dump=DUMP, names=None, now=NOW):
    names = names or NAMES
    found, peers = collector.parse_all_dump(dump, names['interface'])
    return collector.exposition(collector.samples(names, found, peers, now))


def wg0_dump():
    """The wg0 lines as `wg show wg0 dump` prints them: the collection's parser is the oracle."""
    return parse_dump(''.join(line.split('\t', 1)[1] + '\n' for line in DUMP.splitlines() if line.startswith('wg0\t')))


def test_handshake_and_transfer_equal_the_dump_and_peers_carry_inventory_names(collector):
    values, types = metrics_of(run(collector))
    oracle = wg0_dump()['peers'][SPOKE]
    spoke = ('spoke', SPOKE)
    assert values['netfleet_wireguard_peer_latest_handshake_timestamp_seconds'][spoke] == oracle['latest_handshake']
    assert values['netfleet_wireguard_peer_handshake_age_seconds'][spoke] == NOW - oracle['latest_handshake'] == 42
    assert values['netfleet_wireguard_peer_receive_bytes_total'][spoke] == oracle['transfer_rx'] == 123456
    assert values['netfleet_wireguard_peer_transmit_bytes_total'][spoke] == oracle['transfer_tx'] == 654321
    assert values['netfleet_wireguard_peer_up'][spoke] == 1
    assert values['netfleet_wireguard_peer_planned'][spoke] == 1
    assert values['netfleet_wireguard_peer_expected_up'][spoke] == 1
    assert types['netfleet_wireguard_peer_receive_bytes'] == 'counter'
    assert types['netfleet_wireguard_peer_handshake_age_seconds'] == 'gauge'
    assert values['netfleet_wireguard_interface_up'] == {(None, None): 1}


def test_a_peer_the_plan_does_not_know_and_a_planned_peer_that_is_missing(collector):
    values, _types = metrics_of(run(collector))
    stray = ('', STRAY)
    assert values['netfleet_wireguard_peer_planned'][stray] == 0
    assert values['netfleet_wireguard_peer_expected_up'][stray] == 0
    assert values['netfleet_wireguard_peer_latest_handshake_timestamp_seconds'][stray] == 0
    assert math.isinf(values['netfleet_wireguard_peer_handshake_age_seconds'][stray])
    assert values['netfleet_wireguard_peer_up'][stray] == 0
    assert values['netfleet_wireguard_planned_peer_missing'] == {('phone', PHONE): 1, ('spoke', SPOKE): 0}
    # only wg0's peers: the other interface's are not counted in
    assert set(values['netfleet_wireguard_peer_planned']) == {('spoke', SPOKE), stray}


def test_a_missing_interface_reports_down_and_every_planned_peer_missing(collector):
    values, _types = metrics_of(run(collector, dump=DUMP.replace('wg0\t', 'wg9\t')))
    assert values['netfleet_wireguard_interface_up'] == {(None, None): 0}
    assert values['netfleet_wireguard_planned_peer_missing'] == {('phone', PHONE): 1, ('spoke', SPOKE): 1}
    assert 'netfleet_wireguard_peer_up' not in values


def test_a_session_older_than_reject_after_time_is_down(collector):
    values, _types = metrics_of(run(collector, now=NOW - 42 + collector.UP_WITHIN_SECONDS))
    assert values['netfleet_wireguard_peer_up'][('spoke', SPOKE)] == 0
    values, _types = metrics_of(run(collector, now=NOW - 42 + collector.UP_WITHIN_SECONDS - 1))
    assert values['netfleet_wireguard_peer_up'][('spoke', SPOKE)] == 1


def test_label_values_are_escaped(collector):
    names = dict(NAMES, peers={SPOKE: {'name': 'a"b\\c\nd', 'expected_up': False}})
    values, _types = metrics_of(run(collector, names=names))
    assert ('a"b\\c\nd', SPOKE) in values['netfleet_wireguard_peer_up']


def test_the_private_key_never_reaches_the_output(collector):
    assert PRIVATE not in run(collector)


def test_an_unexpected_dump_line_is_refused(collector):
    with pytest.raises(ValueError, match='6 fields'):
        collector.parse_all_dump('wg0\ta\tb\tc\td\te\n', 'wg0')


def fake_wg(tmp_path, text, rc=0):
    path = tmp_path / 'wg'
    path.write_text('#!/bin/sh\n[ "$*" = "show all dump" ] || exit 9\ncat <<\'EOF\'\n%sEOF\nexit %d\n' % (text, rc))
    path.chmod(0o755)
    return str(path)


def test_main_replaces_the_file_atomically_and_leaves_no_temp_file(collector, tmp_path):
    names, out = tmp_path / 'wg0.metrics.json', tmp_path / 'prom' / 'netfleet_wireguard_wg0.prom'
    out.parent.mkdir()
    names.write_text(json.dumps(NAMES))
    out.write_text('old\n')
    assert collector.main(['--names', str(names), '--output', str(out), '--wg', fake_wg(tmp_path, DUMP)]) == 0
    values, _types = metrics_of(out.read_text())
    assert values['netfleet_wireguard_peer_receive_bytes_total'][('spoke', SPOKE)] == 123456
    assert os.listdir(out.parent) == [out.name]
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_a_failing_wg_keeps_the_previous_file(collector, tmp_path, capsys):
    names, out = tmp_path / 'wg0.metrics.json', tmp_path / 'netfleet_wireguard_wg0.prom'
    names.write_text(json.dumps(NAMES))
    out.write_text('previous\n')
    assert collector.main(['--names', str(names), '--output', str(out), '--wg', fake_wg(tmp_path, '', rc=1)]) == 1
    assert out.read_text() == 'previous\n'
    assert 'wg show all dump failed' in capsys.readouterr().err


def test_a_failed_write_removes_its_temp_file(collector, tmp_path, monkeypatch):
    out = tmp_path / 'netfleet_wireguard_wg0.prom'
    out.write_text('previous\n')

    def refuse(_src, _dst):
        raise OSError('disk full')
    monkeypatch.setattr(collector.os, 'replace', refuse)
    with pytest.raises(OSError):
        collector.write_atomically(str(out), 'new\n')
    assert os.listdir(tmp_path) == [out.name] and out.read_text() == 'previous\n'
