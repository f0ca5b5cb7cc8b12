# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The install role picks its package names from the OS family wireguard_host_facts reports.

Only Debian is installed for real in the lab; for the other families this checks the part that
runs on the controller: os-release -> family -> vars file -> package lists.
"""
from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.netfleet.wireguard.plugins.module_utils import _hostfacts as hf

VARS = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles', 'wireguard_install', 'vars')
LISTS = ('__wireguard_install_packages', '__wireguard_install_userspace_packages',
         '__wireguard_install_resolvconf_packages')


def role_vars(family):
    """What the role's include_vars with_first_found loads for ``family``."""
    for name in ('%s.yml' % family, 'main.yml'):
        path = os.path.join(VARS, name)
        if os.path.exists(path):
            with open(path, encoding='utf-8') as handle:
                return name, yaml.safe_load(handle)
    raise AssertionError('no vars file')


@pytest.mark.parametrize('os_release,family,vars_file,userspace', [
    ('ID=debian\nVERSION_ID="12"\n', 'Debian', 'Debian.yml', ['wireguard-go']),
    ('ID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n', 'Debian', 'Debian.yml', ['wireguard-go']),
    ('ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n', 'RedHat', 'RedHat.yml', []),
    ('ID="almalinux"\nID_LIKE="rhel centos fedora"\n', 'RedHat', 'RedHat.yml', []),
    ('ID=fedora\nVERSION_ID=40\n', 'RedHat', 'RedHat.yml', []),
    ('ID=arch\n', 'Archlinux', 'Archlinux.yml', ['wireguard-go']),
    ('ID=alpine\n', 'Alpine', 'main.yml', []),
])
def test_family_selects_its_package_lists(os_release, family, vars_file, userspace):
    found = hf.os_family(hf.parse_os_release(os_release))[0]
    assert found == family
    name, data = role_vars(found)
    assert name == vars_file
    for key in LISTS:
        assert isinstance(data[key], list) and all(isinstance(p, str) and p for p in data[key])
    assert data['__wireguard_install_packages'] == ['wireguard-tools']
    assert data['__wireguard_install_userspace_packages'] == userspace


def test_every_family_with_a_vars_file_is_recognised():
    families = {f for f, _ids in hf._FAMILIES}
    for name in os.listdir(VARS):
        if name != 'main.yml':
            assert name[:-4] in families, '%s has no os-release mapping in _hostfacts' % name
