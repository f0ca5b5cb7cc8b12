# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_wgstatus: the running state of an interface with its peers named, never a secret."""
from __future__ import annotations

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _wgconf as wgconf
from ansible_collections.netfleet.wireguard.plugins.module_utils import _wgstatus as s
from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import encode_key

from wgkeys import public_of_raw as public_of

PRIV = encode_key(bytes(range(1, 33)))
PSK = encode_key(b"\x07" * 32)
OWN = public_of(bytes(range(1, 33)))
HQ = public_of(b"\x01" * 32)
REMOTE = public_of(b"\x02" * 32)
STRAY = public_of(b"\x03" * 32)
NOW = 1767225600


def dump(*peers, head=None):
    return "\n".join([head or f"{PRIV}\t{OWN}\t51820\toff"] + ["\t".join(p) for p in peers]) + "\n"


def peer(key, psk="(none)", endpoint="(none)", allowed="10.0.0.2/32", handshake="0", rx="0", tx="0", keepalive="off"):
    return (key, psk, endpoint, allowed, handshake, rx, tx, keepalive)


def one_peer(**fields):
    return s.status(dump(peer(HQ, **fields)), {HQ: "hq"}, NOW)["peers"][0]


def test_interface_and_a_named_peer():
    result = s.status(dump(peer(HQ, endpoint="198.51.100.1:51820", allowed="10.0.0.2/32,10.0.1.0/24",
                                handshake=str(NOW - 42), rx="1024", tx="2048", keepalive="25")), {HQ: "hq"}, NOW)
    assert result == {
        "up": True,
        "interface": {"public_key": OWN, "listen_port": 51820},
        "peers": [{"name": "hq", "public_key": HQ, "endpoint": "198.51.100.1:51820",
                   "allowed_ips": ["10.0.0.2/32", "10.0.1.0/24"], "latest_handshake": NOW - 42,
                   "handshake_age": 42, "transfer_rx": 1024, "transfer_tx": 2048,
                   "persistent_keepalive": 25, "preshared_key": False}],
        "unknown_peers": [],
        "missing_peers": [],
    }


# one field of a peer line -> what the peer reports
@pytest.mark.parametrize("fields,expected", [
    ({"handshake": "0"}, {"latest_handshake": None, "handshake_age": None}),          # never
    ({"handshake": str(NOW)}, {"latest_handshake": NOW, "handshake_age": 0}),
    ({"handshake": str(NOW - 3600)}, {"latest_handshake": NOW - 3600, "handshake_age": 3600}),
    ({"handshake": str(NOW + 5)}, {"latest_handshake": NOW + 5, "handshake_age": 0}),  # clock set back
    ({"psk": "(none)"}, {"preshared_key": False}),
    ({"psk": PSK}, {"preshared_key": True}),
    ({"endpoint": "(none)"}, {"endpoint": None}),
    ({"endpoint": "[fd00::1]:51820"}, {"endpoint": "[fd00::1]:51820"}),
    ({"endpoint": "203.0.113.9:40000"}, {"endpoint": "203.0.113.9:40000"}),
    ({"allowed": "(none)"}, {"allowed_ips": []}),
    ({"allowed": "fd00::2/128,10.0.0.5/24"}, {"allowed_ips": ["fd00::2/128", "10.0.0.0/24"]}),
    ({"keepalive": "off"}, {"persistent_keepalive": None}),
    ({"keepalive": "0"}, {"persistent_keepalive": None}),
    ({"keepalive": "25"}, {"persistent_keepalive": 25}),
    ({"rx": "0", "tx": "0"}, {"transfer_rx": 0, "transfer_tx": 0}),
    ({"rx": "123456789012", "tx": "7"}, {"transfer_rx": 123456789012, "transfer_tx": 7}),
])
def test_peer_fields(fields, expected):
    got = one_peer(**fields)
    assert {k: got[k] for k in expected} == expected


# running peers, names -> (peer names in order, unknown_peers, missing_peers)
@pytest.mark.parametrize("running,names,order,unknown,missing", [
    ([], {}, [], [], []),
    ([], {HQ: "hq"}, [], [], ["hq"]),
    ([HQ], {}, [None], [HQ], []),
    ([HQ, REMOTE], {HQ: "hq", REMOTE: "remote"}, ["hq", "remote"], [], []),
    ([REMOTE, HQ], {HQ: "zulu", REMOTE: "alpha"}, ["alpha", "zulu"], [], []),
    ([HQ, STRAY], {HQ: "hq", REMOTE: "remote"}, ["hq", None], [STRAY], ["remote"]),
    ([STRAY, REMOTE, HQ], {}, [None, None, None], sorted([HQ, REMOTE, STRAY]), []),
    ([], {HQ: "hq", REMOTE: "b-remote"}, [], [], ["b-remote", "hq"]),
])
def test_names_unknown_and_missing(running, names, order, unknown, missing):
    result = s.status(dump(*(peer(k) for k in running)), names, NOW)
    assert [p["name"] for p in result["peers"]] == order
    assert (result["unknown_peers"], result["missing_peers"]) == (unknown, missing)


