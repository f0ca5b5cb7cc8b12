# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin's fast variable path must give exactly what hostvars gives.

An inventory with variables at every level (group_vars/all, a parent and a child group,
host_vars files, inline host vars, a templated value, extra vars) is planned twice in one
playbook run, with ``fast_hostvars`` on and off, and the plans are compared.
"""
from __future__ import annotations

import json
import os

from playbook_runner import ansible_playbook, render


PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - netfleet.wireguard.wireguard_plan:
        group: fleet
      register: fast
    - netfleet.wireguard.wireguard_plan:
        group: fleet
        fast_hostvars: false
      register: slow
    - ansible.builtin.copy:
        content: "{{ {'fast': fast.plan, 'slow': slow.plan} | to_json }}"
        dest: "{{ out }}"
        mode: "0644"
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(text)


def test_fast_and_slow_variable_paths_agree(tmp_path):
    inv = str(tmp_path / 'inv')
    write(os.path.join(inv, 'hosts.yml'), """
all:
  children:
    fleet:
      vars:
        wireguard_topology: mesh
        wireguard_persistent_keepalive: 30
      children:
        dc:
          hosts:
            a: {ansible_host: 192.0.2.1, wireguard_address: 10.9.0.1/24}
            b: {ansible_host: 192.0.2.2, wireguard_address: 10.9.0.2/24}
        home:
          hosts:
            c: {wireguard_address: 10.9.0.3/24, wireguard_lan_subnets: [192.168.3.0/24]}
""")
    write(os.path.join(inv, 'group_vars', 'all.yml'), 'wireguard_listen_port: 51000\n')
    write(os.path.join(inv, 'group_vars', 'dc.yml'),
          'wireguard_endpoint: "{{ ansible_host }}"\nwireguard_persistent_keepalive: 20\n')
    write(os.path.join(inv, 'group_vars', 'home.yml'), 'wireguard_behind_nat: true\n')
    write(os.path.join(inv, 'host_vars', 'b.yml'), 'wireguard_listen_port: 52000\n')
    pb = str(tmp_path / 'pb.yml')
    write(pb, PLAYBOOK)
    out = str(tmp_path / 'plans.json')
    proc = ansible_playbook(inv, pb, '-e', 'out=%s' % out, '-e', 'wireguard_mtu=1380')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(out, encoding='utf-8') as handle:
        plans = json.load(handle)
    assert plans['fast'] == plans['slow']
    plan = plans['fast']
    peers_c = {p['name']: p for p in plan['c']['peers']}
    assert peers_c['a']['endpoint'] == '192.0.2.1:51000'      # template + group_vars/all port
    assert peers_c['b']['endpoint'] == '192.0.2.2:52000'      # host_vars file wins over group_vars/all
    assert peers_c['a']['persistent_keepalive'] == 30         # c is in home: parent fleet's 30
    assert plan['a']['mtu'] == 1380                            # extra vars win
    assert plan['c']['listen_port'] is None                    # no endpoint: does not listen
    assert plan['b']['listen_port'] == 52000


def two_gateways(tmp_path, endpoint_a):
    """Inventory folder of a two-gateway site_to_site network; gateway a's endpoint as given."""
    inv = str(tmp_path / 'inv')
    write(os.path.join(inv, 'hosts.yml'), """
all:
  children:
    wireguard:
      vars: {wireguard_topology: site_to_site}
      hosts:
        a: {wireguard_address: 10.9.0.1/24, wireguard_endpoint: %s}
        b: {wireguard_address: 10.9.0.2/24, wireguard_endpoint: 192.0.2.2}
""" % endpoint_a)
    return inv


def _render(inv, out, tmp_path):
    del tmp_path
    return render(inv, out)


def test_render_uses_the_key_registry_and_validates_it(tmp_path):
    inv = two_gateways(tmp_path, '192.0.2.1')
    key_a = 'YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE='
    write(os.path.join(inv, '.wireguard_public_keys.yml'), 'wg0:\n  a: %s\n' % key_a)
    out = tmp_path / 'out'
    proc = _render(inv, str(out), tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text_b = (out / 'b' / 'wg0.conf').read_text()
    assert 'PublicKey = %s' % key_a in text_b
    assert 'PublicKey = <unknown: public key of b' in (out / 'a' / 'wg0.conf').read_text()
    assert 'changed=1' in proc.stdout
    again = _render(inv, str(out), tmp_path)                      # idempotent: nothing rewritten
    assert again.returncode == 0 and 'changed=0' in again.stdout
    write(os.path.join(inv, '.wireguard_public_keys.yml'), 'wg0:\n  a: not-a-key\n')
    bad = _render(inv, str(tmp_path / 'out2'), tmp_path)
    assert bad.returncode != 0
    assert 'a: wireguard_key_registry: ' in bad.stdout + bad.stderr


def test_template_errors_name_host_and_variable(tmp_path):
    inv = two_gateways(tmp_path, '"{{ no_such_variable }}"')
    proc = _render(inv, str(tmp_path / 'out'), tmp_path)
    assert proc.returncode != 0
    assert 'a: wireguard_endpoint: cannot be templated' in proc.stdout + proc.stderr


RESULT_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - netfleet.wireguard.wireguard_plan:
        group: wireguard
      register: result
    - ansible.builtin.copy:
        content: "{{ result | to_json }}"
        dest: "{{ out }}"
        mode: "0644"
"""


def test_result_carries_the_validated_registry_and_the_preshared_key_flag(tmp_path):
    """site.yml takes the registry from here (one reader) and includes the PSK tasks only when used."""
    inv = two_gateways(tmp_path, '192.0.2.1')
    key_a = 'YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE='
    registry = os.path.join(inv, '.wireguard_public_keys.yml')
    write(registry, 'wg0:\n  a: %s\nwg9:\n  elsewhere: %s\n' % (key_a, key_a))
    pb = str(tmp_path / 'pb.yml')
    write(pb, RESULT_PLAYBOOK)
    results = {}
    for psk in ('false', 'true'):
        out = str(tmp_path / ('result-%s.json' % psk))
        proc = ansible_playbook(inv, pb, '-e', 'out=%s' % out, '-e', 'wireguard_preshared_keys=%s' % psk)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        with open(out, encoding='utf-8') as handle:
            results[psk] = json.load(handle)
    # the whole file comes back (other interfaces too, so the keys role can write it back intact)
    assert results['false']['registry'] == {'wg0': {'a': key_a}, 'wg9': {'elsewhere': key_a}}
    assert os.path.samefile(results['false']['registry_path'], registry)
    assert results['false']['preshared_keys'] is False
    assert results['true']['preshared_keys'] is True
