# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan artifact through the action plugin: render.yml's plan.json gives back the computed plan
for every example inventory, and a slice of an inventory (some hosts only) gets the whole plan."""
from __future__ import annotations

import json
import os

import pytest
import yaml

from playbook_runner import REPO, ansible_playbook

from wgkeys import private_key, public_key

INVENTORIES = ['bastion', 'full_tunnel', 'site_to_site']   # the example inventories
KEYS = [public_key(private_key(seed)) for seed in range(1, 40)]

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  vars:
    group: "{{ wireguard_network_group | default('wireguard') }}"
  tasks:
    - name: a registry with a key for every host
      ansible.builtin.copy:
        content: "{{ {'wg0': dict(groups[group] | sort | zip(keys))} | to_nice_yaml }}"
        dest: "{{ registry }}"
        mode: "0644"
      when: write_registry | bool
    - netfleet.wireguard.wireguard_plan:
        render_dir: "{{ out }}/render"
      register: computed
      when: write_registry | bool
    - netfleet.wireguard.wireguard_plan:
        plan_file: "{{ out }}/render/plan.json"
      register: from_file
    - ansible.builtin.copy:
        content: "{{ {'computed': computed.plan | default(none), 'from_file': from_file.plan} | to_json }}"
        dest: "{{ out }}/plans.json"
        mode: "0644"
"""


def run(inventory, out, write_registry=True, *extra):
    pb = os.path.join(str(out), 'pb.yml')
    with open(pb, 'w', encoding='utf-8') as handle:
        handle.write(PLAYBOOK)
    registry = os.path.join(str(out), 'registry.yml')
    extra_vars = {'keys': KEYS, 'out': str(out), 'registry': registry, 'wireguard_key_registry': registry,
                  'write_registry': write_registry}
    return ansible_playbook(inventory, pb, '-e', json.dumps(extra_vars), *extra)


@pytest.mark.parametrize('name', INVENTORIES)
def test_the_artifact_gives_the_computed_plan(tmp_path, name):
    proc = run(os.path.join(REPO, 'inventories', name), tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    plans = json.loads((tmp_path / 'plans.json').read_text())
    assert plans['from_file'] == plans['computed'] and plans['computed']


def slice_of(source, keep, target):
    """Copy of the inventory folder ``source`` whose hosts.yml keeps only the hosts ``keep``."""
    os.makedirs(target)
    for entry in os.listdir(source):
        if entry != 'hosts.yml':
            os.symlink(os.path.join(source, entry), os.path.join(target, entry))
    with open(os.path.join(source, 'hosts.yml'), encoding='utf-8') as handle:
        data = yaml.safe_load(handle)
    hosts = data['all']['children']['wireguard']['hosts']
    data['all']['children']['wireguard']['hosts'] = {h: v for h, v in hosts.items() if h in keep}
    with open(os.path.join(target, 'hosts.yml'), 'w', encoding='utf-8') as handle:
        yaml.safe_dump(data, handle)
    return target


def test_a_slice_gets_the_whole_plan_and_a_changed_slice_is_refused(tmp_path):
    full = os.path.join(REPO, 'inventories', 'bastion')
    assert run(full, tmp_path).returncode == 0
    plans = json.loads((tmp_path / 'plans.json').read_text())
    part = slice_of(full, {'remote'}, str(tmp_path / 'slice'))
    proc = run(part, tmp_path, False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads((tmp_path / 'plans.json').read_text())['from_file'] == plans['computed']
    bad = run(part, tmp_path, False, '-e', 'wireguard_mtu=1380')
    assert bad.returncode != 0
    assert 'remote: wireguard_mtu: set since %s/render/plan.json was rendered' % tmp_path in bad.stdout
