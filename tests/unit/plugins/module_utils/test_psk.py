# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preshared keys: generation, fingerprints, file names, sealing, and the per-pair decision."""
from __future__ import annotations

import base64
import hashlib

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _psk as p
from ansible_collections.netfleet.wireguard.plugins.module_utils import _x25519 as x

PSK = x.encode_key(bytes(range(100, 132)))
PSK2 = x.encode_key(b"\x42" * 32)
RECV_PRIV = x.encode_key(x.clamp(bytes(range(1, 33))))
RECV_PUB = x.public_key_b64(RECV_PRIV)
OTHER_PRIV = x.encode_key(x.clamp(bytes(range(2, 34))))
CTX = p.seal_context("wg0", "hub", "spoke")
EPH = x.clamp(b"\x05" * 32)


# ----------------------------------------------------------------------------- keys

def test_generate_is_32_random_bytes_base64():
    keys = {p.generate() for dummy in range(50)}
    assert len(keys) == 50
    for key in keys:
        assert len(key) == 44 and len(base64.b64decode(key)) == 32 and p.is_valid(key)


@pytest.mark.parametrize("text,valid", [
    (PSK, True),
    (PSK + "\n", True),
    ("  " + PSK + "\n", True),
    (PSK.encode(), True),
    (PSK[:-2] + "==", False),          # 31 bytes
    ("A" * 44, False),                 # no padding
    ("!" * 43 + "=", False),           # not base64
    ("", False),
    (None, False),
    (b"\xff" * 44, False),
])
def test_is_valid_and_normalise(text, valid):
    assert p.is_valid(text) is valid
    if valid:
        assert p.normalise(text) == PSK
    else:
        with pytest.raises(ValueError) as err:
            p.normalise(text)
        assert PSK not in str(err.value)


@pytest.mark.parametrize("raw", [b"\x00" * 32, b"\xff" * 32, bytes(range(32))])
def test_fingerprint_is_sha256_of_the_raw_key(raw):
    key = x.encode_key(raw)
    assert p.fingerprint(key) == hashlib.sha256(raw).hexdigest()
    assert p.fingerprint(key + "\n") == p.fingerprint(key)
    assert key not in p.fingerprint(key)


def test_fingerprint_vector_and_distinct():
    assert p.fingerprint("A" * 43 + "=") == "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
    assert p.fingerprint(PSK) != p.fingerprint(PSK2)


def test_fingerprint_of_malformed_key_does_not_echo_it():
    with pytest.raises(ValueError) as err:
        p.fingerprint("secret-but-not-a-key")
    assert "secret" not in str(err.value)


@pytest.mark.parametrize("name,ok", [
    ("hub", True), ("spoke-1", True), ("host.example.com", True), ("10.0.0.1", True), ("fe80::1", True),
    ("a_b", True), ("user@host", True), ("x" * 200, True),
    ("", False), (".hidden", False), ("..", False), ("-x", False), ("a/b", False), ("../etc", False),
    ("a b", False), ("a\0b", False), ("x" * 201, False), (None, False), (3, False),
])
def test_peer_names_as_file_names(name, ok):
    if ok:
        assert p.file_name(name) == name + ".psk"
        assert p.peer_of(p.file_name(name)) == name
    else:
        with pytest.raises(ValueError):
            p.file_name(name)


@pytest.mark.parametrize("entry,peer", [
    ("hub.psk", "hub"), ("hub", None), (".psk-tmp123", None), (".hub.psk", None), ("hub.psk.bak", None),
    ("a.b.psk", "a.b"),
])
def test_peer_of_directory_entries(entry, peer):
    assert p.peer_of(entry) == peer


# ----------------------------------------------------------------------------- sealing

def test_seal_roundtrip_and_fresh_ephemeral():
    one = p.seal(PSK, RECV_PUB, CTX)
    two = p.seal(PSK, RECV_PUB, CTX)
    assert one != two and one.startswith("nfpsk1.")
    assert PSK not in one and PSK[:20] not in one
    assert p.unseal(one, RECV_PRIV, CTX) == PSK == p.unseal(two, RECV_PRIV, CTX)


def test_seal_is_deterministic_with_a_given_ephemeral_key():
    assert p.seal(PSK, RECV_PUB, CTX, ephemeral=EPH) == p.seal(PSK, RECV_PUB, CTX, ephemeral=EPH)
    assert p.seal(PSK, RECV_PUB, CTX, ephemeral=EPH) != p.seal(PSK2, RECV_PUB, CTX, ephemeral=EPH)


