#!/usr/bin/python
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wireguard_host_facts
short_description: Read in one call everything the netfleet.wireguard roles check on a host
version_added: 0.1.0
description:
  - Reads, without changing anything, the state the collection's roles compare their desired
    state against - OS family and installed packages, the commands present, whether the kernel
    has WireGuard, default routes, forwarding-related kernel settings, the collection's own
    firewall tables and chains, whether ufw or firewalld manages the firewall (and the ufw rules),
    checksums of given files and the public keys of given private key files.
  - The roles run it once per host per run (C(playbooks/site.yml) does it for all roles at once)
    and skip every task whose target already matches, so a run with nothing to change makes
    one call to each host for all checks instead of one call per check.
  - Private keys are read only to derive their public key with C(wg pubkey) (the key on standard input,
    never on a command line); neither the key nor its checksum is returned.
author:
  - netfleet engineers (@netfleet)
requirements:
  - None for the facts themselves. RV(public_keys) needs the C(wg) command (wireguard-tools); without it
    every key is V(null) and RV(key_problems) says why.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  paths:
    description:
      - Files or directories to report in RV(files) (existence, type, mode, owner, SHA-1 checksum).
      - Use it for files the caller may have to write, so it can compare checksums first.
    type: list
    elements: path
    default: []
  private_keys:
    description:
      - WireGuard private key files whose public keys are reported in RV(public_keys).
      - The public key is derived with C(wg pubkey); before wireguard-tools is installed it is V(null).
    type: list
    elements: path
    default: []
  sysctls:
    description:
      - Kernel settings to report in RV(sysctls) besides the ones always reported.
      - Written as C(sysctl) keys; a C(/) stands for a dot inside an interface name.
    type: list
    elements: str
    default: []
  wireguard:
    description:
      - A WireGuard interface to judge, read-only, the way M(netfleet.wireguard.wireguard_apply) would -
        reported in RV(wireguard).
    type: dict
    suboptions:
      interface:
        description: Interface name.
        type: str
        required: true
      path:
        description: Its wg-quick file.
        type: path
        required: true
      private_key_path:
        description: Its private key file (read to compare, never returned).
        type: path
        required: true
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Checksums of private key files are never returned, even when a key path is listed in O(paths).
  - A key file must hold the canonical form C(wg) prints (padding bits zero); anything else is reported
    as not a valid private key.
seealso:
  - module: netfleet.wireguard.wireguard_keypair
  - module: netfleet.wireguard.wireguard_apply
"""

EXAMPLES = r"""
- name: Inspect the host once
  netfleet.wireguard.wireguard_host_facts:
    paths:
      - /etc/sysctl.d/90-netfleet-wireguard.conf
      - /etc/wireguard/wg0.nft
    private_keys:
      - /etc/wireguard/wg0.key
  register: host

- name: Install the backend only when it is missing
  ansible.builtin.apt:
    name: nftables
  when: "'nftables' not in host.packages"
"""

RETURN = r"""
os_family:
  description: OS family in Ansible's naming, from C(/etc/os-release) (V(Unknown) when not recognised).
  type: str
  returned: always
  sample: Debian
distribution:
  description: C(NAME) from C(/etc/os-release).
  type: str
  returned: always
  sample: Debian GNU/Linux
