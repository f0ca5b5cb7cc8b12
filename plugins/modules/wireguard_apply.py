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
    keepalives) the change is applied live. C(wg addconf) sets only the peers added or changed,
    C(wg set ... peer ... remove) drops the peers no longer configured, and the kernel routes
    wg-quick would have created for the changed AllowedIPs are added or removed; the other peers are
    not touched and open connections through the tunnel keep flowing. The interface's listen port
    is never re-set live (C(wg syncconf) always sets it, and wireguard-go re-opens its UDP socket
    then, which drops packets of every peer). Any interface-level change (Address, ListenPort, MTU, DNS, Table, FwMark, PreUp,
    PostUp, PreDown, PostDown hooks, the private key, or adding/removing a V(/0) default route)
    restarts the interface. The old configuration is stopped with its own PostDown hooks before the
    new file is started.
  - "Refuses, before anything changes, a O(content) that is not what the plan produced: hook lines
    (C(PreUp), C(PreDown), C(PostUp), C(PostDown)) other than exactly O(expect.pre_up), O(expect.post_up),
    O(expect.pre_down) and O(expect.post_down) (order included), a C(Table) other than O(expect.table), C(SaveConfig) or
    C(FwMark), a C([Peer]) set other than O(expect.peers), or a control character other than tab.
    wg-quick runs hook lines as root in a shell, so this is the last check between an inventory
    value and a shell on the host."
  - The new file is written next to the target (0600, fsynced) before the interface is touched, so a
    full disk or a permission problem fails the task with nothing changed. A restart then stops the
    interface with the old file (its own PostDown hooks run), renames the new file into place and
    starts it.
  - Verifies the result (interface up, running public key and peers as configured). On any failure
    after the interface or the file was touched (a command failing, an I/O error, an interrupt) the
    previous file is restored byte for byte and re-applied, so a tunnel that worked keeps working,
    and the task fails saying what happened and whether the rollback succeeded.
  - Runs hold an exclusive lock per interface on the host (O(lock_path)), so two runs cannot
    interleave their steps.
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
      - Usually rendered by the filter C(netfleet.wireguard.wireguard_conf), as the C(netfleet.wireguard.wireguard_interface) role does.
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
  expect:
    description:
      - What O(content) is allowed to contain beyond addresses, port, MTU and DNS. Whatever is not
        listed here is refused before anything changes.
      - The role C(netfleet.wireguard.wireguard_interface) passes the hook lines and peer keys of the plan.
    type: dict
    default: {}
    suboptions:
      pre_up:
        description: The exact C(PreUp) lines, in order (compared after trimming surrounding whitespace, as wg-quick does).
        type: list
        elements: str
        default: []
      post_up:
        description: The exact C(PostUp) lines, in order.
        type: list
        elements: str
        default: []
      pre_down:
        description: The exact C(PreDown) lines, in order.
        type: list
        elements: str
        default: []
      post_down:
        description: The exact C(PostDown) lines, in order.
        type: list
        elements: str
        default: []
      peers:
        description: Public keys of the C([Peer]) sections (as a set; order does not matter).
        type: list
        elements: str
        default: []
      table:
        description:
          - The one C(Table) value O(content) must have (the plan's C(wireguard_table)); unset, any C(Table)
            line is refused. Peer routes are then reconciled in that table (none with V(off)).
        type: str
  lock_path:
    description:
      - Lock file held while the module reads and changes the interface, so two runs on the same host
        cannot interleave.
      - Defaults to C(/run/netfleet-wireguard-<interface>.lock). Not under the world-writable
        C(/run/lock), where another local user could take the lock first.
      - Not used in check mode.
    type: path
  lock_timeout:
    description: Seconds to wait for another run holding the lock before failing.
    type: int
    default: 60
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
  - The private and preshared keys are passed to C(wg addconf), C(wg syncconf) (rollback) and C(wg pubkey) on
    standard input, never on a command line. C(wg) leaves a running preshared key alone when the
    text does not name one, so peers without one are given the all-zero key, which is WireGuard's
    "no preshared key".
seealso:
  - module: netfleet.wireguard.wireguard_keypair
  - module: netfleet.wireguard.wireguard_psk
"""

EXAMPLES = r"""
- name: Apply wg0, allowing exactly the hooks and peers the plan produced
  netfleet.wireguard.wireguard_apply:
    interface: wg0
    content: >-
      {{ __wireguard_network.plan[inventory_hostname] | netfleet.wireguard.wireguard_conf(host=inventory_hostname,
         public_keys=__wireguard_registry.public_keys, decisions=__wireguard_host, strict=true) }}
    expect:
      post_up: "{{ (__wireguard_network.plan[inventory_hostname] | netfleet.wireguard.wireguard_conf_hooks(
                   decisions=__wireguard_host)).post_up }}"
      post_down: "{{ (__wireguard_network.plan[inventory_hostname] | netfleet.wireguard.wireguard_conf_hooks(
                     decisions=__wireguard_host)).post_down }}"
      peers: "{{ peers | map(attribute='public_key') | list }}"
  register: wg_apply

