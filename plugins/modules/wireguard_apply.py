#!/usr/bin/python
# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wireguard_apply
short_description: Write a wg-quick configuration and apply it live, by restart, or roll it back
version_added: 0.1.0
description:
  - Writes C(/etc/wireguard/<interface>.conf) atomically with mode C(0600). The configuration text
    comes without a C(PrivateKey) line; the module inserts the key from O(private_key_path) on the
    managed host, so the file on disk is a complete wg-quick file and the key never travels.
  - The same way, it inserts a C(PresharedKey) line into the C([Peer]) of every peer named in
    O(preshared_key_peers), read from the key file the host already holds (see
    M(netfleet.wireguard.wireguard_psk)).
  - Decides how to bring the running interface to the new state. An absent interface is started.
    When only peers change (keys, preshared keys, AllowedIPs without a default route, endpoints,
    keepalives) the
    change is applied live with C(wg syncconf) and the kernel routes wg-quick would have created
    for the changed AllowedIPs are added or removed; open connections through the tunnel keep
    flowing. Any interface-level change (Address, ListenPort, MTU, DNS, Table, FwMark, PreUp,
    PostUp, PreDown, PostDown hooks, the private key, or adding/removing a V(/0) default route)
    restarts the interface. The old configuration is stopped with its own PostDown hooks before the
    new file is started.
  - Verifies the result (interface up, running public key and peers as configured). On failure the
    previous file is restored and re-applied, so a tunnel that worked keeps working, and the task
    fails with the output of wg-quick.
  - Also repairs drift of the running interface (a peer removed by hand, a route deleted) live
    when the file is already up to date.
author:
  - netfleet engineers (@netfleet)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  interface:
    description: WireGuard interface name.
    type: str
    required: true
  content:
    description:
      - Full wg-quick configuration without C(PrivateKey) and without C(PresharedKey) lines (see
        O(private_key_path) and O(preshared_key_peers)).
      - Usually rendered from the C(netfleet.wireguard.wireguard_interface) role's template.
      - Not echoed back in the module invocation (use C(--diff) to see it, with secrets masked),
        so a key pasted here by mistake is not printed.
    type: str
    required: true
  private_key_path:
    description:
      - Private key file on the managed host (as written by M(netfleet.wireguard.wireguard_keypair)).
      - Defaults to C(/etc/wireguard/<interface>.key).
    type: path
  preshared_key_peers:
    description:
      - Peers that use a preshared key, as a mapping of the peer's public key to the peer's name.
      - The key is read on the managed host from C(<preshared_key_dir>/<peer name>.psk) and put into
        that peer's C([Peer]) section. A peer left out has no preshared key; one it had is removed
        from the running interface live.
      - In check mode a missing key file is reported as a warning and previewed with a placeholder
        (masked in the diff). Otherwise a missing or invalid file fails the task before anything
        changes.
    type: dict
    default: {}
  preshared_key_dir:
    description:
      - Directory of the preshared key files on the managed host. Defaults to
        C(/etc/wireguard/<interface>.psk.d).
    type: path
  path:
    description:
      - Configuration file to write. Defaults to C(/etc/wireguard/<interface>.conf).
      - wg-quick derives the interface name from the file name, so keep it C(<interface>.conf).
    type: path
  service_manager:
    description:
      - How the interface is started and stopped.
      - V(systemd) uses the C(wg-quick@<interface>) unit and enables it for boot.
      - V(wg-quick) calls C(wg-quick up/down) directly (no boot persistence).
      - V(auto) picks V(systemd) when systemd is running on the host.
    type: str
    choices: [auto, systemd, wg-quick]
    default: auto
attributes:
  check_mode:
    support: full
    details:
      - Reports the action that would be taken and the masked diff without touching anything.
      - Before the first real run, when the private key file does not exist yet, the diff is
        computed with a stand-in key (masked like any key) and RV(preview) says so.
  diff_mode:
    support: full
    details: Both sides of the diff have secrets replaced by V(<redacted>).
  platform:
    platforms: posix
requirements:
  - wireguard-tools (C(wg), C(wg-quick)) and iproute2 on the managed host.
notes:
  - The private and preshared keys are passed to C(wg syncconf) on standard input, never on a
    command line. C(wg syncconf) leaves a running preshared key alone when the text does not name
    one, so peers without one are given the all-zero key, which is WireGuard's "no preshared key".
