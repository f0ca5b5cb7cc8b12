# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every example and lab inventory rendered both ways gives the same bytes.

Way 1 is what a reviewer gets: ``ansible-playbook playbooks/render.yml`` (the wireguard_plan action
writing the review folder). Way 2 is what the interface role hands to wireguard_apply: the plan
entry through the ``wireguard_conf`` filter with the host's decisions. Both must be the same text
for every host, and so must the nftables and sysctl files the other roles write.
The deployed files are compared with the review copies on real hosts by the Molecule scenarios.
"""
from __future__ import annotations

import glob
import os
import shutil

import pytest
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.vars.manager import VariableManager

from ansible_collections.netfleet.wireguard.plugins.filter.wireguard_conf import wireguard_conf
from ansible_collections.netfleet.wireguard.plugins.module_utils import _hostplan
from ansible_collections.netfleet.wireguard.plugins.module_utils._topology import build_plan

from playbook_runner import render

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
INVENTORIES = sorted(os.path.relpath(os.path.dirname(p), REPO)
                     for p in glob.glob(os.path.join(REPO, 'inventories', '**', 'hosts.yml'), recursive=True))


def inventory_vars(path):
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[path])
    manager = VariableManager(loader=loader, inventory=inventory)
    return {host.name: {k: v for k, v in manager.get_vars(host=host).items() if k.startswith('wireguard_')}
            for host in inventory.groups['wireguard'].get_hosts()}


def render_playbook(inventory, out):
    proc = render(inventory, out)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_inventory_is_covered():
    assert {'inventories/bastion', 'inventories/full_tunnel', 'inventories/site_to_site'} <= set(INVENTORIES)
    assert any(name.startswith('inventories/lab/') for name in INVENTORIES)


@pytest.mark.parametrize('name', INVENTORIES)
def test_review_copy_equals_what_the_roles_deploy(name, tmp_path):
    inventory = str(tmp_path / 'inventory')
    shutil.copytree(os.path.join(REPO, name), inventory,
                    ignore=shutil.ignore_patterns('.wireguard_public_keys.yml', '.*.lock'))
    out = tmp_path / 'render'
    render_playbook(os.path.join(inventory, 'hosts.yml'), str(out))
    hostvars = inventory_vars(os.path.join(inventory, 'hosts.yml'))
    plan = build_plan(hostvars)
    for host, entry in plan.items():
        settings = {k: v for k, v in hostvars[host].items() if k in _hostplan.SETTINGS_DEFAULTS}
        decisions = _hostplan.decide(host, entry, settings=settings)
        expected = {'%s.conf' % entry['interface']: wireguard_conf(entry, host, {}, decisions=decisions)}
        if decisions['firewall']['nft_ruleset'] is not None:
            expected[os.path.basename(decisions['firewall']['nft_path'])] = decisions['firewall']['nft_ruleset']
        if decisions['forwarding']['content'] is not None:
            expected[os.path.basename(decisions['forwarding']['file'])] = decisions['forwarding']['content']
        written = {f: (out / host / f).read_text(encoding='utf-8') for f in os.listdir(out / host)}
        assert written == expected, host


HOSTILE = {
    'hook in a peer name': ('wireguard_external_peers: [{name: "phone\\nPostUp = touch /tmp/pwned", '
                            'public_key: YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=, address: 10.9.0.9}]',
                            'wireguard: wireguard_external_peers'),
    'peer smuggled in a zone id': ('wireguard_endpoint: "fe80::1%x\\n[Peer]\\nPublicKey = YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE="',
                                   'a: wireguard_endpoint'),
    'bidi override in DNS': ('wireguard_dns: ["10.9.0.1\\u202e"]', 'a: wireguard_dns'),
    'path out of the folder': ('wireguard_interface: "../../x"', 'wireguard: wireguard_interface'),
}


@pytest.mark.parametrize('case', sorted(HOSTILE))
def test_hostile_inventory_is_refused_before_any_file_is_written(case, tmp_path):
    line, prefix = HOSTILE[case]
    inventory = tmp_path / 'inventory'
    (inventory / 'group_vars').mkdir(parents=True)
    (inventory / 'group_vars' / 'wireguard.yml').write_text('wireguard_topology: full_tunnel\nwireguard_hub: a\n')
    (inventory / 'hosts.yml').write_text(
        'all:\n  children:\n    wireguard:\n      hosts:\n'
        '        a: {wireguard_address: 10.9.0.1/24, wireguard_endpoint: 192.0.2.1}\n'
        '        b: {wireguard_address: 10.9.0.2/24}\n')
    target = 'group_vars/wireguard.yml' if prefix.startswith('wireguard:') else 'host_vars/a.yml'
    (inventory / target).parent.mkdir(exist_ok=True)
    with open(inventory / target, 'a', encoding='utf-8') as handle:
        handle.write(line + '\n')
    out = tmp_path / 'render'
    proc = render(inventory, out)
    assert proc.returncode != 0
    assert prefix in proc.stdout + proc.stderr, (proc.stdout + proc.stderr)[-2000:]
    assert not out.exists() and not os.path.exists('/tmp/pwned')
