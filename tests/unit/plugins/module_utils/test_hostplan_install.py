# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The install part of the host plan: os-release -> OS family -> the packages a host lacks.

Only Debian is installed for real in the lab; for the other families this checks the controller
side: os-release -> family -> package names -> what is missing.
"""
from __future__ import annotations

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _hostfacts as hf
from ansible_collections.netfleet.wireguard.plugins.module_utils import _hostplan as hp

ENTRY = {'interface': 'wg0', 'dns': [], 'peers': [{'name': 'b', 'preshared_key': False}], 'routing': {}}


def facts(family, packages=(), kernel=False, resolvconf=None):
    return {'os_family': family, 'pkg_mgr': hf.default_pkg_mgr(family), 'packages': list(packages),
            'kernel_wireguard': kernel, 'commands': {'resolvconf': resolvconf}}


@pytest.mark.parametrize('os_release,family,userspace', [
    ('ID=debian\nVERSION_ID="12"\n', 'Debian', ['wireguard-go']),
    ('ID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n', 'Debian', ['wireguard-go']),
    ('ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n', 'RedHat', []),
    ('ID="almalinux"\nID_LIKE="rhel centos fedora"\n', 'RedHat', []),
    ('ID=fedora\nVERSION_ID=40\n', 'RedHat', []),
    ('ID=arch\n', 'Archlinux', ['wireguard-go']),
    ('ID=alpine\n', 'Alpine', []),
])
def test_family_selects_its_packages(os_release, family, userspace):
    found = hf.os_family(hf.parse_os_release(os_release))[0]
    assert found == family
    settings = hp.settings_with_defaults({})
    assert hp._install(ENTRY, facts(found, kernel=True), settings, False)['missing'] == ['wireguard-tools']
    assert hp._install(ENTRY, facts(found, kernel=False), settings, False)['missing'] == ['wireguard-tools'] + userspace


@pytest.mark.parametrize('installed,kernel,dns,resolvconf,psk,missing', [
    ((), False, [], None, False, ['wireguard-tools', 'wireguard-go']),
    (('wireguard-tools', 'wireguard-go'), False, [], None, False, []),
    (('wireguard-tools',), True, [], None, False, []),
    (('wireguard-tools',), True, ['10.0.0.1'], None, False, ['openresolv']),
    (('wireguard-tools',), True, ['10.0.0.1'], '/usr/sbin/resolvconf', False, []),   # systemd-resolved's is kept
    (('wireguard-tools',), True, [], None, True, ['python3-cryptography']),           # sealed preshared keys
])
def test_debian_missing_packages(installed, kernel, dns, resolvconf, psk, missing):
    entry = dict(ENTRY, dns=dns, peers=[{'name': 'b', 'preshared_key': psk}])
    got = hp._install(entry, facts('Debian', installed, kernel, resolvconf), hp.settings_with_defaults({}), psk)
    assert got['missing'] == missing


@pytest.mark.parametrize('mode,kernel,expected', [
    ('auto', True, []), ('auto', False, ['wireguard-go']), ('true', True, ['wireguard-go']),
    ('yes', True, ['wireguard-go']), ('false', False, []), (False, False, []), (True, True, ['wireguard-go']),
])
def test_userspace_setting(mode, kernel, expected):
    settings = hp.settings_with_defaults({'wireguard_install_userspace': mode})
    assert hp._install(ENTRY, facts('Debian', ['wireguard-tools'], kernel), settings, False)['missing'] == expected


def test_every_family_with_packages_is_recognised():
    families = {f for f, _ids in hf._FAMILIES}
    assert set(hp.PACKAGES) <= families
