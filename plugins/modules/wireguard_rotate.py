#!/usr/bin/python
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wireguard_rotate
short_description: One step of a staged WireGuard private-key rotation, applied live on a host
version_added: 0.2.0
description:
  - Runs one step of the order C(playbooks/rotate.yml) follows (see the collection's
    C(_rotate) module_utils) on the host it runs on. No step restarts the interface.
  - On a peer of the rotating host, O(step=stage) adds the new public key as a peer without
    AllowedIPs; O(step=watch) waits for a handshake on it, then moves the AllowedIPs, endpoint,
    keepalive and preshared key of the old key to it in one C(wg set), removes the old key and
    rewrites the C(PublicKey) line of the wg-quick file; O(step=restore) puts the old key back.
  - On the rotating host, O(step=switch) sets the staged private key (C(<key>.next)) with
    C(wg set private-key) and sends one UDP datagram into the tunnel toward each peer so that each
    handshake happens at once, then waits for a handshake with every peer. Without one within
    O(timeout) it sets the old key again and fails. O(step=commit) renames the staged key over the
    key file and rewrites the C(PrivateKey) line of the wg-quick file; O(step=revert) sets the old
    key again and removes the staged key.
  - Private and preshared keys are only read on the host and given to C(wg) through files or standard
    input; the module returns public keys only.
author:
  - netfleet engineers (@netfleet)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  step:
    description: The step to run.
    type: str
    required: true
    choices: [stage, watch, restore, switch, commit, revert]
  interface:
    description: WireGuard interface name.
    type: str
    required: true
  path:
    description: The wg-quick file of the interface (default C(/etc/wireguard/<interface>.conf)).
    type: path
  old_public_key:
    description: Public key the rotating host has now (peer steps).
    type: str
  new_public_key:
    description: Public key of the staged private key (every step but O(step=revert)).
    type: str
  private_key_path:
    description: The key file of the rotating host (default C(/etc/wireguard/<interface>.key)); the staged key is C(<path>.next).
    type: path
  triggers:
    description: Peer public key to one tunnel address of that peer (O(step=switch), O(step=revert)).
    type: dict
    default: {}
  timeout:
    description:
      - Seconds to wait for the handshakes (O(step=switch)), or for the handshake on the staged key counted
        from the start of O(step=watch), which runs before the switch (a watcher also stops when the staged
        peer is removed).
    type: int
    default: 30
attributes:
  check_mode:
    support: full
    details: Reports what the step would change and changes nothing; O(step=watch) and O(step=switch) do not wait.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Takes the lock C(wireguard_apply) takes (C(/run/netfleet-wireguard-<interface>.lock)) while it changes the interface.
seealso:
  - module: netfleet.wireguard.wireguard_apply
  - module: netfleet.wireguard.wireguard_keypair
"""

EXAMPLES = r"""
- name: Add the hub's new key next to the old one on a client
  netfleet.wireguard.wireguard_rotate:
    step: stage
    interface: wg0
    old_public_key: "{{ old_key }}"
    new_public_key: "{{ new_key }}"

- name: Switch the hub to its staged key and wait for every peer's handshake
  netfleet.wireguard.wireguard_rotate:
    step: switch
    interface: wg0
    new_public_key: "{{ new_key }}"
    triggers: {"{{ client_key }}": 10.0.0.2}
"""

RETURN = r"""
action:
  description: What the step did (C(add), C(move), C(remove-new), C(move-back), C(switched), C(committed), C(reverted), C(none)).
  returned: always
  type: str
  sample: move
waited:
  description: Seconds the step waited for handshakes.
  returned: when the step waits
  type: float
  sample: 0.4
