#!/usr/bin/python
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wireguard_psk
short_description: Keep the per-peer WireGuard preshared keys of a host, moving them only sealed
version_added: 0.1.0
description:
  - Manages the preshared keys (PSK) a host shares with some of its peers, one file per peer,
    C(<path>/<peer>.psk) (mode C(0600), directory C(0700), owner C(root)).
  - Reports, per peer of O(peers), the SHA-256 fingerprint of the key it holds. A fingerprint
    identifies a key without revealing it (a PSK is 256 random bits), so the controller can compare
    the two hosts of a pair without moving any secret.
  - O(send) makes sure a key exists for each listed peer (a new random key from the operating
    system's generator when the file is missing or invalid, or when the peer is in O(regenerate))
    and returns it B(sealed) to the peer host's WireGuard public key. O(receive) opens sealed
    keys with this host's WireGuard private key (O(private_key_path)) and stores them.
  - A sealed key (C(nfpsk2.) followed by base64) is built from standard primitives of the Python
    C(cryptography) package - an ephemeral X25519 key agreement with the receiver's WireGuard public
    key, HKDF-SHA256 binding a version label, both public keys, the interface and both host names, and
    ChaCha20-Poly1305 with that context as associated data. Only the receiving host can open it, so
    the plain key never crosses the controller, its logs or its temporary files. Keys sealed by
    earlier versions (C(nfpsk1.)) are refused with an explanation.
  - A plain preshared key is never returned, logged or shown in a diff.
author:
  - netfleet engineers (@netfleet)
requirements:
  - The Python C(cryptography) package (3.1 or later; C(python3-cryptography) on Debian/Ubuntu and
    RedHat, C(python-cryptography) on Arch) on the managed host, for O(send) and O(receive) outside
    check mode. Fingerprints, pruning and check mode work without it.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  interface:
    description: Interface name, used to build the default O(path) and O(private_key_path).
    type: str
    default: wg0
  path:
    description:
      - Directory of the key files. Defaults to C(/etc/wireguard/<interface>.psk.d).
    type: path
  name:
    description:
      - Name of this host in the network (its inventory name). Sealed keys are bound to the names of
        the sending and the receiving host.
      - Required with O(send) or O(receive).
    type: str
  peers:
    description:
      - Every peer this host shares a preshared key with (inventory names). Their fingerprints are
        returned in RV(fingerprints); files of other peers are reported in RV(stale).
    type: list
    elements: str
    default: []
  send:
    description:
      - Peers to send the key to. A missing or invalid key file is created first. The keys come back
        sealed to the peers' public keys (O(public_keys)) in RV(sealed).
      - Nothing is sealed in check mode.
    type: list
    elements: str
    default: []
  public_keys:
    description:
      - WireGuard public key of every peer in O(send) (peer name to base64 key). Peers whose key is
        not known yet may be left out in check mode.
    type: dict
    default: {}
  regenerate:
    description:
      - Peers of O(send) whose key is replaced by a new one (rotation).
    type: list
    elements: str
    default: []
  receive:
    description:
      - Sealed keys to store, by the name of the peer that sealed them (as returned in RV(sealed) by
        that peer). A file that already holds the same key is left alone.
      - In check mode the values may be empty strings; the module then reports that it would write.
    type: dict
    default: {}
  private_key_path:
    description:
      - This host's WireGuard private key, used to open O(receive).
      - Defaults to C(/etc/wireguard/<interface>.key).
    type: path
  prune:
    description:
      - Delete the key files of peers that are not in O(peers).
    type: bool
    default: false
  owner:
    description: Owner of the key files and the directory.
    type: str
    default: root
  group:
    description: Group of the key files and the directory.
    type: str
    default: root
attributes:
  check_mode:
    support: full
    details: Reports what would be created, written or pruned; seals nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The C(netfleet.wireguard.wireguard_install) role installs C(cryptography) on hosts with preshared keys.
  - Key files, O(public_keys) and the private key must be in the canonical form C(wg) prints
    (padding bits zero); a key file in another form counts as invalid (RV(invalid)).
  - The C(netfleet.wireguard.wireguard_keys) role decides per pair which host sends and which
    receives, then M(netfleet.wireguard.wireguard_apply) puts the keys into the configuration.
seealso:
  - module: netfleet.wireguard.wireguard_apply
  - module: netfleet.wireguard.wireguard_keypair
"""

EXAMPLES = r"""
- name: Report the fingerprints of the preshared keys shared with two peers
  netfleet.wireguard.wireguard_psk:
    interface: wg0
    peers: [hub, branch]
  register: psk_status

- name: On hub, create the key shared with spoke1 when missing and seal it for spoke1
  netfleet.wireguard.wireguard_psk:
    interface: wg0
    name: hub
    peers: [spoke1]
    send: [spoke1]
    public_keys:
      spoke1: "{{ spoke1_public_key }}"
  register: psk_sent
  no_log: true

- name: On spoke1, store the key hub sealed for it
  netfleet.wireguard.wireguard_psk:
    interface: wg0
    name: spoke1
    peers: [hub]
    receive:
      hub: "{{ hostvars['hub'].psk_sent.sealed.spoke1 }}"
  no_log: true
"""

RETURN = r"""
path:
  description: Directory of the key files.
  returned: always
  type: str
  sample: /etc/wireguard/wg0.psk.d
fingerprints:
  description:
    - Peer name to the hex SHA-256 of the key held for it, V(null) when there is no valid key.
    - Reflects the state after the module ran (in check mode, the state before it).
  returned: always
  type: dict
  sample: {hub: 5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef}
invalid:
  description: Peers of O(peers) whose key file exists but does not hold a valid key (before the run).
  returned: always
  type: list
  elements: str
stale:
  description: Peers that have a key file but are not in O(peers) (deleted when O(prune=true)).
  returned: always
  type: list
  elements: str
loose:
  description:
    - Whether the directory or a key file had another mode, owner or group than required (before the
      run; fixed unless in check mode).
  returned: always
  type: bool
created:
  description: Peers for which a new key was generated (or would be, in check mode).
  returned: always
  type: list
  elements: str
stored:
  description: Peers whose key was written from O(receive).
  returned: always
  type: list
  elements: str
removed:
  description: Peers whose key file was deleted (O(prune)).
  returned: always
  type: list
  elements: str
sealed:
  description:
    - Peer name to the key sealed for that peer's public key (O(send)); empty in check mode.
    - Only the peer's WireGuard private key opens it.
  returned: always
  type: dict
"""

import grp
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.netfleet.wireguard.plugins.module_utils import _paths as paths
from ansible_collections.netfleet.wireguard.plugins.module_utils import _psk as psk
from ansible_collections.netfleet.wireguard.plugins.module_utils._secretfile import write_secret
from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import is_valid_key


def _read(path):
    """(key or None, exists) for one key file. The key stays in this process."""
    if not os.path.lexists(path):
        return None, False
    if not os.path.isfile(path) or os.path.islink(path):
        return None, True
    with open(path, "rb") as handle:
        data = handle.read(4096)
    try:
        return psk.normalise(data), True
    except ValueError:
        return None, True


def _id(name, lookup):
    if name.isdigit():
        return int(name)
    try:
        return lookup(name)[2]
    except KeyError:
        return None


def _loose(path, mode, owner, group):
    """True when ``path`` does not have exactly ``mode``, ``owner`` and ``group``."""
    st = os.lstat(path)
    return (stat.S_IMODE(st.st_mode) != mode or st.st_uid != _id(owner, pwd.getpwnam)
            or st.st_gid != _id(group, grp.getgrnam))


def _tighten(module, path, mode, owner, group):
    changed = module.set_mode_if_different(path, mode, False)
    changed = module.set_owner_if_different(path, owner, changed)
    return module.set_group_if_different(path, group, changed)


def _write(module, directory, peer, key, owner, group):
    write_secret(os.path.join(directory, psk.file_name(peer)), key + "\n", prefix=".psk-",
                 prepare=lambda tmp: _own(module, tmp, owner, group))


def _own(module, path, owner, group):
    module.set_owner_if_different(path, owner, False)
    module.set_group_if_different(path, group, False)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            interface=dict(type="str", default="wg0"),
            path=dict(type="path"),
            name=dict(type="str"),
            peers=dict(type="list", elements="str", default=[]),
            send=dict(type="list", elements="str", default=[]),
            public_keys=dict(type="dict", default={}, no_log=False),
            regenerate=dict(type="list", elements="str", default=[]),
            receive=dict(type="dict", default={}, no_log=True),
            private_key_path=dict(type="path", no_log=False),
            prune=dict(type="bool", default=False),
            owner=dict(type="str", default="root"),
            group=dict(type="str", default="root"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    check = module.check_mode
    interface = p["interface"]
    if not paths.valid_interface(interface):
        module.fail_json(msg="interface %r is not a valid interface name" % interface)
    directory = paths.preshared_key_dir(interface, p["path"])
    key_path = paths.private_key(interface, p["private_key_path"])
    owner, group = p["owner"], p["group"]
    result = dict(changed=False, path=directory, fingerprints={}, invalid=[], stale=[], loose=False,
                  created=[], stored=[], removed=[], sealed={})

    try:
        peers = sorted({psk.check_name(n) for n in p["peers"]})
        send = {psk.check_name(n): p["public_keys"].get(n) for n in p["send"]}
        receive = {psk.check_name(n): v for n, v in p["receive"].items()}
        regenerate = {psk.check_name(n) for n in p["regenerate"]}
    except ValueError as exc:
        module.fail_json(msg=str(exc), **result)
    unlisted = sorted((set(send) | set(receive)) - set(peers))
    if unlisted:
        module.fail_json(msg="peer(s) %s must also be listed in peers" % ", ".join(unlisted), **result)
    if set(send) & set(receive):
        module.fail_json(msg="peer(s) %s cannot be in both send and receive"
                             % ", ".join(sorted(set(send) & set(receive))), **result)
    if regenerate - set(send):
        module.fail_json(msg="regenerate: peer(s) %s are not in send" % ", ".join(sorted(regenerate - set(send))),
                         **result)
    bad = sorted(peer for peer, key in send.items() if not is_valid_key(key) and not (check and not key))
    if bad:
        module.fail_json(msg="public_keys: no valid WireGuard public key for peer(s) %s of send" % ", ".join(bad),
                         **result)
    if (send or receive) and not p["name"]:
        module.fail_json(msg="name (this host's inventory name) is required with send or receive", **result)
    if os.path.lexists(directory) and (os.path.islink(directory) or not os.path.isdir(directory)):
        module.fail_json(msg="%s exists and is not a directory" % directory, **result)
    if (send or receive) and not check:
        try:
            psk.require_cryptography()
        except ValueError as exc:
            module.fail_json(msg=str(exc), **result)

    # ---- current state (the keys stay in this process)
    have_dir = os.path.isdir(directory)
    keys = {}
    for peer in peers:
        key, exists = _read(os.path.join(directory, psk.file_name(peer)))
        keys[peer] = key
        if exists and key is None:
            result["invalid"].append(peer)
    if have_dir:
        result["stale"] = sorted(peer for peer in map(psk.peer_of, os.listdir(directory))
                                 if peer is not None and peer not in peers)
        result["loose"] = _loose(directory, 0o700, owner, group) or any(
            _loose(os.path.join(directory, psk.file_name(peer)), 0o600, owner, group)
            for peer in peers if keys[peer] is not None)

    # ---- what changes
    new_keys = {}
    for peer in sorted(send):
        if keys[peer] is None or peer in regenerate:
            result["created"].append(peer)
            new_keys[peer] = None if check else psk.generate()
    if receive and not check:
        try:
            with open(key_path, "rb") as handle:
                private_key = handle.read(4096)
        except OSError as exc:
            module.fail_json(msg="cannot read the private key %s to open the received preshared keys: %s"
                                 % (key_path, exc.strerror or exc), **result)
        for peer in sorted(receive):
            try:
                opened = psk.unseal(receive[peer] or "", private_key, psk.seal_context(interface, peer, p["name"]))
            except ValueError as exc:
                module.fail_json(msg="preshared key received from %s: %s" % (peer, exc), **result)
            if opened != keys[peer]:
                result["stored"].append(peer)
                new_keys[peer] = opened
    elif receive:
        # check mode: nothing is opened; an empty value means "the sender has not sealed it in check mode"
        result["stored"] = sorted(peer for peer in receive if not receive[peer] or keys[peer] is None)
    if p["prune"]:
        result["removed"] = list(result["stale"])
    result["changed"] = bool(result["created"] or result["stored"] or result["removed"])

    # ---- apply
    if check:
        result["changed"] = result["changed"] or result["loose"]
    else:
        try:
            if new_keys or have_dir:
                if not have_dir:
                    os.makedirs(directory, mode=0o700)
                    result["changed"] = True
                result["changed"] = _tighten(module, directory, "0700", owner, group) or result["changed"]
            for peer, key in sorted(new_keys.items()):
                _write(module, directory, peer, key, owner, group)
                keys[peer] = key
            for peer in result["removed"]:
                os.unlink(os.path.join(directory, psk.file_name(peer)))
            for peer in peers:
                path = os.path.join(directory, psk.file_name(peer))
                if keys[peer] is not None and peer not in new_keys:
                    result["changed"] = _tighten(module, path, "0600", owner, group) or result["changed"]
        except OSError as exc:
            module.fail_json(msg="could not update %s: %s" % (directory, exc.strerror or exc), **result)

    result["fingerprints"] = {peer: psk.fingerprint(keys[peer]) if keys[peer] else None for peer in peers}
    if not check:
        for peer, public_key in sorted(send.items()):
            try:
                result["sealed"][peer] = psk.seal(keys[peer], public_key, psk.seal_context(interface, p["name"], peer))
            except ValueError as exc:
                module.fail_json(msg="cannot seal the preshared key for %s: %s" % (peer, exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