def test_unnamed_peers_come_last_sorted_by_key():
    result = s.status(dump(peer(STRAY), peer(REMOTE), peer(HQ)), {REMOTE: "remote"}, NOW)
    unnamed = [p["public_key"] for p in result["peers"][1:]]
    assert result["peers"][0]["name"] == "remote" and unnamed == sorted([HQ, STRAY])


@pytest.mark.parametrize("head,expected", [
    (f"{PRIV}\t{OWN}\t51820\toff", {"public_key": OWN, "listen_port": 51820}),
    (f"{PRIV}\t{OWN}\t0\t0x1234", {"public_key": OWN, "listen_port": None}),
    ("(none)\t(none)\t0\toff", {"public_key": None, "listen_port": None}),    # no key set yet
])
def test_interface_line(head, expected):
    assert s.status(dump(head=head), {}, NOW)["interface"] == expected


def test_down_has_the_same_shape_and_every_name_missing():
    assert s.down({REMOTE: "remote", HQ: "hq"}) == {
        "up": False, "interface": {"public_key": None, "listen_port": None},
        "peers": [], "unknown_peers": [], "missing_peers": ["hq", "remote"],
    }
    assert set(s.down({})) == set(s.status(dump(), {}, NOW))


def test_no_secret_in_the_result():
    result = s.status(dump(peer(HQ, psk=PSK), peer(REMOTE)), {HQ: "hq"}, NOW)
    assert PRIV not in repr(result) and PSK not in repr(result)
    assert result["peers"][0]["preshared_key"] is True


@pytest.mark.parametrize("text,msg", [
    ("", "empty wg dump"),
    ("\n\n", "empty wg dump"),
    (f"{PRIV}\t{OWN}\t51820\n", "interface line"),
    (f"{PRIV}\t{OWN}\tport\toff\n", "listen port"),
    (f"{PRIV}\t{PRIV[:20]}\t51820\toff\n", "interface public key"),
    (dump(peer(HQ)[:7]), "peer line"),
    (dump(peer(HQ) + ("x",)), "peer line"),
    (dump(peer(HQ, handshake="-1")), "latest handshake"),
    (dump(peer(HQ, rx="1e3")), "transfer rx"),
    (dump(peer(HQ, tx="")), "transfer tx"),
    (dump(peer(HQ, keepalive="often")), "persistent keepalive"),
    (dump(peer(HQ, allowed="10.0.0.300/32")), "not an IP prefix"),
    (dump(peer("not-a-key")), "peer public key"),
    (dump(peer(PSK[:10] + PRIV)), "peer public key"),
    # `wg show all dump` lines start with the interface name: one field too many
    ("wg0\t" + dump(peer(HQ)).replace("\n", "\nwg0\t", 1), "interface line"),
])
def test_malformed_dump(text, msg):
    with pytest.raises(ValueError, match=msg) as raised:
        s.status(text, {}, NOW)
    assert PRIV not in str(raised.value) and PSK not in str(raised.value)


@pytest.mark.parametrize("names,msg", [
    ([HQ], "mapping"),
    ({"not-a-key": "hq"}, "key given for 'hq' is not a valid"),
    ({HQ[:43] + "B": "hq"}, "key given for 'hq' is not a valid"),
    ({HQ: ""}, "non-empty string"),
    ({HQ: 7}, "non-empty string"),
    ({HQ: "hq", REMOTE: "hq"}, "'hq' is given to two keys"),
])
def test_bad_names(names, msg):
    with pytest.raises(ValueError, match=msg):
        s.status(dump(), names, NOW)
    with pytest.raises(ValueError, match=msg):
        s.down(names)


def test_parse_dump_keeps_its_keys_and_adds_counters():
    state = wgconf.parse_dump(dump(peer(HQ, psk=PSK, handshake="1700000000", rx="10", tx="20", keepalive="25"),
                                   peer(REMOTE)))
    assert state["peers"][HQ] == {"preshared_key": PSK, "endpoint": None, "allowed_ips": ("10.0.0.2/32",),
                                  "persistent_keepalive": 25, "latest_handshake": 1700000000,
                                  "transfer_rx": 10, "transfer_tx": 20}
    assert state["peers"][REMOTE]["latest_handshake"] is None
    assert PRIV not in repr(state)