"""

import os
import socket
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.netfleet.wireguard.plugins.module_utils import _paths as paths
from ansible_collections.netfleet.wireguard.plugins.module_utils import _rotate as rotate
from ansible_collections.netfleet.wireguard.plugins.module_utils import _wgconf as wgconf
from ansible_collections.netfleet.wireguard.plugins.module_utils import _wgtool as wgtool
from ansible_collections.netfleet.wireguard.plugins.module_utils._secretfile import lock_file, write_secret

POLL = 0.05
TRIGGER_PORT = 9   # discard: the datagram only has to enter the tunnel


class Wg:
    """The `wg` commands of the steps (keys only in files or on standard input)."""

    def __init__(self, module, interface):
        self.module, self.interface = module, interface
        self.wg = module.get_bin_path("wg", required=True)

    def peers(self):
        rc, out, err = self.module.run_command([self.wg, "show", self.interface, "dump"])
        if rc != 0:
            raise ValueError("wg show %s dump failed: %s" % (self.interface, err.strip()))
        return wgconf.parse_dump(out)["peers"]

    def set(self, args, data=None):
        rc, dummy, err = self.module.run_command([self.wg, "set", self.interface] + args, data=data,
                                                 binary_data=data is not None)
        if rc != 0:
            raise ValueError("wg set %s failed: %s" % (self.interface, err.strip()))

    def peer_args(self, key, entry, allowed=True):
        """``peer KEY ...`` arguments carrying ``entry``'s settings; the preshared key goes on stdin."""
        args = ["peer", key]
        if entry.get("preshared_key"):
            args += ["preshared-key", "/dev/stdin"]
        if entry.get("endpoint"):
            args += ["endpoint", entry["endpoint"]]
        if allowed:
            args += ["persistent-keepalive", str(entry.get("persistent_keepalive") or 0),
                     "allowed-ips", ",".join(entry["allowed_ips"])]
        return args, entry.get("preshared_key")


def rewrite(path, change):
    """Write ``change(text)`` of the wg-quick file back atomically (0600) when it differs."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    new = change(text)
    if new != text:
        write_secret(path, new)


def peer_step(module, wg, step, p):
    old, new = p["old_public_key"], p["new_public_key"]
    action = rotate.peer_action(wg.peers(), old, new, "move" if step == "watch" else step)
    if step == "watch" and action == "move" and not module.check_mode:
        action = watch(wg, old, new, p["timeout"])
    if action == "none" or module.check_mode:
        return action
    running = wg.peers()
    if action == "add":
        args, psk = wg.peer_args(new, running[old], allowed=False)
        wg.set(args, psk)
    elif action == "remove-new":
        wg.set(["peer", new, "remove"])
    else:
        src, dst = (old, new) if action == "move" else (new, old)
        args, psk = wg.peer_args(dst, running[src])
        wg.set(args + ["peer", src, "remove"], psk)
        if os.path.exists(p["path"]):
            rewrite(p["path"], lambda text: text if src not in text else rotate.replace_peer_key(text, src, dst))
    return action


def watch(wg, old, new, timeout):
    """``move`` once the new key has a handshake; on timeout the staged peer is removed (ValueError)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        peers = wg.peers()
        if new not in peers:
            raise ValueError("the staged peer %s was removed (the rotation was undone)" % new)
        if rotate.handshake_after(peers, new, None):
            return "move"
        time.sleep(POLL)
    wg.set(["peer", new, "remove"])
    raise ValueError("no handshake with the new key %s within %d s; the staged peer was removed, the old key "
                     "still carries the tunnel" % (new, timeout))


def send_triggers(addresses):
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.sendto(b"netfleet-rotate", (address, TRIGGER_PORT))
        except OSError:
            pass   # no route yet: the handshake wait reports the peer


def handshakes(wg, triggers, before, timeout):
    """Seconds until every peer of ``triggers`` shook hands after ``before``; ValueError naming the others."""
    start = time.monotonic()
    last_trigger = 0.0
    while True:
        missing = rotate.waiting_for(wg.peers(), triggers, before)
        if not missing:
            return round(time.monotonic() - start, 3)
        if time.monotonic() - start > timeout:
            raise ValueError("no handshake within %d s with %s" % (timeout, ", ".join(missing)))
        if time.monotonic() - last_trigger >= 1:
            send_triggers([triggers[key] for key in missing])
            last_trigger = time.monotonic()
        time.sleep(POLL)


