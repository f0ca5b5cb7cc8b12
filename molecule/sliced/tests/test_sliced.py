# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sliced: site.yml ran in two slices (the bastion alone, then the three spokes) from one plan artifact.

Neither slice saw a peer of its hosts, yet every host carries exactly the peers of the plan
artifact with the keys of the key registry, and traffic passes: each spoke to the bastion,
spoke to spoke through the bastion's relay, and into the first spoke's LAN.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

HUB = 'sliced-hub'
SPOKES = {'sliced-s1': '100.64.221.2', 'sliced-s2': '100.64.221.3', 'sliced-s3': '100.64.221.4'}
HUB_TUNNEL = '100.64.221.1'
S1_LAN_HOST = '10.89.222.1'
EPHEMERAL = Path(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'])
FLEET = Path(__file__).resolve().parents[1] / 'fleet'
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope='module')
def artifact():
    return json.loads((EPHEMERAL / 'render' / 'plan.json').read_text())


@pytest.fixture(scope='module')
def registry():
    return yaml.safe_load((EPHEMERAL / '.wireguard_public_keys.yml').read_text())['wg0']


def test_the_artifact_holds_the_whole_network(artifact):
    assert artifact['hosts'] == sorted([HUB, *SPOKES])
    assert artifact['missing_public_keys'] == []


@pytest.mark.parametrize('name', [HUB, *SPOKES])
def test_every_host_carries_exactly_the_peers_of_the_plan(node, artifact, registry, name):
    """No peer dropped (nor added) although no slice saw a peer of its hosts."""
    n = node(name)
    assert n.public_key() == registry[name] == artifact['public_keys'][name]
    planned = {registry[p['name']]: sorted(p['allowed_ips']) for p in artifact['plan'][name]['peers']}
    running = {key: sorted(ips) for key, ips in n.wg('allowed-ips').items()}
    assert running == planned
    assert len(running) == (3 if name == HUB else 1)


@pytest.mark.parametrize('name', SPOKES)
def test_spoke_reaches_the_bastion(node, name):
    assert node(name).ping(HUB_TUNNEL)


@pytest.mark.parametrize('source, target', [('sliced-s2', 'sliced-s3'), ('sliced-s3', 'sliced-s1'),
                                            ('sliced-s1', 'sliced-s2')])
def test_spokes_reach_each_other_through_the_bastion(node, source, target):
    n = node(source)
    assert n.route_dev(SPOKES[target]) == 'wg0'
    assert n.ping(SPOKES[target])


@pytest.mark.parametrize('name', ['sliced-s2', 'sliced-s3', HUB])
def test_the_first_spokes_lan_is_reached_through_the_tunnel(node, name):
    assert node(name).route_dev(S1_LAN_HOST) == 'wg0'
    assert node(name).ping(S1_LAN_HOST)


def test_a_render_with_host_facts_equals_the_deployed_files_and_the_same_artifact(node, tmp_path):
    """The review copies equal what the slices deployed, and the unchanged inventory renders the same
    artifact byte for byte (it is reviewable in git)."""
    from lab_node import review_differences
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / '.cache' / 'collections'), ANSIBLE_NOCOLOR='1')
    env.pop('ANSIBLE_CONFIG', None)
    proc = subprocess.run(
        ['ansible-playbook', '-i', str(FLEET / 'all.yml'), str(REPO / 'playbooks' / 'render.yml'),
         '-e', 'wireguard_render_dir=%s' % tmp_path, '-e', 'wireguard_render_host_facts=true',
         '-e', 'wireguard_key_registry=%s' % (EPHEMERAL / '.wireguard_public_keys.yml')],
        cwd=str(REPO), env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert (tmp_path / 'plan.json').read_bytes() == (EPHEMERAL / 'render' / 'plan.json').read_bytes()
    assert review_differences(node, [HUB, *SPOKES], tmp_path) == []
