# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A WireGuard interface on the managed host: its running state, and the commands that change it.

Shared by ``wireguard_apply`` (which changes the interface) and ``wireguard_host_facts`` (which asks,
read-only, whether ``wireguard_apply`` would have anything to do), so both judge "in sync" the same
way. ``module`` is an AnsibleModule (only ``run_command`` and ``get_bin_path`` are used); no
ansible import here.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import time

from . import _wgconf as wgconf
from . import _wgtool as wgtool


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
        # handle_exceptions=False: a command that cannot be executed raises OSError here (and is
        # rolled back like any failure) instead of ending the module from inside run_command
        rc, out, err = self.module.run_command(args, data=data, binary_data=data is not None, handle_exceptions=False)
        if check and rc != 0:
            raise ApplyError("%s failed (rc=%d): %s" % (what or " ".join(args[:3]), rc, (err or out).strip()))
        return rc, out, err

    # ---- state
    def public_key(self, private_key):
        """Public key of ``private_key``, computed by ``wg pubkey`` (key on stdin, never in argv)."""
        try:
            return wgtool.pubkey(self.module, self.wg, private_key)
        except ValueError as exc:
            raise ApplyError("wg pubkey could not derive the public key (%s)" % exc) from None

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
            if rc == 0:
                found.update(_route_prefixes(out, family, host_len))
        return found

    def covered(self, prefix, table):
        family = "-6" if ":" in prefix else "-4"
        rc, out, dummy = self.run(
            [self.ip, family, "route", "show", "dev", self.interface, "table", table, "match", prefix], check=False)
        return rc == 0 and bool(out.strip())

    def route(self, op, prefix, table, check=True):
        family = "-6" if ":" in prefix else "-4"
        self.run([self.ip, family, "route", op, prefix, "dev", self.interface, "table", table],
                 check=check, what="ip route %s %s" % (op, prefix))

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
        """The whole configuration (rollback): sets the listen port too, see ``set_peers``."""
        self.run([self.wg, "syncconf", self.interface, "/dev/stdin"], data=wgconf.strip(cfg),
                 what="wg syncconf")

    def set_peers(self, live):
        """Only what differs (``_wgconf.live_changes``): ``wg addconf`` for the peers added or changed,
        then ``wg set ... remove`` for the peers no longer wanted, so an AllowedIPs prefix moving to
        another peer is never without one. Unlike ``wg syncconf`` this never re-sets the listen port,
        which makes wireguard-go re-open its socket and drop packets of every peer."""
        if live["addconf"]:
            self.run([self.wg, "addconf", self.interface, "/dev/stdin"], data=live["addconf"], what="wg addconf")
        if live["remove"]:
            args = [self.wg, "set", self.interface]
            for key in live["remove"]:
                args += ["peer", key, "remove"]
            self.run(args, what="wg set peer remove")


def _route_prefixes(out, family, host_len):
    """Non-kernel destination prefixes of ``ip -o route show`` output."""
    found = set()
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


def decide(host, old_cfg, new_cfg, file_changed, public_key, result):
    """Fill result (action, reasons, peers, routes); return the link, the running state, the route
    plan and what a live change sends (``_wgconf.live_changes``; its ``addconf`` text holds preshared
    keys and never goes into ``result``)."""
    link = host.link_up()
    state = host.dump() if link is not None else None
    reasons = []
    routes = (None, [], [])
    live = {"addconf": None, "remove": []}
    if link is None or state is None:
        action = "started"
        reasons = ["interface %s is not running" % host.interface]
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
            routes = plan_routes(host, old_cfg, state, new_cfg)
            live = wgconf.live_changes(old_cfg, new_cfg, state)
            result["peers"] = live["peers"]
            peers_differ = bool(live["addconf"] or live["remove"])
            action = "live" if peers_differ or routes[1] or routes[2] else "none"
            result["routes"] = dict(added=routes[1], removed=routes[2])
    result["reasons"] = reasons
    result["action"] = action
    return link, state, routes, live


def resolve_manager(module, manager):
    if manager == "auto":
        running = os.path.isdir("/run/systemd/system") and module.get_bin_path("systemctl")
        manager = "systemd" if running else "wg-quick"
    return manager


# the lines wireguard_apply inserts on the host; the rest of the file is the rendered text
SECRET_LINE = re.compile(r"^(PrivateKey|PresharedKey) = .*\n", re.M)


def public_digest(text):
    """SHA-1 of a deployed file without the lines wireguard_apply inserts: equal to the SHA-1 of the
    rendered text it was written from. Also counts those lines (a file with others is not in sync)."""
    private = len(re.findall(r"^PrivateKey = ", text, re.M))
    preshared = len(re.findall(r"^PresharedKey = ", text, re.M))
    return hashlib.sha1(SECRET_LINE.sub("", text).encode("utf-8")).hexdigest(), private, preshared


def sync_state(module, interface, path, private_key_path):
    """Read-only: would wireguard_apply find nothing to do with the file as it is?

    Returns ``{"exists", "public_sha1", "private_key_lines", "preshared_key_lines", "key_current",
    "in_sync"}``; never a key. ``in_sync`` is wireguard_apply's own "none" judgement (interface up,
    running peers, keys, port and routes as the file says, unit enabled).
    """
    out = {"exists": False, "public_sha1": None, "private_key_lines": 0, "preshared_key_lines": 0,
           "key_current": False, "in_sync": False}
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
        with open(private_key_path, "rb") as handle:
            private_key = handle.read(4096).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return out
    out["exists"] = True
    out["public_sha1"], out["private_key_lines"], out["preshared_key_lines"] = public_digest(text)
    if not all(module.get_bin_path(tool) for tool in ("ip", "wg", "wg-quick")):
        return out
    try:
        cfg = wgconf.parse(text)
        host = Host(module, interface, path, resolve_manager(module, "auto"))
        public_key = host.public_key(private_key)
    except (ValueError, ApplyError, OSError):
        return out
    out["key_current"] = cfg.private_key == private_key
    result = {}
    decide(host, cfg, cfg, False, public_key, result)
    enabled = host.manager != "systemd" or host.unit_enabled()
    out["in_sync"] = result["action"] == "none" and enabled
    return out
