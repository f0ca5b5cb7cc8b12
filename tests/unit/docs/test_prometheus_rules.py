# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example alert rules (docs/prometheus/wireguard.rules.yml): well formed, they only use metrics the
collector writes (or node_exporter's own), promtool accepts them and its rule tests see them fire."""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess

import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
RULES = os.path.join(REPO, 'docs', 'prometheus', 'wireguard.rules.yml')
RULE_TESTS = os.path.join(os.path.dirname(__file__), 'wireguard_rules_test.yml')
COLLECTOR = os.path.join(REPO, 'roles', 'wireguard_metrics', 'files', 'netfleet_wireguard_metrics.py')
# node_exporter's own metric about the textfile (the file's modification time)
NODE_EXPORTER_METRICS = {'node_textfile_mtime_seconds'}
# PromQL words that look like metric names
PROMQL_WORDS = {'and', 'or', 'unless', 'on', 'ignoring', 'by', 'without', 'time', 'increase', 'rate', 'offset',
                'bool', 'group_left', 'group_right'}


def collector():
    spec = importlib.util.spec_from_file_location('netfleet_wireguard_metrics', COLLECTOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def written_metric_names():
    module = collector()
    return {module.PREFIX + name + ('_total' if kind == 'counter' else '') for name, kind, _help in module.METRICS}


def rules():
    with open(RULES, encoding='utf-8') as handle:
        doc = yaml.safe_load(handle)
    assert set(doc) == {'groups'} and doc['groups'], 'a rules file is {groups: [...]}'
    out = []
    for group in doc['groups']:
        assert set(group) == {'name', 'rules'} and group['rules']
        out += group['rules']
    return out


def referenced_metrics(expr):
    # label matchers {...} and range selectors [...] hold no metric names
    bare = re.sub(r'\{[^}]*\}|\[[^\]]*\]', '', expr)
    words = set(re.findall(r'[A-Za-z_:][A-Za-z0-9_:]*', bare))
    return words - PROMQL_WORDS


def test_every_rule_is_a_complete_alert():
    alerts = rules()
    names = [rule['alert'] for rule in alerts]
    assert len(names) == len(set(names))
    for rule in alerts:
        assert set(rule) == {'alert', 'expr', 'for', 'labels', 'annotations'}, rule['alert']
        assert rule['labels']['severity'] in ('critical', 'warning', 'info')
        assert rule['annotations']['summary'] and rule['annotations']['description']
    assert {'WireGuardHandshakeStale', 'WireGuardPlannedPeerMissing', 'WireGuardNoBytesReceived'} <= set(names)


def test_rules_only_use_metrics_the_collector_writes():
    written = written_metric_names()
    used = set()
    for rule in rules():
        found = referenced_metrics(rule['expr'])
        assert found, rule['alert']
        unknown = found - written - NODE_EXPORTER_METRICS
        assert not unknown, '%s uses %s' % (rule['alert'], sorted(unknown))
        used |= found
    # every rule about a peer's tunnel is limited to the tunnels the plan keeps up
    for rule in rules():
        if 'handshake_age' in rule['expr'] or 'bytes' in rule['expr']:
            assert 'netfleet_wireguard_peer_expected_up == 1' in rule['expr'], rule['alert']
    assert 'netfleet_wireguard_planned_peer_missing' in used


def test_the_metric_check_sees_a_misspelt_metric():
    assert referenced_metrics('netfleet_wireguard_peer_handshake_age > 300 and up{job="x"} == 1') == {
        'netfleet_wireguard_peer_handshake_age', 'up'}
    assert referenced_metrics('increase(a_total[15m]) == 0') == {'a_total'}


@pytest.fixture()
def promtool():
    found = shutil.which('promtool')
    if not found:
        pytest.skip('promtool not installed (Debian package prometheus; tools/lab/host-deps.sh installs it)')
    return found


def test_promtool_checks_the_rules(promtool):
    proc = subprocess.run([promtool, 'check', 'rules', RULES], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'SUCCESS: %d rules found' % len(rules()) in proc.stdout


def test_promtool_rule_tests_see_the_alerts_fire_for_expected_peers_only(promtool):
    proc = subprocess.run([promtool, 'test', 'rules', RULE_TESTS], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'SUCCESS' in proc.stdout
