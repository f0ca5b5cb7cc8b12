# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan artifact: round trip, byte-stable text, and every way it goes stale or is refused."""

from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _planfile as pf
from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import build_plan

from wgkeys import private_key, public_key

TODAY = datetime.date(2026, 12, 3)
SRC = '/srv/render/plan.json'


def key(seed):
    return public_key(private_key(seed))


def inventory(**hub_extra):
    """A bastion with three spokes; one spoke's key is pinned, one device (controller mode) on the hub."""
    common = {'wireguard_topology': 'bastion', 'wireguard_hub': 'hub',
              'wireguard_external_peers': [{'name': 'phone', 'key_mode': 'controller', 'address': '10.0.0.10',
                                            'expires': '2027-01-01'}]}
    return {
        'hub': dict(common, wireguard_address='10.0.0.1/24', wireguard_endpoint='203.0.113.1', **hub_extra),
        's1': dict(common, wireguard_address='10.0.0.2/24', wireguard_lan_subnets=['192.168.1.0/24']),
        's2': dict(common, wireguard_address='10.0.0.3/24'),
        's3': dict(common, wireguard_address='10.0.0.4/24', wireguard_public_key=key(4)),
    }


REGISTRY = {'hub': key(1), 's1': key(2), 's2': key(3), 'phone': key(9)}


def artifact(data=None, registry=None):
    data = data or inventory()
    devices = {'keys': dict(registry or REGISTRY), 'revoked': {}, 'today': TODAY}
    plan = build_plan(data, 'wireguard', devices=devices)
    pinned = {h: v['wireguard_public_key'] for h, v in data.items() if v.get('wireguard_public_key')}
    return pf.build('wireguard', plan, data, devices['keys'], pinned, devices['states']), plan


def stale(art, data, registry=None, revoked=None, today=TODAY, group='wireguard'):
    return pf.stale(art, SRC, group, data, dict(REGISTRY if registry is None else registry), revoked or {}, today)


def test_round_trip_gives_the_computed_plan_and_the_keys():
    art, plan = artifact()
    loaded = pf.loads(pf.dumps(art), SRC)
    assert loaded['plan'] == plan
    assert pf.public_keys(loaded) == {'hub': key(1), 's1': key(2), 's2': key(3), 's3': key(4)}
    assert loaded['public_keys_pinned'] == {'s3': key(4)}
    assert loaded['devices']['phone']['state'] == 'active'
    assert stale(loaded, inventory()) == []


def test_text_is_byte_stable_whatever_the_order_the_inventory_came_in():
    data = inventory()
    reordered = {h: dict(reversed(list(v.items()))) for h, v in reversed(list(data.items()))}
    first, second = pf.dumps(artifact(data)[0]), pf.dumps(artifact(reordered)[0])
    assert first == second
    assert first.endswith('}\n') and '"format": "%s"' % pf.FORMAT in first


def test_no_private_key_and_no_run_time_variable_in_the_file():
    data = inventory()
    for values in data.values():
        values.update(wireguard_plan_file=SRC, wireguard_key_registry='/elsewhere.yml')
    art, _plan = artifact(data)
    text = pf.dumps(art)
    assert 'PrivateKey' not in text and private_key(1) not in text
    assert all('wireguard_plan_file' not in v and 'wireguard_key_registry' not in v for v in art['inputs'].values())
    assert stale(art, inventory()) == []   # a slice may point at another registry or artifact


def test_a_slice_sees_some_hosts_and_the_plan_still_holds_every_host():
    art, plan = artifact()
    slice_ = {h: v for h, v in inventory().items() if h in ('s1', 's2')}
    assert stale(art, slice_) == []
    assert sorted(art['plan']) == sorted(plan) == ['hub', 's1', 's2', 's3']


def test_changed_set_and_unset_host_variables_name_host_and_variable():
    art, _plan = artifact()
    data = inventory()
    data['s1']['wireguard_lan_subnets'] = ['192.168.2.0/24']
    data['s2']['wireguard_mtu'] = 1380
    del data['hub']['wireguard_endpoint']
    errors = stale(art, {h: data[h] for h in ('hub', 's1', 's2')})
    assert [e.split(' since ')[0] for e in errors] == [
        'hub: wireguard_endpoint: no longer set', 's1: wireguard_lan_subnets: changed', 's2: wireguard_mtu: set']
    assert all(SRC in e and 'render.yml' in e for e in errors)


def test_a_changed_group_variable_is_stale_on_every_visible_host():
    art, _plan = artifact()
    data = inventory()
    for values in data.values():
        values['wireguard_persistent_keepalive'] = 15
    assert [e.split(':')[0] for e in stale(art, {'s1': data['s1'], 's2': data['s2']})] == ['s1', 's2']


