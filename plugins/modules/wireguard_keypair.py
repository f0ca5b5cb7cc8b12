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
  - Keys are generated and derived with a pure-Python X25519 implementation (RFC 7748), so the host
    needs neither the C(wg) tool nor the Python C(cryptography) package.
  - An existing key file that does not hold a valid key is an error; it is only replaced when
    O(force=true).
author:
  - netfleet engineers (@netfleet)
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
    details: With no key file yet, reports a change and RV(public_key=null).
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The parent directory is created with mode C(0700) when it does not exist.
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
    - V(null) in check mode when the key does not exist yet.
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
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.netfleet.wireguard.plugins.module_utils._secretfile import write_secret
from ansible_collections.netfleet.wireguard.plugins.module_utils._x25519 import (
    encode_key,
    generate_private_key,
    public_key_b64,
)

_IFNAME = re.compile(r"^[a-zA-Z0-9_=+.-]{1,15}$")


def _write_key(module, path, owner, group):
    key = encode_key(generate_private_key())

    def own(tmp):
        module.set_owner_if_different(tmp, owner, False)
        module.set_group_if_different(tmp, group, False)

    write_secret(path, key + "\n", prefix=".wgkey-", prepare=own)
    return public_key_b64(key)


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
    if not _IFNAME.match(interface):
        module.fail_json(msg="interface %r is not a valid interface name" % interface)
    path = module.params["path"] or "/etc/wireguard/%s.key" % interface
    owner, group = module.params["owner"], module.params["group"]
    result = dict(changed=False, path=path, public_key=None)

    existing = None
    if os.path.lexists(path):
        if not os.path.isfile(path):
            module.fail_json(msg="%s exists and is not a regular file" % path, **result)
        with open(path, "rb") as handle:
            existing = handle.read(4096)

    if existing is not None and not module.params["force"]:
        try:
            result["public_key"] = public_key_b64(existing)
        except ValueError as exc:
            module.fail_json(
                msg="%s does not contain a valid WireGuard private key (%s). It was left untouched; "
                    "fix or remove it, or set force=true to replace it with a new key." % (path, exc),
                **result)
        # keep permissions tight on an existing key
        changed = module.set_mode_if_different(path, "0600", False)
        changed = module.set_owner_if_different(path, owner, changed)
        result["changed"] = module.set_group_if_different(path, group, changed)
        module.exit_json(**result)

    result["changed"] = True
    if module.check_mode:
        module.exit_json(**result)
    try:
        result["public_key"] = _write_key(module, path, owner, group)
    except OSError as exc:
        module.fail_json(msg="could not write %s: %s" % (path, exc.strerror or exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
