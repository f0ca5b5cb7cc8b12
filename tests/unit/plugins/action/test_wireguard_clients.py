# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wireguard_clients action end to end (ansible-playbook, no host is contacted): enrol, re-run,
check mode, revoke, re-enrol, expiry, rekey, and the refusals."""

from __future__ import annotations

import json
import os
import re
import stat

import pytest
import yaml

from playbook_runner import ansible_playbook
from wgkeys import private_key, public_key

from ansible_collections.netfleet.wireguard.plugins.module_utils import _devices, _psk

HUB_KEY = public_key(private_key(1))
CLIENT_KEY = public_key(private_key(2))
TABLET_KEY = public_key(private_key(3))
PLAYBOOK = """
- hosts: wireguard
  gather_facts: false
  tasks:
    - netfleet.wireguard.wireguard_clients:
        clients: "{{ (client | default('') | string).split(',') | select | list }}"
        state: "{{ state | default('present') }}"
        rekey: "{{ rekey | default(false) | bool }}"
      run_once: true
      register: result
    - ansible.builtin.copy:
        content: "{{ result | to_json }}"
        dest: "{{ out }}"
        mode: "0600"
      delegate_to: localhost
      run_once: true
      check_mode: false
"""


@pytest.fixture
def lab(tmp_path):
    inventory = tmp_path / 'inventory'
    inventory.mkdir()
    peers = [{'name': 'phone', 'key_mode': 'controller', 'address': '10.0.0.10', 'preshared_key': True},
             {'name': 'tablet', 'public_key': TABLET_KEY, 'address': '10.0.0.11', 'full_tunnel': False},
             {'name': 'old', 'public_key': public_key(private_key(4)), 'address': '10.0.0.12', 'expires': '2020-01-01'}]
    hosts = {'wireguard': {
        'vars': {'wireguard_topology': 'full_tunnel', 'wireguard_hub': 'vps', 'wireguard_external_peers': peers,
                 'ansible_connection': 'local'},
        'hosts': {'vps': {'wireguard_address': '10.0.0.1/24', 'wireguard_endpoint': '203.0.113.1',
                          'wireguard_public_key': HUB_KEY},
                  'laptop': {'wireguard_address': '10.0.0.2/24', 'wireguard_public_key': CLIENT_KEY}}}}
    (inventory / 'hosts.yml').write_text(yaml.safe_dump(hosts))
    (tmp_path / 'play.yml').write_text(PLAYBOOK)
    return tmp_path


def run(lab, *extra, ok=True):
    out = lab / 'result.json'
    if out.exists():
        out.unlink()
    proc = ansible_playbook(lab / 'inventory' / 'hosts.yml', lab / 'play.yml', '-e', 'out=%s' % out, *extra)
    assert (proc.returncode == 0) == ok, proc.stdout[-3000:] + proc.stderr[-2000:]
    return (json.loads(out.read_text()) if out.exists() else None), proc.stdout + proc.stderr


def folder(lab):
    return lab / 'inventory' / 'wireguard-clients' / 'wg0'


def registry(lab):
    return yaml.safe_load((lab / 'inventory' / '.wireguard_public_keys.yml').read_text()) or {}


def phone_private(lab):
    return re.search(r'^PrivateKey = (\S+)$', (folder(lab) / 'phone.conf').read_text(), re.M).group(1)


def by_name(result):
    return {c['name']: c for c in result['clients']}


def test_enrol_writes_private_profiles_and_records_the_public_key(lab):
    result, output = run(lab, '-vvv', '-e', 'client=phone,tablet')
    assert result['changed'] and result['hub'] == 'vps'
    files = sorted(os.listdir(folder(lab)))
    assert files == ['.gitignore'] + sorted(n + s for n in ('phone', 'tablet') for s in ('.conf', '.png', '.qr.txt', '.svg'))
    assert stat.S_IMODE(os.stat(folder(lab)).st_mode) == 0o700
    assert all(stat.S_IMODE(os.stat(folder(lab) / f).st_mode) == 0o600 for f in files)
    private = phone_private(lab)
    assert registry(lab)['wg0']['phone'] == _devices.public_key_of(private)
    preshared = _devices.profile_key((folder(lab) / 'phone.conf').read_text(), 'PresharedKey')
    assert private not in output and preshared not in output   # not in the result, not in -vvv
    clients = by_name(result)
    assert (clients['phone']['state'], clients['phone']['profile']) == ('active', 'full')
    assert (clients['tablet']['state'], clients['tablet']['profile']) == ('active', 'split')
    assert clients['old']['state'] == 'expired' and clients['old']['files'] == []
    assert result['names'][registry(lab)['wg0']['phone']] == 'phone' and result['names'][TABLET_KEY] == 'tablet'
    assert 'PublicKey = %s' % HUB_KEY in (folder(lab) / 'tablet.conf').read_text()


def test_preshared_key_goes_to_the_hub_sealed_and_stays_the_same(lab):
    result = run(lab, '-e', 'client=phone')[0]
    text = (folder(lab) / 'phone.conf').read_text()
    preshared = _devices.profile_key(text, 'PresharedKey')
    assert preshared and list(result['sealed']) == ['phone']
    opened = _psk.unseal(result['sealed']['phone'], private_key(1), _psk.seal_context('wg0', 'phone', 'vps'))
    assert opened == preshared
    again = run(lab, '-e', 'client=phone')[0]
    assert _devices.profile_key((folder(lab) / 'phone.conf').read_text(), 'PresharedKey') == preshared
    assert not again['changed']
    rekeyed = run(lab, '-e', 'client=phone', '-e', 'rekey=true')[0]
    assert _devices.profile_key((folder(lab) / 'phone.conf').read_text(), 'PresharedKey') != preshared
    assert rekeyed['changed']


def test_second_run_changes_nothing(lab):
    run(lab, '-e', 'client=all')
    before = {f: (folder(lab) / f).read_bytes() for f in os.listdir(folder(lab))}
    result = run(lab, '-e', 'client=all')[0]
    assert not result['changed'] and all(not c['files'] for c in result['clients'])
    assert {f: (folder(lab) / f).read_bytes() for f in os.listdir(folder(lab))} == before


def test_check_mode_writes_nothing(lab):
    result = run(lab, '--check', '-e', 'client=phone')[0]
    assert result['changed'] and by_name(result)['phone']['state'] == 'active'
    assert not (lab / 'inventory' / 'wireguard-clients').exists()
    assert not (lab / 'inventory' / '.wireguard_public_keys.yml').exists()


def test_revoke_then_enrol_again_with_a_new_key(lab):
    run(lab, '-e', 'client=phone')
    first = registry(lab)['wg0']['phone']
    result = run(lab, '-e', 'client=phone', '-e', 'state=absent')[0]
    assert by_name(result)['phone']['state'] == 'revoked' and result['changed']
    assert 'phone' not in registry(lab).get('wg0', {})
    assert not (folder(lab) / 'phone.conf').exists() and not (folder(lab) / 'phone.png').exists()
    revoked = _devices.load_revoked(str(lab / 'inventory' / '.wireguard_revoked_devices.yml'))
    assert list(revoked['wg0']) == ['phone']
    again = run(lab, '-e', 'client=phone', '-e', 'state=absent')[0]
    assert not again['changed']
    result = run(lab, '-e', 'client=phone')[0]
    assert by_name(result)['phone']['state'] == 'active'
    assert registry(lab)['wg0']['phone'] not in (first, None)
    assert _devices.load_revoked(str(lab / 'inventory' / '.wireguard_revoked_devices.yml')) == {}


def test_a_revoked_device_stays_off_every_later_plan(lab):
    run(lab, '-e', 'client=tablet', '-e', 'state=absent')
    result, output = run(lab)                # no client: report only
    assert by_name(result)['tablet']['state'] == 'revoked'
    assert 'revoked on' in output and 'tablet' in output


def test_rekey_replaces_the_pair(lab):
    run(lab, '-e', 'client=phone')
    old = phone_private(lab)
    result, output = run(lab, '-vvv', '-e', 'client=phone', '-e', 'rekey=true')
    new = phone_private(lab)
    assert new != old and registry(lab)['wg0']['phone'] == _devices.public_key_of(new)
    assert new not in output and old not in output


def test_a_profile_lost_after_enrolment_is_reported_not_invented(lab):
    run(lab, '-e', 'client=phone')
    for name in os.listdir(folder(lab)):
        if name.startswith('phone.'):
            os.unlink(folder(lab) / name)
    result = run(lab, '-e', 'client=phone')[0]
    assert 'rekey=true' in by_name(result)['phone']['note'] and not by_name(result)['phone']['files']


@pytest.mark.parametrize('extra,message', [
    (('-e', 'client=watch'), 'watch: not in wireguard_external_peers'),
    (('-e', 'client=tablet', '-e', 'rekey=true'), 'tablet: rekey: key_mode is device'),
])
def test_refusals_name_the_device(lab, extra, message):
    output = run(lab, *extra, ok=False)[1]
    assert message in output


def test_a_profile_whose_key_does_not_match_the_registry_is_refused(lab):
    run(lab, '-e', 'client=phone')
    conf = folder(lab) / 'phone.conf'
    conf.write_text(re.sub(r'^PrivateKey = \S+$', 'PrivateKey = ' + private_key(9), conf.read_text(), flags=re.M))
    output = run(lab, '-e', 'client=phone', ok=False)[1]
    assert 'does not match its public key in the key registry' in output


def test_a_symlinked_profile_folder_is_refused(lab, tmp_path):
    target = tmp_path / 'elsewhere'
    target.mkdir()
    (lab / 'inventory' / 'wireguard-clients').mkdir()
    os.symlink(target, folder(lab))
    output = run(lab, '-e', 'client=phone', ok=False)[1]
    assert 'symbolic link is refused' in output
    assert os.listdir(target) == []
