# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a live apply sends to a running interface (_wgconf.live_changes): only the peers that differ,
never the listen port or the private key."""
from __future__ import annotations

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _wgconf as w
from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import encode_key

from wgkeys import public_of_raw as public_of

PRIV = encode_key(bytes(range(1, 33)))
K1, K2, K3 = (public_of(bytes([n]) * 32) for n in (1, 2, 3))
PSK = encode_key(b"\x07" * 32)
PEERS = {K1: "AllowedIPs = 10.0.0.2/32", K2: "AllowedIPs = 10.0.0.3/32\nEndpoint = 198.51.100.7:51820",
         K3: "AllowedIPs = 10.0.0.4/32"}


def config(peers, extra=None, interface="ListenPort = 51820"):
    """A configuration with the given peers; extra = {key: lines replacing that peer's lines}."""
    extra = extra or {}
    text = "[Interface]\nPrivateKey = %s\nAddress = 10.0.0.1/24\n%s\n" % (PRIV, interface)
    for key in peers:
        text += "\n[Peer]\nPublicKey = %s\n%s\n" % (key, extra.get(key, PEERS[key]))
    return w.parse(text)


def running(cfg, fwmark="off"):
    """The dump of an interface that runs ``cfg`` exactly (endpoints as wg shows them)."""
    lines = ["%s\t%s\t51820\t%s" % (PRIV, public_of(bytes(range(1, 33))), fwmark)]
    for p in cfg.peers:
        fields = (p.public_key, p.preshared_key or "(none)", p.endpoint or "(none)", ",".join(p.allowed_ips),
                  "0", "0", "0", str(p.persistent_keepalive or "off"))
        lines.append("\t".join(fields))
    return w.parse_dump("\n".join(lines) + "\n")


def sent(live):
    """Public keys of the peers in the addconf text, in order."""
    return [line.split(" = ")[1] for line in (live["addconf"] or "").splitlines() if line.startswith("PublicKey")]


# old file peers, new file peers, running peers (None: as the old file), extra lines of the new file
# -> peers sent with addconf, peers removed
@pytest.mark.parametrize("old,new,run,extra,add,remove", [
    ((K1, K2), (K1, K2), None, {}, [], []),                                          # nothing differs
    ((K1, K2), (K1, K2, K3), None, {}, [K3], []),                                    # one added
    ((K1, K2, K3), (K1, K2), None, {}, [], [K3]),                                    # one retired
    ((K1, K2), (K1, K3), None, {K3: PEERS[K1].replace(".2/", ".4/")}, [K3], [K2]),   # one replaced
    ((K1, K2), (K1, K2), None, {K2: "AllowedIPs = 10.0.0.3/32, 192.168.2.0/24"}, [K2], []),  # AllowedIPs
    ((K1, K2), (K1, K2), None, {K1: PEERS[K1] + "\nPresharedKey = " + PSK}, [K1], []),      # a PSK
    ((K1, K2), (K1, K2), None, {K1: PEERS[K1] + "\nPersistentKeepalive = 25"}, [K1], []),  # a keepalive
    ((K1, K2), (K1, K2), (K1,), {}, [K2], []),                                       # removed by hand
    ((K1, K2), (K1, K2), (K1, K2, K3), {}, [], [K3]),                                 # added by hand
    ((K1,), (K1, K2), (K1, K2), {}, [], []),                                          # already running
    (None, (K1, K2), (K1, K2), {}, [K1, K2], []),                                     # no old file: resend all
])
def test_only_the_peers_that_differ_are_sent(old, new, run, extra, add, remove):
    old_cfg = config(old) if old is not None else None
    state = running(config(run) if run is not None else old_cfg)
    live = w.live_changes(old_cfg, config(new, extra), state)
    assert sent(live) == add and live["remove"] == remove
    assert (live["addconf"] is None) == (add == [])


def test_a_live_change_never_sends_the_listen_port_or_the_private_key():
    """wg syncconf always sets the listen port; wireguard-go re-opens its UDP socket when it is set."""
    old = config((K1, K2))
    live = w.live_changes(old, config((K1, K2, K3)), running(old))
    assert live["addconf"].startswith("[Interface]\n\n[Peer]\n")
    assert "ListenPort" not in live["addconf"] and PRIV not in live["addconf"]


def test_a_dns_endpoint_is_sent_only_when_the_file_changes_it():
    """wg shows the address a name resolved to: the running state cannot tell a renamed endpoint."""
    named = {K2: "AllowedIPs = 10.0.0.3/32\nEndpoint = b.example.net:51820"}
    old = config((K1, K2), named)
    state = running(old)
    state["peers"][K2]["endpoint"] = "198.51.100.7:51820"
    assert w.live_changes(old, old, state)["addconf"] is None
    renamed = config((K1, K2), {K2: named[K2].replace("b.example", "b2.example")})
    live = w.live_changes(old, renamed, state)
    assert sent(live) == [K2] and "Endpoint = b2.example.net:51820" in live["addconf"]
    assert live["peers"] == {"added": [], "removed": [], "updated": [K2]}


@pytest.mark.parametrize("file_mark,running_mark,line", [
    (None, "off", None), ("0x10", "0x10", None), ("16", "0x10", None), ("0x10", "off", "FwMark = 0x10"),
])
def test_fwmark_only_when_the_running_one_differs(file_mark, running_mark, line):
    interface = "ListenPort = 51820" + ("\nFwMark = %s" % file_mark if file_mark else "")
    cfg = config((K1,), interface=interface)
    live = w.live_changes(cfg, cfg, running(cfg, fwmark=running_mark))
    assert (live["addconf"] or "").splitlines()[1:2] == ([line] if line else [])


def test_peers_without_a_preshared_key_or_keepalive_get_zeros_and_off():
    """wg leaves a running preshared key or keepalive alone unless the text names it."""
    old = config((K1,), {K1: PEERS[K1] + "\nPresharedKey = %s\nPersistentKeepalive = 25" % PSK})
    live = w.live_changes(old, config((K1,)), running(old))
    assert "PresharedKey = " + "A" * 43 + "=" in live["addconf"] and "PersistentKeepalive = off" in live["addconf"]
    applied = w.parse(live["addconf"]).peers[0]
    assert applied.preshared_key is None and applied.persistent_keepalive is None
