# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Truth tables for the parsers behind wireguard_host_facts."""
from __future__ import annotations

import json

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _hostfacts as hf


@pytest.mark.parametrize("text,family", [
    ('ID=debian\nNAME="Debian GNU/Linux"\n', "Debian"),
    ('ID=ubuntu\nID_LIKE=debian\n', "Debian"),
    ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "RedHat"),
    ('ID=fedora\n', "RedHat"),
    ('ID=arch\n', "Archlinux"),
    ('ID=endeavouros\nID_LIKE=arch\n', "Archlinux"),
    ('ID=opensuse-leap\nID_LIKE="suse opensuse"\n', "Suse"),
    ('ID=somethingnew\nID_LIKE=debian\n', "Debian"),
    ('ID=nixos\n', "Unknown"),
    ('', "Unknown"),
])
def test_os_family(text, family):
    assert hf.os_family(hf.parse_os_release(text))[0] == family


def test_os_release_quotes_and_comments():
    parsed = hf.parse_os_release('# comment\nNAME="Debian GNU/Linux"\nVERSION_ID=\'12\'\nbroken line\n')
    assert parsed == {"NAME": "Debian GNU/Linux", "VERSION_ID": "12"}
    assert hf.os_family(parsed) == ("Unknown", "Debian GNU/Linux")


@pytest.mark.parametrize("family,mgr", [("Debian", "apt"), ("RedHat", "dnf"), ("Archlinux", "pacman"),
                                        ("Unknown", "unknown")])
def test_default_pkg_mgr(family, mgr):
    assert hf.default_pkg_mgr(family) == mgr


DPKG = """Package: wireguard-tools
Status: install ok installed
Version: 1.0

Package: nftables
Status: deinstall ok config-files

Package: libc6:amd64
Status: install ok installed

Package: half
Status: install ok half-installed
"""


def test_dpkg_status_lists_only_installed_packages_without_arch():
    assert hf.parse_dpkg_status(DPKG) == ["libc6", "wireguard-tools"]


def test_name_list():
    assert hf.parse_name_list("b\n a\n\nb\n") == ["a", "b"]


def test_nft_tables_keeps_only_the_collections_tables():
    text = "table inet filter\ntable inet netfleet_wg_wg0\ntable ip nat\ntable inet netfleet_guard\n"
    assert hf.parse_nft_tables(text) == ["inet netfleet_guard", "inet netfleet_wg_wg0"]


def test_iptables_chains_keeps_only_the_collections_chains():
    text = "-P FORWARD ACCEPT\n-N DOCKER\n-N NETFLEET-wg0-FWD\n-A FORWARD -j NETFLEET-wg0-FWD\n"
    assert hf.parse_iptables_chains(text, "ipv4", "filter") == ["ipv4 filter NETFLEET-wg0-FWD"]


ROUTES = json.dumps([{"dst": "default", "gateway": "fe80::1", "dev": "eth0", "protocol": "ra"},
                     {"dst": "default", "dev": "eth1", "protocol": "static"},
                     {"dst": "default", "dev": "eth0", "protocol": "ra"}])


@pytest.mark.parametrize("text,protocol,devs", [
    (ROUTES, None, ["eth0", "eth1"]),
    (ROUTES, "ra", ["eth0"]),
    ("", None, []),
    ("not json", None, []),
    ('{"dev": "eth0"}', None, []),
])
def test_route_devices(text, protocol, devs):
    assert hf.route_devices(text, protocol=protocol) == devs


@pytest.mark.parametrize("path,key", [
    ("/proc/sys/net/ipv4/ip_forward", "net.ipv4.ip_forward"),
    ("/proc/sys/net/ipv6/conf/eth0.10/accept_ra", "net.ipv6.conf.eth0/10.accept_ra"),
    ("/proc/sys/net/ipv6/conf/all/forwarding", "net.ipv6.conf.all.forwarding"),
])
def test_sysctl_key_and_path_are_inverse(path, key):
    assert hf.sysctl_key(path) == key
    assert hf.sysctl_path(key) == path
