# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The three reference inventories must render exactly the reference configurations.

Expected values are the reference layouts' addresses (full tunnel, site to site, bastion).
Each inventory is loaded from inventories/<name>/, turned into a plan, rendered to wg-quick
text, parsed back, and every host's Address / ListenPort / peers / AllowedIPs / Endpoint /
PersistentKeepalive compared. AllowedIPs are compared by the addresses they cover (aggregated),
so ordering or equivalent spellings do not matter, but one address more or less does.
A second test does the same through ``ansible-playbook playbooks/render.yml``.
"""
from __future__ import annotations

import ipaddress
import os
import re

import pytest
import yaml

from ansible_collections.netfleet.wireguard.plugins.module_utils._peerkeys import placeholder_key
from ansible_collections.netfleet.wireguard.plugins.module_utils._render import render_conf
from ansible_collections.netfleet.wireguard.plugins.module_utils._wgconf import parse
from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import build_plan

from playbook_runner import render

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))

# host -> (Address, ListenPort or None, {peer: (AllowedIPs, Endpoint or None, keepalive or None)})
EXPECTED = {
    'full_tunnel': {
        'vps': ('10.0.0.1/24', '51820', {'laptop': (['10.0.0.2/32'], None, None)}),
        'laptop': ('10.0.0.2/24', None, {'vps': (['0.0.0.0/0', '::/0'], '203.0.113.1:51820', '25')}),
    },
    'site_to_site': {
        'hq': ('10.100.0.1/24', '51820', {'remote': (['10.0.2.0/24', '10.100.0.2/32'], '203.0.113.50:51820', None)}),
        'remote': ('10.100.0.2/24', '51820', {'hq': (['10.0.1.0/24', '10.100.0.1/32'], '198.51.100.1:51820', None)}),
    },
    'bastion': {
        'bastion': ('10.100.0.254/24', '51820', {
            'hq': (['10.0.1.0/24', '10.100.0.1/32'], '198.51.100.1:51820', None),
            'remote': (['10.0.2.0/24', '10.100.0.2/32'], None, None),
        }),
        'hq': ('10.100.0.1/24', '51820', {
            'bastion': (['10.0.2.0/24', '10.100.0.254/32', '10.100.0.2/32'], '203.0.113.99:51820', '25'),
        }),
        'remote': ('10.100.0.2/24', None, {
            'bastion': (['10.0.1.0/24', '10.100.0.254/32', '10.100.0.1/32'], '203.0.113.99:51820', '25'),
        }),
    },
}
EXPECTED_DNS = {('full_tunnel', 'laptop'): ['1.1.1.1', '9.9.9.9']}


def coverage(prefixes):
    """The exact set of addresses a list of prefixes covers, in canonical aggregated form."""
    nets = [ipaddress.ip_network(p) for p in prefixes]
    return sorted(
        [str(n) for n in ipaddress.collapse_addresses([n for n in nets if n.version == 4])]
        + [str(n) for n in ipaddress.collapse_addresses([n for n in nets if n.version == 6])])


def load_inventory(name):
    """Minimal reader for the reference inventories: hosts.yml + group_vars/wireguard.yml."""
    base = os.path.join(REPO, 'inventories', name)
    with open(os.path.join(base, 'hosts.yml'), encoding='utf-8') as handle:
        hosts = yaml.safe_load(handle)['all']['children']['wireguard']['hosts']
    with open(os.path.join(base, 'group_vars', 'wireguard.yml'), encoding='utf-8') as handle:
        group_vars = yaml.safe_load(handle)
    return {host: dict(group_vars, **(hv or {})) for host, hv in hosts.items()}


def parse_review(text):
    """The one wg-quick parser (_wgconf.parse), after giving peers missing from the registry a key."""
    return parse(re.sub(r'<unknown: public key of (\S+) [^>]*>', lambda m: placeholder_key(m.group(1)), text))


def check_rendered(name, configs):
    expected = EXPECTED[name]
    assert sorted(configs) == sorted(expected)
    for host, (address, port, peers) in expected.items():
        conf = parse_review(configs[host])
        iface = conf.interface
        assert iface['Address'] == [address], host
        assert iface.get('ListenPort', [None])[0] == port, host
        assert 'PrivateKey' not in iface, host
        dns = [d.strip() for line in iface.get('DNS', []) for d in line.split(',')]
        assert dns == EXPECTED_DNS.get((name, host), []), host
        got = {p.name: p for p in conf.peers}
        assert sorted(got) == sorted(peers), host
        for peer, (allowed, endpoint, keepalive) in peers.items():
            entry = got[peer]
            assert coverage(entry.allowed_ips) == coverage(allowed), (host, peer)
            assert entry.endpoint == endpoint, (host, peer)
            assert entry.persistent_keepalive == (int(keepalive) if keepalive else None), (host, peer)
        assert not re.search(r'^\s*(PrivateKey|PresharedKey)\s*=', configs[host], re.M)


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_reference_inventory_renders_reference_config(name):
    plan = build_plan(load_inventory(name))
    configs = {host: render_conf(host, entry) for host, entry in plan.items()}
    check_rendered(name, configs)


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_peer_sections_are_named(name):
    plan = build_plan(load_inventory(name))
    for host, entry in plan.items():
        lines = render_conf(host, entry).splitlines()
        for i, line in enumerate(lines):
            if line == '[Peer]':
                assert lines[i - 1].startswith('# ')
                assert lines[i - 1][2:] in plan
                assert lines[i + 1].startswith('PublicKey = ')


def test_reference_routing_facts():
    ft = build_plan(load_inventory('full_tunnel'))
    assert ft['vps']['routing']['masquerade'] == [
        {'family': 'ipv4', 'source': '10.0.0.0/24', 'destination': None, 'egress_interface': 'eth0'}]
    assert ft['vps']['routing']['forward_ipv4'] and ft['vps']['routing']['forward_to_egress']
    assert not ft['vps']['routing']['forward_ipv6']       # no IPv6 in the tunnel: no v6 forwarding/NAT
    assert not ft['laptop']['routing']['forward_ipv4']
    s2s = build_plan(load_inventory('site_to_site'))
    for host, own_lan, remote_lan in (('hq', '10.0.1.0/24', '10.0.2.0/24'), ('remote', '10.0.2.0/24', '10.0.1.0/24')):
        routing = s2s[host]['routing']
        assert routing['forward_ipv4'] and not routing['relay']
        # site NAT: toward the own LAN, matched by its prefix (not by an interface)
        assert {'family': 'ipv4', 'source': remote_lan, 'destination': own_lan,
                'egress_interface': None} in routing['masquerade']
    bastion = build_plan(load_inventory('bastion'))
    assert bastion['bastion']['routing']['relay'] and bastion['bastion']['routing']['forward_ipv4']
    assert bastion['bastion']['routing']['masquerade'] == []
    assert bastion['hq']['routing']['lan_subnets'] == ['10.0.1.0/24']


def test_render_playbook_writes_reference_configs(tmp_path):
    """End to end: ansible-playbook playbooks/render.yml, no host contacted, files parsed back."""
    for name in sorted(EXPECTED):
        out = tmp_path / name
        proc = render(os.path.join(REPO, 'inventories', name), out)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        configs = {}
        for host in os.listdir(out):
            if host.startswith('.') or not os.path.isdir(out / host):
                continue      # the render manifest, the network picture
            with open(out / host / 'wg0.conf', encoding='utf-8') as handle:
                configs[host] = handle.read()
        check_rendered(name, configs)
        # the network picture: DOT always, SVG from the dot binary (host-deps installs graphviz)
        dot = (out / 'wg0-network.dot').read_text()
        assert all('\t%s [label="%s\\n' % (host, host) in dot for host in configs), dot
        assert (out / 'wg0-network.svg').read_text().lstrip().startswith('<?xml')


def test_render_playbook_fails_with_all_errors(tmp_path):
    inv = tmp_path / 'bad'
    (inv / 'group_vars').mkdir(parents=True)
    (inv / 'group_vars' / 'wireguard.yml').write_text('wireguard_topology: mesh\n')
    (inv / 'hosts.yml').write_text(
        'all:\n  children:\n    wireguard:\n      hosts:\n'
        '        a: {wireguard_address: 10.1.0.1/24, wireguard_lan_subnets: [10.2.0.1/24]}\n'
        '        b: {wireguard_address: 10.1.0.1/24, wireguard_listen_port: 70000}\n')
    proc = render(inv, tmp_path / 'out')
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert 'a: wireguard_lan_subnets:' in text and 'host bits set' in text
    assert 'b: wireguard_listen_port:' in text
    assert 'b: wireguard_address:' in text and 'duplicate tunnel address' in text
    assert not (tmp_path / 'out').exists()


def _conforms(value, kind):
    """Recursive check of a value against the plan's TypedDicts (keys exactly, types of the leaves)."""
    import typing
    if isinstance(kind, type) and typing.is_typeddict(kind):
        hints = typing.get_type_hints(kind)
        assert isinstance(value, dict), (value, kind)
        assert set(value) == set(hints), (set(value) ^ set(hints))
        for key, hint in hints.items():
            _conforms(value[key], hint)
        return
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is list:
        assert isinstance(value, list)
        for item in value:
            _conforms(item, args[0])
    elif origin is typing.Union:
        assert any(_matches(value, a) for a in args), (value, kind)
    else:
        assert isinstance(value, kind) and not (kind is int and isinstance(value, bool)), (value, kind)


def _matches(value, kind):
    try:
        _conforms(value, kind)
    except AssertionError:
        return False
    return True


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_every_plan_entry_has_the_documented_types(name):
    from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import PlanEntry
    for entry in build_plan(load_inventory(name)).values():
        _conforms(entry, PlanEntry)
