# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import base64
import os

import pytest

from ansible_collections.netfleet.wireguard.plugins.module_utils import _x25519 as x


def h(s):
    return bytes.fromhex(s)


# RFC 7748 section 5.2 test vectors
@pytest.mark.parametrize("scalar,u,out", [
    ("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
     "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
     "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"),
    ("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
     "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
     "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"),
])
def test_rfc7748_vectors(scalar, u, out):
    assert x.x25519(h(scalar), h(u)) == h(out)


def test_rfc7748_iterated_1000():
    k = u = x.BASEPOINT
    for i in range(1000):
        k, u = x.x25519(k, u), k
        if i == 0:
            assert k == h("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079")
    assert k == h("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")


def test_rfc7748_diffie_hellman():
    a_priv = h("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    a_pub = h("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    b_priv = h("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    b_pub = h("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    shared = h("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
    assert x.public_key(a_priv) == a_pub
    assert x.public_key(b_priv) == b_pub
    assert x.x25519(a_priv, b_pub) == shared
    assert x.x25519(b_priv, a_pub) == shared


def test_cross_check_against_cryptography():
    x25519 = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.x25519")
    serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
    raw = serialization.Encoding.Raw
    for dummy in range(20):
        priv = os.urandom(32)
        theirs = x25519.X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(
            raw, serialization.PublicFormat.Raw)
        assert x.public_key(priv) == theirs
        # and the other way round for keys we generate
        ours = x.generate_private_key()
        theirs = x25519.X25519PrivateKey.from_private_bytes(ours).public_key().public_bytes(
            raw, serialization.PublicFormat.Raw)
        assert x.public_key(ours) == theirs


def test_generate_private_key_is_clamped_and_random():
    keys = {x.generate_private_key() for dummy in range(8)}
    assert len(keys) == 8
    for k in keys:
        assert len(k) == 32
        assert k[0] & 7 == 0
        assert k[31] & 0x80 == 0
        assert k[31] & 0x40 == 0x40


def test_clamp_is_idempotent_and_applied():
    k = b"\xff" * 32
    c = x.clamp(k)
    assert c[0] == 0xF8 and c[31] == 0x7F
    assert x.clamp(c) == c
    # an unclamped scalar gives the same public key as its clamped form
    assert x.public_key(k) == x.public_key(c)


def test_high_bit_of_u_is_masked():
    k = h("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4")
    u = bytearray(h("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"))
    u2 = bytearray(u)
    u2[31] |= 0x80
    assert x.x25519(k, bytes(u)) == x.x25519(k, bytes(u2))


def test_known_wireguard_pair_base64():
    # the RFC 7748 Alice key pair in wg's base64 notation
    priv = base64.b64encode(h("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")).decode()
    assert x.public_key_b64(priv) == "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
    assert x.public_key_b64(priv + "\n") == "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="


@pytest.mark.parametrize("bad", [
    "", "abc", "A" * 44, "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTm==",
    "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo", "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTm!=",
    base64.b64encode(b"x" * 31).decode(), base64.b64encode(b"x" * 33).decode(), None, 42, b"\xff" * 44,
])
def test_invalid_keys_rejected(bad):
    assert not x.is_valid_key(bad)
    if isinstance(bad, (str, bytes)):
        with pytest.raises(ValueError):
            x.decode_key(bad)


def test_error_message_never_contains_the_input():
    secret = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTm!="
    with pytest.raises(ValueError) as err:
        x.decode_key(secret, "private key")
    assert secret not in str(err.value)
    assert "private key" in str(err.value)


def test_valid_keys_accepted():
    assert x.is_valid_key("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=")
    assert x.is_valid_key(b"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\n")
    assert x.encode_key(x.decode_key("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=")) == \
        "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="


@pytest.mark.parametrize("n", [0, 31, 33])
def test_wrong_lengths(n):
    with pytest.raises(ValueError):
        x.x25519(b"\x01" * n, x.BASEPOINT)
    with pytest.raises(ValueError):
        x.x25519(b"\x01" * 32, b"\x09" * n)
    with pytest.raises(ValueError):
        x.encode_key(b"\x00" * n)