seealso:
  - module: netfleet.wireguard.wireguard_keypair
  - module: netfleet.wireguard.wireguard_psk
"""

EXAMPLES = r"""
- name: Apply wg0
  netfleet.wireguard.wireguard_apply:
    interface: wg0
    content: "{{ lookup('ansible.builtin.template', 'wg.conf.j2') }}"
  register: wg_apply

- name: Apply wg0 with a preshared key for one peer (/etc/wireguard/wg0.psk.d/hub.psk on the host)
  netfleet.wireguard.wireguard_apply:
    interface: wg0
    content: "{{ lookup('ansible.builtin.template', 'wg.conf.j2') }}"
    preshared_key_peers:
      hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=: hub

- name: Report how it was applied
  ansible.builtin.debug:
    msg: "{{ wg_apply.action }}: +{{ wg_apply.peers.added | length }} -{{ wg_apply.peers.removed | length }} peers"
"""

RETURN = r"""
action:
  description:
    - V(none) nothing to do, V(started) the interface was down and was started, V(live) peers and
      routes changed without restart, V(restarted) the interface was restarted.
    - On failure V(rolled_back) (the previous configuration is running again) or V(failed) (it
      could not be restored either).
  returned: always
  type: str
  sample: live
reasons:
  description: Why a restart was needed.
  returned: always
  type: list
  elements: str
  sample: [MTU changed]
peers:
  description: Public keys of peers added, removed and updated (compared with the running interface).
  returned: always
  type: dict
  contains:
    added:
      description: Peers added.
      type: list
      elements: str
      returned: always
    removed:
      description: Peers removed.
      type: list
      elements: str
      returned: always
    updated:
      description: Peers whose settings changed.
      type: list
      elements: str
      returned: always
routes:
  description: Routes through the interface added and removed during a live change.
  returned: always
  type: dict
  contains:
    added:
      description: Prefixes routed into the interface.
      type: list
      elements: str
      returned: always
    removed:
      description: Prefixes no longer routed into the interface.
      type: list
      elements: str
      returned: always
path:
  description: The configuration file.
  returned: always
  type: str
  sample: /etc/wireguard/wg0.conf
public_key:
  description: Public key of the interface (null in a check-mode preview without a key file).
  returned: always
  type: str
preview:
  description: Why the check-mode result is a preview with a stand-in private key.
  returned: in check mode, when the private key file does not exist yet
  type: str
preshared_keys:
  description:
    - Names of the peers configured with a preshared key (never the keys).
  returned: always
  type: list
  elements: str
  sample: [hub]
