#!/usr/bin/python
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wireguard_retire
short_description: Take a retired host's WireGuard interface, files and firewall objects away
version_added: 0.2.0
description:
  - "For a host with C(wireguard_state=absent) (see the C(netfleet.wireguard.wireguard_common) role): stops
    and disables C(wg-quick@<interface>) (its PostDown removes the forwarding and NAT rules), deletes an
    interface still left, removes the collection's nftables tables that are still loaded
    (O(nft_tables)), deletes the ufw rules tagged C(netfleet-wireguard <interface>) when ufw is installed
    (the user's own rules stay), stops and removes the hardened firewall's unit, and removes the files in
    O(paths)."
  - A second run finds nothing and reports no change.
author:
  - netfleet engineers (@netfleet)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  interface:
    description: WireGuard interface name.
    type: str
    required: true
  paths:
    description:
      - The host's paths as the plan computes them (C(conf), C(private_key), C(preshared_key_dir),
        C(nft_rules), C(sysctl_file), C(guard_ruleset), C(guard_unit), C(guard_enabled_link)); each one
        present is removed (the private key's staged C(.next) file too).
    type: dict
    required: true
  nft_tables:
    description: nftables tables (family C(inet)) of the collection to delete when still loaded.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The running sysctl values the forwarding role set stay until the next boot; only its file is removed.
"""

EXAMPLES = r"""
- name: Retire this host's tunnel
  netfleet.wireguard.wireguard_retire:
    interface: wg0
    paths: "{{ __wireguard_network.retired[inventory_hostname].paths }}"
"""

RETURN = r"""
removed:
  description: What was (or in check mode would be) removed.
  returned: always
  type: list
  elements: str
  sample: [interface wg0, /etc/wireguard/wg0.conf, /etc/wireguard/wg0.key]
"""

import os
import shutil

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.netfleet.wireguard.plugins.module_utils import _hostfacts, _paths, _ufw

FILE_KEYS = ("conf", "private_key", "preshared_key_dir", "nft_rules", "sysctl_file", "guard_ruleset", "guard_unit",
             "guard_enabled_link")


class Retire:
    def __init__(self, module):
        self.module = module
        self.check = module.check_mode
        self.removed = []
        self.systemctl = module.get_bin_path("systemctl")
        self.ip = module.get_bin_path("ip")
        self.nft = module.get_bin_path("nft")

    def ok(self, argv):
        return self.module.run_command(argv)[0] == 0

    def do(self, what, argv):
        self.removed.append(what)
        if not self.check:
            rc, out, err = self.module.run_command(argv)
            if rc != 0:
                raise ValueError("%s failed: %s" % (" ".join(argv[:3]), (err or out).strip()))

    def unit(self, unit, what):
        if not self.systemctl:
            return
        active = self.ok([self.systemctl, "is-active", "--quiet", unit])
        enabled = self.ok([self.systemctl, "is-enabled", "--quiet", unit])
        if active or enabled:
            self.do(what, [self.systemctl, "disable", "--now", unit])

    def interface(self, name, conf):
        self.unit("wg-quick@%s" % name, "unit wg-quick@%s" % name)
        if self.check or not self.ip or not self.ok([self.ip, "link", "show", "dev", name]):
            return
        wg_quick = self.module.get_bin_path("wg-quick")
        if wg_quick and os.path.exists(conf):
            self.module.run_command([wg_quick, "down", conf])
        if self.ok([self.ip, "link", "show", "dev", name]):
            self.do("interface %s" % name, [self.ip, "link", "delete", "dev", name])
        else:
            self.removed.append("interface %s" % name)

    def tables(self, names):
        for table in names:
            if self.nft and self.ok([self.nft, "list", "table", "inet", table]):
                self.do("nftables table inet %s" % table, [self.nft, "delete", "table", "inet", table])

    def ufw_rules(self, interface):
        """The ufw rules tagged netfleet-wireguard <interface> (the user's own rules stay)."""
        ufw = self.module.get_bin_path("ufw")
        if not ufw:
            return
        rc, out, _err = self.module.run_command([ufw, "show", "added"])
        gone = _ufw.removal({"added": _hostfacts.parse_ufw_added(out if rc == 0 else "")}, interface) or {}
        for rule, argv in zip(gone.get("delete", []), gone.get("delete_argv", [])):
            self.do("ufw rule %s" % rule, [ufw] + argv)

    def files(self, paths):
        for path in paths:
            if not os.path.lexists(path):
                continue
            self.removed.append(path)
            if self.check:
                continue
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            interface=dict(type="str", required=True),
            paths=dict(type="dict", required=True),
            nft_tables=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    interface, paths = module.params["interface"], module.params["paths"]
    if not _paths.valid_interface(interface):
        module.fail_json(msg="interface %r is not a valid interface name" % interface)
    files = [paths[key] for key in FILE_KEYS if paths.get(key)]
    if paths.get("private_key"):
        files.append(paths["private_key"] + ".next")
    if any(not isinstance(path, str) or not os.path.isabs(path) for path in files):
        module.fail_json(msg="paths must be absolute paths")
    retire = Retire(module)
    try:
        retire.interface(interface, paths.get("conf") or _paths.conf(interface))
        retire.unit(_paths.GUARD_UNIT_NAME, "unit %s" % _paths.GUARD_UNIT_NAME)
        retire.tables(module.params["nft_tables"])
        retire.ufw_rules(interface)
        retire.files(files)
        if any(path == paths.get("guard_unit") for path in retire.removed) and retire.systemctl and not retire.check:
            module.run_command([retire.systemctl, "daemon-reload"])
    except (ValueError, OSError) as exc:
        module.fail_json(msg=str(exc), removed=retire.removed)
    module.exit_json(changed=bool(retire.removed), removed=retire.removed)


if __name__ == "__main__":
    main()