pkg_mgr:
  description: Package manager of the OS family (as Ansible's C(pkg_mgr) fact names it).
  type: str
  returned: always
  sample: apt
packages:
  description: Names of the installed packages (empty when the package database could not be read).
  type: list
  elements: str
  returned: always
systemd:
  description: Whether systemd manages the host (C(/run/systemd/system) exists).
  type: bool
  returned: always
kernel_wireguard:
  description: Whether the kernel has WireGuard loaded, built in, or loadable with modprobe.
  type: bool
  returned: always
commands:
  description: Path of each command the roles use, or null when it is not installed.
  type: dict
  returned: always
  sample: {"nft": "/usr/sbin/nft", "wg": "/usr/bin/wg", "resolvconf": null}
routes:
  description: Devices of the default routes; C(ipv6_ra) lists those learned from router advertisements.
  type: dict
  returned: always
  sample: {"ipv4_default": ["eth0"], "ipv6_default": ["eth0"], "ipv6_ra": []}
sysctls:
  description:
    - Running values of the forwarding settings, C(accept_ra) of every interface and O(sysctls);
      null for a key the kernel does not have.
  type: dict
  returned: always
  sample: {"net.ipv4.ip_forward": "1", "net.ipv6.conf.eth0.accept_ra": "2"}
firewall:
  description:
    - The collection's own firewall objects that are loaded - nftables tables named C(netfleet_*)
      as C(<family> <table>) and iptables chains named C(NETFLEET-*) as C(<ipv4|ipv6> <table> <chain>).
    - The firewall manager of the host - C(ufw) null when ufw is not installed, else C(active) (C(ufw status))
      and C(added) (the user rules of C(ufw show added), without the leading C(ufw)); C(firewalld_running)
      (C(firewall-cmd --state) says running).
  type: dict
  returned: always
  sample: {"nft_tables": ["inet netfleet_wg_wg0"], "iptables_chains": ["ipv4 nat NETFLEET-wg0-NAT"],
           "ufw": {"active": true, "added": ["allow 22/tcp", "allow 51820/udp comment 'netfleet-wireguard wg0'"]},
           "firewalld_running": false}
files:
  description: For each path in O(paths) - C(exists), C(type), C(mode), C(uid), C(gid), C(checksum) (SHA-1, regular files only).
  type: dict
  returned: always
  sample: {"/etc/wireguard/wg0.nft": {"exists": true, "type": "file", "mode": "0600", "uid": 0, "gid": 0, "checksum": "0f3c..."}}
public_keys:
  description:
    - Public key of each file in O(private_keys), or null when it is missing, not a valid key, or C(wg)
      is not installed (RV(key_problems) says which).
  type: dict
  returned: always
  sample: {"/etc/wireguard/wg0.key": "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="}
key_problems:
  description:
    - Why a listed private key file has no public key - V(missing), V(not a regular file), V(not a valid
      private key), V(wg is not installed) (the key file is valid, its public key is not known until
      wireguard-tools is installed), or the error of C(wg pubkey) or of reading the file.
  type: dict
  returned: always
  sample: {"/etc/wireguard/wg1.key": "missing"}
wireguard:
  description:
    - For O(wireguard) - C(exists) (file and key readable), C(public_sha1) (SHA-1 of the file without its
      C(PrivateKey)/C(PresharedKey) lines, equal to that of the text it was rendered from),
      C(private_key_lines), C(preshared_key_lines), C(key_current) (the file's key is the key file's),
      C(in_sync) (interface up and running exactly as the file says, routes and unit included - what
      M(netfleet.wireguard.wireguard_apply) judges as nothing to do). Null without O(wireguard).
  type: dict
  returned: always
"""

import glob
import hashlib
import os
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netfleet.wireguard.plugins.module_utils import _hostfacts as hf
from ansible_collections.netfleet.wireguard.plugins.module_utils import _paths as paths
from ansible_collections.netfleet.wireguard.plugins.module_utils import _wghost as wghost
from ansible_collections.netfleet.wireguard.plugins.module_utils import _wgtool as wgtool
from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import is_valid_key

COMMANDS = ("wg", "wg-quick", "wireguard-go", "nft", "iptables", "ip6tables", "resolvconf",
            "systemctl", "modprobe", "ip", "ufw", "firewall-cmd")
SYSCTLS = ("net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding", "net.ipv4.conf.all.rp_filter",
           "net.ipv4.conf.default.rp_filter")
_IPT_TABLES = (("filter", []), ("nat", ["-t", "nat"]))


def _read(path, limit=None):
    try:
        with open(path, "rb") as handle:
            return handle.read(limit).decode("utf-8", "replace") if limit else handle.read().decode("utf-8", "replace")
    except OSError:
        return None


def _run(module, argv):
    """stdout of a read-only command, '' when it fails."""
    rc, out, _err = module.run_command(argv, check_rc=False)
    return out if rc == 0 else ""


def _packages(module, family):
    if family == "Debian":
        return hf.parse_dpkg_status(_read("/var/lib/dpkg/status") or "")
    for name, argv in (("rpm", ["-qa", "--qf", "%{NAME}\n"]), ("pacman", ["-Qq"]), ("apk", ["info"])):
        path = module.get_bin_path(name)
        if path:
            return hf.parse_name_list(_run(module, [path] + argv))
    return []


def _kernel_wireguard(module, commands):
    if os.path.isdir("/sys/module/wireguard"):
        return True
    if not commands["modprobe"]:
        return False
    rc, _out, _err = module.run_command([commands["modprobe"], "--dry-run", "wireguard"], check_rc=False)
    return rc == 0


def _routes(module, ip):
    out = {"ipv4_default": [], "ipv6_default": [], "ipv6_ra": []}
    if not ip:
        return out
    out["ipv4_default"] = hf.route_devices(_run(module, [ip, "-4", "-j", "route", "show", "default"]))
    six = _run(module, [ip, "-6", "-j", "route", "show", "default"])
    out["ipv6_default"] = hf.route_devices(six)
    out["ipv6_ra"] = hf.route_devices(six, protocol="ra")
    return out


def _sysctls(extra):
    keys = list(SYSCTLS) + [hf.sysctl_key(p) for p in sorted(glob.glob("/proc/sys/net/ipv6/conf/*/accept_ra"))]
    keys += [k for k in extra if k not in keys]
    out = {}
    for key in keys:
        value = _read(hf.sysctl_path(key))
        out[key] = value.strip() if value is not None else None
    return out


def _firewall(module, commands):
    out = {"nft_tables": [], "iptables_chains": []}
    if commands["nft"]:
        out["nft_tables"] = hf.parse_nft_tables(_run(module, [commands["nft"], "list", "tables"]))
    for family, cmd in (("ipv4", commands["iptables"]), ("ipv6", commands["ip6tables"])):
        if not cmd:
            continue
        for table, args in _IPT_TABLES:
            out["iptables_chains"] += hf.parse_iptables_chains(_run(module, [cmd, "-w"] + args + ["-S"]), family, table)
    out["ufw"] = None
    if commands["ufw"]:
        out["ufw"] = {"active": hf.parse_ufw_status(_run(module, [commands["ufw"], "status"])),
                      "added": hf.parse_ufw_added(_run(module, [commands["ufw"], "show", "added"]))}
    out["firewalld_running"] = bool(commands["firewall-cmd"]) and \
        _run(module, [commands["firewall-cmd"], "--state"]).strip() == "running"
    return out


def _file_info(path, secret_paths):
    try:
        st = os.lstat(path)
    except OSError:
        return {"exists": False, "type": None, "mode": None, "uid": None, "gid": None, "checksum": None}
    kind = "file" if stat.S_ISREG(st.st_mode) else "directory" if stat.S_ISDIR(st.st_mode) else \
        "link" if stat.S_ISLNK(st.st_mode) else "other"
    checksum = None
    if kind == "file" and path not in secret_paths:
        digest = hashlib.sha1()
        try:
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(65536), b""):
                    digest.update(block)
            checksum = digest.hexdigest()
        except OSError:
            checksum = None
    return {"exists": True, "type": kind, "mode": "%04o" % stat.S_IMODE(st.st_mode), "uid": st.st_uid,
            "gid": st.st_gid, "checksum": checksum}


def _public_keys(module, wg, paths):
    """({path: public key or None}, {path: why None}); the private keys stay in this process."""
    keys, problems = {}, {}
    for path in paths:
        keys[path] = None
        if not os.path.lexists(path):
            problems[path] = "missing"
            continue
        if not os.path.isfile(path):
            problems[path] = "not a regular file"
            continue
        try:
            with open(path, "rb") as handle:
                private = handle.read(4096)
        except OSError as exc:
            problems[path] = str(exc.strerror or exc)
            continue
        if not is_valid_key(private, strip=True):
            problems[path] = "not a valid private key"
        elif not wg:
            problems[path] = "wg is not installed"
        else:
            try:
                keys[path] = wgtool.pubkey(module, wg, private)
            except ValueError as exc:
                problems[path] = str(exc)
    return keys, problems


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type="list", elements="path", default=[]),
            private_keys=dict(type="list", elements="path", default=[], no_log=False),
            sysctls=dict(type="list", elements="str", default=[]),
            wireguard=dict(type="dict", options=dict(
                interface=dict(type="str", required=True),
                path=dict(type="path", required=True),
                private_key_path=dict(type="path", required=True, no_log=False),
            )),
        ),
        supports_check_mode=True,
    )
    family, distribution = hf.os_family(hf.parse_os_release(_read("/etc/os-release") or _read("/usr/lib/os-release") or ""))
    commands = {name: module.get_bin_path(name) for name in COMMANDS}
    public_keys, problems = _public_keys(module, commands["wg"], module.params["private_keys"])
    secret = set(module.params["private_keys"])
    module.exit_json(
        changed=False,
        os_family=family,
        distribution=distribution,
        pkg_mgr=hf.default_pkg_mgr(family),
        packages=_packages(module, family),
        systemd=os.path.isdir("/run/systemd/system"),
        kernel_wireguard=_kernel_wireguard(module, commands),
        commands=commands,
        routes=_routes(module, commands["ip"]),
        sysctls=_sysctls(module.params["sysctls"]),
        firewall=_firewall(module, commands),
        files={path: _file_info(path, secret) for path in module.params["paths"]},
        public_keys=public_keys,
        key_problems=problems,
        wireguard=_wireguard(module, module.params["wireguard"]),
    )


def _wireguard(module, spec):
    if not spec or not paths.valid_interface(spec["interface"]):
        return None
    return wghost.sync_state(module, spec["interface"], spec["path"], spec["private_key_path"])


if __name__ == "__main__":
    main()