"""

import ipaddress
import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.netfleet.wireguard.plugins.module_utils import _psk as psk
from ansible_collections.netfleet.wireguard.plugins.module_utils import _wgconf as wgconf
from ansible_collections.netfleet.wireguard.plugins.module_utils._secretfile import write_secret
from ansible_collections.netfleet.wireguard.plugins.module_utils._x25519 import encode_key, public_key_b64

# stands in for a preshared key that does not exist yet, in check mode only (masked in diffs)
_PENDING_PSK = encode_key(b"\x01" * 32)
# stands in for a private key that the keys role creates on the first real run (check mode only)
PREVIEW_PRIVATE_KEY = encode_key(b"\x02" * 32)


class ApplyError(Exception):
    pass


class Host:
    """Thin wrapper around the commands the module runs on the managed host."""

    def __init__(self, module, interface, path, manager):
        self.module = module
        self.interface = interface
        self.path = path
        self.manager = manager
        self.unit = "wg-quick@%s" % interface
        self.ip = module.get_bin_path("ip", required=True)
        self.wg = module.get_bin_path("wg", required=True)
        self.wg_quick = module.get_bin_path("wg-quick", required=True)
        self.systemctl = module.get_bin_path("systemctl") if manager == "systemd" else None
        self.journalctl = module.get_bin_path("journalctl") if manager == "systemd" else None

    def run(self, args, data=None, check=True, what=None):
        rc, out, err = self.module.run_command(args, data=data, binary_data=data is not None)
        if check and rc != 0:
            raise ApplyError("%s failed (rc=%d): %s" % (what or " ".join(args[:3]), rc, (err or out).strip()))
        return rc, out, err

    # ---- state
    def link_up(self):
        rc, out, dummy = self.run([self.ip, "-o", "link", "show", "dev", self.interface], check=False)
        if rc != 0:
            return None
        flags = out.split("<", 1)[1].split(">", 1)[0].split(",") if "<" in out else []
        return "UP" in flags

    def dump(self):
        """Running state without the private key (see _wgconf.parse_dump)."""
        rc, out, dummy = self.run([self.wg, "show", self.interface, "dump"], check=False)
        if rc != 0:
            return None
        return wgconf.parse_dump(out)

    def routes(self, table):
        found = set()
        for family, host_len in (("-4", 32), ("-6", 128)):
            rc, out, dummy = self.run(
                [self.ip, "-o", family, "route", "show", "dev", self.interface, "table", table], check=False)
            if rc != 0:
                continue
            for line in out.splitlines():
                words = line.split()
                if not words or "proto" in words and words[words.index("proto") + 1] == "kernel":
                    continue
                dest = words[0]
                if dest in ("unreachable", "blackhole", "prohibit", "throw", "local", "broadcast", "multicast"):
                    continue
                if dest == "default":
                    dest = "0.0.0.0/0" if family == "-4" else "::/0"
                elif "/" not in dest:
                    dest = "%s/%d" % (dest, host_len)
                try:
                    found.add(str(ipaddress.ip_network(dest, strict=False)))
                except ValueError:
                    continue
        return found

    def covered(self, prefix, table):
        family = "-6" if ":" in prefix else "-4"
        rc, out, dummy = self.run(
            [self.ip, family, "route", "show", "dev", self.interface, "table", table, "match", prefix], check=False)
        return rc == 0 and bool(out.strip())

    def route(self, op, prefix, table):
        family = "-6" if ":" in prefix else "-4"
        self.run([self.ip, family, "route", op, prefix, "dev", self.interface, "table", table],
                 what="ip route %s %s" % (op, prefix))

    def unit_enabled(self):
        dummy, out, dummy = self.run([self.systemctl, "is-enabled", self.unit], check=False)
        return out.strip() == "enabled"

    # ---- actions
    def journal_since(self, since):
        if not self.journalctl:
            return ""
        dummy, out, dummy = self.run(
            [self.journalctl, "-u", self.unit, "--since", "@%d" % int(since), "-o", "cat", "--no-pager"], check=False)
        # drop wireguard-go's boxed banner, keep what wg-quick said
        lines = [line for line in out.splitlines() if line.strip() and line.strip()[0] not in "\u2502\u250c\u2514"]
        return "\n".join(lines[-25:])

    def up(self):
        since = time.time() - 1
        if self.manager == "systemd":
            rc, out, err = self.run([self.systemctl, "restart", self.unit], check=False)
            if rc != 0:
                raise ApplyError("systemctl restart %s failed: %s" % (
                    self.unit, self.journal_since(since) or (err or out).strip()))
        else:
            self.run([self.wg_quick, "up", self.path], what="wg-quick up")

    def down(self, have_file):
        if self.manager == "systemd":
            self.run([self.systemctl, "stop", self.unit], check=False)
        if self.link_up() is not None:
            if have_file:
                self.run([self.wg_quick, "down", self.path], check=False)
            if self.link_up() is not None:
                self.run([self.ip, "link", "delete", "dev", self.interface], check=False)

    def enable(self):
        self.run([self.systemctl, "enable", self.unit], what="systemctl enable")

    def syncconf(self, cfg):
        self.run([self.wg, "syncconf", self.interface, "/dev/stdin"], data=wgconf.strip(cfg),
                 what="wg syncconf")


def verify(host, cfg, public_key):
    problems = []
    if not host.link_up():
        problems.append("interface %s is not up" % host.interface)
        return problems
    state = host.dump()
    if state is None:
        return ["wg show %s failed" % host.interface]
    problems.extend(wgconf.interface_drift(cfg, state, public_key))
    drift = wgconf.running_drift(cfg, state)
    for kind in ("added", "removed", "updated"):
        if drift[kind]:
            problems.append("peers %s not as configured: %s" % (
                {"added": "missing", "removed": "unexpected", "updated": "differing"}[kind], ", ".join(drift[kind])))
    return problems


def plan_routes(host, old_cfg, state, new_cfg):
    """Routes to add/remove so the kernel matches what wg-quick would have set for new_cfg."""
    table = wgconf.route_table(new_cfg)
    if table is None:
        return table, [], []
    wanted = wgconf.route_prefixes(new_cfg)
    current = host.routes(table)
    before = set(wgconf.route_prefixes(old_cfg)) if old_cfg is not None and wgconf.route_table(old_cfg) == table else set()
    if state:
        before |= {p for peer in state["peers"].values() for p in peer["allowed_ips"]}
    add = sorted(p for p in wanted if p not in current and not host.covered(p, table))
    remove = sorted(p for p in current if p in before and p not in wanted)
    return table, add, remove


def read_preshared_keys(module, desired, peers, directory, result):
    """Public key -> preshared key, read from ``<directory>/<name>.psk`` on this host."""
    known = desired.peer_map()
    unknown = sorted(str(key) for key in peers if key not in known)
    if unknown:
        module.fail_json(msg="preshared_key_peers names public key(s) %s that are not a [Peer] of content"
                             % ", ".join(unknown), **result)
    keys, pending = {}, []
    for public_key, name in sorted(peers.items(), key=lambda item: str(item[1])):
        try:
            path = os.path.join(directory, psk.file_name(name))
        except ValueError as exc:
            module.fail_json(msg="preshared_key_peers: %s" % exc, **result)
        result["preshared_keys"].append(name)
        try:
            with open(path, "rb") as handle:
                keys[public_key] = psk.normalise(handle.read(4096))
        except (OSError, ValueError) as exc:
            if module.check_mode and isinstance(exc, OSError):
                pending.append(name)
                keys[public_key] = _PENDING_PSK
                continue
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            module.fail_json(msg="cannot use the preshared key for peer %s from %s (%s); the "
                                 "netfleet.wireguard.wireguard_keys role creates it (wireguard_preshared_keys)"
                                 % (name, path, why), **result)
    if pending:
        module.warn("preshared key(s) for %s do not exist yet; they are created when the play runs for real "
                    "(previewed with a placeholder)" % ", ".join(pending))
    return keys


def main():
    module = AnsibleModule(
        argument_spec=dict(
            interface=dict(type="str", required=True),
            content=dict(type="str", required=True, no_log=True),
            private_key_path=dict(type="path", no_log=False),
            preshared_key_peers=dict(type="dict", default={}, no_log=False),
            preshared_key_dir=dict(type="path", no_log=False),
            path=dict(type="path"),
            service_manager=dict(type="str", default="auto", choices=["auto", "systemd", "wg-quick"]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    interface = p["interface"]
    path = p["path"] or "/etc/wireguard/%s.conf" % interface
    key_path = p["private_key_path"] or "/etc/wireguard/%s.key" % interface
    psk_dir = p["preshared_key_dir"] or "/etc/wireguard/%s.psk.d" % interface
    result = dict(changed=False, action="none", reasons=[], path=path, public_key=None, preshared_keys=[],
                  peers=dict(added=[], removed=[], updated=[]), routes=dict(added=[], removed=[]))

    try:
        desired = wgconf.parse(p["content"])
    except ValueError as exc:
        module.fail_json(msg="content for %s is not a valid wg-quick configuration: %s" % (interface, exc), **result)
    if desired.private_key is not None or any(peer.preshared_key for peer in desired.peers):
        module.fail_json(msg="content must not contain PrivateKey or PresharedKey lines; the module reads "
                             "the private key from private_key_path on the host", **result)
    if "SaveConfig" in desired.interface:
        module.fail_json(msg="SaveConfig would let wg-quick overwrite the managed file; remove it", **result)

    try:
        with open(key_path, "rb") as handle:
            private_key = handle.read(4096).decode("ascii", "replace").strip()
        public_key = public_key_b64(private_key)
    except OSError as exc:
        if not (module.check_mode and not os.path.lexists(key_path)):
            module.fail_json(msg="cannot read the private key %s (%s); run netfleet.wireguard.wireguard_keypair "
                                 "first" % (key_path, exc.strerror or exc), **result)
        # check mode before the first real run: the keys role creates the key then. Preview with a
        # stand-in (the diff masks PrivateKey anyway) and say so.
        private_key, public_key = PREVIEW_PRIVATE_KEY, None
        result["preview"] = "%s does not exist yet; the preview uses a stand-in private key" % key_path
    except ValueError as exc:
        module.fail_json(msg="%s does not hold a valid private key: %s" % (key_path, exc), **result)
    result["public_key"] = public_key

    preshared = read_preshared_keys(module, desired, p["preshared_key_peers"], psk_dir, result)
    new_text = wgconf.insert_private_key(p["content"], private_key)
    try:
        new_text = wgconf.insert_preshared_keys(new_text, preshared)
    except ValueError as exc:
        module.fail_json(msg="%s: %s" % (interface, exc), **result)
    new_cfg = wgconf.parse(new_text)

    old_text = None
    if os.path.exists(path):
        with open(path) as handle:
            old_text = handle.read()
    old_cfg = None
    if old_text is not None:
        try:
            old_cfg = wgconf.parse(old_text)
        except ValueError:
            old_cfg = None
    file_changed = old_text != new_text

    manager = p["service_manager"]
    if manager == "auto":
        manager = "systemd" if os.path.isdir("/run/systemd/system") and module.get_bin_path("systemctl") else "wg-quick"
    host = Host(module, interface, path, manager)

    link = host.link_up()
    state = host.dump() if link is not None else None
    reasons = []
    route_table, routes_add, routes_remove = None, [], []
    if link is None or state is None:
        action = "started"
        reasons = ["interface %s is not running" % interface]
        result["peers"] = wgconf.diff_peers(None, new_cfg)
    else:
        if not link:
            reasons.append("interface is down")
        reasons.extend(wgconf.interface_drift(new_cfg, state, public_key))
        if file_changed:
            reasons.extend(wgconf.restart_reasons(old_cfg, new_cfg))
        drift = wgconf.running_drift(new_cfg, state)
        result["peers"] = drift
        if reasons:
            action = "restarted"
        else:
            route_table, routes_add, routes_remove = plan_routes(host, old_cfg, state, new_cfg)
            peers_differ = any(drift[k] for k in drift)
            action = "live" if peers_differ or routes_add or routes_remove else "none"
            result["routes"] = dict(added=routes_add, removed=routes_remove)
    result["reasons"] = reasons
    result["action"] = action

    need_enable = manager == "systemd" and not host.unit_enabled()
    result["changed"] = file_changed or action != "none" or need_enable
    if file_changed:
        result["diff"] = dict(before=wgconf.mask_secrets(old_text or ""), after=wgconf.mask_secrets(new_text),
                              before_header=path, after_header=path)
    if module.check_mode or not result["changed"]:
        module.exit_json(**result)

    # ------------------------------------------------------------------ apply
    try:
        if action == "restarted" or (action == "started" and link is not None):
            host.down(have_file=old_text is not None)
        if file_changed:
            write_secret(path, new_text)
        if action in ("started", "restarted"):
            host.up()
        elif action == "live":
            host.syncconf(new_cfg)
            for prefix in routes_remove:
                host.route("del", prefix, route_table)
            for prefix in routes_add:
                host.route("add", prefix, route_table)
        problems = verify(host, new_cfg, public_key)
        if problems:
            raise ApplyError("the new configuration did not come up as expected: %s" % "; ".join(problems))
        if need_enable:
            host.enable()
    except ApplyError as exc:
        error = str(exc)
        result["action"] = "rolled_back"
        restored = rollback(host, action, old_text, old_cfg, new_cfg, public_key, route_table, routes_add,
                            routes_remove, link is not None and state is not None)
        if restored is not None:
            result["action"] = "failed"
            error += " -- ROLLBACK ALSO FAILED: %s" % restored
        else:
            error += " -- the previous configuration was restored"
        module.fail_json(msg="%s: %s" % (interface, error), **result)
    module.exit_json(**result)


def rollback(host, action, old_text, old_cfg, new_cfg, public_key, table, routes_add, routes_remove, was_running):
    """Put the previous file and running state back. Returns None on success, else a description."""
    try:
        if action != "live":
            # stop what the new file started (its own PostDown hooks) before the old file returns
            host.down(have_file=True)
        if old_text is not None:
            write_secret(host.path, old_text)
        elif os.path.exists(host.path):
            os.unlink(host.path)
        if action == "live":
            if old_cfg is None:
                raise ApplyError("previous file unreadable, cannot sync it back")
            host.syncconf(old_cfg)
            for prefix in routes_add:
                host.route("del", prefix, table)
            for prefix in routes_remove:
                host.route("add", prefix, table)
        else:
            if was_running and old_text is not None:
                host.up()
        if was_running and old_cfg is not None:
            problems = verify(host, old_cfg, public_key_b64(old_cfg.private_key)) if old_cfg.private_key else []
            if problems:
                return "; ".join(problems)
        return None
    except (ApplyError, OSError, ValueError) as exc:
        return str(exc)


if __name__ == "__main__":
    main()
