# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest


from ansible_collections.netfleet.wireguard.plugins.module_utils import _wgconf as w
from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import encode_key

from wgkeys import noncanonical
from wgkeys import public_of_raw as public_of


PRIV = encode_key(bytes(range(1, 33)))
K1 = public_of(b"\x01" * 32)
K2 = public_of(b"\x02" * 32)
K3 = public_of(b"\x03" * 32)
PSK = encode_key(b"\x07" * 32)

HUB = f"""# managed by ansible
[Interface]
Address = 10.0.0.1/24
ListenPort = 51820
PostUp = iptables -A FORWARD -i wg0 -j ACCEPT
PostDown = iptables -D FORWARD -i wg0 -j ACCEPT

# client1
[Peer]
PublicKey = {K1}
AllowedIPs = 10.0.0.2/32

# site
[Peer]
PublicKey = {K2}
AllowedIPs = 10.0.0.3/32, 192.168.50.0/24
Endpoint = 198.51.100.7:51820
PersistentKeepalive = 25
"""


def test_parse_hub():
    cfg = w.parse(HUB)
    assert cfg.interface["Address"] == ["10.0.0.1/24"]
    assert cfg.interface["PostUp"] == ["iptables -A FORWARD -i wg0 -j ACCEPT"]
    assert [p.name for p in cfg.peers] == ["client1", "site"]
    assert cfg.peers[1].allowed_ips == ("10.0.0.3/32", "192.168.50.0/24")
    assert cfg.peers[1].persistent_keepalive == 25
    assert cfg.peers[1].endpoint == "198.51.100.7:51820"
    assert cfg.peers[0].endpoint is None and cfg.peers[0].persistent_keepalive is None
    assert cfg.private_key is None
    assert cfg.table == "auto"


def test_keys_are_case_insensitive_and_allowed_ips_accumulate():
    cfg = w.parse(f"[interface]\nlistenport=1\n[PEER]\npublickey={K1}\nallowedips=10.1.0.5/24\nAllowedIPs = fd00::1/64\n")
    assert cfg.interface == {"ListenPort": ["1"]}
    assert cfg.peers[0].allowed_ips == ("10.1.0.0/24", "fd00::/64")


@pytest.mark.parametrize("text,msg", [
    ("", "no [Interface]"),
    ("[Peer]\nPublicKey = %s\n" % K1, "no [Interface]"),
    ("[Interface]\n[Interface]\n", "second [Interface]"),
    ("Address = 10.0.0.1/24\n[Interface]\n", "outside of a section"),
    ("[Interface]\nBogus = 1\n", "unknown [Interface] key Bogus"),
    ("[Interface]\n[Peer]\nAllowedIPs = 10.0.0.0/24\n", "has no PublicKey"),
    ("[Interface]\n[Peer]\nPublicKey = nope\n", "not a valid WireGuard key"),
    ("[Interface]\n[Peer]\nPublicKey = %s\n[Peer]\nPublicKey = %s\n" % (K1, K1), "duplicate PublicKey"),
    ("[Interface]\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.300/32\n" % K1, "not an IP prefix"),
    ("[Interface]\n[Peer]\nPublicKey = %s\nPersistentKeepalive = often\n" % K1, "must be a number"),
    ("[Interface]\n[Peer]\nPublicKey = %s\nColour = blue\n" % K1, "unknown [Peer] key"),
    ("[Interface]\n[Wat]\n", "unknown section"),
    ("[Interface]\nAddress\n", "expected 'Key = value'"),
])
def test_parse_errors(text, msg):
    with pytest.raises(ValueError, match=msg.replace("[", r"\[").replace("]", r"\]")):
        w.parse(text)


def test_invalid_private_key_not_echoed():
    bad = "Z" * 43 + "!"
    with pytest.raises(ValueError) as err:
        w.parse("[Interface]\nPrivateKey = %s\n" % bad)
    assert bad not in str(err.value)


@pytest.mark.parametrize("where", ["PublicKey", "PresharedKey", "PrivateKey"])
def test_parse_refuses_noncanonical_keys_without_echoing_them(where):
    """A key with its padding bits set decodes to the same bytes, but wg refuses it: so does the parser."""
    bad = {"PublicKey": noncanonical(K2), "PresharedKey": noncanonical(PSK), "PrivateKey": noncanonical(PRIV)}[where]
    good = {"PublicKey": K2, "PresharedKey": PSK, "PrivateKey": PRIV}
    text = "[Interface]\nPrivateKey = {PrivateKey}\n[Peer]\nPublicKey = {PublicKey}\nPresharedKey = {PresharedKey}\n"
    assert w.parse(text.format(**good)).peers[0].public_key == K2
    with pytest.raises(ValueError, match="not a valid") as err:
        w.parse(text.format(**dict(good, **{where: bad})))
    assert bad not in str(err.value) or where == "PublicKey"