def test_seal_matches_an_independent_x25519_hkdf_implementation():
    """The construction is standard X25519 + HKDF-SHA256 (RFC 5869) + HMAC-SHA256, as `cryptography` computes it."""
    x25519 = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.x25519")
    hashes = pytest.importorskip("cryptography.hazmat.primitives.hashes")
    hkdf = pytest.importorskip("cryptography.hazmat.primitives.kdf.hkdf")
    hmac_mod = pytest.importorskip("cryptography.hazmat.primitives.hmac")
    blob = base64.b64decode(p.seal(PSK, RECV_PUB, CTX)[len("nfpsk1."):])
    eph_pub, ciphertext, tag = blob[:32], blob[32:64], blob[64:]
    receiver = x25519.X25519PrivateKey.from_private_bytes(base64.b64decode(RECV_PRIV))
    shared = receiver.exchange(x25519.X25519PublicKey.from_public_bytes(eph_pub))
    okm = hkdf.HKDF(algorithm=hashes.SHA256(), length=64, salt=b"netfleet.wireguard psk seal v1",
                    info=eph_pub + base64.b64decode(RECV_PUB) + CTX).derive(shared)
    mac = hmac_mod.HMAC(okm[32:], hashes.SHA256())
    mac.update(eph_pub + ciphertext)
    mac.verify(tag)
    assert x.encode_key(bytes(a ^ b for a, b in zip(ciphertext, okm[:32]))) == PSK


@pytest.mark.parametrize("case", ["other key", "swapped pair", "other interface", "other sender"])
def test_unseal_refuses_another_key_or_context(case):
    sealed = p.seal(PSK, RECV_PUB, CTX)
    key, ctx = {
        "other key": (OTHER_PRIV, CTX),
        "swapped pair": (RECV_PRIV, p.seal_context("wg0", "spoke", "hub")),
        "other interface": (RECV_PRIV, p.seal_context("wg1", "hub", "spoke")),
        "other sender": (RECV_PRIV, p.seal_context("wg0", "branch", "spoke")),
    }[case]
    with pytest.raises(ValueError, match="does not authenticate"):
        p.unseal(sealed, key, ctx)


@pytest.mark.parametrize("part", [0, 40, 70])
def test_unseal_refuses_altered_blobs(part):
    blob = bytearray(base64.b64decode(p.seal(PSK, RECV_PUB, CTX)[7:]))
    blob[part] ^= 1
    with pytest.raises(ValueError):
        p.unseal("nfpsk1." + base64.b64encode(bytes(blob)).decode(), RECV_PRIV, CTX)


@pytest.mark.parametrize("text,msg", [
    ("", "not a sealed"), (PSK, "not a sealed"), ("nfpsk1.!!!", "base64"), ("nfpsk1." + PSK, "wrong length"),
    (None, "not a sealed"),
])
def test_unseal_malformed(text, msg):
    with pytest.raises(ValueError, match=msg):
        p.unseal(text, RECV_PRIV, CTX)


def test_seal_refuses_low_order_recipient():
    with pytest.raises(ValueError, match="low-order"):
        p.seal(PSK, "A" * 43 + "=", CTX)


def test_seal_errors_never_echo_the_key():
    with pytest.raises(ValueError) as err:
        p.seal("not-a-key-but-secret", RECV_PUB, CTX)
    assert "secret" not in str(err.value)


@pytest.mark.parametrize("args", [("", "a", "b"), ("wg0", "", "b"), ("wg0", "a", None), ("wg0", "a\0", "b")])
def test_seal_context_needs_names(args):
    with pytest.raises(ValueError):
        p.seal_context(*args)


# ----------------------------------------------------------------------------- decide

def plan_of(pairs, hosts=("a", "b"), external=()):
    """Plan with the given PSK pairs (both sides marked) among hosts; every host peers with every other."""
    plan = {}
    for host in hosts:
        peers = [{"name": o, "preshared_key": tuple(sorted((host, o))) in pairs} for o in hosts if o != host]
        peers += [{"name": e, "preshared_key": False} for e in external if host == hosts[0]]
        plan[host] = {"interface": "wg0", "peers": peers}
    return plan


FA, FB = "f" * 64, "e" * 64
AB = {("a", "b")}