- name: Apply wg0 with a preshared key for one peer (/etc/wireguard/wg0.psk.d/hub.psk on the host)
  netfleet.wireguard.wireguard_apply:
    interface: wg0
    content: "{{ rendered_text }}"
    expect:
      peers: [hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=]
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
    - On failure V(none) when nothing was touched (content not as expected, the new file could not
      be written, the lock is held by another run), V(rolled_back) (the previous configuration is
      running again) or V(failed) (it could not be restored either).
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

import os
import unicodedata

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.netfleet.wireguard.plugins.module_utils import _paths as paths
from ansible_collections.netfleet.wireguard.plugins.module_utils import _psk as psk
from ansible_collections.netfleet.wireguard.plugins.module_utils import _wgconf as wgconf
from ansible_collections.netfleet.wireguard.plugins.module_utils._wghost import ApplyError, Host, decide, resolve_manager, verify
from ansible_collections.netfleet.wireguard.plugins.module_utils._secretfile import (
    discard, install, lock_file, stage, write_secret)
from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import decode_key, encode_key, is_valid_key

# stands in for a preshared key that does not exist yet, in check mode only (masked in diffs)
_PENDING_PSK = encode_key(b"\x01" * 32)
# stands in for a private key that the keys role creates on the first real run (check mode only)
PREVIEW_PRIVATE_KEY = encode_key(b"\x02" * 32)
# wg-quick runs these as root through bash: only the lines the plan produced may be there
_HOOKS = (("PreUp", "pre_up"), ("PostUp", "post_up"), ("PreDown", "pre_down"), ("PostDown", "post_down"))
# settings the plan never writes; each changes routing or persistence behind the module's back
_FORBIDDEN = {
    "Table": "Table would move the routes out of the tables the module reconciles",
    "SaveConfig": "SaveConfig would let wg-quick overwrite the managed file; remove it",
    "FwMark": "FwMark would change which packets bypass the tunnel",
}


# ---------------------------------------------------------------- what content may contain

def refuse_control_characters(text):
    """ValueError for a control or line-separator character other than tab and the newline.

    Python's splitlines() and wg-quick's ``read`` disagree about \\r, \\v, \\f, \\x1c-\\x1e, NEL
    and U+2028/2029: a line could look harmless to the parser and be a hook to wg-quick.
    """
    for number, line in enumerate(text.split("\n"), start=1):
        for char in line:
            if char != "\t" and unicodedata.category(char) in ("Cc", "Zl", "Zp"):
                raise ValueError("line %d contains the control character U+%04X" % (number, ord(char)))


def unexpected_content(cfg, expect):
    """Why ``cfg`` is not what the caller expects (see the ``expect`` option); [] when it is."""
    problems = []
    for key, option in _HOOKS:
        have = cfg.interface.get(key, [])
        want = [line.strip() for line in expect.get(option) or []]
        if have != want:
            at = next((i for i, (a, b) in enumerate(zip(have, want)) if a != b), min(len(have), len(want)))
            problems.append("%s: %d line(s) where %d are expected, first difference at %s #%d"
                            % (key, len(have), len(want), key, at + 1))
    for key in sorted(_FORBIDDEN):
        if key == "Table" and expect.get("table"):
            have = [value.strip() for value in cfg.interface.get(key, [])]
            if have != [expect["table"]]:
                problems.append("Table: %s where %s is expected" % (', '.join(have) or 'none', expect["table"]))
        elif key in cfg.interface:
            problems.append(_FORBIDDEN[key])
    have = set(cfg.peer_map())
    want = set(expect.get("peers") or [])
    if have - want:
        problems.append("unexpected [Peer] PublicKey %s" % ", ".join(sorted(have - want)))
    if want - have:
        problems.append("expected [Peer] PublicKey %s missing" % ", ".join(sorted(want - have)))
    return problems