def test_comment_cut_like_wg_quick():
    cfg = w.parse("[Interface]\nAddress = 10.0.0.1/24 # tunnel\n")
    assert cfg.interface["Address"] == ["10.0.0.1/24"]


def test_insert_private_key_and_roundtrip():
    text = w.insert_private_key(HUB, PRIV)
    cfg = w.parse(text)
    assert cfg.private_key == PRIV
    assert text.splitlines()[2] == "PrivateKey = " + PRIV
    # everything else untouched
    assert text.replace("PrivateKey = %s\n" % PRIV, "") == HUB
    with pytest.raises(ValueError):
        w.insert_private_key("[Peer]\nPublicKey = %s\n" % K1, PRIV)


def test_mask_secrets():
    text = w.insert_private_key(HUB, PRIV).replace("PersistentKeepalive = 25", "PresharedKey = %s" % PSK)
    masked = w.mask_secrets(text)
    assert PRIV not in masked and PSK not in masked
    assert "PrivateKey = <redacted>" in masked and "PresharedKey = <redacted>" in masked
    assert K1 in masked and len(masked.splitlines()) == len(text.splitlines())


def test_strip_keeps_only_wg_keys():
    cfg = w.parse(w.insert_private_key(HUB, PRIV))
    stripped = w.strip(cfg)
    assert "Address" not in stripped and "PostUp" not in stripped
    assert "PrivateKey = " + PRIV in stripped and "ListenPort = 51820" in stripped
    again = w.parse(stripped)
    assert [p.comparable() for p in again.peers] == [p.comparable() for p in cfg.peers]


def test_diff_peers_and_live_change():
    old = w.parse(HUB)
    new_text = HUB.replace("AllowedIPs = 10.0.0.2/32", "AllowedIPs = 10.0.0.2/32, 172.16.0.0/16") + \
        f"\n[Peer]\nPublicKey = {K3}\nAllowedIPs = 10.0.0.4/32\n"
    new_text = new_text.replace(f"# site\n[Peer]\nPublicKey = {K2}\nAllowedIPs = 10.0.0.3/32, 192.168.50.0/24\n"
                                "Endpoint = 198.51.100.7:51820\nPersistentKeepalive = 25\n", "")
    new = w.parse(new_text)
    assert w.diff_peers(old, new) == {"added": [K3], "removed": [K2], "updated": [K1]}
    assert w.restart_reasons(old, new) == []
    assert w.route_prefixes(old) - w.route_prefixes(new) == {"10.0.0.3/32", "192.168.50.0/24"}
    assert w.route_prefixes(new) - w.route_prefixes(old) == {"172.16.0.0/16", "10.0.0.4/32"}


def test_diff_peers_from_nothing():
    assert w.diff_peers(None, w.parse(HUB))["added"] == sorted([K1, K2])


@pytest.mark.parametrize("old_line,new_line,reason", [
    ("Address = 10.0.0.1/24", "Address = 10.0.0.9/24", "Address changed"),
    ("ListenPort = 51820", "ListenPort = 51821", "ListenPort changed"),
    ("PostUp = iptables -A FORWARD -i wg0 -j ACCEPT", "PostUp = false", "PostUp changed"),
    ("ListenPort = 51820", "ListenPort = 51820\nMTU = 1380", "MTU changed"),
    ("ListenPort = 51820", "ListenPort = 51820\nDNS = 10.0.0.53", "DNS changed"),
    ("ListenPort = 51820", "ListenPort = 51820\nTable = 100", "Table changed"),
    ("ListenPort = 51820", "ListenPort = 51820\nFwMark = 0x10", "FwMark changed"),
    ("AllowedIPs = 10.0.0.2/32", "AllowedIPs = 0.0.0.0/0", "default route"),
])
def test_interface_level_changes_need_restart(old_line, new_line, reason):
    old = w.parse(HUB)
    new = w.parse(HUB.replace(old_line, new_line))
    reasons = w.restart_reasons(old, new)
    assert reasons and any(reason in r for r in reasons)


