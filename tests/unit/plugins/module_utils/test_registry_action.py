# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wireguard_registry action plugin in a real playbook run: check mode, write, no change, refusal."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from ansible_collections.netfleet.wireguard.plugins.module_utils import _registry as reg
from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import encode_key

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
K1, K2, K3 = (encode_key(bytes([n]) * 32) for n in (1, 2, 3))

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - netfleet.wireguard.wireguard_registry: {path: "{{ reg }}", interface: wg0, keys: {a: %(k1)s, b: %(k2)s}}
      check_mode: true
      diff: true
      register: check
    - ansible.builtin.stat: {path: "{{ reg }}"}
      register: after_check
    - netfleet.wireguard.wireguard_registry: {path: "{{ reg }}", interface: wg0, keys: {a: %(k1)s, b: %(k2)s}}
      register: write
    - netfleet.wireguard.wireguard_registry: {path: "{{ reg }}", interface: wg0, keys: {b: %(k2)s}, pinned: {a: %(k3)s}}
      register: again
    - netfleet.wireguard.wireguard_registry: {path: "{{ reg }}", interface: wg0, keys: {"c;id": %(k3)s}}
      register: bad
      ignore_errors: true
    - ansible.builtin.copy:
        content: "{{ {'check': check, 'exists_after_check': after_check.stat.exists, 'write': write,
                      'again': again, 'bad': bad} | to_json }}"
        dest: "{{ out }}"
        mode: "0644"
"""


def test_playbook_run(tmp_path):
    pb = tmp_path / 'pb.yml'
    pb.write_text(PLAYBOOK % dict(k1=K1, k2=K2, k3=K3))
    registry, out = tmp_path / 'inv' / '.wireguard_public_keys.yml', tmp_path / 'out.json'
    registry.parent.mkdir()
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, 'ansible.cfg'), ANSIBLE_NOCOLOR='1')
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,',
                           '-c', 'local', str(pb), '-e', 'reg=%s' % registry, '-e', 'out=%s' % out,
                           '-e', 'ansible_python_interpreter=%s' % sys.executable],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    res = json.loads(out.read_text())
    assert res['check']['changed'] and not res['exists_after_check']
    assert res['check']['registry'] == {'wg0': {'a': K1, 'b': K2}} and K1 in res['check']['diff']['after']
    assert res['write']['changed'] and res['write']['added'] == ['a', 'b']
    assert not res['again']['changed'] and res['again']['registry'] == {'wg0': {'a': K1, 'b': K2}}
    assert res['again']['public_keys'] == {'a': K3, 'b': K2}      # pinned wins, and is not written
    assert res['bad']['failed'] and 'cannot be recorded' in res['bad']['msg']
    text = registry.read_text()
    assert text.startswith(reg.HEADER) and yaml.safe_load(text) == {'wg0': {'a': K1, 'b': K2}}