def check_content(module, content, expect, interface, result):
    """The parsed content, or fail before anything changes."""
    bad_keys = [i + 1 for i, key in enumerate(expect.get("peers") or []) if not is_valid_key(key)]
    if bad_keys:
        module.fail_json(msg="expect.peers: entry #%s is not a valid public key" % bad_keys[0], **result)
    try:
        refuse_control_characters(content)
        desired = wgconf.parse(content)
    except ValueError as exc:
        module.fail_json(msg="content for %s is not a valid wg-quick configuration: %s" % (interface, exc), **result)
    if desired.private_key is not None or any(peer.preshared_key for peer in desired.peers):
        module.fail_json(msg="content must not contain PrivateKey or PresharedKey lines; the module reads "
                             "the private key from private_key_path on the host", **result)
    problems = unexpected_content(desired, expect)
    if problems:
        module.fail_json(msg="content for %s is not what was expected, nothing was changed: %s"
                             % (interface, "; ".join(problems)), **result)
    return desired


# ---------------------------------------------------------------- reading what is there

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
                                 "netfleet.wireguard.wireguard_keys role creates it (wireguard_preshared_keys); a device's "
                                 "comes from playbooks/clients.yml -e client=%s"
                                 % (name, path, why, name), **result)
    if pending:
        module.warn("preshared key(s) for %s do not exist yet; they are created when the play runs for real "
                    "(previewed with a placeholder)" % ", ".join(pending))
    return keys


def read_private_key(module, key_path, result):
    """The canonical private key text, or the stand-in in a check-mode preview before the first run."""
    try:
        with open(key_path, "rb") as handle:
            return encode_key(decode_key(handle.read(4096), what="the key file", strip=True))
    except OSError as exc:
        if not (module.check_mode and not os.path.lexists(key_path)):
            module.fail_json(msg="cannot read the private key %s (%s); run netfleet.wireguard.wireguard_keypair "
                                 "first" % (key_path, exc.strerror or exc), **result)
    except ValueError as exc:
        module.fail_json(msg="%s does not hold a valid private key: %s" % (key_path, exc), **result)
    # check mode before the first real run: the keys role creates the key then. Preview with a
    # stand-in (the diff masks PrivateKey anyway) and say so.
    result["preview"] = "%s does not exist yet; the preview uses a stand-in private key" % key_path
    return PREVIEW_PRIVATE_KEY


