# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preshared keys: generation, fingerprints, file names, sealing, and the per-pair decision."""
from __future__ import annotations

import base64
import builtins
import hashlib

import pytest

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ansible_collections.netfleet.wireguard.plugins.module_utils import _psk as p
from ansible_collections.netfleet.wireguard.plugins.module_utils._wgkey import encode_key

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def public_of(private_b64):
    """Public key of a base64 private key, computed by `cryptography` (independent of the code under test)."""
    key = x25519.X25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
    return encode_key(key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def noncanonical(key):
    """The same 32 bytes written with a padding bit set (``...B=`` for ``...A=``): `wg` refuses it."""
    assert key[42] in "AEIMQUYcgkosw048" and key[43] == "="
    bad = key[:42] + B64[B64.index(key[42]) | 1] + "="
    assert base64.b64decode(bad) == base64.b64decode(key)
    return bad


PSK = encode_key(bytes(range(100, 132)))
PSK2 = encode_key(b"\x42" * 32)
RECV_PRIV = encode_key(bytes(range(1, 33)))
RECV_PUB = public_of(RECV_PRIV)
OTHER_PRIV = encode_key(bytes(range(2, 34)))
CTX = p.seal_context("wg0", "hub", "spoke")
EPH = b"\x05" * 32
SEALED_LEN = 32 + 32 + 16


def blob_of(sealed):
    assert sealed.startswith("nfpsk2.")
    return base64.b64decode(sealed[len("nfpsk2."):])


def text_of(blob):
    return "nfpsk2." + base64.b64encode(bytes(blob)).decode()


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
    (noncanonical(PSK), False),        # padding bits set: wg refuses it
    (noncanonical(PSK) + "\n", False),
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
    key = encode_key(raw)
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


def test_fingerprint_refuses_a_noncanonical_key():
    with pytest.raises(ValueError, match="canonical") as err:
        p.fingerprint(noncanonical(PSK))
    assert noncanonical(PSK) not in str(err.value)


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
    assert one != two and one.startswith("nfpsk2.")
    assert len(blob_of(one)) == SEALED_LEN and blob_of(one)[:32] != blob_of(two)[:32]
    assert PSK not in one and PSK[:20] not in one
    assert p.unseal(one, RECV_PRIV, CTX) == PSK == p.unseal(two, RECV_PRIV, CTX)
    # the private key as a key file holds it (bytes, trailing newline)
    assert p.unseal(one, (RECV_PRIV + "\n").encode(), CTX) == PSK


def test_seal_roundtrip_with_keys_made_by_cryptography():
    for dummy in range(20):
        priv = x25519.X25519PrivateKey.generate()
        priv_b64 = encode_key(priv.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                                 serialization.NoEncryption()))
        key = p.generate()
        assert p.unseal(p.seal(key, public_of(priv_b64), CTX), priv_b64, CTX) == key


def test_seal_is_deterministic_with_a_given_ephemeral_key():
    assert p.seal(PSK, RECV_PUB, CTX, ephemeral=EPH) == p.seal(PSK, RECV_PUB, CTX, ephemeral=EPH)
    assert p.seal(PSK, RECV_PUB, CTX, ephemeral=EPH) != p.seal(PSK2, RECV_PUB, CTX, ephemeral=EPH)


# computed once by this code and checked by the independent composition below; pins the format
VECTOR = ("nfpsk2.UKYUCbHd0DJemxa3AOcZ6XcsBwALG9d4bpB8ZT0gSV0DS42qZNkymhaKPxE3+flnymGQ347VR65zDChLHc3PZqKCrvMcC0Z0dLACkblf6MM=")


def test_seal_known_answer():
    assert p.seal(PSK, RECV_PUB, CTX, ephemeral=EPH) == VECTOR
    assert p.unseal(VECTOR, RECV_PRIV, CTX) == PSK


def independent_open(sealed, private_b64, context):
    """Open a sealed key with `cryptography` primitives composed here, from the format description:
    X25519(receiver, ephemeral) -> HKDF-SHA256(salt = version label, info = ephemeral public key ||
    receiver public key || context) -> ChaCha20-Poly1305(key, nonce 0, aad = context)."""
    blob = blob_of(sealed)
    eph_pub, ciphertext = blob[:32], blob[32:]
    receiver = x25519.X25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
    shared = receiver.exchange(x25519.X25519PublicKey.from_public_bytes(eph_pub))
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"netfleet.wireguard psk seal v2",
               info=eph_pub + base64.b64decode(public_of(private_b64)) + context).derive(shared)
    return encode_key(ChaCha20Poly1305(key).decrypt(bytes(12), ciphertext, context))


def independent_seal(psk, recipient_b64, context):
    eph = x25519.X25519PrivateKey.generate()
    eph_pub = eph.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    recipient = base64.b64decode(recipient_b64)
    shared = eph.exchange(x25519.X25519PublicKey.from_public_bytes(recipient))
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"netfleet.wireguard psk seal v2",
               info=eph_pub + recipient + context).derive(shared)
    return text_of(eph_pub + ChaCha20Poly1305(key).encrypt(bytes(12), base64.b64decode(psk), context))


def test_seal_is_the_standard_construction_composed_independently():
    """The construction is X25519 + HKDF-SHA256 + ChaCha20-Poly1305, nothing else: an independent
    composition of the same `cryptography` primitives opens what seal() makes, and the other way round."""
    assert independent_open(p.seal(PSK, RECV_PUB, CTX), RECV_PRIV, CTX) == PSK
    assert independent_open(VECTOR, RECV_PRIV, CTX) == PSK
    assert p.unseal(independent_seal(PSK2, RECV_PUB, CTX), RECV_PRIV, CTX) == PSK2


