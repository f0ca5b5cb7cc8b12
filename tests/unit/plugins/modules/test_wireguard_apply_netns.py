# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wireguard_apply on a real tunnel: two network namespaces joined by a veth pair, wg-quick (wireguard-go
where the kernel has no module), pings through the tunnel.

The module's real main() runs inside one namespace (``ip netns exec``) through a small wrapper that
injects a fault once after the interface was taken down. The tests prove what the fake-host tests can
only model: the previous file is back byte for byte and the old tunnel passes traffic again. Needs
root, iproute2, wireguard-tools and wireguard-go (or the kernel module); skips with the reason otherwise.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _wgconf as w

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTIONS = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", ".cache", "collections"))
ENV = dict(os.environ, WG_QUICK_USERSPACE_IMPLEMENTATION="wireguard-go",
           PATH=os.environ.get("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin")

# runs wireguard_apply.main() with the arguments in argv[1]; argv[2] names a fault raised once:
#   up      - Host.up raises OSError (the interface is already down, the new file in place)
#   install - renaming the staged file raises OSError (the interface is already down)
WRAPPER = r'''
import errno, json, sys
sys.path.insert(0, %(collections)r)
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes
basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": json.load(open(sys.argv[1]))}))
basic._ANSIBLE_PROFILE = "legacy"
from ansible_collections.netfleet.wireguard.plugins.modules import wireguard_apply as m

def once(owner, name):
    real, calls = getattr(owner, name), []
    def fake(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError(errno.EIO, "injected fault in %%s" %% name)
        return real(*args, **kwargs)
    setattr(owner, name, fake)

if sys.argv[2] == "up":
    once(m.Host, "up")
elif sys.argv[2] == "install":
    once(m, "install")
m.main()
'''


# sends COUNT echo requests INTERVAL seconds apart, waits up to 1 s for each reply; prints "sent received"
PROBE = r'''
import os, socket, struct, sys, time
dst, count, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])

def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xffff)
    return ~(total + (total >> 16)) & 0xffff

sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident, received = os.getpid() & 0xffff, 0
for seq in range(count):
    start = time.monotonic()
    payload = b"netfleet"
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    try:
        sock.sendto(struct.pack("!BBHHH", 8, 0, checksum(header + payload), ident, seq) + payload, (dst, 0))
    except OSError:  # no route (the interface is being restarted): a lost echo
        start -= 1
    while time.monotonic() < start + 1:
        sock.settimeout(max(start + 1 - time.monotonic(), 0.001))
        try:
            data, addr = sock.recvfrom(2048)
        except socket.timeout:
            break
        head = (data[0] & 0x0f) * 4
        kind, code, csum, rid, rseq = struct.unpack("!BBHHH", data[head:head + 8])
        if kind == 0 and rid == ident and rseq == seq and addr[0] == dst:
            received += 1
            break
    time.sleep(max(0.0, interval - (time.monotonic() - start)))
print(count, received)
'''


def _skip_reason():
    if os.geteuid() != 0:
        return "needs root for network namespaces and WireGuard interfaces"
    missing = [t for t in ("ip", "wg", "wg-quick") if shutil.which(t, path=ENV["PATH"]) is None]
    if missing:
        return "missing tools: %s (apt-get install --no-install-recommends wireguard-tools iproute2)" % ", ".join(missing)
    if shutil.which("wireguard-go") is None and not os.path.isdir("/sys/module/wireguard"):
        return "neither the wireguard kernel module nor wireguard-go (apt-get install wireguard-go)"
    return None


def sh(args, ns=None, check=True, data=None, timeout=60):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    res = subprocess.run(cmd, input=data, capture_output=True, text=True, env=ENV, timeout=timeout, check=False)
    if check and res.returncode:
        raise AssertionError("%s failed (%d): %s" % (" ".join(cmd), res.returncode, res.stderr or res.stdout))
    return res


class Side:
    """One end of the tunnel: a namespace, its veth address and its wg-quick file."""

    def __init__(self, tmp, tag, index):
        pid = os.getpid() % 100000
        self.ns = "nfw%s%d" % (tag, pid)
        self.interface = "nfw%s%d" % (tag, pid)
        self.veth = "nfv%s%d" % (tag, pid)
        self.underlay = "192.168.77.%d" % index
        self.address = "10.77.0.%d" % index
        self.port = 51820 + index
        self.dir = tmp / tag
        self.dir.mkdir()
        self.path = str(self.dir / (self.interface + ".conf"))
        self.key_path = str(self.dir / "private.key")
        self.private = sh(["wg", "genkey"]).stdout.strip()
        self.public = sh(["wg", "pubkey"], data=self.private + "\n").stdout.strip()
        with open(os.open(self.key_path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
            handle.write(self.private + "\n")

    def content(self, other, mtu=None, extra_peer=None):
        """The file without PrivateKey, as the role renders it."""
        text = "[Interface]\nAddress = %s/24\nListenPort = %d\n" % (self.address, self.port)
        if mtu:
            text += "MTU = %d\n" % mtu
        text += "\n# %s\n[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\nEndpoint = %s:%d\n" % (
            other.ns, other.public, other.address, other.underlay, other.port)
        if extra_peer:
            text += "\n# extra\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.77.0.50/32\n" % extra_peer
        return text

    def up(self, other):
        with open(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
            handle.write(w.insert_private_key(self.content(other), self.private))
        sh(["wg-quick", "up", self.path], ns=self.ns)

    def mtu(self):
        words = sh(["ip", "-o", "link", "show", "dev", self.interface], ns=self.ns).stdout.split()
        return int(words[words.index("mtu") + 1])


def probe(src, dst, count=1, interval=0.0, background=False):
    """ICMP echo from ``src`` to ``dst``'s tunnel address (Python raw socket: no ping binary needed)."""
    cmd = ["ip", "netns", "exec", src.ns, sys.executable, "-c", PROBE, dst.address, str(count), str(interval)]
    if background:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    res = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=count * 2 + 10, check=True)
    return tuple(int(n) for n in res.stdout.split())


def ping(src, dst, seconds=10):
    """True once an echo through the tunnel is answered (retries: a restart needs a new handshake)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if probe(src, dst) == (1, 1):
            return True
    return False


def teardown(sides):
    for side in sides:
        sh(["wg-quick", "down", side.path], ns=side.ns, check=False)
        # wireguard-go processes this test started in the namespace, by pid
        for pid in sh(["ip", "netns", "pids", side.ns], check=False).stdout.split():
            try:
                os.kill(int(pid), signal.SIGTERM)
            except (OSError, ValueError):
                pass
        sh(["ip", "netns", "del", side.ns], check=False)


@pytest.fixture
def tunnel(tmp_path):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    a, b = Side(tmp_path, "a", 1), Side(tmp_path, "b", 2)
    created = []
    try:
        for side in (a, b):
            res = sh(["ip", "netns", "add", side.ns], check=False)
            if res.returncode:
                pytest.skip("cannot create a network namespace: %s" % res.stderr.strip())
            created.append(side)
        sh(["ip", "-n", a.ns, "link", "add", a.veth, "type", "veth", "peer", "name", b.veth, "netns", b.ns])
        for side in (a, b):
            sh(["ip", "-n", side.ns, "link", "set", "lo", "up"])
            sh(["ip", "-n", side.ns, "addr", "add", side.underlay + "/24", "dev", side.veth])
            sh(["ip", "-n", side.ns, "link", "set", side.veth, "up"])
        a.up(b)
        b.up(a)
        assert ping(a, b), "the tunnel set up by wg-quick does not pass traffic"
        yield a, b
    finally:
        teardown(created)


def run_module(tmp_path, side, content, fault="none", **extra):
    args = dict(interface=side.interface, content=content, path=side.path, private_key_path=side.key_path,
                service_manager="wg-quick", lock_path=str(side.dir / "apply.lock"), **extra)
    args_path = tmp_path / ("args-%s.json" % fault)
    args_path.write_text(json.dumps(args))
    wrapper = tmp_path / "run_apply.py"
    wrapper.write_text(WRAPPER % {"collections": COLLECTIONS})
    res = sh([sys.executable, str(wrapper), str(args_path), fault], ns=side.ns, check=False, timeout=120)
    try:
        return json.loads(res.stdout)
    except ValueError:
        raise AssertionError("module output is not JSON (rc=%d): %s %s" % (res.returncode, res.stdout, res.stderr))


@pytest.mark.parametrize("fault", ["up", "install"])
def test_fault_after_down_leaves_the_old_tunnel_passing_traffic(tunnel, tmp_path, fault):
    a, b = tunnel
    with open(a.path, "rb") as handle:
        before = handle.read()
    mtu = a.mtu()
    r = run_module(tmp_path, a, a.content(b, mtu=1380), fault=fault, expect=dict(peers=[b.public]))
    assert r.get("failed") and r["action"] == "rolled_back", r
    assert "injected fault in %s" % fault in r["msg"] and "rolled back" in r["msg"], r["msg"]
    assert r["reasons"] == ["MTU changed"]
    with open(a.path, "rb") as handle:
        assert handle.read() == before, "the previous file was not restored byte for byte"
    assert [n for n in os.listdir(a.dir) if n.startswith(".")] == [], "staged file left behind"
    assert a.mtu() == mtu
    assert ping(a, b), "the previous tunnel does not pass traffic after the rollback"
    # without a fault the same change goes through and the tunnel still works
    r = run_module(tmp_path, a, a.content(b, mtu=1380), expect=dict(peers=[b.public]))
    assert r["changed"] and r["action"] == "restarted" and not r.get("failed"), r
    assert a.mtu() == 1380 and ping(a, b)


def udp_sockets(side):
    """Inode numbers of the sockets listening on the side's port: wireguard-go opens new ones
    whenever its listen port is set (``wg syncconf`` always sets it), dropping packets meanwhile."""
    out = sh(["ss", "-H", "-u", "-a", "-n", "-e", "sport = :%d" % side.port], ns=side.ns).stdout
    return sorted(re.findall(r"\bino:(\d+)", out))


def test_live_peer_changes_keep_the_ping_running_and_the_socket_open(tunnel, tmp_path):
    a, b = tunnel
    extra = sh(["wg", "pubkey"], data=sh(["wg", "genkey"]).stdout).stdout.strip()
    sockets = udp_sockets(a)
    pinger = probe(a, b, count=100, interval=0.05, background=True)   # 5 s of echoes, the changes in the middle
    try:
        time.sleep(1)
        added = run_module(tmp_path, a, a.content(b, extra_peer=extra), expect=dict(peers=[b.public, extra]))
        removed = run_module(tmp_path, a, a.content(b), expect=dict(peers=[b.public]))
        out, err = pinger.communicate(timeout=30)
    finally:
        if pinger.poll() is None:
            pinger.kill()
    assert added["changed"] and added["action"] == "live" and added["peers"]["added"] == [extra], added
    assert removed["action"] == "live" and removed["peers"]["removed"] == [extra], removed
    assert sh(["wg", "show", a.interface, "peers"], ns=a.ns).stdout.split() == [b.public]
    assert udp_sockets(a) == sockets, "the live changes re-opened the UDP socket"
    sent, received = (int(n) for n in out.split())
    assert sent == 100 and received == sent, "echoes lost during live changes: %s %s" % (out, err)
