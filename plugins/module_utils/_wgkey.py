# Copyright: (c) 2026, netfleet engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The text form of WireGuard keys (no cryptography here: only base64 of 32 bytes).

``wg`` accepts a key only in its canonical form: 44 characters of standard base64 ending in one
``=``, whose two padding bits are zero (``wg`` refuses ``...B=`` where ``...A=`` is meant). The
same rule applies here, so a key the inventory accepts is a key ``wg`` accepts.

Messages never contain the input: it may be a private or preshared key.
"""

from __future__ import annotations

import base64
import binascii
import re

KEY_LEN = 32
# 42 free characters, then one whose low two bits are zero (A E I M Q U Y c g k o s w 0 4 8), then '='
_KEY_RE = re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=")


def decode_key(text, what="key", strip=False):
    """The 32 raw bytes of a canonical base64 WireGuard key; ValueError otherwise.

    :param strip: accept surrounding whitespace (a key file ends with a newline); inventory
        values are matched exactly.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise ValueError("%s is not base64 text" % what) from None
    if not isinstance(text, str):
        raise ValueError("%s must be a string" % what)
    if strip:
        text = text.strip()
    if len(text) != 44:
        raise ValueError("%s must be 44 characters of base64 encoding 32 bytes (got %d characters)"
                         % (what, len(text)))
    if not _KEY_RE.fullmatch(text):
        raise ValueError("%s is not a canonical base64 WireGuard key (44 characters ending in '=', "
                         "padding bits zero, as `wg` prints it)" % what)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):  # pragma: no cover - the pattern already excludes it
        raise ValueError("%s is not valid base64" % what) from None
    return raw


def is_valid_key(text, strip=False):
    """True when ``text`` is a canonical WireGuard key."""
    try:
        decode_key(text, strip=strip)
    except ValueError:
        return False
    return True


def encode_key(raw):
    """Base64 text of a 32-byte key, the way ``wg`` prints it."""
    if not isinstance(raw, bytes) or len(raw) != KEY_LEN:
        raise ValueError("a WireGuard key is 32 bytes")
    return base64.b64encode(raw).decode("ascii")