def read_old(path):
    """(bytes, parsed config or None) of the current file; (None, None) when there is none."""
    try:
        with open(path, "rb") as handle:
            old_bytes = handle.read()
    except FileNotFoundError:
        return None, None
    try:
        return old_bytes, wgconf.parse(old_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return old_bytes, None


def take_lock(module, path, timeout, interface, result):
    """Hold the per-interface lock until the module exits (the fd closes with the process)."""
    directory = os.path.dirname(path)
    try:
        if directory and not os.path.isdir(directory):
            os.makedirs(directory, mode=0o755)
        return lock_file(path, timeout)
    except TimeoutError:
        module.fail_json(msg="%s: another run is changing this interface (lock %s held for more than %d s); "
                             "nothing was changed" % (interface, path, timeout), **result)
    except OSError as exc:
        module.fail_json(msg="%s: cannot take the lock %s (%s); nothing was changed"
                             % (interface, path, exc.strerror or exc), **result)


# ---------------------------------------------------------------- changing the host

class Change:
    """What this run changes, and how far it got (what a rollback has to undo)."""

    def __init__(self, action, new_text, new_cfg, old_bytes, old_cfg, public_key, routes, live, link, state):
        self.action = action
        self.new_text, self.new_cfg = new_text, new_cfg
        self.old_bytes, self.old_cfg = old_bytes, old_cfg
        self.public_key = public_key
        self.table, self.routes_add, self.routes_remove = routes
        self.live = live
        self.link = link
        self.was_running = link is not None and state is not None
        self.staged = None        # the new file, written next to the target, not yet renamed
        self.touched = False      # the interface or the file was changed: a failure needs a rollback
        self.installed = False    # the new file replaced the old one


def stage_new(host, change):
    """Write the new file next to the target before anything is touched (full disk fails here)."""
    directory = os.path.dirname(host.path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)
    change.staged = stage(host.path, change.new_text, mode=0o600, prefix=".%s.new." % os.path.basename(host.path))


def apply_change(host, change, file_changed, need_enable):
    if change.action == "restarted" or (change.action == "started" and change.link is not None):
        change.touched = True
        # stop with the old file still in place, so its own PostDown hooks undo its PostUp
        host.down(have_file=change.old_bytes is not None)
    if file_changed:
        change.touched = True
        install(change.staged, host.path)
        change.staged, change.installed = None, True
    if change.action in ("started", "restarted"):
        change.touched = True
        host.up()
    elif change.action == "live":
        change.touched = True
        host.set_peers(change.live)
        for prefix in change.routes_remove:
            host.route("del", prefix, change.table)
        for prefix in change.routes_add:
            host.route("add", prefix, change.table)
    problems = verify(host, change.new_cfg, change.public_key)
    if problems:
        raise ApplyError("the new configuration did not come up as expected: %s" % "; ".join(problems))
    if need_enable:
        host.enable()


def restore_file(path, old_bytes):
    if old_bytes is not None:
        write_secret(path, old_bytes)
    elif os.path.lexists(path):
        os.unlink(path)


def rollback(host, change):
    """Put the previous file and running state back. Returns None on success, else a description."""
    try:
        restarting = change.action in ("started", "restarted")
        if restarting:
            # stop what the new file started (its own PostDown hooks) before the old file returns
            host.down(have_file=os.path.exists(host.path))
        if change.installed:
            restore_file(host.path, change.old_bytes)
        if change.action == "live":
            if change.old_cfg is None:
                raise ApplyError("previous file unreadable, cannot sync it back")
            host.syncconf(change.old_cfg)
            # either direction may have been applied only in part: errors here are expected
            for prefix in change.routes_add:
                host.route("del", prefix, change.table, check=False)
            for prefix in change.routes_remove:
                host.route("add", prefix, change.table, check=False)
        elif restarting and change.was_running and change.old_bytes is not None:
            host.up()
        if change.was_running and change.old_cfg is not None and change.old_cfg.private_key:
            problems = verify(host, change.old_cfg, host.public_key(change.old_cfg.private_key))
            if problems:
                return "; ".join(problems)
        return None
    except (ApplyError, OSError, ValueError) as exc:
        return describe(exc)


def describe(exc):
    if isinstance(exc, ApplyError):
        return str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return "%s: %s" % (type(exc).__name__, exc)


def run_change(module, host, change, file_changed, need_enable, result):
    """Apply the change; on any failure after the host was touched, roll back and fail."""
    if file_changed:
        try:
            stage_new(host, change)
        except OSError as exc:
            result["action"] = "none"
            module.fail_json(msg="%s: cannot write the new configuration next to %s (%s); nothing was changed"
                                 % (host.interface, host.path, exc.strerror or exc), **result)
    try:
        apply_change(host, change, file_changed, need_enable)
    except (Exception, KeyboardInterrupt) as exc:  # pylint: disable=broad-except
        # whatever went wrong (a command, the disk, a bug, ^C), the host must not stay half-changed
        error = describe(exc)
        if not change.touched:
            result["action"] = "none"
            module.fail_json(msg="%s: %s -- nothing was changed" % (host.interface, error), **result)
        result["action"] = "rolled_back"
        restored = rollback(host, change)
        if restored is not None:
            result["action"] = "failed"
            error += " -- ROLLBACK ALSO FAILED: %s" % restored
        else:
            error += " -- rolled back: the previous configuration was restored"
        module.fail_json(msg="%s: %s" % (host.interface, error), **result)
    finally:
        try:
            discard(change.staged)
        except OSError:
            pass


# ---------------------------------------------------------------- main

ARGUMENT_SPEC = dict(
    interface=dict(type="str", required=True),
    content=dict(type="str", required=True, no_log=True),
    private_key_path=dict(type="path", no_log=False),
    preshared_key_peers=dict(type="dict", default={}, no_log=False),
    preshared_key_dir=dict(type="path", no_log=False),
    path=dict(type="path"),
    service_manager=dict(type="str", default="auto", choices=["auto", "systemd", "wg-quick"]),
    expect=dict(type="dict", default={}, options=dict(
        pre_up=dict(type="list", elements="str", default=[]),
        post_up=dict(type="list", elements="str", default=[]),
        pre_down=dict(type="list", elements="str", default=[]),
        post_down=dict(type="list", elements="str", default=[]),
        peers=dict(type="list", elements="str", default=[], no_log=False),
        table=dict(type="str"),
    )),
    lock_path=dict(type="path"),
    lock_timeout=dict(type="int", default=60),
)


def default_lock_path(interface):
    return paths.apply_lock(interface)


def build_text(module, content, private_key, preshared, interface, result):
    """The complete file: content with the private key and the preshared keys inserted."""
    try:
        return wgconf.insert_preshared_keys(wgconf.insert_private_key(content, private_key), preshared)
    except ValueError as exc:
        module.fail_json(msg="%s: %s" % (interface, exc), **result)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    interface = p["interface"]
    path = p["path"] or paths.conf(interface)
    result = dict(changed=False, action="none", reasons=[], path=path, public_key=None, preshared_keys=[],
                  peers=dict(added=[], removed=[], updated=[]), routes=dict(added=[], removed=[]))
    if not paths.valid_interface(interface):
        module.fail_json(msg="interface %r is not a valid interface name" % interface, **result)

    desired = check_content(module, p["content"], p["expect"] or {}, interface, result)
    private_key = read_private_key(module, paths.private_key(interface, p["private_key_path"]), result)
    preshared = read_preshared_keys(module, desired, p["preshared_key_peers"],
                                    paths.preshared_key_dir(interface, p["preshared_key_dir"]), result)
    new_text = build_text(module, p["content"], private_key, preshared, interface, result)
    host = Host(module, interface, path, resolve_manager(module, p["service_manager"]))
    lock = None
    if not module.check_mode:
        lock = take_lock(module, p["lock_path"] or default_lock_path(interface), p["lock_timeout"], interface, result)
    try:
        apply(module, host, private_key, new_text, result)
    finally:
        # exit_json/fail_json end in SystemExit: released here, not only when the process ends
        if lock is not None:
            os.close(lock)


def apply(module, host, private_key, new_text, result):
    """Under the lock: compare with the file and the running interface, then change what differs."""
    try:
        result["public_key"] = None if "preview" in result else host.public_key(private_key)
    except ApplyError as exc:
        module.fail_json(msg="%s: %s" % (host.interface, exc), **result)
    new_cfg = wgconf.parse(new_text)
    old_bytes, old_cfg = read_old(host.path)
    file_changed = old_bytes != new_text.encode("utf-8")
    link, state, routes, live = decide(host, old_cfg, new_cfg, file_changed, result["public_key"], result)
    need_enable = host.manager == "systemd" and not host.unit_enabled()
    result["changed"] = file_changed or result["action"] != "none" or need_enable
    if file_changed:
        before = wgconf.mask_secrets(old_bytes.decode("utf-8", "replace") if old_bytes is not None else "")
        result["diff"] = dict(before=before, after=wgconf.mask_secrets(new_text), before_header=host.path,
                              after_header=host.path)
    if module.check_mode or not result["changed"]:
        module.exit_json(**result)

    change = Change(result["action"], new_text, new_cfg, old_bytes, old_cfg, result["public_key"], routes, live, link,
                    state)
    run_change(module, host, change, file_changed, need_enable, result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
