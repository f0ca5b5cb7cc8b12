#!/usr/bin/python
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wireguard_keypair
short_description: Create a WireGuard private key on the managed host and return its public key
version_added: 0.1.0
description:
  - Creates the WireGuard private key file on the managed host if it does not exist yet
    (mode C(0600), owner C(root)) and returns the matching public key.
  - The private key never leaves the host. It is not returned, not logged and not shown in diffs.
  - The key is generated with C(wg genkey) and its public key derived with C(wg pubkey), which reads
    the private key on standard input (never on a command line). The C(wg) command comes with
    wireguard-tools, which the C(netfleet.wireguard.wireguard_install) role installs.
  - An existing key file that does not hold a valid key is an error; it is only replaced when
    O(force=true).
author:
  - netfleet engineers (@netfleet)
requirements:
  - wireguard-tools (the C(wg) command) on the managed host
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  path:
    description:
      - Path of the private key file on the managed host.
      - Defaults to C(/etc/wireguard/<interface>.key).
    type: path
  interface:
    description:
      - Interface name used to build the default O(path).
    type: str
    default: wg0
  force:
    description:
      - Generate a new key even when a key file exists (key rotation, or replacing a corrupt file).
      - Every peer must then learn the new public key.
    type: bool
    default: false
  owner:
    description: Owner of the key file.
    type: str
    default: root
  group:
    description: Group of the key file.
    type: str
    default: root
attributes:
  check_mode:
    support: full
    details:
      - With no key file yet, reports a change and RV(public_key=null).
      - When C(wg) is not installed yet (a check run before wireguard-tools is installed), an existing
        key is reported with RV(public_key=null) and a warning instead of failing.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The parent directory is created with mode C(0700) when it does not exist.
  - A key file must hold the key in the canonical form C(wg) prints (44 base64 characters ending in
    C(=), padding bits zero); anything else is refused like an invalid key.
  - Fails with a pointer to C(netfleet.wireguard.wireguard_install) when C(wg) is not installed.
seealso:
  - module: netfleet.wireguard.wireguard_apply
"""

EXAMPLES = r"""
- name: Make sure wg0 has a key pair
  netfleet.wireguard.wireguard_keypair:
    interface: wg0
  register: wg_key

- name: Show the public key
  ansible.builtin.debug:
    msg: "{{ wg_key.public_key }}"

- name: Rotate the key of wg1 (peers need the new public key afterwards)
  netfleet.wireguard.wireguard_keypair:
    path: /etc/wireguard/wg1.key
    force: true
"""

RETURN = r"""
public_key:
  description:
    - Base64 public key matching the private key in RV(path).
    - V(null) in check mode when the key does not exist yet, or when C(wg) is not installed yet.
  returned: always
  type: str
  sample: hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=
path:
  description: Path of the private key file.
  returned: always
  type: str
  sample: /etc/wireguard/wg0.key
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.netfleet.wireguard.plugins.module_utils import _paths as paths
from ansible_collections.netfleet.wireguard.plugins.module_utils._secretfile import write_secret
from ansible_collections.netfleet.wireguard.plugins.module_utils import _wgtool as wgtool
from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import decode_key, encode_key


def _write_key(module, wg, path, owner, group):
    key = wgtool.genkey(module, wg)
    public = wgtool.pubkey(module, wg, key)

    def own(tmp):
        module.set_owner_if_different(tmp, owner, False)
        module.set_group_if_different(tmp, group, False)

    write_secret(path, key + "\n", prefix=".wgkey-", prepare=own)
    return public


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path"),
            interface=dict(type="str", default="wg0"),
            force=dict(type="bool", default=False),
            owner=dict(type="str", default="root"),
            group=dict(type="str", default="root"),
        ),
        supports_check_mode=True,
    )
    interface = module.params["interface"]
    if not paths.valid_interface(interface):
        module.fail_json(msg="interface %r is not a valid interface name" % interface)
    path = paths.private_key(interface, module.params["path"])
    owner, group = module.params["owner"], module.params["group"]
    result = dict(changed=False, path=path, public_key=None)

    existing = None
    if os.path.lexists(path):
        if not os.path.isfile(path):
            module.fail_json(msg="%s exists and is not a regular file" % path, **result)
        with open(path, "rb") as handle:
            existing = handle.read(4096)

    wg = module.get_bin_path("wg")
    if existing is not None and not module.params["force"]:
        try:
            private = encode_key(decode_key(existing, "the key file", strip=True))
        except ValueError as exc:
            module.fail_json(
                msg="%s does not contain a valid WireGuard private key (%s). It was left untouched; "
                    "fix or remove it, or set force=true to replace it with a new key." % (path, exc),
                **result)
        if wg:
            try:
                result["public_key"] = wgtool.pubkey(module, wg, private)
            except ValueError as exc:
                module.fail_json(msg="%s: %s" % (path, exc), **result)
        elif module.check_mode:
            module.warn("%s; the public key of %s is not known until then" % (wgtool.WG_MISSING, path))
        else:
            module.fail_json(msg=wgtool.WG_MISSING, **result)
        # keep permissions tight on an existing key
        changed = module.set_mode_if_different(path, "0600", False)
        changed = module.set_owner_if_different(path, owner, changed)
        result["changed"] = module.set_group_if_different(path, group, changed)
        module.exit_json(**result)

    result["changed"] = True
    if module.check_mode:
        module.exit_json(**result)
    if not wg:
        module.fail_json(msg=wgtool.WG_MISSING, **result)
    try:
        result["public_key"] = _write_key(module, wg, path, owner, group)
    except ValueError as exc:
        module.fail_json(msg="could not create a key for %s: %s" % (path, exc), **result)
    except OSError as exc:
        module.fail_json(msg="could not write %s: %s" % (path, exc.strerror or exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