def test_no_restart_for_identical_or_peer_comment_change():
    assert w.restart_reasons(w.parse(HUB), w.parse(HUB.replace("# client1", "# renamed"))) == []
    assert w.restart_reasons(None, w.parse(HUB)) == ["no previous configuration"]


def test_private_key_change_needs_restart():
    a = w.parse(w.insert_private_key(HUB, PRIV))
    b = w.parse(w.insert_private_key(HUB, encode_key(b"\x09" * 32)))
    assert "PrivateKey changed" in w.restart_reasons(a, b)


def test_default_route_moving_between_peers_is_live():
    old = w.parse(HUB.replace("AllowedIPs = 10.0.0.2/32", "AllowedIPs = 0.0.0.0/0"))
    new = w.parse(HUB.replace("AllowedIPs = 10.0.0.3/32, 192.168.50.0/24", "AllowedIPs = 0.0.0.0/0"))
    assert w.restart_reasons(old, new) == []
    assert w.default_routes(new) == {"0.0.0.0/0"}
    assert "0.0.0.0/0" not in w.route_prefixes(new)


def test_route_tables():
    assert w.route_table(w.parse(HUB)) == "main"
    off = w.parse(HUB.replace("ListenPort = 51820", "Table = off"))
    assert w.route_table(off) is None and w.route_prefixes(off) == set()
    custom = w.parse(HUB.replace("ListenPort = 51820", "Table = 1234").replace("10.0.0.2/32", "0.0.0.0/0"))
    assert w.route_table(custom) == "1234"
    assert "0.0.0.0/0" in w.route_prefixes(custom) and w.default_routes(custom) == set()


DUMP = (
    f"{PRIV}\t{K3}\t51820\toff\n"
    f"{K1}\t(none)\t(none)\t10.0.0.2/32\t0\t0\t0\toff\n"
    f"{K2}\t(none)\t198.51.100.7:51820\t10.0.0.3/32,192.168.50.0/24\t1700000000\t10\t20\t25\n"
)


def test_parse_dump_drops_private_key():
    state = w.parse_dump(DUMP)
    assert PRIV not in repr(state)
    assert state["public_key"] == K3 and state["listen_port"] == 51820 and state["fwmark"] is None
    assert state["peers"][K2]["allowed_ips"] == ("10.0.0.3/32", "192.168.50.0/24")
    assert state["peers"][K2]["persistent_keepalive"] == 25
    assert state["peers"][K1]["endpoint"] is None


def test_parse_dump_errors():
    with pytest.raises(ValueError):
        w.parse_dump("")
    with pytest.raises(ValueError):
        w.parse_dump("a\tb\n")
    with pytest.raises(ValueError):
        w.parse_dump(f"{PRIV}\t{K3}\t0\toff\n{K1}\tx\n")


def test_running_drift_none_when_matching():
    cfg = w.parse(HUB)
    assert w.running_drift(cfg, w.parse_dump(DUMP)) == {"added": [], "removed": [], "updated": []}
    assert w.interface_drift(cfg, w.parse_dump(DUMP), K3) == []


def test_running_drift_detects_removed_by_hand_and_extra_peer():
    cfg = w.parse(HUB)
    state = w.parse_dump(DUMP)
    del state["peers"][K1]
    state["peers"][K3] = {"preshared_key": None, "endpoint": None, "allowed_ips": (), "persistent_keepalive": None}
    state["peers"][K2]["allowed_ips"] = ("10.0.0.3/32",)
    assert w.running_drift(cfg, state) == {"added": [K1], "removed": [K3], "updated": [K2]}


def test_running_drift_endpoint_only_for_literals():
    state = w.parse_dump(DUMP.replace("198.51.100.7:51820", "198.51.100.8:51820"))
    assert w.running_drift(w.parse(HUB), state)["updated"] == [K2]
    by_name = w.parse(HUB.replace("198.51.100.7:51820", "gw.example.net:51820"))
    assert w.running_drift(by_name, state)["updated"] == []
    v6 = w.parse(HUB.replace("198.51.100.7:51820", "[2001:db8:0::1]:51820"))
    state6 = w.parse_dump(DUMP.replace("198.51.100.7:51820", "[2001:db8::1]:51820"))
    assert w.running_drift(v6, state6)["updated"] == []


def test_interface_drift():
    cfg = w.parse(HUB)
    state = w.parse_dump(DUMP.replace("\t51820\toff", "\t40000\toff"))
    assert w.interface_drift(cfg, state, K3) == ["running listen port differs"]
    assert w.interface_drift(cfg, w.parse_dump(DUMP), K1) == ["running public key differs from the key file"]