@pytest.mark.parametrize("case", ["other key", "swapped pair", "other interface", "other sender", "other receiver"])
def test_unseal_refuses_another_key_or_context(case):
    sealed = p.seal(PSK, RECV_PUB, CTX)
    key, ctx = {
        "other key": (OTHER_PRIV, CTX),
        "swapped pair": (RECV_PRIV, p.seal_context("wg0", "spoke", "hub")),
        "other interface": (RECV_PRIV, p.seal_context("wg1", "hub", "spoke")),
        "other sender": (RECV_PRIV, p.seal_context("wg0", "branch", "spoke")),
        "other receiver": (RECV_PRIV, p.seal_context("wg0", "hub", "spoke2")),
    }[case]
    with pytest.raises(ValueError, match="does not authenticate") as err:
        p.unseal(sealed, key, ctx)
    assert PSK not in str(err.value) and RECV_PRIV not in str(err.value)


def test_unseal_refuses_every_altered_byte():
    sealed = p.seal(PSK, RECV_PUB, CTX)
    blob = blob_of(sealed)
    for index in range(len(blob)):
        for flip in (0x01, 0x80):
            altered = bytearray(blob)
            altered[index] ^= flip
            with pytest.raises(ValueError) as err:
                p.unseal(text_of(altered), RECV_PRIV, CTX)
            assert PSK not in str(err.value) and RECV_PRIV not in str(err.value)
    for cut in (blob[:-1], blob + b"\0", blob[1:]):
        with pytest.raises(ValueError, match="wrong length"):
            p.unseal(text_of(cut), RECV_PRIV, CTX)


def test_unseal_refuses_the_old_format_with_an_explanation():
    old = "nfpsk1." + base64.b64encode(bytes(96)).decode()
    with pytest.raises(ValueError, match="old nfpsk1 format.*no longer opens"):
        p.unseal(old, RECV_PRIV, CTX)


@pytest.mark.parametrize("text,msg", [
    ("", "not a sealed"), (PSK, "not a sealed"), ("nfpsk2.!!!", "base64"), ("nfpsk2." + PSK, "wrong length"),
    (None, "not a sealed"), ("NFPSK2." + "A" * 108, "not a sealed"),
])
def test_unseal_malformed(text, msg):
    with pytest.raises(ValueError, match=msg):
        p.unseal(text, RECV_PRIV, CTX)


@pytest.mark.parametrize("point", [bytes(32), b"\x01" + bytes(31), bytes.fromhex(
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")])
def test_low_order_points_are_refused(point):
    with pytest.raises(ValueError, match="low-order"):
        p.seal(PSK, encode_key(point), CTX)
    # an ephemeral key that is a low-order point cannot be opened either
    sealed = text_of(point + blob_of(p.seal(PSK, RECV_PUB, CTX))[32:])
    with pytest.raises(ValueError, match="does not authenticate"):
        p.unseal(sealed, RECV_PRIV, CTX)


def test_seal_errors_never_echo_the_key():
    with pytest.raises(ValueError) as err:
        p.seal("not-a-key-but-secret", RECV_PUB, CTX)
    assert "secret" not in str(err.value)


def test_noncanonical_keys_are_refused_by_seal_and_unseal():
    with pytest.raises(ValueError, match="canonical") as err:
        p.seal(noncanonical(PSK), RECV_PUB, CTX)
    assert noncanonical(PSK) not in str(err.value)
    with pytest.raises(ValueError, match="recipient public key is not a canonical"):
        p.seal(PSK, noncanonical(RECV_PUB), CTX)
    sealed = p.seal(PSK, RECV_PUB, CTX)
    with pytest.raises(ValueError, match="private key is not a canonical") as err:
        p.unseal(sealed, noncanonical(RECV_PRIV), CTX)
    assert noncanonical(RECV_PRIV) not in str(err.value)


@pytest.mark.parametrize("args", [("", "a", "b"), ("wg0", "", "b"), ("wg0", "a", None), ("wg0", "a\0", "b")])
def test_seal_context_needs_names(args):
    with pytest.raises(ValueError):
        p.seal_context(*args)


def test_without_cryptography_sealing_fails_clearly_and_the_rest_works(monkeypatch):
    real_import = builtins.__import__

    def no_cryptography(name, *args, **kwargs):
        if name == "cryptography" or name.startswith("cryptography."):
            raise ImportError("No module named %r" % name)
        return real_import(name, *args, **kwargs)

    sealed = p.seal(PSK, RECV_PUB, CTX)
    monkeypatch.setattr(builtins, "__import__", no_cryptography)
    for call in (lambda: p.seal(PSK, RECV_PUB, CTX), lambda: p.unseal(sealed, RECV_PRIV, CTX), p.require_cryptography):
        with pytest.raises(ValueError, match="python3-cryptography is needed on hosts that use preshared keys; "
                                             "netfleet.wireguard.wireguard_install installs it"):
            call()
    assert p.fingerprint(PSK) == hashlib.sha256(base64.b64decode(PSK)).hexdigest()
    assert p.is_valid(p.generate())
    assert p.decide({}, {}, []) == {"hosts": {}, "errors": {}, "notes": []}


def test_require_cryptography_passes_here():
    assert p.require_cryptography() is None


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