# (fingerprint a holds for b, fingerprint b holds for a, present, rotate) -> (a actions, b actions, errors, note)
@pytest.mark.parametrize("fa,fb,present,rotate,a_do,b_do,err,note", [
    # both present
    (FA, FA, "ab", False, {}, {}, None, None),
    (None, None, "ab", False, {"send": ["b"]}, {"receive": ["a"]}, None, "created on a"),
    (FA, None, "ab", False, {"send": ["b"]}, {"receive": ["a"]}, None, "copied from a to b"),
    (None, FB, "ab", False, {"receive": ["b"]}, {"send": ["a"]}, None, "copied from b to a"),
    (FA, FB, "ab", False, {"send": ["b"]}, {"receive": ["a"]}, None, "repaired with the key of a"),
    (FA, FA, "ab", True, {"send": ["b"], "regenerate": ["b"]}, {"receive": ["a"]}, None, "rotation"),
    (None, None, "ab", True, {"send": ["b"], "regenerate": ["b"]}, {"receive": ["a"]}, None, "rotation"),
    # one side outside the run (--limit)
    (FA, "-", "a", False, {}, None, None, None),
    (None, "-", "a", False, {}, None, "a: wireguard_preshared_keys: the pair a-b", None),
    ("-", FB, "b", False, None, {}, None, None),
    ("-", None, "b", False, None, {}, "b: wireguard_preshared_keys: the pair a-b", None),
    (FA, "-", "a", True, {}, None, None, "not rotated, b is not in this run"),
    # neither side in the run
    ("-", "-", "", False, None, None, None, None),
])
def test_decide_truth_table(fa, fb, present, rotate, a_do, b_do, err, note):
    status = {}
    if "a" in present:
        status["a"] = {"b": fa}
    if "b" in present:
        status["b"] = {"a": fb}
    out = p.decide(plan_of(AB), status, list(present), rotate)
    empty = {"send": [], "regenerate": [], "receive": []}
    if a_do is None:
        assert "a" not in out["hosts"]
    else:
        assert out["hosts"]["a"] == dict(empty, **a_do)
    if b_do is None:
        assert "b" not in out["hosts"]
    else:
        assert out["hosts"]["b"] == dict(empty, **b_do)
    if err:
        host = err.split(":")[0]
        assert list(out["errors"]) == [host] and out["errors"][host][0].startswith(err)
        assert "not in this run" in out["errors"][host][0]
    else:
        assert out["errors"] == {}
    if note:
        assert len(out["notes"]) == 1 and note in out["notes"][0]
    else:
        assert out["notes"] == []


def test_decide_output_holds_no_fingerprint():
    out = p.decide(plan_of(AB), {"a": {"b": FA}, "b": {"a": FB}}, ["a", "b"])
    assert FA not in repr(out) and FB not in repr(out)


def test_decide_hub_with_three_spokes_lowest_name_generates():
    pairs = {("hub", "s1"), ("hub", "s2"), ("hub", "t0")}
    plan = {
        "hub": {"peers": [{"name": n, "preshared_key": True} for n in ("s1", "s2", "t0")]},
        "s1": {"peers": [{"name": "hub", "preshared_key": True}]},
        "s2": {"peers": [{"name": "hub", "preshared_key": True}]},
        "t0": {"peers": [{"name": "hub", "preshared_key": True}]},
    }
    assert {tuple(sorted((h, q["name"]))) for h in plan for q in plan[h]["peers"]} == pairs
    status = {"hub": {"s1": None, "s2": FA, "t0": None}, "s1": {"hub": None}, "s2": {"hub": FA}, "t0": {"hub": FB}}
    out = p.decide(plan, status, ["hub", "s1", "s2", "t0"])
    assert out["hosts"]["hub"] == {"send": ["s1"], "regenerate": [], "receive": ["t0"]}
    assert out["hosts"]["s1"]["receive"] == ["hub"] and out["hosts"]["s2"] == {"send": [], "regenerate": [],
                                                                               "receive": []}
    assert out["hosts"]["t0"]["send"] == ["hub"]


def test_decide_ignores_pairs_without_psk_and_external_peers():
    plan = plan_of(set(), hosts=("a", "b", "c"), external=("phone",))
    out = p.decide(plan, {}, ["a", "b", "c"])
    assert out == {"hosts": {h: {"send": [], "regenerate": [], "receive": []} for h in "abc"},
                   "errors": {}, "notes": []}


def test_decide_one_sided_mark_is_an_error():
    plan = plan_of(AB)
    plan["b"]["peers"][0]["preshared_key"] = False
    out = p.decide(plan, {"a": {"b": None}, "b": {}}, ["a", "b"])
    assert "internal inconsistency" in out["errors"]["a"][0]
    assert out["hosts"]["a"]["send"] == []


def test_decide_needs_the_status_of_present_hosts():
    with pytest.raises(ValueError, match="no preshared key status"):
        p.decide(plan_of(AB), {"a": {"b": None}}, ["a", "b"])


def test_decide_hosts_outside_the_plan_are_left_out():
    out = p.decide(plan_of(AB), {"a": {"b": FA}, "b": {"a": FA}}, ["a", "b", "controller"])
    assert sorted(out["hosts"]) == ["a", "b"]


@pytest.mark.parametrize("entry,peers", [
    ({}, []),
    ({"peers": []}, []),
    ({"peers": [{"name": "b", "preshared_key": True}, {"name": "a", "preshared_key": True},
                {"name": "c", "preshared_key": False}, {"name": "d"}]}, ["a", "b"]),
])
def test_psk_peers(entry, peers):
    assert p.psk_peers(entry) == peers