def set_key(wg, key_path, triggers, timeout):
    """Make ``key_path`` the interface's private key now and wait for a handshake with every peer."""
    running = wg.peers()
    before = {key: (running.get(key) or {}).get("latest_handshake") for key in triggers}
    # handshake times are whole seconds: switch in a second no earlier handshake used
    if any(seen and seen >= int(time.time()) for seen in before.values()):
        time.sleep(1.05 - time.time() % 1)
    wg.set(["private-key", key_path])
    return handshakes(wg, triggers, before, timeout)


def host_step(module, wg, step, p):
    key_path = paths.private_key(p["interface"], p["private_key_path"])
    staged = key_path + ".next"
    result = {}
    if step == "revert":
        result["action"] = "reverted" if os.path.exists(staged) else "none"
        if not module.check_mode:
            wg.set(["private-key", key_path])
            send_triggers(p["triggers"].values())
            if os.path.exists(staged):
                os.unlink(staged)
        return result
    with open(staged, "rb") as handle:
        private = handle.read(4096).decode("ascii").strip()
    if wgtool.pubkey(module, wg.wg, private) != p["new_public_key"]:
        raise ValueError("%s does not hold the staged key" % staged)
    if module.check_mode:
        result["action"] = "switched" if step == "switch" else "committed"
    elif step == "switch":
        try:
            result["waited"] = set_key(wg, staged, p["triggers"], p["timeout"])
        except ValueError as exc:
            wg.set(["private-key", key_path])
            send_triggers(p["triggers"].values())
            raise ValueError("%s; the old key was set again" % exc) from None
        result["action"] = "switched"
    else:
        # the file first: should the rename fail, revert puts the running key back to the key file's
        rewrite(p["path"], lambda text: rotate.replace_private_key(text, private))
        os.chmod(staged, 0o600)
        os.rename(staged, key_path)
        result["action"] = "committed"
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            step=dict(type="str", required=True, choices=["stage", "watch", "restore", "switch", "commit", "revert"]),
            interface=dict(type="str", required=True),
            path=dict(type="path"),
            old_public_key=dict(type="str", no_log=False),
            new_public_key=dict(type="str", no_log=False),
            private_key_path=dict(type="path", no_log=False),
            triggers=dict(type="dict", default={}),
            timeout=dict(type="int", default=30),
        ),
        required_if=[("step", "stage", ["old_public_key", "new_public_key"]),
                     ("step", "watch", ["old_public_key", "new_public_key"]),
                     ("step", "restore", ["old_public_key", "new_public_key"]),
                     ("step", "switch", ["new_public_key"]),
                     ("step", "commit", ["new_public_key"])],
        supports_check_mode=True,
    )
    p = dict(module.params)
    if not paths.valid_interface(p["interface"]):
        module.fail_json(msg="interface %r is not a valid interface name" % p["interface"])
    p["path"] = p["path"] or paths.conf(p["interface"])
    step = p["step"]
    try:
        wg = Wg(module, p["interface"])
        fd = lock_file(paths.apply_lock(p["interface"]), 60) if step != "watch" and not module.check_mode else None
        try:
            if step in ("stage", "watch", "restore"):
                result = {"action": peer_step(module, wg, step, p)}
            else:
                result = host_step(module, wg, step, p)
        finally:
            if fd is not None:
                os.close(fd)
    except (ValueError, OSError, TimeoutError) as exc:
        module.fail_json(msg="%s: %s" % (step, exc))
    module.exit_json(changed=result["action"] != "none", **result)


if __name__ == "__main__":
    main()