def test_a_changed_registry_key_is_stale_even_for_a_host_outside_the_slice():
    art, _plan = artifact()
    errors = stale(art, {'s1': inventory()['s1']}, registry=dict(REGISTRY, hub=key(11)))
    assert len(errors) == 1
    assert errors[0].startswith('hub: wireguard_key_registry: the registry holds another public key (%s)' % key(11))
    errors = stale(art, {}, registry={k: v for k, v in REGISTRY.items() if k != 's2'})
    assert errors[0].startswith('s2: wireguard_key_registry: the registry has no public key for the host')


def test_a_host_the_artifact_does_not_know_is_refused():
    art, _plan = artifact()
    newcomer = dict(inventory()['s2'], wireguard_address='10.0.0.5/24')
    errors = stale(art, {'s4': newcomer})
    assert errors == ['s4: wireguard_plan_file: the host is not in %s (added to the inventory after it was '
                      'rendered?); %s' % (SRC, pf.RENDER_AGAIN)]


def test_an_artifact_rendered_before_a_key_existed_is_refused_saying_what_to_do():
    registry = {k: v for k, v in REGISTRY.items() if k != 's1'}
    art, _plan = artifact(registry=registry)
    assert art['missing_public_keys'] == ['s1']
    errors = stale(art, {'hub': inventory()['hub']}, registry=registry)
    assert len(errors) == 1 and errors[0].startswith('s1: wireguard_plan_file: ')
    assert 'playbooks/keys.yml' in errors[0] and 'render' in errors[0]


def test_device_revoked_expired_or_rekeyed_since_the_render_is_stale():
    art, _plan = artifact()
    assert stale(art, {}, revoked={'phone': '2026-12-01'})[0].startswith(
        'phone: wireguard_external_peers[phone]: revoked now (active when')
    assert 'expired now' in stale(art, {}, today=datetime.date(2027, 1, 1))[0]
    assert 'active now' in stale(art, {}, registry=dict(REGISTRY, phone=key(12)))[0]


def test_another_group_is_refused():
    art, _plan = artifact()
    assert stale(art, {}, group='office')[0].startswith('office: wireguard_network_group: ')


@pytest.mark.parametrize('edit', [
    lambda a: a['plan']['s1']['peers'][0]['allowed_ips'].append('0.0.0.0/0'),
    lambda a: a['inputs']['s1'].update(wireguard_address='0000000000000000'),
    lambda a: a['public_keys'].update(hub=key(13)),
    lambda a: a['plan'].pop('s2'),
])
def test_a_tampered_file_is_refused(edit):
    art, _plan = artifact()
    edited = json.loads(pf.dumps(art))
    edit(edited)
    with pytest.raises(ValueError, match='changed after render.yml wrote it'):
        pf.loads(pf.dumps(edited), SRC)


def test_a_consistent_but_malformed_file_is_refused():
    """Checksum recomputed by hand: the shape and character checks still hold (defence in depth)."""
    art, _plan = artifact()
    bad = json.loads(pf.dumps(art))
    bad['plan']['s1']['peers'][0]['endpoint'] = '203.0.113.1:51820\nPostUp = id'
    bad['checksum'] = pf._checksum(bad)   # pylint: disable=protected-access
    with pytest.raises(ValueError, match='control character'):
        pf.loads(pf.dumps(bad), SRC)
    del bad['plan']['s1']['routing']
    bad['checksum'] = pf._checksum(bad)   # pylint: disable=protected-access
    with pytest.raises(ValueError, match=r'plan\[s1\] is not a plan entry'):
        pf.loads(pf.dumps(bad), SRC)


@pytest.mark.parametrize('text', ['not json', '{"format": "something else"}', '[]'])
def test_not_an_artifact_is_refused(text):
    with pytest.raises(ValueError, match='wireguard_plan_file: %s' % SRC):
        pf.loads(text, SRC)


def test_host_key_must_be_the_artifacts():
    pair = {'path': '/etc/wireguard/wg0.key', 'public_key': key(2), 'create': False}
    pf.check_host_key('s1', pair, False, key(2), SRC)
    with pytest.raises(ValueError, match='s1: wireguard_plan_file: the host has no key pair yet'):
        pf.check_host_key('s1', dict(pair, public_key=None, create=True), False, key(2), SRC)
    with pytest.raises(ValueError, match='s1: wireguard_plan_file: the host holds the public key'):
        pf.check_host_key('s1', pair, False, key(3), SRC)
    with pytest.raises(ValueError, match='s1: wireguard_keys_rotate: '):
        pf.check_host_key('s1', pair, True, key(2), SRC)
