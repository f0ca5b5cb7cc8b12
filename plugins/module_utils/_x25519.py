# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""X25519 (RFC 7748) in pure Python, and WireGuard key helpers.

Only the standard library is used so that managed hosts need neither ``wg`` nor the
``cryptography`` package to create a key pair. Speed is irrelevant here (one scalar
multiplication per host and run); the Montgomery ladder below follows RFC 7748 section 5
with a constant sequence of operations per bit (a conditional swap driven by arithmetic,
not by branching on the secret).

Private keys are handled as ``bytes``; nothing here prints, logs or formats them.
"""

from __future__ import annotations

import base64
import binascii
import os

KEY_LEN = 32
_P = 2**255 - 19
_A24 = 121665
BASEPOINT = (9).to_bytes(32, "little")


def _decode_u(u: bytes) -> int:
    if len(u) != KEY_LEN:
        raise ValueError("an X25519 u-coordinate is 32 bytes, got %d" % len(u))
    b = bytearray(u)
    b[31] &= 0x7F  # RFC 7748: mask the most significant bit
    return int.from_bytes(bytes(b), "little")


def _decode_scalar(k: bytes) -> int:
    if len(k) != KEY_LEN:
        raise ValueError("an X25519 scalar is 32 bytes, got %d" % len(k))
    return int.from_bytes(clamp(k), "little")


def clamp(k: bytes) -> bytes:
    """Return the clamped form of a 32-byte scalar (RFC 7748 decodeScalar25519)."""
    if len(k) != KEY_LEN:
        raise ValueError("an X25519 scalar is 32 bytes, got %d" % len(k))
    b = bytearray(k)
    b[0] &= 248
    b[31] &= 127
    b[31] |= 64
    return bytes(b)


def _cswap(swap: int, x2: int, x3: int) -> tuple[int, int]:
    dummy = (0 - swap) & (x2 ^ x3)
    return x2 ^ dummy, x3 ^ dummy


def x25519(scalar: bytes, u: bytes) -> bytes:
    """Compute X25519(scalar, u) and return the 32-byte little-endian result."""
    k = _decode_scalar(scalar)
    x1 = _decode_u(u) % _P
    x2, z2, x3, z3 = 1, 0, x1, 1
    swap = 0
    for t in reversed(range(255)):
        k_t = (k >> t) & 1
        swap ^= k_t
        x2, x3 = _cswap(swap, x2, x3)
        z2, z3 = _cswap(swap, z2, z3)
        swap = k_t
        a = (x2 + z2) % _P
        aa = a * a % _P
        b = (x2 - z2) % _P
        bb = b * b % _P
        e = (aa - bb) % _P
        c = (x3 + z3) % _P
        d = (x3 - z3) % _P
        da = d * a % _P
        cb = c * b % _P
        x3 = (da + cb) % _P
        x3 = x3 * x3 % _P
        z3 = (da - cb) % _P
        z3 = x1 * (z3 * z3 % _P) % _P
        x2 = aa * bb % _P
        z2 = e * ((aa + _A24 * e) % _P) % _P
    x2, x3 = _cswap(swap, x2, x3)
    z2, z3 = _cswap(swap, z2, z3)
    result = x2 * pow(z2, _P - 2, _P) % _P
    return result.to_bytes(32, "little")


def decode_key(text: str | bytes, what: str = "key") -> bytes:
    """Decode a WireGuard key (base64 of exactly 32 bytes, surrounding whitespace allowed).

    Raises ValueError with a message that never contains the input (it may be a secret).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise ValueError("%s is not base64 text" % what) from None
    if not isinstance(text, str):
        raise ValueError("%s must be a string" % what)
    stripped = text.strip()
    if len(stripped) != 44 or not stripped.endswith("="):
        raise ValueError("%s must be 44 characters of base64 encoding 32 bytes (got %d characters)"
                         % (what, len(stripped)))
    try:
        raw = base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("%s is not valid base64" % what) from None
    if len(raw) != KEY_LEN:
        raise ValueError("%s does not decode to 32 bytes" % what)
    return raw


def is_valid_key(text: object) -> bool:
    """True when ``text`` is a syntactically valid WireGuard key (base64 of 32 bytes)."""
    if not isinstance(text, (str, bytes)):
        return False
    try:
        decode_key(text)
    except ValueError:
        return False
    return True


def encode_key(raw: bytes) -> str:
    """Base64-encode a 32-byte key the way ``wg`` prints it."""
    if len(raw) != KEY_LEN:
        raise ValueError("a WireGuard key is 32 bytes, got %d" % len(raw))
    return base64.b64encode(raw).decode("ascii")


def generate_private_key() -> bytes:
    """Return a new clamped 32-byte private key from the OS CSPRNG (like ``wg genkey``)."""
    return clamp(os.urandom(KEY_LEN))


def public_key(private_key: bytes) -> bytes:
    """Return the 32-byte public key for a 32-byte private key (like ``wg pubkey``)."""
    return x25519(private_key, BASEPOINT)


def public_key_b64(private_key_b64: str | bytes) -> str:
    """Derive the base64 public key from a base64 private key (ValueError if malformed)."""
    return encode_key(public_key(decode_key(private_key_b64, "private key")))
