# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WireGuard test keys from `cryptography` (X25519) and `wg`, independent of the collection's code.

Shared by the unit tests (tests/unit is on sys.path: its conftest.py lives there).
"""
from __future__ import annotations

import base64
import shutil
import subprocess

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
WG = shutil.which("wg")


def private_key(seed):
    """A clamped private key (as `wg genkey` prints it) made of the byte ``seed``, ``seed + 1``, ..."""
    raw = bytearray((seed + i) % 256 for i in range(32))
    raw[0] &= 248
    raw[31] = (raw[31] & 127) | 64
    return base64.b64encode(bytes(raw)).decode("ascii")


def public_of_raw(raw_private):
    """Base64 public key of 32 raw private-key bytes."""
    key = X25519PrivateKey.from_private_bytes(raw_private)
    return base64.b64encode(key.public_key().public_bytes(serialization.Encoding.Raw,
                                                          serialization.PublicFormat.Raw)).decode("ascii")


def public_key(private_b64):
    """Base64 public key of a base64 private key."""
    return public_of_raw(base64.b64decode(private_b64))


def noncanonical(key):
    """The same 32 bytes written with a padding bit set (``...B=`` for ``...A=``): `wg` refuses it."""
    return key[:42] + B64[B64.index(key[42]) | 1] + "="


def wg_genkey():
    return subprocess.run([WG, "genkey"], capture_output=True, text=True, check=True).stdout.strip()
