# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deterministic WireGuard test keys from `cryptography` (X25519), independent of the collection's code."""
from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

_RAW = dict(encoding=serialization.Encoding.Raw)


def private_key(seed):
    """A clamped private key (as `wg genkey` prints it) made of the byte ``seed``, ``seed + 1``, ..."""
    raw = bytearray((seed + i) % 256 for i in range(32))
    raw[0] &= 248
    raw[31] = (raw[31] & 127) | 64
    return base64.b64encode(bytes(raw)).decode("ascii")


def public_key(private_b64):
    key = X25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
    return base64.b64encode(key.public_key().public_bytes(format=serialization.PublicFormat.Raw, **_RAW)).decode("ascii")
