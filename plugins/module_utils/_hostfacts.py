# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parsers behind netfleet.wireguard.wireguard_host_facts (stdlib only, no ansible imports).

The module runs the commands and reads the files; these functions turn their text into the
facts the roles compare their desired state against, so a run with nothing to do makes one
call to the host instead of one per check.
"""

from __future__ import annotations

import json
import re

# ID / ID_LIKE of /etc/os-release -> Ansible's os_family names (the ones the install role has vars for)
_FAMILIES = (
    ("Debian", ("debian", "ubuntu", "raspbian", "linuxmint", "pop", "kali", "devuan")),
    ("RedHat", ("rhel", "centos", "fedora", "rocky", "almalinux", "ol", "amzn", "scientific")),
    ("Archlinux", ("arch", "archarm", "manjaro", "endeavouros")),
    ("Suse", ("suse", "opensuse", "opensuse-leap", "opensuse-tumbleweed", "sles")),
    ("Alpine", ("alpine",)),
)
_PKG_MGR = {"Debian": "apt", "RedHat": "dnf", "Archlinux": "pacman", "Suse": "zypper", "Alpine": "apk"}
_QUOTED = re.compile(r"""^(['"])(.*)\1$""")
NETFLEET_NFT = re.compile(r"^netfleet_")
NETFLEET_CHAIN = re.compile(r"^NETFLEET-")


def parse_os_release(text):
    """``{key: value}`` of an os-release file (quotes removed)."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        match = _QUOTED.match(value.strip())
        out[key.strip()] = match.group(2) if match else value.strip()
    return out


def os_family(release):
    """(os_family, distribution) from parsed os-release; ("Unknown", ID) when not recognised."""
    ident = release.get("ID", "").lower()
    like = release.get("ID_LIKE", "").lower().split()
    for family, ids in _FAMILIES:
        if ident in ids:
            return family, release.get("NAME", ident) or ident
    for family, ids in _FAMILIES:
        if any(item in ids for item in like):
            return family, release.get("NAME", ident) or ident
    return "Unknown", release.get("NAME", ident) or ident


def default_pkg_mgr(family):
    """Package manager Ansible would pick for ``family`` (``unknown`` when none)."""
    return _PKG_MGR.get(family, "unknown")


def parse_dpkg_status(text):
    """Names of the packages /var/lib/dpkg/status lists as installed (sorted)."""
    installed = set()
    name = None
    for line in text.splitlines():
        if line.startswith("Package:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("Status:") and name:
            if line.split(":", 1)[1].split()[-1:] == ["installed"]:
                installed.add(name.split(":")[0])
        elif not line.strip():
            name = None
    return sorted(installed)


def parse_name_list(text):
    """One package name per line (``rpm -qa --qf '%{NAME}\\n'``, ``pacman -Qq``), sorted, unique."""
    return sorted({line.strip() for line in text.splitlines() if line.strip()})


def parse_nft_tables(text):
    """``["<family> <name>", ...]`` of the collection's tables in ``nft list tables`` output."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "table" and NETFLEET_NFT.match(parts[2]):
            out.append("%s %s" % (parts[1], parts[2]))
    return sorted(out)


def parse_iptables_chains(text, family, table):
    """``["<family> <table> <chain>", ...]`` of the collection's chains in ``iptables -S`` output."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "-N" and NETFLEET_CHAIN.match(parts[1]):
            out.append("%s %s %s" % (family, table, parts[1]))
    return sorted(out)


def route_devices(text, protocol=None):
    """Devices of the routes in ``ip -j route show ...`` output, in order, without repeats.

    With ``protocol`` (e.g. ``ra``), only routes installed by that protocol count.
    """
    try:
        routes = json.loads(text or "[]")
    except ValueError:
        return []
    devs = []
    for route in routes if isinstance(routes, list) else []:
        if not isinstance(route, dict) or (protocol and route.get("protocol") != protocol):
            continue
        dev = route.get("dev")
        if dev and dev not in devs:
            devs.append(dev)
    return devs


def sysctl_key(path, root="/proc/sys"):
    """``/proc/sys/net/ipv6/conf/eth0.10/accept_ra`` -> ``net.ipv6.conf.eth0/10.accept_ra``."""
    rel = path[len(root):].strip("/") if path.startswith(root) else path.strip("/")
    return ".".join(part.replace(".", "/") for part in rel.split("/"))


def sysctl_path(key, root="/proc/sys"):
    """Inverse of sysctl_key: dots separate levels, slashes stand for dots inside a level."""
    return root.rstrip("/") + "/" + "/".join(part.replace("/", ".") for part in key.split("."))


def parse_ufw_status(text):
    """Whether ``ufw status`` output says the firewall is active (its first line ``Status: active``)."""
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip().lower() == "status: active"
    return False


def parse_ufw_added(text):
    """The user rules of ``ufw show added`` output, each as ufw prints it without the leading ``ufw ``."""
    out = []
    for line in (text or "").splitlines():
        line = line.strip()
        if line.startswith("ufw "):
            out.append(line[4:])
    return out
